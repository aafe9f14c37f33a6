package message

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"
)

// Event types sent to the app.
const (
	EventReceived = "message.received"    // the customer wrote; Body says what
	EventSent     = "message.sent"        // the platform accepted a message we sent
	EventStatus   = "message.status"      // a platform reported a status change
	EventFailed   = "message.failed"      // a message will not arrive
	EventUnknown  = "message.unknown"     // a send whose outcome parley could not learn: it may or may not arrive
	EventTyping   = "conversation.typing" // Apple typing_start / typing_end
	EventClosed   = "conversation.closed" // an Apple customer closed the conversation
	EventPayment  = "payment.callback"    // an Apple Pay callback was answered; Body.Payment says how
	EventRejected = "item.rejected"       // a webhook item was authentic but not valid; Error says why
)

// Event is one document of the event log (and of the EventBridge bus).
type Event struct {
	// ID orders events: later events have greater IDs. It is the cursor of
	// GET /v1/events.
	ID   string `json:"id"`
	Type string `json:"type"`
	// Time is when parley received or did what the event reports.
	Time time.Time `json:"time"`
	// PlatformTime is the platform's own time for it (WhatsApp's
	// timestamp), when the platform gives one.
	PlatformTime time.Time `json:"platformTime,omitzero"`
	Channel      Channel   `json:"channel"`
	BusinessID   string    `json:"businessId"`
	// CustomerID is the conversation's key: the customer id parley saw
	// first (a WhatsApp phone number or business-scoped user id, the Apple
	// opaque id), or a WhatsApp group id.
	CustomerID string `json:"customerId"`
	// Customer is who wrote or was written to, with every id and profile
	// field the platform sent (WhatsApp).
	Customer *Customer `json:"customer,omitempty"`
	// GroupID names the WhatsApp group a message was written in or sent
	// to; CustomerID is then the group id and Customer the participant.
	GroupID           string `json:"groupId,omitempty"`
	MessageID         string `json:"messageId,omitempty"`
	PlatformMessageID string `json:"platformMessageId,omitempty"`
	// InReplyTo is the parley message this one answers, when known.
	InReplyTo string `json:"inReplyTo,omitempty"`
	// Stale is set on a reply to an older interactive message than the
	// latest one sent to the customer (they re-opened an old one).
	Stale bool `json:"stale,omitempty"`
	// Unmatched is set on a reply that names an interactive message parley
	// has no record of; the reply is kept all the same.
	Unmatched bool `json:"unmatched,omitempty"`
	// ReplyToPlatformID is, on an unmatched reply, the platform id of the
	// message it answered.
	ReplyToPlatformID string `json:"replyToPlatformId,omitempty"`
	Body              *Body  `json:"body,omitempty"`
	// Routing is what Apple told of the customer's entry point, locale and
	// device with a message.received.
	Routing
	// Status is the new status for message.status, and "started" or
	// "ended" for conversation.typing.
	Status string `json:"status,omitempty"`
	Error  *Error `json:"error,omitempty"`
	// StatusDetail is a WhatsApp status's pricing, conversation and
	// callback data.
	StatusDetail *StatusDetail `json:"statusDetail,omitempty"`
}

var eventSeq atomic.Uint64

// NewEventID returns an event id that sorts after every id this process
// made before at the same or an earlier time: 19 digits of Unix nanoseconds,
// a process sequence and a random suffix against other processes.
func NewEventID(at time.Time) string {
	return fmt.Sprintf("%019d-%08d-%s", at.UnixNano(), eventSeq.Add(1)%100000000, randomHex(4))
}

// NewMessageID returns a new parley message id.
func NewMessageID() string { return "msg_" + randomHex(16) }

// NewUUID returns a random (version 4) UUID, as Apple wants for message ids.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
