package message

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Problem is one thing wrong with a request, named by the path of the field
// it concerns, e.g. "message.text".
type Problem struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Problem
	}
	return p.Field + ": " + p.Problem
}

// Problems is a list of problems; a non-empty Problems is an error.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "; ")
}

// MaxProblems is the most problems listed for one request. Past it, one
// more problem names the first field left out and says the rest are not
// listed: a request of a megabyte could otherwise hold hundreds of
// thousands of faults and make an answer forty times its size.
const MaxProblems = 100

// Add appends a problem for field, unless MaxProblems are listed already.
func (ps *Problems) Add(field, format string, args ...any) {
	switch n := len(*ps); {
	case n < MaxProblems:
		*ps = append(*ps, Problem{Field: field, Problem: fmt.Sprintf(format, args...)})
	case n == MaxProblems:
		*ps = append(*ps, Problem{Field: field, Problem: fmt.Sprintf("this and further problems are not listed: the first %d are", MaxProblems)})
	}
}

// Required records a problem when value is empty.
func (ps *Problems) Required(field, value string) {
	if value == "" {
		ps.Add(field, "is required")
	}
}

// MaxLen records a problem when value is longer than limit characters.
// Characters are Unicode code points (see Len).
func (ps *Problems) MaxLen(field, value string, limit int) {
	if n := Len(value); n > limit {
		ps.Add(field, "%d characters, the limit is %d", n, limit)
	}
}

// Err returns ps as an error, or nil when there are no problems.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Len is how parley counts characters against the platforms' limits: Unicode
// code points, so "é" written as one code point counts 1, an emoji such as
// "👍" counts 1, and "👍🏽" (emoji plus skin-tone modifier) counts 2.
func Len(s string) int { return utf8.RuneCountInString(s) }
