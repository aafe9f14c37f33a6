// Package storetest is the one contract suite every store adapter passes.
//
// Every subtest calls the Factory for a fresh store and drives time with its
// own clock.Manual, so adapters are free to share a backing service between
// subtests; keys are unique per subtest all the same.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// Factory makes a fresh, empty store for one test, reading time from clk.
type Factory func(t *testing.T, clk clock.Clock) (store.Store, store.Blobs)

// Run runs the contract suite against the adapter that newStore makes.
func Run(t *testing.T, newStore Factory) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"Conversation/CreateAndUpdate", testConversationCreateAndUpdate},
		{"Conversation/Commute", testConversationCommute},
		{"Conversation/ConcurrentTouches", testConversationConcurrentTouches},
		{"Conversation/Window", testConversationWindow},
		{"Conversation/Expiry", testConversationExpiry},
		{"Claim/Duplicate", testClaimDuplicate},
		{"Claim/Expiry", testClaimExpiry},
		{"Claim/Bulk", testClaimed},
		{"Apply/AllOrNothing", testApplyAllOrNothing},
		{"Apply/DuplicateOverConflict", testDuplicateOverConflict},
		{"Message/Get", testMessageGet},
		{"Message/ByPlatformID", testMessageByPlatformID},
		{"Message/Conflict", testMessageConflict},
		{"Message/Recent", testRecentMessages},
		{"Message/Expiry", testMessageExpiry},
		{"Message/PendingStatuses", testPendingStatuses},
		{"Events/Empty", testEventsEmpty},
		{"Events/Paging", testEventsPaging},
		{"Events/Expiry", testEventsExpiry},
		{"Idempotency/Lifecycle", testIdempotencyLifecycle},
		{"Idempotency/Expiry", testIdempotencyExpiry},
		{"Idempotency/Lease", testIdempotencyLease},
		{"Schedule/Due", testScheduleDue},
		{"Schedule/Claim", testScheduleClaim},
		{"Schedule/AllOrNothing", testScheduleAllOrNothing},
		{"Schedule/Expiry", testScheduleExpiry},
		{"Payment/Versions", testPaymentVersions},
		{"Payment/AllOrNothing", testPaymentAllOrNothing},
		{"Payment/Expiry", testPaymentExpiry},
		{"Blobs/RoundTrip", testBlobRoundTrip},
		{"Blobs/NotFound", testBlobNotFound},
		{"Blobs/Overwrite", testBlobOverwrite},
		{"Blobs/Stream", testBlobStream},
		{"Blobs/FailedStream", testBlobFailedStream},
		{"Concurrency/OneClaimWins", testOneClaimWins},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewManual(base)
			st, blobs := newStore(t, clk)
			tt.run(t, &harness{
				ctx:   t.Context(),
				clk:   clk,
				st:    st,
				blobs: blobs,
				run:   message.NewUUID()[:8],
			})
		})
	}
}

// base is where every subtest's clock starts. It lies in the future so that
// a backing service that deletes expired items on its own (DynamoDB TTL)
// never removes one before the subtest's clock says it has expired. It has
// no sub-second part, so times survive any store precision down to seconds.
var base = time.Date(2031, time.March, 14, 9, 26, 53, 0, time.UTC)

// forever is far enough ahead to show that a zero expiry never expires.
const forever = 100 * 365 * 24 * time.Hour

// harness is what one subtest works with.
type harness struct {
	ctx   context.Context
	clk   *clock.Manual
	st    store.Store
	blobs store.Blobs
	// run is unique to the subtest and goes into every key it makes.
	run string
}

// key returns a key unique to the subtest.
func (h *harness) key(prefix string) string { return prefix + "-" + h.run }

// at returns base+d, the time the subtests move their clock to.
func at(d time.Duration) time.Time { return base.Add(d) }

// apply runs Apply and fails the test on error.
func (h *harness) apply(t *testing.T, ws ...store.Write) {
	t.Helper()
	if err := h.st.Apply(h.ctx, ws...); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// applyFails runs Apply and fails the test unless it returns want.
func (h *harness) applyFails(t *testing.T, want error, ws ...store.Write) {
	t.Helper()
	err := h.st.Apply(h.ctx, ws...)
	if !errors.Is(err, want) {
		t.Fatalf("Apply: got error %v, want %v", err, want)
	}
}

// conversation returns a new conversation (version 1) of a customer unique
// to the subtest; WhatsApp conversations have an open window.
func (h *harness) conversation(ch message.Channel, customer string) message.Conversation {
	now := h.clk.Now()
	c := message.Conversation{
		Channel:       ch,
		BusinessID:    h.key("biz"),
		CustomerID:    h.key(customer),
		LastInboundAt: now,
		ExpiresAt:     now.Add(90 * 24 * time.Hour),
	}
	switch ch {
	case message.WhatsApp:
		c.WindowClosesAt = now.Add(24 * time.Hour)
	case message.Apple:
		c.Capabilities = []string{"QUICK", "LIST", "TIME"}
	}
	return c
}

// record returns a new inbound message (version 1) of c created at
// base+created, with a platform id of c's channel.
func (h *harness) record(c message.Conversation, created time.Duration) message.Record {
	t := at(created)
	return message.Record{
		ID:                message.NewMessageID(),
		Channel:           c.Channel,
		BusinessID:        c.BusinessID,
		CustomerID:        c.CustomerID,
		Direction:         message.Inbound,
		PlatformMessageID: platformID(c.Channel),
		Type:              "text",
		Body:              &message.Body{Type: "text", Text: "hello at " + created.String()},
		Status:            "received",
		History:           []message.StatusChange{{Status: "received", At: t}},
		CreatedAt:         t,
		UpdatedAt:         t,
		Version:           1,
	}
}

// platformID returns a fresh message id in the platform's own format.
func platformID(ch message.Channel) string {
	if ch == message.Apple {
		return message.NewUUID()
	}
	return "wamid.HBgL" + message.NewMessageID()[4:]
}

// event returns a new event of c at the clock's current time.
func (h *harness) event(c message.Conversation, typ string) message.Event {
	now := h.clk.Now()
	return message.Event{
		ID:         message.NewEventID(now),
		Type:       typ,
		Time:       now,
		Channel:    c.Channel,
		BusinessID: c.BusinessID,
		CustomerID: c.CustomerID,
		MessageID:  message.NewMessageID(),
		Body:       &message.Body{Type: "text", Text: "event " + typ},
	}
}

// wantConversation fails the test unless the store holds want under its key.
func (h *harness) wantConversation(t *testing.T, want message.Conversation) {
	t.Helper()
	got, err := h.st.Conversation(h.ctx, store.KeyOf(want))
	if err != nil {
		t.Fatalf("Conversation: %v", err)
	}
	same(t, "Conversation", normConversation(got), normConversation(want))
}

// wantMessage fails the test unless the store holds want under its id.
func (h *harness) wantMessage(t *testing.T, want message.Record) {
	t.Helper()
	got, err := h.st.Message(h.ctx, want.ID)
	if err != nil {
		t.Fatalf("Message(%s): %v", want.ID, err)
	}
	same(t, "Message", normRecord(got), normRecord(want))
}

// wantIdempotency fails the test unless the store holds want under its key.
func (h *harness) wantIdempotency(t *testing.T, want store.Idempotency) {
	t.Helper()
	got, err := h.st.Idempotency(h.ctx, want.Key)
	if err != nil {
		t.Fatalf("Idempotency(%s): %v", want.Key, err)
	}
	same(t, "Idempotency", normIdempotency(got), normIdempotency(want))
}

// wantNotFound fails the test unless err is ErrNotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: got error %v, want %v", what, err, store.ErrNotFound)
	}
}

// same fails the test unless got and want are deeply equal, showing both as
// JSON.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %s\nwant %s", what, asJSON(got), asJSON(want))
	}
}

func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// ms drops what a store may lose of a time: its location and anything
// below a millisecond.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func msPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	m := ms(*t)
	return &m
}

// The norm functions make values comparable across a store round trip:
// times as ms does, and empty slices and maps as nil.

func normConversation(c message.Conversation) message.Conversation {
	c.LastInboundAt = ms(c.LastInboundAt)
	c.WindowClosesAt = ms(c.WindowClosesAt)
	c.ClosedAt = ms(c.ClosedAt)
	c.ExpiresAt = ms(c.ExpiresAt)
	if len(c.Capabilities) == 0 {
		c.Capabilities = nil
	}
	return c
}

func normRecord(r message.Record) message.Record {
	r.CreatedAt = ms(r.CreatedAt)
	r.UpdatedAt = ms(r.UpdatedAt)
	r.Error = normError(r.Error)
	var hist []message.StatusChange
	for _, s := range r.History {
		s.At = ms(s.At)
		hist = append(hist, s)
	}
	r.History = hist
	return r
}

func normRecords(rs []message.Record) []message.Record {
	var out []message.Record
	for _, r := range rs {
		out = append(out, normRecord(r))
	}
	return out
}

func normEvents(es []message.Event) []message.Event {
	var out []message.Event
	for _, e := range es {
		e.Time = ms(e.Time)
		e.Error = normError(e.Error)
		out = append(out, e)
	}
	return out
}

func normError(e *message.Error) *message.Error {
	if e == nil {
		return nil
	}
	c := *e
	c.ClosedAt = msPtr(c.ClosedAt)
	if len(c.Details) == 0 {
		c.Details = nil
	}
	return &c
}

func normIdempotency(i store.Idempotency) store.Idempotency {
	i.ExpiresAt = ms(i.ExpiresAt)
	if len(i.Answer) == 0 {
		i.Answer = nil
	}
	return i
}

func normMeta(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// sameBytes fails the test unless got equals want.
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes %.40q, want %d bytes %.40q", what, len(got), got, len(want), want)
	}
}
