package send

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// failingStore fails the writes and reads its switches name, as a store
// that is down would.
type failingStore struct {
	store.Store
	conversation, release, record atomic.Bool
}

var errDown = errors.New("store down")

func (f *failingStore) Conversation(ctx context.Context, k store.ConversationKey) (message.Conversation, error) {
	if f.conversation.Load() {
		return message.Conversation{}, errDown
	}
	return f.Store.Conversation(ctx, k)
}

func (f *failingStore) Apply(ctx context.Context, ws ...store.Write) error {
	for _, w := range ws {
		switch w.(type) {
		case store.DeleteIdempotency:
			if f.release.Load() {
				return errDown
			}
		case store.PutMessage, store.PutIdempotency:
			if f.record.Load() {
				return errDown
			}
		}
	}
	return f.Store.Apply(ctx, ws...)
}

// TestKeyFreeAfterItsLease: a request that died holding its key (a crash
// after the claim), or whose store failed before it could send or release,
// leaves the key taken only for the lease — seconds, not a day.
func TestKeyFreeAfterItsLease(t *testing.T) {
	ctx := context.Background()
	t.Run("a crash after the claim", func(t *testing.T) {
		p := &platform{}
		s, st, clk := newSender(t, p)
		req := text(message.Apple, "hi")
		req.IdempotencyKey = "k"
		// What a request killed after claiming leaves behind.
		dead := store.Idempotency{Key: idempotencyKey(req), Lease: "dead", RequestHash: requestHash(req), ExpiresAt: clk.Now().Add(DefaultIdempotencyLease)}
		if err := st.Apply(ctx, store.CreateIdempotency{Idempotency: dead}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Send(ctx, req)
		if e := message.AsError(err); e.Code != message.CodeConflict {
			t.Fatalf("within the lease: %v, want conflict", err)
		}
		clk.Advance(DefaultIdempotencyLease)
		if res, err := s.Send(ctx, req); err != nil || res.Status != "sent" {
			t.Fatalf("after the lease: %+v, %v; want sent", res, err)
		}
		if len(p.sent) != 1 {
			t.Errorf("platform calls = %d, want 1", len(p.sent))
		}
	})
	t.Run("the store failing before the send, and the release too", func(t *testing.T) {
		p := &platform{}
		s, st, clk := newSender(t, p)
		fs := &failingStore{Store: st}
		s.Store = fs
		fs.conversation.Store(true)
		fs.release.Store(true)
		req := text(message.Apple, "hi")
		req.IdempotencyKey = "k"
		if _, err := s.Send(ctx, req); message.AsError(err).Code != message.CodeInternal {
			t.Fatalf("store down: %v, want internal", err)
		}
		fs.conversation.Store(false)
		fs.release.Store(false)
		if _, err := s.Send(ctx, req); message.AsError(err).Code != message.CodeConflict {
			t.Fatalf("within the lease: %v, want conflict", err)
		}
		clk.Advance(DefaultIdempotencyLease)
		if res, err := s.Send(ctx, req); err != nil || res.Status != "sent" || len(p.sent) != 1 {
			t.Fatalf("after the lease: %+v, %v, %d sends; want one send", res, err, len(p.sent))
		}
	})
	t.Run("a release that fails once is tried again", func(t *testing.T) {
		p := &platform{}
		s, st, _ := newSender(t, p)
		fs := &failingStore{Store: st}
		s.Store = fs
		fs.conversation.Store(true)
		req := text(message.Apple, "hi")
		req.IdempotencyKey = "k"
		flaky := &flakyRelease{failingStore: fs}
		s.Store = flaky
		s.Send(ctx, req)
		if flaky.tries.Load() < 2 {
			t.Fatalf("release tries = %d, want a retry", flaky.tries.Load())
		}
		fs.conversation.Store(false)
		if res, err := s.Send(ctx, req); err != nil || res.Status != "sent" {
			t.Fatalf("after the retried release: %+v, %v; want sent at once", res, err)
		}
	})
	t.Run("the outcome outlives the lease", func(t *testing.T) {
		p := &platform{}
		s, _, clk := newSender(t, p)
		req := text(message.Apple, "hi")
		req.IdempotencyKey = "k"
		first, err := s.Send(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(DefaultIdempotencyLease + time.Hour)
		again, err := s.Send(ctx, req)
		if err != nil || again != first || len(p.sent) != 1 {
			t.Fatalf("an hour later: %+v, %v, %d sends; want the first answer, one send", again, err, len(p.sent))
		}
	})
}

// flakyRelease fails the first release only.
type flakyRelease struct {
	*failingStore
	tries atomic.Int64
}

func (f *flakyRelease) Apply(ctx context.Context, ws ...store.Write) error {
	if _, ok := ws[0].(store.DeleteIdempotency); ok && f.tries.Add(1) == 1 {
		return errDown
	}
	return f.failingStore.Apply(ctx, ws...)
}

// TestIdempotencyKeysDoNotCollide: parts holding the separator cannot pass
// for other parts.
func TestIdempotencyKeysDoNotCollide(t *testing.T) {
	seen := map[string]message.SendRequest{}
	for _, parts := range [][2]string{
		{"111#k", "x"}, {"111", "k#x"}, {"111", "k%23x"}, {"111%23k", "x"}, {"111#k#x", ""}, {"111", "k"},
	} {
		req := message.SendRequest{Channel: message.WhatsApp, BusinessID: parts[0], IdempotencyKey: parts[1]}
		k := idempotencyKey(req)
		if other, ok := seen[k]; ok {
			t.Errorf("%+v and %+v share the key %q", parts, [2]string{other.BusinessID, other.IdempotencyKey}, k)
		}
		seen[k] = req
	}
	p := &platform{}
	s, _, _ := newSender(t, p)
	a := text(message.Apple, "hi")
	a.BusinessID, a.IdempotencyKey = "111#k", "x"
	b := text(message.Apple, "hi")
	b.BusinessID, b.IdempotencyKey = "111", "k#x"
	ra, erra := s.Send(context.Background(), a)
	rb, errb := s.Send(context.Background(), b)
	if erra != nil || errb != nil || ra.ID == rb.ID || len(p.sent) != 2 {
		t.Errorf("two businesses' keys answered %+v/%v and %+v/%v with %d sends; want two sends", ra, erra, rb, errb, len(p.sent))
	}
}
