package message

import (
	"encoding/json"
	"time"
)

// Body types of WhatsApp's other inbound messages.
const (
	BodyContacts       = "contacts"       // shared contact cards
	BodyRevoke         = "revoke"         // the customer deleted a message
	BodyEdit           = "edit"           // the customer edited a message
	BodySystem         = "system"         // a number or identity change
	BodyCallPermission = "callPermission" // an answer to a call permission request
	BodyPreferences    = "preferences"    // marketing preferences (user_preferences)
	BodyError          = "error"          // an error Meta reported for a whole change
)

// Event types of WhatsApp notices that are not messages.
const (
	// EventPreferences: a customer changed their marketing preferences
	// (Body.Preferences; "stop" is an opt-out).
	EventPreferences = "customer.preferences"
	// EventPlatformError: Meta reported an error not tied to a message
	// (value.errors).
	EventPlatformError = "platform.error"
)

// KindNotice is an inbound item that is only an event: no message record,
// no conversation touch (a preference change, an error of the platform).
const KindNotice = "notice"

// ContactCard is one contact a customer shared.
type ContactCard struct {
	Name      json.RawMessage `json:"name,omitempty"` // {formatted_name, first_name, …} as Meta sent it
	Phones    json.RawMessage `json:"phones,omitempty"`
	Emails    json.RawMessage `json:"emails,omitempty"`
	Addresses json.RawMessage `json:"addresses,omitempty"`
	Org       json.RawMessage `json:"org,omitempty"`
	URLs      json.RawMessage `json:"urls,omitempty"`
	Birthday  string          `json:"birthday,omitempty"`
	VCard     string          `json:"vcard,omitempty"`
}

// Referral is where a customer came from: a click-to-WhatsApp ad or post.
type Referral struct {
	SourceURL    string `json:"sourceUrl,omitempty"`
	SourceID     string `json:"sourceId,omitempty"`
	SourceType   string `json:"sourceType,omitempty"` // ad, post
	Headline     string `json:"headline,omitempty"`
	Body         string `json:"body,omitempty"`
	MediaType    string `json:"mediaType,omitempty"`
	ImageURL     string `json:"imageUrl,omitempty"`
	VideoURL     string `json:"videoUrl,omitempty"`
	ThumbnailURL string `json:"thumbnailUrl,omitempty"`
	// CtwaClid is the click id, for conversion reporting to Meta.
	CtwaClid       string `json:"ctwaClid,omitempty"`
	WelcomeMessage string `json:"welcomeMessage,omitempty"`
}

// ReferredProduct is the product a customer wrote about from its "Message
// business" button.
type ReferredProduct struct {
	CatalogID string `json:"catalogId"`
	ProductID string `json:"productId"`
}

// SystemChange is a WhatsApp system message: the customer changed their
// number (WaID is the new one) or business-scoped user id, or their
// identity (security code) changed.
type SystemChange struct {
	// Type is Meta's own, e.g. user_changed_number; Change says what
	// changed whatever Meta's spelling: ChangeNumber, ChangeUserID,
	// ChangeIdentity, or "" for a type parley does not know.
	Type           string          `json:"type"`
	Change         string          `json:"change,omitempty"`
	Text           string          `json:"text,omitempty"`
	WaID           string          `json:"waId,omitempty"`
	UserID         string          `json:"userId,omitempty"`
	PreviousUserID string          `json:"previousUserId,omitempty"`
	Identity       *IdentityChange `json:"identity,omitempty"`
}

// What a SystemChange changed.
const (
	ChangeNumber   = "number"
	ChangeUserID   = "userId"
	ChangeIdentity = "identity"
)

// IdentityChange is the customer's new identity (their WhatsApp security
// code changed: a new phone or a reinstall, or someone else): Hash
// identifies the new identity key; Acknowledged and CreatedAt are Meta's.
type IdentityChange struct {
	Hash         string    `json:"hash,omitempty"`
	Acknowledged bool      `json:"acknowledged,omitempty"`
	CreatedAt    time.Time `json:"createdAt,omitzero"`
}

// CallPermission is a customer's answer to a call permission request.
type CallPermission struct {
	Response  string    `json:"response"` // accept, reject
	Source    string    `json:"source,omitempty"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// Preference is one marketing preference a customer set.
type Preference struct {
	Category string    `json:"category"` // marketing_messages
	Value    string    `json:"value"`    // stop, resume
	Detail   string    `json:"detail,omitempty"`
	At       time.Time `json:"at,omitzero"`
}
