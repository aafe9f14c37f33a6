package embedded

import (
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// TestOpenPurges checks that Open removes expired items and their index
// entries, and keeps the rest.
func TestOpenPurges(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewManual(time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC))
	now := clk.Now()
	soon := now.Add(time.Hour)
	conv := func(customer string, exp time.Time) message.Conversation {
		return message.Conversation{Channel: message.WhatsApp, BusinessID: "biz", CustomerID: customer, ExpiresAt: exp}
	}
	rec := func(pid string) message.Record {
		return message.Record{ID: message.NewMessageID(), Channel: message.WhatsApp, BusinessID: "biz", CustomerID: "kept",
			PlatformMessageID: pid, CreatedAt: now, Version: 1}
	}

	s, err := Open(dir, clk)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	err = s.Apply(t.Context(),
		store.TouchConversation{Key: store.KeyOf(conv("kept", time.Time{})), InboundAt: now, Retention: 100 * 365 * 24 * time.Hour},
		store.TouchConversation{Key: store.KeyOf(conv("gone", soon)), InboundAt: now, Retention: time.Hour},
		store.PutMessage{Message: rec("wamid.kept")},
		store.PutMessage{Message: rec("wamid.gone"), ExpiresAt: soon},
		store.AppendEvent{Event: message.Event{ID: message.NewEventID(now)}},
		store.AppendEvent{Event: message.Event{ID: message.NewEventID(now)}, ExpiresAt: soon},
		store.PendStatus{Channel: message.WhatsApp, PlatformMessageID: "wamid.pending-kept", ExpiresAt: now.Add(48 * time.Hour)},
		store.PendStatus{Channel: message.WhatsApp, PlatformMessageID: "wamid.pending-gone", ExpiresAt: soon},
		store.Claim{Key: "kept"},
		store.Claim{Key: "gone", ExpiresAt: soon},
		store.CreateIdempotency{Idempotency: store.Idempotency{Key: "kept"}},
		store.CreateIdempotency{Idempotency: store.Idempotency{Key: "gone", ExpiresAt: soon}},
		store.PutScheduled{Item: store.Scheduled{ID: "msg_kept", DueAt: now, Version: 1}},
		store.PutScheduled{Item: store.Scheduled{ID: "msg_gone", DueAt: now, Version: 1, ExpiresAt: soon}},
		store.PutPayment{State: store.Payment{MessageID: "msg_kept", Version: 1}},
		store.PutPayment{State: store.Payment{MessageID: "msg_gone", Version: 1, ExpiresAt: soon}},
	)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	clk.Set(soon)
	s, err = Open(dir, clk)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer s.Close()
	err = s.db.View(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			if n := tx.Bucket(name).Stats().KeyN; n != 1 {
				t.Errorf("bucket %s holds %d items after purge, want 1", name, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
}
