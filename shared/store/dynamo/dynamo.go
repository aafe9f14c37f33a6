// Package dynamo is the production adapter of the store ports: parley's
// state in one DynamoDB table, its blobs in one S3 bucket.
//
// # Table
//
// The table has a string hash key PK and a string range key SK, two global
// secondary indexes GSI1 (GSI1PK, GSI1SK) and GSI2 (GSI2PK, GSI2SK), both
// projecting all attributes, on-demand
// billing, and TTL on expiresAt. CreateTable makes exactly that.
//
//	item          PK                                 SK           other attributes
//	conversation  CONV#{channel}#{business}#{cust.}  CONV         data, version, expiry
//	window        CONV#{channel}#{business}#{cust.}  WINDOW       lastInboundAt, version, expiry = WindowClosesAt
//	claim         {Claim.Key}                        CLAIM        owner, expiry
//	message       MSG#{id}                           MSG          GSI1PK = the conversation's PK,
//	                                                              GSI1SK = {createdAt}#{id}, data, version, expiry
//	platform id   PMID#{channel}#{platform id}       PMID         messageId, expiry
//	event         EVT                                {event id}   data, expiry
//	idempotency   IDEM#{key}                         IDEM         requestHash, messageId, status, answer, expiry
//	scheduled     SCHED#{message id}                 SCHED        GSI2PK = DUE, GSI2SK = {dueAt}#{id},
//	                                                              data, version, expiry
//	payment       PAY#{message id}                   PAY          data, version, expiry
//
// data is the JSON of the message.Conversation (without WindowClosesAt,
// which the window item holds), message.Record, message.Event,
// store.Scheduled or store.Payment: the same
// documents the API shows, so items stay readable in the console. createdAt
// in GSI1SK is RFC 3339 in UTC with exactly nine fractional digits, so that
// it sorts as text. version and status are Numbers, answer is Binary,
// lastInboundAt is RFC 3339, and the rest are Strings.
//
// An item that expires carries two attributes: expiresAt, the TTL attribute
// (epoch seconds, rounded up so that TTL never deletes an item before it
// expires), and expiresAtNs (epoch nanoseconds), which every reader and
// condition compares with the clock: TTL deletion is lazy, so an item whose
// expiresAtNs is not after now reads as absent and may be claimed again.
// An item without them never expires.
//
// A conversation's window lives in its own item so that it expires on its
// own. Conversation reads both items with one Query, and takes the window
// only when it has the conversation's version and has not expired: a later
// write without a window leaves the old window item behind, stale.
//
// Scheduled items are spread over Config.Shards GSI2 partitions (DUE,
// DUE#1, … by a hash of the id), each ordered by due time; DueItems
// queries every shard from the cursor and merges them in order, so the
// cursor (the GSI2SK of the last item returned) stays the same whatever
// the number of shards. A claim moves an item's GSI2SK to the end of its
// lease.
//
// Events are spread the same way over EVT, EVT#1, … by a hash of their id,
// each ordered by id (message.NewEventID); Events queries every shard
// after the cursor and merges them, so the cursor is an event id as
// before. With one shard (the default) both are one Query.
//
// # Requests
//
// The Store speaks DynamoDB's JSON protocol through awsapi/dynamodb,
// without the AWS SDK. Every request is retried by awsapi.Call on
// connection failures, 5xx answers and throttling.
//
// Apply is one TransactWriteItems request, whatever it writes (up to 100
// items: a conversation with a window and a message with a platform id
// count two each). It carries an idempotency token, so that a retry of a
// request that arrived is not applied twice, and it is also retried when
// DynamoDB cancelled it only because another transaction was writing one
// of its items. Conversation, Message, Idempotency, Scheduled and Payment
// are one read request each, MessageByPlatformID two; RecentMessages and
// Events are one unless they page past 1 MB or past many expired items.
// Base-table reads are strongly consistent; RecentMessages reads GSI1,
// which is not. Counts tells how many requests a Store made.
//
// # Blobs
//
// Blobs are S3 objects under their key, with the content type and user
// metadata given (S3 returns metadata keys in lower case). PutBlob sends a
// seekable body (bytes.Reader, strings.Reader, os.File) in one PutObject and
// streams any other body in a multipart upload of PartSize parts, aborted if
// the body fails; either way a blob is at most MaxBlobSize bytes.
package dynamo

import (
	"fmt"
	"sync/atomic"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/awsapi/s3"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/store"
)

// Config holds what New needs.
type Config struct {
	// AWS calls DynamoDB and S3.
	AWS    *awsapi.Client
	Table  string
	Bucket string
	// Clock tells the store what time it is, for expiry; nil means the
	// system clock.
	Clock clock.Clock
	// Shards is how many partitions the event log and the due index are
	// written over (at least 1). Readers query every one, so it may grow
	// but must never shrink while items remain in the shards it drops.
	Shards int
}

// Store keeps parley's state in DynamoDB and S3. It implements store.Store
// and store.Blobs and is safe for concurrent use.
type Store struct {
	db     *dynamodb.Client
	blobs  *s3.Client
	table  string
	bucket string
	clock  clock.Clock
	shards int
	reads  atomic.Int64
	writes atomic.Int64
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.Blobs       = (*Store)(nil)
	_ store.ClaimOwners = (*Store)(nil)
)

// New returns a Store on the table and bucket of cfg, which must exist (see
// CreateTable and CreateBucket).
func New(cfg Config) *Store {
	clk := cfg.Clock
	if clk == nil {
		clk = clock.System{}
	}
	return &Store{db: dynamodb.New(cfg.AWS), blobs: s3.New(cfg.AWS), table: cfg.Table, bucket: cfg.Bucket, clock: clk, shards: max(cfg.Shards, 1)}
}

// Counts is how many DynamoDB requests a Store made: reads are GetItem,
// Query and BatchGetItem; writes are TransactWriteItems. A call is one
// request, however often it was retried.
type Counts struct {
	Reads, Writes int64
}

// Counts returns the requests made since New or the last ResetCounts.
func (s *Store) Counts() Counts {
	return Counts{Reads: s.reads.Load(), Writes: s.writes.Load()}
}

// ResetCounts sets the request counts back to zero.
func (s *Store) ResetCounts() {
	s.reads.Store(0)
	s.writes.Store(0)
}

// retryConflicts is the call option of TransactWriteItems that also
// retries a transaction DynamoDB cancelled only because another
// transaction was writing one of its items at the same time: the retry
// then meets the other transaction's outcome (ErrDuplicate for a claim
// both wanted) instead of a bare conflict.
var retryConflicts = awsapi.RetryIf(onlyTransactionConflicts)

// onlyTransactionConflicts reports whether err is a cancelled transaction
// whose only reasons are TransactionConflict (and None for the items that
// were fine).
func onlyTransactionConflicts(err *awsapi.Error) bool {
	reasons, ok := dynamodb.CancellationReasons(err)
	if !ok {
		return false
	}
	conflict := false
	for _, r := range reasons {
		switch r.Code {
		case "None", "":
		case "TransactionConflict":
			conflict = true
		default:
			return false
		}
	}
	return conflict
}

// errorf prefixes the package name to an error message.
func errorf(format string, args ...any) error {
	return fmt.Errorf("dynamo: "+format, args...)
}
