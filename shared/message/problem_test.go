package message

import (
	"fmt"
	"strings"
	"testing"
)

// TestProblemsCapped: a request with more problems than MaxProblems lists
// the first MaxProblems and one more entry saying the rest are not listed,
// so that a small request cannot make a huge answer.
func TestProblemsCapped(t *testing.T) {
	var ps Problems
	for i := range 100000 {
		ps.Add(fmt.Sprintf("message.items[%d]", i), "is %s", "wrong")
	}
	if len(ps) != MaxProblems+1 {
		t.Fatalf("%d problems, want %d", len(ps), MaxProblems+1)
	}
	if p := ps[MaxProblems-1]; p.Field != fmt.Sprintf("message.items[%d]", MaxProblems-1) || p.Problem != "is wrong" {
		t.Errorf("problem %d = %+v, want the item's own", MaxProblems-1, p)
	}
	last := ps[MaxProblems]
	if last.Field != fmt.Sprintf("message.items[%d]", MaxProblems) || !strings.Contains(last.Problem, "not listed") {
		t.Errorf("last problem = %+v, want one naming the first unlisted field and saying the rest are not listed", last)
	}
	var few Problems
	few.Required("message.text", "")
	few.MaxLen("message.title", "abcd", 3)
	if len(few) != 2 || few[1].Problem != "4 characters, the limit is 3" {
		t.Errorf("problems = %v, want both listed", few)
	}
}
