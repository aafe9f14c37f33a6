package message

import (
	"encoding/json"
	"time"
)

// Direction says who wrote a message.
type Direction string

// The two directions.
const (
	Inbound  Direction = "inbound"  // from the customer
	Outbound Direction = "outbound" // from the business
)

// Record is a message as parley keeps it: one per message sent or received.
type Record struct {
	ID                string    `json:"id"`
	Channel           Channel   `json:"channel"`
	BusinessID        string    `json:"businessId"`
	CustomerID        string    `json:"customerId"`
	Direction         Direction `json:"direction"`
	PlatformMessageID string    `json:"platformMessageId,omitempty"`
	Type              string    `json:"type"`
	// Routing is what the platform told of an inbound message's entry
	// point, locale and device.
	Routing
	// Body is what the customer wrote (inbound).
	Body *Body `json:"body,omitempty"`
	// Message is what was sent (outbound), after any adaptation.
	Message *Message `json:"message,omitempty"`
	// BodyRef is the blob key holding the body when it was too large to
	// keep inline; Body is then nil.
	BodyRef string `json:"bodyRef,omitempty"`
	// Fallback is the request's fallback, kept so that a later failure
	// (WhatsApp's 131047) can send it; FallbackFor, on the message sent
	// then, names the message it stands in for.
	Fallback    *Fallback      `json:"fallback,omitempty"`
	FallbackFor string         `json:"fallbackFor,omitempty"`
	Status      string         `json:"status"`
	Error       *Error         `json:"error,omitempty"`
	History     []StatusChange `json:"history,omitempty"`
	CreatedAt   time.Time      `json:"createdAt"`
	UpdatedAt   time.Time      `json:"updatedAt"`
	// Version increases with every change; stores use it for optimistic
	// concurrency.
	Version int64 `json:"version"`
}

// StatusChange is one step in a message's history.
type StatusChange struct {
	Status string         `json:"status"`
	At     time.Time      `json:"at"`
	Error  *PlatformError `json:"error,omitempty"`
}

// Body is the typed content of a message or a reply. Type says which of
// the other fields is set.
type Body struct {
	// Type is one of the Body* constants.
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
	// Ref is the blob key of a text too large to carry inline.
	Ref string `json:"ref,omitempty"`
	// Selections are the chosen list items or buttons (several when the
	// list allowed it).
	Selections []Selection     `json:"selections,omitempty"`
	Timeslot   *Timeslot       `json:"timeslot,omitempty"`
	Location   *SharedLocation `json:"location,omitempty"`
	Order      *Order          `json:"order,omitempty"`
	Reaction   *ReactionBody   `json:"reaction,omitempty"`
	Flow       *FlowReply      `json:"flow,omitempty"`
	Auth       *AuthReply      `json:"auth,omitempty"`
	Payment    *PaymentReply   `json:"payment,omitempty"`
	Custom     json.RawMessage `json:"custom,omitempty"`
	// Unsupported is the platform's own type of a message parley does not
	// read.
	Unsupported string `json:"unsupported,omitempty"`
	// Attachments are the files the customer sent (Apple), once fetched.
	Attachments []Attachment `json:"attachments,omitempty"`
	// Media is the photo, voice note, video, document or sticker of a
	// media body (WhatsApp).
	Media *Media `json:"media,omitempty"`
	// DecodedBy says how a reply that came by reference was decoded: the
	// platform's decodePayload, or parley itself when the platform refused
	// (see the Decoded* constants).
	DecodedBy string `json:"decodedBy,omitempty"`
	// ReplyBubble is the bubble of an Apple interactive answer as the
	// customer's device shows it: the human-readable answer.
	ReplyBubble *ReplyBubble `json:"replyBubble,omitempty"`
	// SessionIdentifier is the Apple session of the interactive message
	// answered (the business's, or the one Apple made).
	SessionIdentifier string `json:"sessionIdentifier,omitempty"`
	// SummaryText is the question of the Apple quick reply answered.
	SummaryText string `json:"summaryText,omitempty"`

	// WhatsApp: shared contacts; the message a revoke or an edit concerns
	// (OriginalID, its platform id) and an edit's new content (Edited); a
	// system change; a call permission answer; marketing preferences.
	Contacts       []ContactCard   `json:"contacts,omitempty"`
	OriginalID     string          `json:"originalId,omitempty"`
	Edited         *Body           `json:"edited,omitempty"`
	System         *SystemChange   `json:"system,omitempty"`
	CallPermission *CallPermission `json:"callPermission,omitempty"`
	Preferences    []Preference    `json:"preferences,omitempty"`
	// Referral is the ad or post the customer came from; ReferredProduct
	// the product they asked about (WhatsApp, on any body type).
	Referral        *Referral        `json:"referral,omitempty"`
	ReferredProduct *ReferredProduct `json:"referredProduct,omitempty"`
	// Forwarded is set on a message the customer forwarded ("frequently"
	// when it was forwarded many times).
	Forwarded string `json:"forwarded,omitempty"`
	// Errors are the errors the platform attached to the message.
	Errors []PlatformError `json:"errors,omitempty"`
	// Raw is the platform's item as it came, on an unsupported body and
	// on a message the platform could not render.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// ReplyBubble is the bubble of a customer's answer to an Apple interactive
// message (Apple's replyMessage).
type ReplyBubble struct {
	Title          string `json:"title,omitempty"`
	Subtitle       string `json:"subtitle,omitempty"`
	AlternateTitle string `json:"alternateTitle,omitempty"`
}

// Attachment is a file a customer sent, decrypted and stored by parley.
type Attachment struct {
	Name     string `json:"name,omitempty"`
	MimeType string `json:"mimeType,omitempty"`
	Size     int64  `json:"size"`
	// Key is the object key of the decrypted file in parley's bucket; URL
	// is a presigned URL to read it, when the store can make one.
	Key string `json:"key,omitempty"`
	URL string `json:"url,omitempty"`
}

// How a reply sent by reference was decoded.
const (
	DecodedByPlatform = "decodePayload" // the platform's decode endpoint
	DecodedByGzipJSON = "local:gzip+json"
	DecodedByPlist    = "local:plist" // a binary property list, maybe gzipped
)

// Body types.
const (
	BodyText        = "text"
	BodySelection   = "selection"
	BodyTimeslot    = "timeslot"
	BodyLocation    = "location"
	BodyOrder       = "order"
	BodyReaction    = "reaction"
	BodyFlow        = "flow"
	BodyAuth        = "auth"
	BodyPayment     = "payment"
	BodyCustom      = "custom"
	BodyUnsupported = "unsupported"
)

// Selection is one chosen item or button.
type Selection struct {
	ID          string `json:"id"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
}

// Timeslot is the chosen slot of a time picker.
type Timeslot struct {
	ID       string    `json:"id"`
	Start    time.Time `json:"start,omitzero"`
	Duration int       `json:"duration,omitempty"`
}

// SharedLocation is a location the customer shared.
type SharedLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// Order is a cart the customer sent from product messages.
type Order struct {
	CatalogID string      `json:"catalogId"`
	Text      string      `json:"text,omitempty"`
	Items     []OrderItem `json:"items"`
}

// OrderItem is one line of an order. Price is a decimal kept as written.
type OrderItem struct {
	ProductID string      `json:"productId"`
	Quantity  int         `json:"quantity"`
	Price     json.Number `json:"price"`
	Currency  string      `json:"currency"`
}

// ReactionBody is a customer's reaction to a message; Removed when they
// took it back.
type ReactionBody struct {
	MessageID         string `json:"messageId,omitempty"`
	PlatformMessageID string `json:"platformMessageId"`
	Emoji             string `json:"emoji,omitempty"`
	Removed           bool   `json:"removed,omitempty"`
}

// FlowReply is a WhatsApp flow's completion; Response is its decoded JSON.
type FlowReply struct {
	Name     string          `json:"name,omitempty"`
	Body     string          `json:"body,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
}

// AuthReply is the outcome of an Apple authentication request.
type AuthReply struct {
	Status string `json:"status,omitempty"`
	// Token is the decrypted OAuth token; Error says why there is none.
	Token string `json:"token,omitempty"`
	Error string `json:"error,omitempty"`
	// EncryptedToken is the token as Apple sent it, encrypted to the key of
	// the request; ingest decrypts it and never stores it.
	EncryptedToken string `json:"-"`
}

// PaymentReply is the outcome of an Apple Pay request.
type PaymentReply struct {
	Status string          `json:"status,omitempty"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// Conversation is what parley knows about one business↔customer pair.
type Conversation struct {
	Channel    Channel `json:"channel"`
	BusinessID string  `json:"businessId"`
	CustomerID string  `json:"customerId"`
	// LastInboundAt is when the customer last wrote.
	LastInboundAt time.Time `json:"lastInboundAt"`
	// WindowClosesAt is when WhatsApp's 24-hour customer-service window
	// closes (zero for Apple). Stores return it only while it is in the
	// future: an expired window item reads as absent.
	WindowClosesAt time.Time `json:"windowClosesAt,omitzero"`
	// Closed is true after an Apple customer closed the conversation, until
	// they write again.
	Closed   bool      `json:"closed,omitempty"`
	ClosedAt time.Time `json:"closedAt,omitzero"`
	// Capabilities is Apple's capability-list of the customer's latest
	// message (QUICK, LIST, TIME, AUTH, AUTH2, FORM).
	Capabilities []string `json:"capabilities,omitempty"`
	// Routing holds the latest intent, group, locale and device-agent the
	// customer's Apple messages carried.
	Routing
	// Customer holds every id the customer has shown and their latest
	// profile (WhatsApp: phone number, business-scoped user ids, username,
	// name). CustomerID is one of these ids: the BSUID when Meta sent one.
	Customer *Customer `json:"customer,omitempty"`
	// GroupChat is set on a WhatsApp group's conversation; CustomerID is
	// then the group id.
	GroupChat bool `json:"groupChat,omitempty"`
	// AliasOf, read under one id of a WhatsApp customer whose conversation
	// is kept under another, names that other id (the key); once resolved
	// (store.ResolveConversation) CustomerID is the key and AliasOf the id
	// read.
	AliasOf string `json:"aliasOf,omitempty"`
	// ExpiresAt is when the store may forget the conversation.
	ExpiresAt time.Time `json:"expiresAt"`
}
