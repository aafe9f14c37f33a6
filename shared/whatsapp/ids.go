package whatsapp

import (
	"github.com/parleyhq/parley/shared/message"
)

// maxPhoneNumberID caps a business phone number id; Meta's are 15 or 16
// digits (106540352242922).
const maxPhoneNumberID = 32

// CheckIDs checks the ids of a send in the forms Meta takes: businessID is a
// phone number id (digits, Meta's Graph id of the business number), and to
// is a customer's phone number as Meta writes it (digits, optionally after
// a "+": the wa_id), a business-scoped user id (GB.13491208655302741918,
// CC.ENT.… for a parent id) or a group id (Base64 text, as the Groups API
// makes them). Anything else — a URN, a name — is refused naming the field
// and the forms, before Meta is called. The send path writes "to" through
// Channel.CustomerID first, so a number with the spaces, hyphens and
// parentheses Meta takes arrives here as digits.
func CheckIDs(businessID, to string) message.Problems {
	var ps message.Problems
	if !digits(businessID) || len(businessID) > maxPhoneNumberID {
		ps.Add("businessId", "%q is not a WhatsApp phone number id: digits only (at most %d), e.g. 106540352242922", clip(businessID), maxPhoneNumberID)
	}
	return append(ps, checkTo(to)...)
}

// checkTo checks the form of a recipient: a phone number has at most 15
// digits, and a group id at most 256 characters of Base64 text, letters
// among them; anything else is not a WhatsApp recipient.
func checkTo(to string) message.Problems {
	var ps message.Problems
	switch message.RecipientKind(to) {
	case message.RecipientPhone:
		if n := len(trimPlus(to)); n > maxPhoneDigits {
			ps.Add("to", "%d digits, a phone number has at most %d", n, maxPhoneDigits)
		}
	case message.RecipientGroup:
		switch {
		case len(to) > maxGroupID:
			ps.Add("to", "%d characters, a group id has at most %d", len(to), maxGroupID)
		case !groupIDForm(to) || !hasLetter(to):
			// A group id is Base64 text with letters in it (Meta's begin
			// "Y2FwaV9ncm91cD"); digits and + / = without a letter are a
			// mistyped phone number, not a group.
			ps.Add("to", "%q is not a WhatsApp recipient: a phone number (447700900123, +44 7700 900123), "+
				"a business-scoped user id (GB.13491208655302741918) or a group id (letters, digits, + / = - _)", clip(to))
		}
	}
	return ps
}

// CheckIDs lets a Client answer send.IDChecker.
func (c *Client) CheckIDs(businessID, to string) message.Problems {
	return CheckIDs(businessID, to)
}

// groupIDForm reports whether id is made of the characters of Meta's group
// ids: Base64 text, standard or URL-safe.
func groupIDForm(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_') {
			return false
		}
	}
	return id != ""
}

// hasLetter reports whether s holds an ASCII letter.
func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' {
			return true
		}
	}
	return false
}

// clip shortens an id quoted in an error to 40 characters.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
