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
	// again and retry.
	ErrConflict = errors.New("store: conflict")
)

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

// Idempotency is the stored state of an idempotency key.
type Idempotency struct {
	Key string
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
	// Events returns up to limit events with ids greater than after, oldest
	// first. after "" starts at the beginning of the log.
	Events(ctx context.Context, after string, limit int) ([]message.Event, error)
	// Idempotency returns the state of an idempotency key.
	Idempotency(ctx context.Context, key string) (Idempotency, error)
}

// Write is one item of an Apply batch: Claim, PutConversation, PutMessage,
// AppendEvent, CreateIdempotency, PutIdempotency or DeleteIdempotency.
type Write interface{ write() }

// Claim takes a dedupe key (e.g. "IN#whatsapp#wamid.X") for good; the batch
// fails with ErrDuplicate if the key is already taken and not expired.
type Claim struct {
	Key       string
	ExpiresAt time.Time
}

// PutConversation writes a conversation if the stored one still has
// version PrevVersion (0: none stored). The stored version becomes
// Conversation.Version, which the caller sets to PrevVersion+1.
type PutConversation struct {
	Conversation message.Conversation
	PrevVersion  int64
}

// PutMessage writes a message record if the stored one still has version
// PrevVersion (0: a new message). The record's Version must be PrevVersion+1.
// It also keeps the (channel, platform id) → message index up to date.
type PutMessage struct {
	Message     message.Record
	PrevVersion int64
	ExpiresAt   time.Time
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
type DeleteIdempotency struct{ Key string }

func (Claim) write()             {}
func (PutConversation) write()   {}
func (PutMessage) write()        {}
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

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Size        int64
	ContentType string
	Meta        map[string]string
}
