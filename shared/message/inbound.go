package message

import (
	"encoding/json"
	"time"
)

// Kinds of inbound item a webhook carries.
const (
	KindMessage     = "message"      // the customer wrote
	KindStatus      = "status"       // a status of a message we sent
	KindTypingStart = "typing_start" // Apple: the customer started typing
	KindTypingEnd   = "typing_end"   // Apple: the customer stopped typing
	KindClose       = "close"        // Apple: the customer closed the conversation
)

// InboundItem is one normalised item of a platform webhook: what the channel
// packages produce from a verified, parsed webhook and what the ingest use
// case stores.
type InboundItem struct {
	Kind              string
	Channel           Channel
	BusinessID        string
	CustomerID        string
	PlatformMessageID string
	// At is the platform's time for the item (WhatsApp's timestamp), or the
	// time it was received when the platform gives none; PlatformTime is
	// the platform's time only (zero when it gave none).
	At           time.Time
	PlatformTime time.Time
	// Customer is every id and profile field the platform sent for the
	// customer (WhatsApp: wa_id, business-scoped user ids, username, name).
	// CustomerID is its primary id until ingest resolves the conversation.
	Customer *Customer
	// GroupID is the WhatsApp group a message was written in, or a status
	// is for; the conversation is then the group's.
	GroupID string
	// Body is the content of a KindMessage item.
	Body *Body
	// ReplyToPlatformID is the platform id of the message this one answers
	// (WhatsApp context.id; Apple's requestIdentifier, which parley sets to
	// the Apple message id of the interactive message), when given.
	ReplyToPlatformID string
	// Status and StatusError describe a KindStatus item.
	Status      string
	StatusError *PlatformError
	// StatusDetail is the pricing, conversation and callback data of a
	// WhatsApp status.
	StatusDetail *StatusDetail
	// EventType, when set, is the event the item becomes instead of its
	// kind's (a message the platform could not render: message.failed; a
	// notice's type).
	EventType string
	// Capabilities is Apple's capability-list header.
	Capabilities []string
	// Routing is what Apple tells of where the customer comes from and
	// what they use (intent, group, locale, device-agent).
	Routing
	// Payloads are what the message refers to and parley must fetch before
	// its body is complete: a large interactive reply or attachments. The
	// message is stored with status payload_pending until they arrive.
	Payloads []PayloadRef
}

// Kinds of PayloadRef.
const (
	PayloadInteractive = "interactiveDataRef" // a large interactive reply
	PayloadAttachment  = "attachment"         // a file the customer sent
)

// PayloadRef is one payload of an inbound message, as the platform
// describes it.
type PayloadRef struct {
	Kind string `json:"kind"`
	// Index is the payload's position among the message's attachments.
	Index int `json:"index"`
	// Ref is the platform's reference (Apple's interactiveDataRef or
	// attachment dictionary), kept as it came.
	Ref json.RawMessage `json:"ref"`
}

// Routing is what Apple tells of an inbound message beyond its content: the
// intent and group of the entry point the customer used (a business sets
// them in its links and buttons, and routes on them), the customer's locale
// and the kind of device (Apple's device-agent header: iPhone OS, Mac OS X,
// Watch OS, …). Every field is empty when the platform did not say.
type Routing struct {
	Intent      string `json:"intent,omitempty"`
	Group       string `json:"group,omitempty"`
	Locale      string `json:"locale,omitempty"`
	DeviceAgent string `json:"deviceAgent,omitempty"`
}
