package access

import (
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
)

// principalPattern is the shape of a principalARN as a regular expression,
// its parts in groups: parsePrincipalARN must read exactly what it matches,
// into the same parts.
var principalPattern = regexp.MustCompile(`^arn:(aws[a-z-]*):(iam|sts)::([0-9]{12}):(role|user|assumed-role|root)(/.*)?$`)

// arnEdges are ARNs at the edges of the shape.
var arnEdges = map[string]bool{
	"arn:aws:iam::111122223333:role/shop-app":                 true,
	"arn:aws:iam::111122223333:role/apps/eu/shop-app":         true,
	"arn:aws:iam::111122223333:role/":                         true,
	"arn:aws:iam::111122223333:root":                          true,
	"arn:aws:iam::111122223333:user/alice":                    true,
	"arn:aws:sts::111122223333:assumed-role/shop-app/i-0abc":  true,
	"arn:aws-cn:sts::111122223333:assumed-role/shop/ci":       true,
	"arn:aws-us-gov:iam::111122223333:role/x":                 true,
	"arn:aws-:iam::111122223333:user/a:b":                     true,
	"arn:aws:iam::111122223333:role/a\xffb":                   true,
	"arn:aws:iam::111122223333:role/a\rb":                     true,
	"arn:aws:iam::111122223333:role/a\nb":                     false,
	"arn:aws:iam::111122223333:roles/x":                       false,
	"arn:aws:iam::111122223333:group/x":                       false,
	"arn:aws:iam::111122223333:rootx":                         false,
	"arn:aws:iam:us-east-1:111122223333:role/x":               false,
	"arn:aws:iam::11112222333:role/x":                         false,
	"arn:aws:iam::1111222233334:role/x":                       false,
	"arn:aws:iam::11112222333a:role/x":                        false,
	"arn:AWS:iam::111122223333:role/x":                        false,
	"arn:aws1:iam::111122223333:role/x":                       false,
	"arn:amazon:iam::111122223333:role/x":                     false,
	"arn:aws:s3::111122223333:role/x":                         false,
	"arn:aws:iam::111122223333":                               false,
	"arn:aws:iam::111122223333:":                              false,
	"ARN:aws:iam::111122223333:role/x":                        false,
	" arn:aws:iam::111122223333:role/x":                       false,
	"arn:aws:iam::111122223333:role/x\n":                      false,
	"arn:aws:sts::111122223333:assumed-role":                  true,
	"arn:aws:iam::111122223333:assumed-role/shop-app/session": true,
	"":           false,
	"not an arn": false,
}

func TestParsePrincipalARN(t *testing.T) {
	for arn, want := range arnEdges {
		p, ok := parsePrincipalARN(arn)
		if ok != want || principalPattern.MatchString(arn) != want {
			t.Errorf("%q: %v, want %v (the pattern: %v)", arn, ok, want, principalPattern.MatchString(arn))
		}
		if m := principalPattern.FindStringSubmatch(arn); ok && m != nil {
			if got := []string{p.partition, p.service, p.account, p.kind, p.rest}; !slices.Equal(got, []string{m[1], m[2], m[3], m[4], trimSlash(m[5])}) {
				t.Errorf("%q: read as %q, the pattern's parts %q", arn, got, m[1:])
			}
		}
	}
}

// TestParsePrincipalARNMatchesThePattern: on ARNs near the edges of the
// shape — its edge cases with characters inserted, replaced or dropped —
// parsePrincipalARN reads exactly what the pattern matches.
func TestParsePrincipalARNMatchesThePattern(t *testing.T) {
	alphabet := []string{":", "/", "-", "a", "z", "A", "0", "9", "\n", " ", "*", "\xff", "é", "aws", "iam", "sts", "role", "root"}
	edges := slices.Sorted(maps.Keys(arnEdges))
	r := rand.New(rand.NewPCG(3, 4))
	matched := 0
	for range 50000 {
		arn := edges[r.IntN(len(edges))]
		for range 1 + r.IntN(3) {
			i := r.IntN(len(arn) + 1)
			switch c := alphabet[r.IntN(len(alphabet))]; {
			case r.IntN(3) == 0 && i < len(arn):
				arn = arn[:i] + arn[i+1:]
			case r.IntN(2) == 0 && i < len(arn):
				arn = arn[:i] + c + arn[i+1:]
			default:
				arn = arn[:i] + c + arn[i:]
			}
		}
		m := principalPattern.FindStringSubmatch(arn)
		p, ok := parsePrincipalARN(arn)
		if ok != (m != nil) {
			t.Errorf("%q: %v, the pattern %v", arn, ok, m != nil)
			continue
		}
		if ok {
			matched++
			if got := []string{p.partition, p.service, p.account, p.kind, p.rest}; !slices.Equal(got, []string{m[1], m[2], m[3], m[4], trimSlash(m[5])}) {
				t.Errorf("%q: read as %q, the pattern's parts %q", arn, got, m[1:])
			}
		}
	}
	if matched < 1000 {
		t.Errorf("only %d of the ARNs tried match the pattern", matched)
	}
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}
