package apple

import (
	"strings"

	"github.com/parleyhq/parley/shared/message"
)

// customerPrefix begins every opaque id Apple gives a customer.
const customerPrefix = "urn:mbid:"

// CheckIDs checks the ids of a send in the forms Apple uses: businessID is a
// Messages for Business account id, a UUID
// (3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70, letters in either case), and to is
// the customer's opaque id, "urn:mbid:" and Base64 text
// (urn:mbid:AQAAY1x/Wq+Lr0c=). Anything else is refused naming the field and
// the form, before Apple is called.
func CheckIDs(businessID, to string) message.Problems {
	var ps message.Problems
	if !isUUID(businessID) {
		ps.Add("businessId", "%q is not an Apple business id: a UUID, e.g. 3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70", clip(businessID))
	}
	if opaque, ok := strings.CutPrefix(to, customerPrefix); !ok || !base64Text(opaque) {
		ps.Add("to", "%q is not an Apple customer id: %s and the opaque id Apple gave, e.g. urn:mbid:AQAAY1x/Wq+Lr0c=", clip(to), customerPrefix)
	}
	return ps
}

// CheckIDs lets a Client answer send.IDChecker.
func (c *Client) CheckIDs(businessID, to string) message.Problems {
	return CheckIDs(businessID, to)
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// base64Text reports whether s is non-empty Base64 text, standard or
// URL-safe.
func base64Text(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// clip shortens an id quoted in an error to 40 characters.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
