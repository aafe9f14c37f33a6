package whatsappsim

import (
	"fmt"
	"strings"
)

// user is a WhatsApp user as one business number sees them: their phone
// number, the business-scoped user id Meta gives them for that business,
// and their username. A user who adopted a username may keep their phone
// number from the business: Meta then leaves it out of webhooks.
type user struct {
	// key is the id the simulator first knew them by: their chat's key.
	key          string
	phone        string
	userID       string
	parentUserID string
	username     string
	name         string
	hidePhone    bool
	// identityHash is the hash of their identity key, known since their
	// identity (security code) last changed; Meta then names it in
	// contacts.
	identityHash string
}

// bsuidFor is the business-scoped user id the simulator gives the user
// with phone at phoneNumberID when the test names none: stable, in Meta's
// form (a country code, a dot, digits).
func bsuidFor(phoneNumberID, phone string) string {
	return fmt.Sprintf("ZZ.%d", hash(phoneNumberID+"/"+phone)%1e19)
}

// identify records a user of phoneNumberID seen with these ids and returns
// them, joining what was known under either id. A user given only a phone
// number gets a business-scoped user id, as Meta gives every user one.
// The caller holds s.mu.
func (s *Simulator) identify(phoneNumberID, phone, userID string) *user {
	var u *user
	for _, id := range []string{phone, userID} {
		if id == "" {
			continue
		}
		if known := s.users[chat{phoneNumberID, id}]; known != nil {
			u = known
			break
		}
	}
	if u == nil {
		u = &user{key: phone}
		if phone == "" {
			u.key = userID
		}
	}
	if phone != "" {
		u.phone = phone
	}
	if userID != "" {
		u.userID = userID
	}
	if u.userID == "" {
		u.userID = bsuidFor(phoneNumberID, u.phone)
	}
	for _, id := range []string{u.phone, u.userID} {
		if id != "" {
			s.users[chat{phoneNumberID, id}] = u
		}
	}
	return u
}

// userOf returns the user of phoneNumberID known by id, or nil. The
// caller holds s.mu.
func (s *Simulator) userOf(phoneNumberID, id string) *user {
	return s.users[chat{phoneNumberID, id}]
}

// chatOf is the chat of a message the simulator accepted: its group's, or
// its recipient's, whichever id the send named them by. The caller holds
// s.mu.
func (s *Simulator) chatOf(a Accepted) chat {
	switch {
	case a.GroupID != "":
		return chat{a.PhoneNumberID, a.GroupID}
	case a.WaID != "":
		if u := s.userOf(a.PhoneNumberID, a.WaID); u != nil {
			return chat{a.PhoneNumberID, u.key}
		}
		return chat{a.PhoneNumberID, a.WaID}
	}
	if u := s.userOf(a.PhoneNumberID, a.UserID); u != nil {
		return chat{a.PhoneNumberID, u.key}
	}
	return chat{a.PhoneNumberID, a.UserID}
}

// contact is the contacts[] entry of u in a webhook: the phone number
// only when u shares it.
func (u *user) contact() contact {
	var c contact
	c.Profile.Name = u.name
	c.Profile.Username = u.username
	c.UserID = u.userID
	c.ParentUserID = u.parentUserID
	c.IdentityKeyHash = u.identityHash
	if !u.hidePhone {
		c.WaID = u.phone
	}
	return c
}

// isBSUID reports whether id has the form Meta gives business-scoped user
// ids: a two-letter country code, a dot, "ENT." for a parent id, then 1 to
// 128 letters and digits.
func isBSUID(id string) bool {
	if len(id) < 4 || id[2] != '.' || !isUpper(id[0]) || !isUpper(id[1]) {
		return false
	}
	rest := strings.TrimPrefix(id[3:], "ENT.")
	if rest == "" || len(rest) > 128 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || isUpper(c)) {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
