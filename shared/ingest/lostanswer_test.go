package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
)

// lossyStore applies every batch, then, while lose is set, answers it with
// an error, as a store does whose answers are lost; while refuse is set it
// fails every batch without applying it. It tells claims' owners as the
// DynamoDB store does.
type lossyStore struct {
	*embedded.Store
	mu           sync.Mutex
	lose, refuse bool
	owners       map[string]string
}

var errAnswerLost = errors.New("the answer was lost")

func (s *lossyStore) Apply(ctx context.Context, ws ...store.Write) error {
	if s.refuse {
		return errAnswerLost
	}
	if err := s.Store.Apply(ctx, ws...); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range ws {
		if c, ok := w.(store.Claim); ok {
			s.owners[c.Key] = c.Owner
		}
	}
	if s.lose {
		return errAnswerLost
	}
	return nil
}

func (s *lossyStore) ClaimOwner(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.owners[key]; ok {
		return o, nil
	}
	return "", store.ErrNotFound
}

// countingPublisher keeps the events published.
type countingPublisher struct {
	mu  sync.Mutex
	evs []message.Event
}

func (p *countingPublisher) Publish(_ context.Context, evs ...message.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.evs = append(p.evs, evs...)
	return nil
}

// An item whose write was applied but whose answer was lost is stored:
// its claim names its own write, so it is acknowledged and its event
// published, once; a redelivery is a duplicate and publishes nothing.
// Without the claim's owner the webhook would be answered 500, and its
// event never published.
func TestLostAnswerOfAnAppliedWrite(t *testing.T) {
	in, st, _ := newIngester(t)
	ls := &lossyStore{Store: st, lose: true, owners: map[string]string{}}
	pub := &countingPublisher{}
	in.Store, in.Publisher = ls, pub

	items := []message.InboundItem{waText("wamid.LOST", "hello", t0), status("wamid.NOBODY", "delivered", 0)}
	items[1].At = t0.Add(-StatusGrace * 2) // a status of a message parley did not send: stored with its event
	res, err := in.Ingest(context.Background(), items)
	if err != nil || res.Stored != 2 {
		t.Fatalf("Ingest = %+v, %v; want both stored", res, err)
	}
	ls.lose = false
	if res := ingest(t, in, items...); res.Duplicates != 2 {
		t.Fatalf("redelivery: %+v, want 2 duplicates", res)
	}
	if len(pub.evs) != 2 || pub.evs[0].PlatformMessageID != "wamid.LOST" || pub.evs[1].PlatformMessageID != "wamid.NOBODY" {
		t.Fatalf("published %+v, want one event of each item", pub.evs)
	}

	// A batch that was not applied is an error, for the platform to
	// deliver it again, and publishes nothing.
	ls.refuse = true
	if _, err := in.Ingest(context.Background(), []message.InboundItem{waText("wamid.REFUSED", "hi", t0)}); !errors.Is(err, errAnswerLost) {
		t.Fatalf("a write that was not applied: %v, want its error", err)
	}
	if len(pub.evs) != 2 {
		t.Fatalf("published %d events, want the 2 of the stored items", len(pub.evs))
	}
}

// deadlineStore keeps the deadline of the context each write is given.
type deadlineStore struct {
	*embedded.Store
	deadlines []time.Time
}

func (s *deadlineStore) Apply(ctx context.Context, ws ...store.Write) error {
	d, _ := ctx.Deadline()
	s.deadlines = append(s.deadlines, d)
	return s.Store.Apply(ctx, ws...)
}

// The writes of a webhook end PublishReserve before its deadline (at most
// a third of the time left), keeping time to read a claim back and to
// publish.
func TestWritesKeepTimeToPublish(t *testing.T) {
	in, st, _ := newIngester(t)
	ds := &deadlineStore{Store: st}
	in.Store = ds
	for _, left := range []time.Duration{time.Minute, 3 * time.Second} {
		deadline := time.Now().Add(left)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		_, err := in.Ingest(ctx, []message.InboundItem{waText(fmt.Sprint("wamid.RESERVE", left), "hi", t0)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		got := ds.deadlines[len(ds.deadlines)-1]
		// The reserve is taken of the time left when the writes begin.
		if want := deadline.Add(-min(PublishReserve, left/3)); got.Sub(want).Abs() > 100*time.Millisecond {
			t.Errorf("with %v left, the write's deadline is %v before the webhook's, want %v", left, deadline.Sub(got), deadline.Sub(want))
		}
	}
	// Without a deadline, the writes have none.
	if _, err := in.Ingest(context.Background(), []message.InboundItem{waText("wamid.NODEADLINE", "hi", t0)}); err != nil {
		t.Fatal(err)
	}
	if d := ds.deadlines[len(ds.deadlines)-1]; !d.IsZero() {
		t.Errorf("a webhook without a deadline wrote with one: %v", d)
	}
}
