package message

import (
	"encoding/json"
	"time"
)

// Message types of the public send API. The foundation renders TypeText on
// both channels; the other names are reserved so that a request using one
// gets a clear answer instead of "unknown type".
const (
	TypeText            = "text"
	TypeRichLink        = "richLink"
	TypeList            = "list"
	TypeButtons         = "buttons"
	TypeTimePicker      = "timePicker"
	TypeReaction        = "reaction"
	TypeProduct         = "product"
	TypeProductList     = "productList"
	TypeLocationRequest = "locationRequest"
	TypeCTAURL          = "ctaUrl"
	TypeTemplate        = "template"
	TypeAuth            = "auth"
	TypeApplePay        = "applePay"
	TypeCustom          = "custom"
)

// KnownType reports whether t is a message type of the public contract.
func KnownType(t string) bool {
	switch t {
	case TypeText, TypeRichLink, TypeList, TypeButtons, TypeTimePicker, TypeReaction,
		TypeProduct, TypeProductList, TypeLocationRequest, TypeCTAURL, TypeTemplate,
		TypeAuth, TypeApplePay, TypeCustom:
		return true
	}
	return false
}

// Message is the "message" object of the send API: one vocabulary for both
// channels. Each type uses its own fields; the rest stay empty.
type Message struct {
	Type string `json:"type"`
	// Text is the body of a text message.
	Text string `json:"text,omitempty"`
	// PreviewURL asks WhatsApp to preview the first URL in Text.
	PreviewURL bool `json:"previewUrl,omitempty"`
	// ReplyTo is the message this one answers: a parley message id or the
	// platform's id (WhatsApp context.message_id).
	ReplyTo string `json:"replyTo,omitempty"`
}

// SendRequest is the body of POST /v1/messages.
type SendRequest struct {
	Channel        Channel         `json:"channel"`
	BusinessID     string          `json:"businessId"`
	To             string          `json:"to"`
	Message        Message         `json:"message"`
	Adapt          bool            `json:"adapt,omitempty"`
	Fallback       json.RawMessage `json:"fallback,omitempty"`
	SendAt         *time.Time      `json:"sendAt,omitempty"`
	IdempotencyKey string          `json:"idempotencyKey,omitempty"`
}

// Validate checks what every channel requires of a request. Channel
// packages check their own limits when they render.
func (r SendRequest) Validate() Problems {
	var ps Problems
	switch {
	case r.Channel == "":
		ps.Add("channel", `is required: "whatsapp" or "apple"`)
	case !r.Channel.Valid():
		ps.Add("channel", `%q is not a channel parley knows: "whatsapp" or "apple"`, string(r.Channel))
	}
	ps.Required("businessId", r.BusinessID)
	ps.Required("to", r.To)
	ps.MaxLen("idempotencyKey", r.IdempotencyKey, 256)
	switch {
	case r.Message.Type == "":
		ps.Add("message.type", "is required")
	case !KnownType(r.Message.Type):
		ps.Add("message.type", "%q is not a message type parley knows", r.Message.Type)
	}
	if r.Message.Type == TypeText && r.Message.Text == "" {
		ps.Add("message.text", "is required")
	}
	return ps
}

// SendResult is the answer to a successful POST /v1/messages.
type SendResult struct {
	ID                string  `json:"id"`
	Status            string  `json:"status"`
	Channel           Channel `json:"channel"`
	PlatformMessageID string  `json:"platformMessageId,omitempty"`
}

// Statuses of a message record.
const (
	StatusAccepted  = "accepted"  // the platform took it (WhatsApp: not yet sent)
	StatusSent      = "sent"      // sent to the customer's device
	StatusDelivered = "delivered" // on the device
	StatusRead      = "read"      // seen by the customer
	StatusFailed    = "failed"    // will not arrive
	StatusReceived  = "received"  // an inbound message
	StatusScheduled = "scheduled" // waiting for its sendAt
)

// Outgoing is a validated message on its way to a platform.
type Outgoing struct {
	// MessageID is parley's id of the message.
	MessageID  string
	BusinessID string
	To         string
	Message    Message
	// ReplyToPlatformID is the platform id of the message this one answers.
	ReplyToPlatformID string
	// PlatformMessageID is set before sending on platforms where the sender
	// chooses the id (Apple: a UUID, kept across retries of one message).
	PlatformMessageID string
}
