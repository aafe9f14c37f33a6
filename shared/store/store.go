// Package store defines the ports parley keeps its state behind: one Store
// for conversations, messages, dedupe claims, idempotency answers and the
// event log, and one Blobs for large payloads. Two adapters implement them:
// store/dynamo (DynamoDB + S3, production) and store/embedded (bbolt +
// files, local default). storetest holds the one contract suite both pass.
package store

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Errors the adapters return; test with errors.Is.
var (
	// ErrNotFound: no such item, or the item has expired (TTL deletion is
	// lazy, so adapters filter on expiresAt themselves).
	ErrNotFound = errors.New("store: not found")
	// ErrDuplicate: a Claim in an Apply batch was already taken; nothing in
	// the batch was written.
	ErrDuplicate = errors.New("store: duplicate")
	// ErrConflict: a version check in an Apply batch failed because someone
	// else changed the item first; nothing in the batch was written. Read
	// again and retry. (Conversation touches never conflict.)
	ErrConflict = errors.New("store: conflict")
	// ErrRecorded: a PendStatus found the message it concerns recorded;
	// nothing in the batch was written. Apply the status to the message.
	ErrRecorded = errors.New("store: the message is recorded")
	// ErrPending: a PutMessage of an outbound message found a different
	// number of pending statuses for its platform id than it applied;
	// nothing in the batch was written. Read PendingStatuses, apply them,
	// and write again.
	ErrPending = errors.New("store: statuses are pending for the message")
)

// PendingStatus is a platform's status for a message parley has not
// recorded yet (the platform reported it before the send's record was
// written).
type PendingStatus struct {
	Status string                 `json:"status"`
	At     time.Time              `json:"at"`
	Error  *message.PlatformError `json:"error,omitempty"`
	// ReceivedAt is when parley received it.
	ReceivedAt time.Time `json:"receivedAt"`
}

// ConversationKey names one business↔customer pair.
type ConversationKey struct {
	Channel    message.Channel
	BusinessID string
	CustomerID string
}

// KeyOf returns the conversation key of c.
func KeyOf(c message.Conversation) ConversationKey {
	return ConversationKey{Channel: c.Channel, BusinessID: c.BusinessID, CustomerID: c.CustomerID}
}

// Idempotency is the stored state of an idempotency key. A request claims
// its key with a lease: CreateIdempotency with ExpiresAt a few seconds
// ahead (longer than the request can run) and a fresh Lease. When the
// outcome is known, PutIdempotency records it with the key's full
// retention; a request that ends without an outcome to keep releases the
// key (DeleteIdempotency naming its Lease). A request that dies in between —
// a crash, a timeout, a store failure — leaves a claim that expires with
// its lease, after which the key can be claimed again.
type Idempotency struct {
	Key string
	// Lease identifies the claim that holds the key; empty on keys written
	// without one.
	Lease string
	// RequestHash identifies the request that claimed the key, so that the
	// same key with a different request can be refused.
	RequestHash string
	// MessageID is the message the key produced.
	MessageID string
	// Answer is the HTTP status and body of the first answer; empty while
	// the first request is still in flight.
	Status    int
	Answer    []byte
	ExpiresAt time.Time
}

// Store keeps parley's state. Every method is safe for concurrent use.
type Store interface {
	// Apply writes all of ws atomically, or none of them: ErrDuplicate when
	// a Claim or a CreateIdempotency finds its key taken, ErrConflict when a
	// version check fails. A duplicate takes precedence over a conflict.
	Apply(ctx context.Context, ws ...Write) error

	// Conversation returns the conversation of k; its WindowClosesAt is zero
	// when the window item is absent or expired. ErrNotFound when parley
	// knows nothing of the pair (or it has expired).
	Conversation(ctx context.Context, k ConversationKey) (message.Conversation, error)
	// Message returns the message with parley id id.
	Message(ctx context.Context, id string) (message.Record, error)
	// MessageByPlatformID returns the message a platform knows by pid.
	MessageByPlatformID(ctx context.Context, ch message.Channel, pid string) (message.Record, error)
	// RecentMessages returns up to limit messages of a conversation, newest
	// first.
	RecentMessages(ctx context.Context, k ConversationKey, limit int) ([]message.Record, error)
	// PendingStatuses returns the statuses kept for a platform id that no
	// recorded message has yet, in the order they were kept.
	PendingStatuses(ctx context.Context, ch message.Channel, pid string) ([]PendingStatus, error)
	// Events returns up to limit events with ids greater than after, oldest
	// first. after "" starts at the beginning of the log.
	Events(ctx context.Context, after string, limit int) ([]message.Event, error)
	// Idempotency returns the state of an idempotency key.
	Idempotency(ctx context.Context, key string) (Idempotency, error)
	// Scheduled returns the scheduled item with id id.
	Scheduled(ctx context.Context, id string) (Scheduled, error)
	// DueItems returns up to limit scheduled items whose DueAt is before
	// before, by DueAt then id, and the cursor to pass for the next page
	// ("" starts at the earliest; the returned cursor is "" when no item
	// was returned). The reader may lag behind writes by a moment (a
	// DynamoDB index is eventually consistent): claim an item with a
	// versioned PutScheduled before acting on it.
	DueItems(ctx context.Context, before time.Time, limit int, cursor string) ([]Scheduled, string, error)
	// Payment returns the state of the Apple Pay request of the applePay
	// message messageID; ErrNotFound before its first callback.
	Payment(ctx context.Context, messageID string) (Payment, error)
}

// Payment is the state of an Apple Pay request parley sent: what Apple's
// callbacks for it have done so far. There is one per applePay message,
// written with PutPayment.
type Payment struct {
	// MessageID is the applePay message.
	MessageID string `json:"messageId"`
	// Steps counts the callbacks forwarded to the processor, by step
	// (paymentGateway, shippingContactUpdate, …).
	Steps map[string]int `json:"steps,omitempty"`
	// Status is the status the last paymentGateway call was answered with.
	Status string `json:"status,omitempty"`
	// PaidAt is when a paymentGateway call was answered STATUS_SUCCESS.
	PaidAt time.Time `json:"paidAt,omitzero"`
	// BusyUntil is, while a paymentGateway call is with the processor, the
	// end of its lease; a call that dies leaves it to run out.
	BusyUntil time.Time `json:"busyUntil,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	Version   int64     `json:"version"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// Kinds of scheduled items.
const (
	// ScheduledSend is a send request with a future sendAt.
	ScheduledSend = "send"
	// ScheduledReengage is a re-engagement template due shortly before a
	// WhatsApp window closes on an unanswered interactive message.
	ScheduledReengage = "reengage"
)

// Scheduled is a send waiting in the store for its time.
type Scheduled struct {
	// ID is the parley message id the send will have.
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// DueAt is when the item is due: the request's sendAt, or, once a run
	// has claimed it, the end of the claim's lease.
	DueAt time.Time `json:"dueAt"`
	// Claimed is set by the run that took the item.
	Claimed bool                `json:"claimed,omitempty"`
	Request message.SendRequest `json:"request"`
	// About is, for a re-engagement, the interactive message awaiting an
	// answer.
	About string `json:"about,omitempty"`
	// WindowClosesAt is, for a re-engagement, the window close it was
	// planned against: a later close means the customer wrote since.
	WindowClosesAt time.Time `json:"windowClosesAt,omitzero"`
	CreatedAt      time.Time `json:"createdAt"`
	Version        int64     `json:"version"`
	ExpiresAt      time.Time `json:"expiresAt,omitzero"`
}

// Write is one item of an Apply batch: Claim, TouchConversation, PutMessage,
// AppendEvent, CreateIdempotency, PutIdempotency, DeleteIdempotency,
// PutScheduled, DeleteScheduled or PutPayment.
type Write interface{ write() }

// Claim takes a dedupe key (e.g. "IN#whatsapp#wamid.X") for good; the batch
// fails with ErrDuplicate if the key is already taken and not expired.
type Claim struct {
	Key       string
	ExpiresAt time.Time
	// Owner, when set, is kept with the claim (an id of the batch that
	// takes it), so that a writer whose answer was lost can learn from
	// ClaimOwners whether its own batch took the key.
	Owner string
}

// ClaimOwners is implemented by stores that can tell who holds a claim:
// the Owner of the live claim under key, ErrNotFound when there is none.
// A batch's outcome is unknown when the store's answer to it was lost (a
// timeout, a connection cut, a damaged answer); its claim's owner tells
// whether it was applied, since a batch is all or nothing.
type ClaimOwners interface {
	ClaimOwner(ctx context.Context, key string) (string, error)
}

// ClaimChecker is implemented by stores that can tell in bulk which
// claims are live (see Claim): one read per hundred keys on DynamoDB. The
// ingest use case asks it before storing a large batch, so that a batch
// Meta delivers again (after a timeout, say) skips what was stored the
// first time without a write for each item.
type ClaimChecker interface {
	// Claimed reports which of keys name a live claim; keys it leaves out
	// of the answer are not claimed.
	Claimed(ctx context.Context, keys []string) (map[string]bool, error)
}

// TouchConversation records what one inbound item tells of a
// conversation: a customer message at InboundAt, or a close at ClosedAt
// (Apple), each with the device's Capabilities when the item carries them.
// Every part only moves forward — the latest message, the latest close,
// the capabilities of the latest item that had some — so touches of one
// conversation commute: they never conflict with each other, and one that
// arrives late or twice changes nothing it should not. The stored
// conversation reads as:
//
//   - LastInboundAt: the latest InboundAt; WindowClosesAt: the latest
//     InboundAt+Window (while in the future);
//   - Closed and ClosedAt: the latest ClosedAt, when it is not before
//     LastInboundAt (a customer who writes again reopens);
//   - Capabilities: those of the latest touch that carried some; each
//     Routing field: the latest value given;
//   - ExpiresAt: the latest of InboundAt and ClosedAt, plus Retention.
type TouchConversation struct {
	Key          ConversationKey
	InboundAt    time.Time
	ClosedAt     time.Time
	Capabilities []string
	// Routing (Apple's intent, group, locale and device-agent) is kept
	// field by field: each field holds the value of the latest touch that
	// set it.
	Routing message.Routing
	// Window is how long after a customer message the business may write
	// freely (WhatsApp's 24 hours); 0 for none.
	Window    time.Duration
	Retention time.Duration
	// Fields are named string registers (FieldAliasOf, FieldGroupChat,
	// CustomerFields), each kept, like Routing, at its latest value.
	Fields map[string]string
}

// Names of the string registers of a conversation besides Routing.
const (
	// FieldAliasOf, on the conversation of one id of a WhatsApp customer,
	// names the key of the conversation their messages are kept under.
	FieldAliasOf = "aliasOf"
	// FieldGroupChat is "true" on a WhatsApp group's conversation.
	FieldGroupChat = "groupChat"
)

// CustomerFields are the registers of a WhatsApp customer's ids and
// profile, by name.
func CustomerFields(c *message.Customer) map[string]string {
	return map[string]string{"waId": c.WaID, "userId": c.UserID, "parentUserId": c.ParentUserID, "username": c.Username, "name": c.Name}
}

// At returns the time of the touch: InboundAt, or ClosedAt.
func (t TouchConversation) At() time.Time {
	if !t.InboundAt.IsZero() {
		return t.InboundAt
	}
	return t.ClosedAt
}

// PutMessage writes a message record if the stored one still has version
// PrevVersion (0: a new message). The record's Version must be PrevVersion+1.
// It also keeps the (channel, platform id) → message index up to date.
//
// For an outbound message with a platform id, Pending is how many of the
// platform id's pending statuses the writer applied to the record: the
// batch fails with ErrPending when the store holds another number, and
// otherwise removes them.
type PutMessage struct {
	Message     message.Record
	PrevVersion int64
	ExpiresAt   time.Time
	Pending     int
}

// PendStatus keeps a status for the platform id of a message not recorded
// yet, until ExpiresAt; the batch fails with ErrRecorded when a message
// with that platform id is recorded.
type PendStatus struct {
	Channel           message.Channel
	PlatformMessageID string
	Status            PendingStatus
	ExpiresAt         time.Time
}

// AppendEvent adds an event to the log.
type AppendEvent struct {
	Event     message.Event
	ExpiresAt time.Time
}

// CreateIdempotency claims an idempotency key; the batch fails with
// ErrDuplicate if the key is taken and not expired.
type CreateIdempotency struct{ Idempotency Idempotency }

// PutIdempotency records the answer of an idempotency key, replacing what
// is stored.
type PutIdempotency struct{ Idempotency Idempotency }

// DeleteIdempotency releases a key, so that a later request can use it.
// With Lease set, only the claim of that lease is released: the batch fails
// with ErrConflict when another claim holds the key (the lease ran out and
// another request claimed it). Releasing a key nobody holds is not an
// error.
type DeleteIdempotency struct {
	Key   string
	Lease string
}

// PutScheduled writes a scheduled item if the stored one still has version
// PrevVersion (0: none stored); Item.Version must be PrevVersion+1. A
// versioned put is how a run claims an item: of two runs that read the same
// version, one wins and the other gets ErrConflict.
type PutScheduled struct {
	Item        Scheduled
	PrevVersion int64
}

// DeleteScheduled removes a scheduled item if it still has version
// PrevVersion; ErrConflict otherwise (it changed, or is gone).
type DeleteScheduled struct {
	ID          string
	PrevVersion int64
}

// PutPayment writes the state of an Apple Pay request if the stored one
// still has version PrevVersion (0: none stored, or expired); State.Version
// must be PrevVersion+1. ErrConflict otherwise: of two callbacks that read
// the same version, one wins.
type PutPayment struct {
	State       Payment
	PrevVersion int64
}

func (Claim) write()             {}
func (PutPayment) write()        {}
func (PutScheduled) write()      {}
func (DeleteScheduled) write()   {}
func (TouchConversation) write() {}
func (PutMessage) write()        {}
func (PendStatus) write()        {}
func (AppendEvent) write()       {}
func (CreateIdempotency) write() {}
func (PutIdempotency) write()    {}
func (DeleteIdempotency) write() {}

// Blobs keeps large payloads (bodies too large for a store item).
type Blobs interface {
	// PutBlob stores r under key with the given content type and metadata.
	PutBlob(ctx context.Context, key string, r io.Reader, contentType string, meta map[string]string) error
	// GetBlob opens the blob under key; ErrNotFound if there is none.
	GetBlob(ctx context.Context, key string) (io.ReadCloser, BlobInfo, error)
}

// BlobStater is implemented by Blobs that can describe a blob without
// opening it (the S3 adapter's HeadObject): see StatBlob.
type BlobStater interface {
	// StatBlob describes the blob under key; ErrNotFound if there is none.
	StatBlob(ctx context.Context, key string) (BlobInfo, error)
}

// StatBlob describes the blob under key in b without reading it, opening
// it only when b cannot describe it otherwise; ErrNotFound if there is none.
func StatBlob(ctx context.Context, b Blobs, key string) (BlobInfo, error) {
	if st, ok := b.(BlobStater); ok {
		return st.StatBlob(ctx, key)
	}
	rc, info, err := b.GetBlob(ctx, key)
	if err != nil {
		return BlobInfo{}, err
	}
	rc.Close()
	return info, nil
}

// PresignPuter is implemented by Blobs that can hand out a URL writing one
// blob without credentials (the S3 adapter): the send API's large uploads.
type PresignPuter interface {
	// PresignPut returns a URL that stores, for ttl, one PUT of exactly
	// size bytes with Content-Type contentType under key.
	PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (string, error)
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Size        int64
	ContentType string
	Meta        map[string]string
}

// ConversationState is what adapters keep of a conversation: the parts
// that TouchConversation moves forward.
type ConversationState struct {
	LastInboundAt  time.Time `json:"lastInboundAt,omitzero"`
	WindowClosesAt time.Time `json:"windowClosesAt,omitzero"`
	ClosedAt       time.Time `json:"closedAt,omitzero"`
	Capabilities   []string  `json:"capabilities,omitempty"`
	CapabilitiesAt time.Time `json:"capabilitiesAt,omitzero"`
	// Routing holds each field's latest value, RoutingAt its time by field
	// name (RoutingFields).
	Routing   message.Routing      `json:"routing,omitzero"`
	RoutingAt map[string]time.Time `json:"routingAt,omitempty"`
	// Fields holds each named register's latest value, FieldsAt its time.
	Fields    map[string]string    `json:"fields,omitempty"`
	FieldsAt  map[string]time.Time `json:"fieldsAt,omitempty"`
	ExpiresAt time.Time            `json:"expiresAt,omitzero"`
}

// RoutingFields names the fields of a message.Routing, for adapters that
// keep one register per field.
func RoutingFields(r *message.Routing) []struct {
	Name  string
	Value *string
} {
	return []struct {
		Name  string
		Value *string
	}{{"intent", &r.Intent}, {"group", &r.Group}, {"locale", &r.Locale}, {"deviceAgent", &r.DeviceAgent}}
}

// Touch moves s forward with t. Each part keeps the later of its own and
// t's; of two touches with the same time, the one kept last wins.
func (s *ConversationState) Touch(t TouchConversation) {
	if t.InboundAt.After(s.LastInboundAt) {
		s.LastInboundAt = t.InboundAt
	}
	if !t.InboundAt.IsZero() && t.Window > 0 {
		if closes := t.InboundAt.Add(t.Window); closes.After(s.WindowClosesAt) {
			s.WindowClosesAt = closes
		}
	}
	if t.ClosedAt.After(s.ClosedAt) {
		s.ClosedAt = t.ClosedAt
	}
	if at := t.At(); len(t.Capabilities) > 0 && (s.CapabilitiesAt.IsZero() || !at.Before(s.CapabilitiesAt)) {
		s.Capabilities, s.CapabilitiesAt = t.Capabilities, at
	}
	given := t.Routing
	fields := RoutingFields(&s.Routing)
	for i, f := range RoutingFields(&given) {
		if *f.Value == "" {
			continue
		}
		if prev, ok := s.RoutingAt[f.Name]; !ok || !t.At().Before(prev) {
			if s.RoutingAt == nil {
				s.RoutingAt = map[string]time.Time{}
			}
			*fields[i].Value, s.RoutingAt[f.Name] = *f.Value, t.At()
		}
	}
	for name, v := range t.Fields {
		if v == "" {
			continue
		}
		if prev, ok := s.FieldsAt[name]; !ok || !t.At().Before(prev) {
			if s.Fields == nil {
				s.Fields, s.FieldsAt = map[string]string{}, map[string]time.Time{}
			}
			s.Fields[name], s.FieldsAt[name] = v, t.At()
		}
	}
	if exp := t.At().Add(t.Retention); exp.After(s.ExpiresAt) {
		s.ExpiresAt = exp
	}
}

// Conversation is the conversation k in state s, seen at now: a window
// that has closed reads as none, and a close is in force only when the
// customer has not written since.
func (s ConversationState) Conversation(k ConversationKey, now time.Time) message.Conversation {
	c := message.Conversation{Channel: k.Channel, BusinessID: k.BusinessID, CustomerID: k.CustomerID,
		LastInboundAt: s.LastInboundAt, Capabilities: s.Capabilities, Routing: s.Routing, ExpiresAt: s.ExpiresAt}
	if s.WindowClosesAt.After(now) {
		c.WindowClosesAt = s.WindowClosesAt
	}
	if !s.ClosedAt.IsZero() && !s.ClosedAt.Before(s.LastInboundAt) {
		c.Closed, c.ClosedAt = true, s.ClosedAt
	}
	f := s.Fields
	c.AliasOf, c.GroupChat = f[FieldAliasOf], f[FieldGroupChat] == "true"
	cust := message.Customer{WaID: f["waId"], UserID: f["userId"], ParentUserID: f["parentUserId"], Username: f["username"], Name: f["name"]}
	if cust != (message.Customer{}) {
		c.Customer = &cust
	}
	return c
}
