package apple

import (
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
)

// The shapes the validator checks, written as regular expressions: the
// checks must accept exactly what these match.
var shapes = []struct {
	name    string
	check   func(string) bool
	pattern *regexp.Regexp
	// edges are strings at the edges of the shape; want says which pass.
	edges map[string]bool
}{
	{"team id", isTeamID, regexp.MustCompile(`^[A-Z0-9]{10}$`), map[string]bool{
		"ABCDE12345": true, "0000000000": true, "ZZZZZZZZZZ": true,
		"ABCDE1234": false, "ABCDE123456": false, "abcde12345": false, "ABCDE1234 ": false, " ABCDE1234": false,
		"ABCDE-1234": false, "ABCDE1234\n": false, "ÀBCDE1234": false, "ABCDE1234\xff": false, "": false,
	}},
	{"amount", isAmount, regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`), map[string]bool{
		"0": true, "10.00": true, "-5": true, "-0.01": true, "0123": true, "1.2345": true,
		"": false, "-": false, ".5": false, "1.": false, "--1": false, "+1": false, "1.2.3": false, "1,00": false,
		"1e3": false, " 1": false, "1 ": false, "1\n": false, "١": false, "-.5": false, "1.-5": false,
	}},
	{"country code", isCountryCode, regexp.MustCompile(`^[A-Za-z]{2}$`), map[string]bool{
		"US": true, "gb": true, "De": true,
		"U": false, "USA": false, "U1": false, "U ": false, "ÜS": false, "": false, "US\n": false,
	}},
	{"currency code", isCurrencyCode, regexp.MustCompile(`^[A-Za-z]{3}$`), map[string]bool{
		"USD": true, "eur": true, "GbP": true,
		"US": false, "USDT": false, "US$": false, "U1D": false, "": false, "€UR": false,
	}},
	{"locale", isLocale, regexp.MustCompile(`^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$`), map[string]bool{
		"en": true, "fil": true, "en_US": true, "en-US": true, "zh_Hant_TW": true, "zh-Hant_TW": true, "es_419": true,
		"de_DE_12345678": true, "sr-Latn-RS": true,
		"e": false, "engl": false, "en_": false, "en__US": false, "_US": false, "en_U": false, "en_123456789": false,
		"en US": false, "en.US": false, "12_US": false, "en_US\n": false, "": false, "English": false, "ño": false,
	}},
}

func TestShapes(t *testing.T) {
	for _, s := range shapes {
		for in, want := range s.edges {
			if got := s.check(in); got != want || s.pattern.MatchString(in) != want {
				t.Errorf("%s %q: %v, want %v (the pattern: %v)", s.name, in, got, want, s.pattern.MatchString(in))
			}
		}
	}
}

// TestShapesMatchThePatterns: on strings near the edges of each shape —
// its edge cases with characters inserted, replaced or dropped — a check
// accepts exactly what its pattern matches.
func TestShapesMatchThePatterns(t *testing.T) {
	alphabet := []string{"A", "Z", "a", "z", "0", "9", "-", "_", ".", " ", "\n", "+", "@", "[", "`", "{", "/", ":", "É", "\xff"}
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes {
		edges := slices.Sorted(maps.Keys(s.edges))
		matched := 0
		for range 20000 {
			in := edges[r.IntN(len(edges))]
			for range 1 + r.IntN(3) {
				i := r.IntN(len(in) + 1)
				switch c := alphabet[r.IntN(len(alphabet))]; {
				case r.IntN(3) == 0 && i < len(in):
					in = in[:i] + in[i+1:]
				case r.IntN(2) == 0 && i < len(in):
					in = in[:i] + c + in[i+1:]
				default:
					in = in[:i] + c + in[i:]
				}
			}
			want := s.pattern.MatchString(in)
			if got := s.check(in); got != want {
				t.Errorf("%s %q: %v, the pattern %v", s.name, in, got, want)
			}
			if want {
				matched++
			}
		}
		if matched < 500 {
			t.Errorf("%s: only %d of the strings tried match the pattern", s.name, matched)
		}
	}
}
