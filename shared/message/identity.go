package message

import (
	"strings"
	"time"
)

// Customer is who wrote, as the platform names them. On WhatsApp a customer
// is known by their phone number (WaID), their business-scoped user id
// (UserID, e.g. "US.13491208655302741918"), or both: Meta leaves the phone
// number out for customers who use a username. ParentUserID is the id
// shared across linked business portfolios, when Meta sends one.
type Customer struct {
	WaID         string `json:"waId,omitempty"`
	UserID       string `json:"userId,omitempty"`
	ParentUserID string `json:"parentUserId,omitempty"`
	Username     string `json:"username,omitempty"`
	Name         string `json:"name,omitempty"`
}

// IsZero reports whether c names nobody.
func (c *Customer) IsZero() bool {
	return c == nil || (c.WaID == "" && c.UserID == "" && c.ParentUserID == "")
}

// ID is the customer's primary id: the phone number when known, else the
// business-scoped user id, else the parent one.
func (c *Customer) ID() string {
	switch {
	case c == nil:
		return ""
	case c.WaID != "":
		return c.WaID
	case c.UserID != "":
		return c.UserID
	}
	return c.ParentUserID
}

// IDs lists every id of c, the primary one first.
func (c *Customer) IDs() []string {
	if c == nil {
		return nil
	}
	var ids []string
	for _, id := range []string{c.WaID, c.UserID, c.ParentUserID} {
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// Merge fills what c lacks from o and takes o's newer profile (a username
// or name the customer changed).
func (c *Customer) Merge(o *Customer) {
	if o == nil {
		return
	}
	if o.WaID != "" {
		c.WaID = o.WaID
	}
	if o.UserID != "" {
		c.UserID = o.UserID
	}
	if o.ParentUserID != "" {
		c.ParentUserID = o.ParentUserID
	}
	if o.Username != "" {
		c.Username = o.Username
	}
	if o.Name != "" {
		c.Name = o.Name
	}
}

// Kinds of WhatsApp recipient id.
const (
	RecipientPhone = "phone" // a wa_id: digits, optionally with a leading "+"
	RecipientBSUID = "bsuid" // a business-scoped user id, "CC.xxx" or "CC.ENT.xxx"
	RecipientGroup = "group" // a Groups API group id
)

// RecipientKind says what a WhatsApp id is: a phone number (digits, with
// an optional "+"), a business-scoped user id (an ISO country code, a dot,
// optionally "ENT.", then 1–128 letters and digits), or else a group id.
func RecipientKind(id string) string {
	if IsPhone(id) {
		return RecipientPhone
	}
	if IsBSUID(id) {
		return RecipientBSUID
	}
	return RecipientGroup
}

// IsPhone reports whether id is a phone number: digits with an optional
// leading "+".
func IsPhone(id string) bool {
	id = strings.TrimPrefix(id, "+")
	if id == "" {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// IsBSUID reports whether id has the form of a business-scoped user id.
func IsBSUID(id string) bool {
	if len(id) < 4 || id[2] != '.' || !upper(id[0]) || !upper(id[1]) {
		return false
	}
	rest := strings.TrimPrefix(id[3:], "ENT.")
	if rest == "" || len(rest) > 128 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || upper(c)) {
			return false
		}
	}
	return true
}

func upper(c byte) bool { return c >= 'A' && c <= 'Z' }

// AliasRefresh is how long before an alias item expires parley writes it
// again, so that an alias outlives every message of its conversation.
const AliasRefresh = 7 * 24 * time.Hour

// Pricing is how WhatsApp prices a message, as its statuses report it.
type Pricing struct {
	// Billable is Meta's deprecated flag, kept while Meta sends it.
	Billable *bool  `json:"billable,omitempty"`
	Model    string `json:"model,omitempty"`    // pricing_model: PMP (CBP before July 2025)
	Type     string `json:"type,omitempty"`     // regular, free_customer_service, free_entry_point
	Category string `json:"category,omitempty"` // marketing, utility, authentication, service, …
}

// PlatformConversation is the WhatsApp conversation (pricing window) a
// status names, when Meta sends one.
type PlatformConversation struct {
	ID        string    `json:"id,omitempty"`
	Origin    string    `json:"origin,omitempty"` // origin.type
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// StatusDetail is what a WhatsApp status adds to the status itself.
type StatusDetail struct {
	Pricing      *Pricing              `json:"pricing,omitempty"`
	Conversation *PlatformConversation `json:"conversation,omitempty"`
	// CallbackData is the biz_opaque_callback_data the message was sent
	// with.
	CallbackData string `json:"callbackData,omitempty"`
}
