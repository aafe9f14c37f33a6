package message

import "time"

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
	// Body is what the customer wrote (inbound) or what was sent (outbound).
	Body *Body `json:"body,omitempty"`
	// BodyRef is the blob key holding the body when it was too large to
	// keep inline; Body is then nil.
	BodyRef   string         `json:"bodyRef,omitempty"`
	Status    string         `json:"status"`
	Error     *Error         `json:"error,omitempty"`
	History   []StatusChange `json:"history,omitempty"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
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

// Body is the typed content of a message or a reply.
type Body struct {
	// Type is the kind of content: "text" in the foundation.
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
	// Ref is the blob key of a text too large to carry inline.
	Ref string `json:"ref,omitempty"`
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
	// ExpiresAt is when the store may forget the conversation.
	ExpiresAt time.Time `json:"expiresAt"`
	// Version increases with every change; stores use it for optimistic
	// concurrency.
	Version int64 `json:"version"`
}
