package access_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/access"
	"github.com/parleyhq/parley/shared/message"
)

func TestPrincipal(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:sts::111122223333:assumed-role/shop-app/i-0abc": "arn:aws:iam::111122223333:role/shop-app",
		"arn:aws-cn:sts::111122223333:assumed-role/shop-app/ci":  "arn:aws-cn:iam::111122223333:role/shop-app",
		"arn:aws:iam::111122223333:role/apps/eu/shop-app":        "arn:aws:iam::111122223333:role/shop-app",
		"arn:aws:iam::111122223333:role/shop-app":                "arn:aws:iam::111122223333:role/shop-app",
		"arn:aws:iam::111122223333:user/alice":                   "arn:aws:iam::111122223333:user/alice",
		"arn:aws:iam::111122223333:root":                         "arn:aws:iam::111122223333:root",
		"not an arn":                                             "not an arn",
	} {
		if got := access.Principal(in); got != want {
			t.Errorf("Principal(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	s, err := access.Parse(`{"arn:aws:iam::111122223333:role/apps/shop-app": ["106540352242922"], "arn:aws:iam::111122223333:user/ops": ["a", "b"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check("arn:aws:sts::111122223333:assumed-role/shop-app/s", "106540352242922", "send as"); err != nil {
		t.Errorf("the role's session is refused its business: %v", err)
	}
	err = s.Check("arn:aws:iam::111122223333:user/ops", "106540352242922", "read")
	var e *message.Error
	if !errors.As(err, &e) || e.Code != message.CodeForbidden || !strings.Contains(e.Message, "may not read business 106540352242922") {
		t.Errorf("another business: %v, want forbidden naming it", err)
	}
	if ids, limited := s.Businesses("arn:aws:iam::111122223333:user/ops"); !limited || len(ids) != 2 {
		t.Errorf("Businesses = %v %v", ids, limited)
	}

	var none access.Scopes
	if err := none.Check("", "anything", "send as"); err != nil {
		t.Errorf("no scopes refuse: %v", err)
	}
	if s, err := access.Parse(" "); err != nil || s != nil {
		t.Errorf("empty: %v %v, want no scopes", s, err)
	}
	for in, want := range map[string]string{
		`[]`: "must be a JSON object",
		`{}`: "names no principal",
		`{"arn:aws:sts::111122223333:assumed-role/x/y": ["b"]}`: "not the ARN of an IAM role or user",
		`{"shop-app": ["b"]}`:                        "not the ARN of an IAM role or user",
		`{"arn:aws:iam::111122223333:role/x": []}`:   "at least one",
		`{"arn:aws:iam::111122223333:role/x": [""]}`: "none empty",
	} {
		if _, err := access.Parse(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s) = %v, want an error saying %q", in, err, want)
		}
	}
}
