// Package embedded is the local default adapter of the store ports: items
// live in one bbolt file, blobs in plain files next to it. One process owns
// a directory at a time (bbolt locks the file).
package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// The buckets of the bbolt file.
var (
	bucketConversations = []byte("conversations") // conversation key → message.Conversation
	bucketMessages      = []byte("messages")      // message id → messageItem
	bucketPlatformIDs   = []byte("platform_ids")  // channel, platform id → message id
	bucketRecent        = []byte("recent")        // conversation key, created at, id → message id
	bucketClaims        = []byte("claims")        // claim key → expiring
	bucketEvents        = []byte("events")        // event id → eventItem
	bucketIdempotency   = []byte("idempotency")   // key → idempotencyItem
	bucketScheduled     = []byte("scheduled")     // id → scheduledItem
	bucketDue           = []byte("due")           // due time, id → id
	bucketPending       = []byte("pending")       // channel, platform id → pendingItem
	bucketPayments      = []byte("payments")      // message id → paymentItem
)

var buckets = [][]byte{
	bucketConversations, bucketMessages, bucketPlatformIDs, bucketRecent,
	bucketClaims, bucketEvents, bucketIdempotency, bucketScheduled, bucketDue, bucketPending, bucketPayments,
}

// pendingItem holds the pending statuses of one platform id.
type pendingItem struct {
	Statuses  []store.PendingStatus `json:"statuses"`
	ExpiresAt time.Time             `json:"expiresAt,omitzero"`
}

// livePending returns the pending statuses of a platform id.
func livePending(tx *bolt.Tx, now time.Time, ch message.Channel, pid string) ([]store.PendingStatus, error) {
	var p pendingItem
	found, err := get(tx, bucketPending, platformKey(ch, pid), &p)
	if err != nil || !found || !live(p.ExpiresAt, now) {
		return nil, err
	}
	return p.Statuses, nil
}

// pendStatus keeps a status for a platform id no live message has.
func pendStatus(tx *bolt.Tx, now time.Time, w store.PendStatus) error {
	if id := tx.Bucket(bucketPlatformIDs).Get(platformKey(w.Channel, w.PlatformMessageID)); id != nil {
		if _, err := liveMessage(tx, now, id); err == nil {
			return fmt.Errorf("embedded: pending status of %s/%s: %w", w.Channel, w.PlatformMessageID, store.ErrRecorded)
		}
	}
	ss, err := livePending(tx, now, w.Channel, w.PlatformMessageID)
	if err != nil {
		return err
	}
	return put(tx, bucketPending, platformKey(w.Channel, w.PlatformMessageID), pendingItem{Statuses: append(ss, w.Status), ExpiresAt: w.ExpiresAt})
}

// PendingStatuses returns the statuses kept for a platform id.
func (s *Store) PendingStatuses(ctx context.Context, ch message.Channel, pid string) ([]store.PendingStatus, error) {
	now := s.clk.Now()
	var ss []store.PendingStatus
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		ss, err = livePending(tx, now, ch, pid)
		return err
	})
	return ss, err
}

// lockTimeout bounds the wait for another process holding the database.
const lockTimeout = 2 * time.Second

// batchDelay is the longest an Apply waits for others to share its commit.
const batchDelay = 2 * time.Millisecond

// Store keeps parley's state in dir. It implements store.Store and
// store.Blobs.
type Store struct {
	db    *bolt.DB
	clk   clock.Clock
	blobs string
	// blobMu pairs a blob with its sidecar: PutBlob renames both under the
	// write lock, GetBlob opens both under the read lock.
	blobMu sync.RWMutex
}

var (
	_ store.Store = (*Store)(nil)
	_ store.Blobs = (*Store)(nil)
)

// Open opens (creating it if needed) the store in dir, reading time from
// clk. Items whose expiry has passed are removed on the way.
func Open(dir string, clk clock.Clock) (*Store, error) {
	blobs := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(blobs, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", dir, err)
	}
	path := filepath.Join(dir, "parley.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	db.MaxBatchDelay = batchDelay
	s := &Store{db: db, clk: clk, blobs: blobs}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return purge(tx, clk.Now())
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("embedded: close: %w", err)
	}
	return nil
}

// messageItem is a stored message.
type messageItem struct {
	Record    message.Record `json:"record"`
	ExpiresAt time.Time      `json:"expiresAt,omitzero"`
}

// eventItem is a stored event.
type eventItem struct {
	Event     message.Event `json:"event"`
	ExpiresAt time.Time     `json:"expiresAt,omitzero"`
}

// idempotencyItem is a stored idempotency key: store.Idempotency with the
// names it has on disk.
type idempotencyItem struct {
	Key         string    `json:"key"`
	Lease       string    `json:"lease,omitempty"`
	RequestHash string    `json:"requestHash"`
	MessageID   string    `json:"messageId,omitempty"`
	Status      int       `json:"status,omitempty"`
	Answer      []byte    `json:"answer,omitempty"`
	ExpiresAt   time.Time `json:"expiresAt,omitzero"`
}

// expiring is a stored claim.
type expiring struct {
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// live reports whether an item expiring at exp is still there at now; a
// zero exp never expires.
func live(exp, now time.Time) bool { return exp.IsZero() || exp.After(now) }

// Apply writes ws in one transaction: all of them or none.
func (s *Store) Apply(ctx context.Context, ws ...store.Write) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded: apply: %w", err)
	}
	now := s.clk.Now()
	// Batch commits the writes of concurrent callers together, with one
	// fsync, and returns to each only once its writes are on disk.
	return s.db.Batch(func(tx *bolt.Tx) error {
		// Duplicates are looked for first: they take precedence over
		// conflicts.
		if err := checkDuplicates(tx, now, ws); err != nil {
			return err
		}
		for _, w := range ws {
			if err := apply(tx, now, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkDuplicates returns ErrDuplicate if a Claim or CreateIdempotency of
// ws finds its key taken, in the store or earlier in ws.
func checkDuplicates(tx *bolt.Tx, now time.Time, ws []store.Write) error {
	claims := map[string]bool{}
	idems := map[string]bool{}
	for _, w := range ws {
		switch w := w.(type) {
		case store.Claim:
			var c expiring
			found, err := get(tx, bucketClaims, []byte(w.Key), &c)
			if err != nil {
				return err
			}
			if claims[w.Key] || found && live(c.ExpiresAt, now) {
				return fmt.Errorf("embedded: claim %q: %w", w.Key, store.ErrDuplicate)
			}
			claims[w.Key] = true
		case store.CreateIdempotency:
			var i idempotencyItem
			found, err := get(tx, bucketIdempotency, []byte(w.Idempotency.Key), &i)
			if err != nil {
				return err
			}
			if idems[w.Idempotency.Key] || found && live(i.ExpiresAt, now) {
				return fmt.Errorf("embedded: idempotency key %q: %w", w.Idempotency.Key, store.ErrDuplicate)
			}
			idems[w.Idempotency.Key] = true
		}
	}
	return nil
}

// apply performs one write of a batch whose duplicates have been checked.
func apply(tx *bolt.Tx, now time.Time, w store.Write) error {
	switch w := w.(type) {
	case store.Claim:
		return put(tx, bucketClaims, []byte(w.Key), expiring{ExpiresAt: w.ExpiresAt})
	case store.TouchConversation:
		return touchConversation(tx, now, w)
	case store.PutMessage:
		return putMessage(tx, now, w)
	case store.PendStatus:
		return pendStatus(tx, now, w)
	case store.AppendEvent:
		return put(tx, bucketEvents, []byte(w.Event.ID), eventItem{Event: w.Event, ExpiresAt: w.ExpiresAt})
	case store.CreateIdempotency:
		return put(tx, bucketIdempotency, []byte(w.Idempotency.Key), idempotencyItem(w.Idempotency))
	case store.PutIdempotency:
		return put(tx, bucketIdempotency, []byte(w.Idempotency.Key), idempotencyItem(w.Idempotency))
	case store.DeleteIdempotency:
		if w.Lease != "" {
			var i idempotencyItem
			found, err := get(tx, bucketIdempotency, []byte(w.Key), &i)
			if err != nil {
				return err
			}
			if found && live(i.ExpiresAt, now) && i.Lease != w.Lease {
				return fmt.Errorf("embedded: idempotency key %q: held by another claim: %w", w.Key, store.ErrConflict)
			}
		}
		return tx.Bucket(bucketIdempotency).Delete([]byte(w.Key))
	case store.PutScheduled:
		return putScheduled(tx, now, w)
	case store.PutPayment:
		return putPayment(tx, now, w)
	case store.DeleteScheduled:
		old, err := liveScheduled(tx, now, w.ID)
		if err != nil || old.Version != w.PrevVersion {
			return fmt.Errorf("embedded: scheduled item %s: not at version %d: %w", w.ID, w.PrevVersion, store.ErrConflict)
		}
		return unschedule(tx, old)
	default:
		return fmt.Errorf("embedded: apply: unknown write %T", w)
	}
}

// touchConversation moves the stored conversation forward; it never
// conflicts. An expired conversation is started afresh.
func touchConversation(tx *bolt.Tx, now time.Time, w store.TouchConversation) error {
	key := conversationKey(w.Key)
	var st store.ConversationState
	found, err := get(tx, bucketConversations, key, &st)
	if err != nil {
		return err
	}
	if found && !live(st.ExpiresAt, now) {
		st = store.ConversationState{}
	}
	st.Touch(w)
	return put(tx, bucketConversations, key, st)
}

func putMessage(tx *bolt.Tx, now time.Time, w store.PutMessage) error {
	r := w.Message
	var old messageItem
	found, err := get(tx, bucketMessages, []byte(r.ID), &old)
	if err != nil {
		return err
	}
	var version int64
	if found && live(old.ExpiresAt, now) {
		version = old.Record.Version
	}
	if version != w.PrevVersion {
		return fmt.Errorf("embedded: message %s: version %d, want %d: %w", r.ID, version, w.PrevVersion, store.ErrConflict)
	}
	if r.PlatformMessageID != "" && r.Direction == message.Outbound {
		ss, err := livePending(tx, now, r.Channel, r.PlatformMessageID)
		if err != nil {
			return err
		}
		if len(ss) != w.Pending {
			return fmt.Errorf("embedded: message %s: %d pending statuses, %d applied: %w", r.ID, len(ss), w.Pending, store.ErrPending)
		}
		if err := tx.Bucket(bucketPending).Delete(platformKey(r.Channel, r.PlatformMessageID)); err != nil {
			return err
		}
	}
	if found {
		if err := unindex(tx, old.Record); err != nil {
			return err
		}
	}
	if err := put(tx, bucketMessages, []byte(r.ID), messageItem{Record: r, ExpiresAt: w.ExpiresAt}); err != nil {
		return err
	}
	if r.PlatformMessageID != "" {
		if err := tx.Bucket(bucketPlatformIDs).Put(platformKey(r.Channel, r.PlatformMessageID), []byte(r.ID)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketRecent).Put(recentKey(r), []byte(r.ID))
}

// scheduledItem is a stored scheduled item.
type scheduledItem struct {
	Item      store.Scheduled `json:"item"`
	ExpiresAt time.Time       `json:"expiresAt,omitzero"`
}

func putScheduled(tx *bolt.Tx, now time.Time, w store.PutScheduled) error {
	sc := w.Item
	if sc.ID == "" {
		return errors.New("embedded: apply: scheduled item: empty id")
	}
	var version int64
	old, err := liveScheduled(tx, now, sc.ID)
	switch {
	case err == nil:
		version = old.Version
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if version != w.PrevVersion {
		return fmt.Errorf("embedded: scheduled item %s: version %d, want %d: %w", sc.ID, version, w.PrevVersion, store.ErrConflict)
	}
	if err == nil {
		if err := unschedule(tx, old); err != nil {
			return err
		}
	}
	if err := put(tx, bucketScheduled, []byte(sc.ID), scheduledItem{Item: sc, ExpiresAt: sc.ExpiresAt}); err != nil {
		return err
	}
	return tx.Bucket(bucketDue).Put(dueKey(sc), []byte(sc.ID))
}

// liveScheduled reads the scheduled item id, ErrNotFound if it is absent
// or expired.
func liveScheduled(tx *bolt.Tx, now time.Time, id string) (store.Scheduled, error) {
	var it scheduledItem
	found, err := get(tx, bucketScheduled, []byte(id), &it)
	if err != nil {
		return store.Scheduled{}, err
	}
	if !found || !live(it.ExpiresAt, now) {
		return store.Scheduled{}, fmt.Errorf("embedded: scheduled item %s: %w", id, store.ErrNotFound)
	}
	return it.Item, nil
}

// unschedule removes sc and its due entry.
func unschedule(tx *bolt.Tx, sc store.Scheduled) error {
	if err := tx.Bucket(bucketDue).Delete(dueKey(sc)); err != nil {
		return err
	}
	return tx.Bucket(bucketScheduled).Delete([]byte(sc.ID))
}

// dueKey orders scheduled items by due time, then id; it is also the
// cursor of DueItems.
func dueKey(sc store.Scheduled) []byte {
	return []byte(sc.DueAt.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + sc.ID)
}

// Scheduled returns the scheduled item with id id.
func (s *Store) Scheduled(ctx context.Context, id string) (store.Scheduled, error) {
	now := s.clk.Now()
	var sc store.Scheduled
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		sc, err = liveScheduled(tx, now, id)
		return err
	})
	return sc, err
}

// DueItems returns up to limit items due before before, after cursor.
func (s *Store) DueItems(ctx context.Context, before time.Time, limit int, cursor string) ([]store.Scheduled, string, error) {
	now := s.clk.Now()
	end := []byte(before.UTC().Format("2006-01-02T15:04:05.000000000Z"))
	var out []store.Scheduled
	next := ""
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDue).Cursor()
		k, id := c.Seek([]byte(cursor))
		if k != nil && string(k) == cursor {
			k, id = c.Next()
		}
		for ; k != nil && bytes.Compare(k, end) < 0 && len(out) < limit; k, id = c.Next() {
			sc, err := liveScheduled(tx, now, string(id))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, sc)
			next = string(k)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// unindex removes the index entries of r.
func unindex(tx *bolt.Tx, r message.Record) error {
	if r.PlatformMessageID != "" {
		pids := tx.Bucket(bucketPlatformIDs)
		pk := platformKey(r.Channel, r.PlatformMessageID)
		// The platform id may have moved on to another message since.
		if bytes.Equal(pids.Get(pk), []byte(r.ID)) {
			if err := pids.Delete(pk); err != nil {
				return err
			}
		}
	}
	return tx.Bucket(bucketRecent).Delete(recentKey(r))
}

// Conversation returns the conversation of k.
func (s *Store) Conversation(ctx context.Context, k store.ConversationKey) (message.Conversation, error) {
	now := s.clk.Now()
	var st store.ConversationState
	err := s.db.View(func(tx *bolt.Tx) error {
		found, err := get(tx, bucketConversations, conversationKey(k), &st)
		if err != nil {
			return err
		}
		if !found || !live(st.ExpiresAt, now) {
			return fmt.Errorf("embedded: conversation %s/%s/%s: %w", k.Channel, k.BusinessID, k.CustomerID, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return message.Conversation{}, err
	}
	return st.Conversation(k, now), nil
}

// Message returns the message with parley id id.
func (s *Store) Message(ctx context.Context, id string) (message.Record, error) {
	now := s.clk.Now()
	var r message.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		r, err = liveMessage(tx, now, []byte(id))
		return err
	})
	return r, err
}

// MessageByPlatformID returns the message a platform knows by pid.
func (s *Store) MessageByPlatformID(ctx context.Context, ch message.Channel, pid string) (message.Record, error) {
	now := s.clk.Now()
	var r message.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketPlatformIDs).Get(platformKey(ch, pid))
		if id == nil {
			return fmt.Errorf("embedded: message %s/%s: %w", ch, pid, store.ErrNotFound)
		}
		var err error
		r, err = liveMessage(tx, now, id)
		return err
	})
	return r, err
}

// liveMessage reads the message with id id, ErrNotFound if it is absent or
// expired.
func liveMessage(tx *bolt.Tx, now time.Time, id []byte) (message.Record, error) {
	var m messageItem
	found, err := get(tx, bucketMessages, id, &m)
	if err != nil {
		return message.Record{}, err
	}
	if !found || !live(m.ExpiresAt, now) {
		return message.Record{}, fmt.Errorf("embedded: message %s: %w", id, store.ErrNotFound)
	}
	return m.Record, nil
}

// RecentMessages returns up to limit messages of a conversation, newest
// first; messages created at the same time come by descending id.
func (s *Store) RecentMessages(ctx context.Context, k store.ConversationKey, limit int) ([]message.Record, error) {
	now := s.clk.Now()
	var rs []message.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := append(conversationKey(k), 0)
		end := append(conversationKey(k), 1)
		c := tx.Bucket(bucketRecent).Cursor()
		key, _ := c.Seek(end)
		var id []byte
		if key == nil {
			key, id = c.Last()
		} else {
			key, id = c.Prev()
		}
		for ; key != nil && bytes.HasPrefix(key, prefix) && len(rs) < limit; key, id = c.Prev() {
			r, err := liveMessage(tx, now, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			rs = append(rs, r)
		}
		return nil
	})
	return rs, err
}

// Events returns up to limit events with ids greater than after, oldest
// first.
func (s *Store) Events(ctx context.Context, after string, limit int) ([]message.Event, error) {
	now := s.clk.Now()
	var es []message.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		key, v := c.Seek([]byte(after))
		if key != nil && string(key) == after {
			key, v = c.Next()
		}
		for ; key != nil && len(es) < limit; key, v = c.Next() {
			var e eventItem
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("embedded: event %s: %w", key, err)
			}
			if live(e.ExpiresAt, now) {
				es = append(es, e.Event)
			}
		}
		return nil
	})
	return es, err
}

// Idempotency returns the state of an idempotency key.
func (s *Store) Idempotency(ctx context.Context, key string) (store.Idempotency, error) {
	now := s.clk.Now()
	var i idempotencyItem
	err := s.db.View(func(tx *bolt.Tx) error {
		found, err := get(tx, bucketIdempotency, []byte(key), &i)
		if err != nil {
			return err
		}
		if !found || !live(i.ExpiresAt, now) {
			return fmt.Errorf("embedded: idempotency key %q: %w", key, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return store.Idempotency{}, err
	}
	return store.Idempotency(i), nil
}

// paymentItem is the stored state of an Apple Pay request.
type paymentItem struct {
	Payment   store.Payment `json:"payment"`
	ExpiresAt time.Time     `json:"expiresAt,omitzero"`
}

func putPayment(tx *bolt.Tx, now time.Time, w store.PutPayment) error {
	p := w.State
	if p.MessageID == "" {
		return errors.New("embedded: apply: payment: empty message id")
	}
	var version int64
	old, err := livePayment(tx, now, p.MessageID)
	switch {
	case err == nil:
		version = old.Version
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if version != w.PrevVersion {
		return fmt.Errorf("embedded: payment of %s: version %d, want %d: %w", p.MessageID, version, w.PrevVersion, store.ErrConflict)
	}
	return put(tx, bucketPayments, []byte(p.MessageID), paymentItem{Payment: p, ExpiresAt: p.ExpiresAt})
}

// livePayment reads the payment state of message id, ErrNotFound if it is
// absent or expired.
func livePayment(tx *bolt.Tx, now time.Time, id string) (store.Payment, error) {
	var it paymentItem
	found, err := get(tx, bucketPayments, []byte(id), &it)
	if err != nil {
		return store.Payment{}, err
	}
	if !found || !live(it.ExpiresAt, now) {
		return store.Payment{}, fmt.Errorf("embedded: payment of %s: %w", id, store.ErrNotFound)
	}
	return it.Payment, nil
}

// Payment returns the state of the Apple Pay request of message id.
func (s *Store) Payment(ctx context.Context, id string) (store.Payment, error) {
	now := s.clk.Now()
	var p store.Payment
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		p, err = livePayment(tx, now, id)
		return err
	})
	return p, err
}

// purge removes the items that expired by now.
func purge(tx *bolt.Tx, now time.Time) error {
	type expiry struct {
		ExpiresAt time.Time `json:"expiresAt"`
	}
	for _, name := range [][]byte{bucketConversations, bucketClaims, bucketEvents, bucketIdempotency, bucketPending, bucketPayments} {
		b := tx.Bucket(name)
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var e expiry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("%s %s: %w", name, k, err)
			}
			if !live(e.ExpiresAt, now) {
				dead = append(dead, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	var deadScheduled []store.Scheduled
	err := tx.Bucket(bucketScheduled).ForEach(func(k, v []byte) error {
		var it scheduledItem
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("%s %s: %w", bucketScheduled, k, err)
		}
		if !live(it.ExpiresAt, now) {
			deadScheduled = append(deadScheduled, it.Item)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, sc := range deadScheduled {
		if err := unschedule(tx, sc); err != nil {
			return err
		}
	}
	var dead []message.Record
	err = tx.Bucket(bucketMessages).ForEach(func(k, v []byte) error {
		var m messageItem
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("%s %s: %w", bucketMessages, k, err)
		}
		if !live(m.ExpiresAt, now) {
			dead = append(dead, m.Record)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range dead {
		if err := unindex(tx, r); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMessages).Delete([]byte(r.ID)); err != nil {
			return err
		}
	}
	return nil
}

// get decodes the value under key into v, reporting whether there was one.
func get(tx *bolt.Tx, bucket, key []byte, v any) (bool, error) {
	b := tx.Bucket(bucket).Get(key)
	if b == nil {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("embedded: %s %s: %w", bucket, key, err)
	}
	return true, nil
}

// put stores v under key, JSON-encoded.
func put(tx *bolt.Tx, bucket, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("embedded: %s %s: %w", bucket, key, err)
	}
	return tx.Bucket(bucket).Put(key, b)
}

// conversationKey joins the parts of k with NUL bytes, which ids never hold.
func conversationKey(k store.ConversationKey) []byte {
	return []byte(string(k.Channel) + "\x00" + k.BusinessID + "\x00" + k.CustomerID)
}

func platformKey(ch message.Channel, pid string) []byte {
	return []byte(string(ch) + "\x00" + pid)
}

// recentKey orders the messages of a conversation by creation time, then id.
func recentKey(r message.Record) []byte {
	k := store.ConversationKey{Channel: r.Channel, BusinessID: r.BusinessID, CustomerID: r.CustomerID}
	key := append(conversationKey(k), 0)
	// Flipping the sign bit makes the big-endian bytes sort like the
	// signed nanoseconds.
	key = binary.BigEndian.AppendUint64(key, uint64(r.CreatedAt.UnixNano())^(1<<63))
	return append(key, r.ID...)
}

// Claimed reports which of keys name a live claim (store.ClaimChecker).
func (s *Store) Claimed(ctx context.Context, keys []string) (map[string]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedded: claimed: %w", err)
	}
	now := s.clk.Now()
	claimed := map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, k := range keys {
			var c expiring
			found, err := get(tx, bucketClaims, []byte(k), &c)
			if err != nil {
				return err
			}
			if found && live(c.ExpiresAt, now) {
				claimed[k] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: claimed: %w", err)
	}
	return claimed, nil
}
