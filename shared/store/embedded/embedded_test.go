package embedded_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
	"github.com/parleyhq/parley/shared/store/storetest"
)

func open(t *testing.T, dir string, clk clock.Clock) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(dir, clk)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clk clock.Clock) (store.Store, store.Blobs) {
		s := open(t, t.TempDir(), clk)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s, s
	})
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	clk := clock.NewManual(time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC))
	now := clk.Now()
	conv := message.Conversation{
		Channel: message.WhatsApp, BusinessID: "biz", CustomerID: "cust",
		LastInboundAt: now, WindowClosesAt: now.Add(24 * time.Hour), ExpiresAt: now.Add(48 * time.Hour),
	}
	rec := message.Record{
		ID: message.NewMessageID(), Channel: conv.Channel, BusinessID: conv.BusinessID, CustomerID: conv.CustomerID,
		Direction: message.Inbound, PlatformMessageID: "wamid.reopen", Type: "text", Status: "received",
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	ev := message.Event{ID: message.NewEventID(now), Type: message.EventReceived, Time: now, MessageID: rec.ID}
	expiring := message.Event{ID: message.NewEventID(now), Type: message.EventStatus, Time: now}

	s := open(t, dir, clk)
	err := s.Apply(ctx,
		store.TouchConversation{Key: store.KeyOf(conv), InboundAt: now, Window: 24 * time.Hour, Retention: 48 * time.Hour},
		store.PutMessage{Message: rec},
		store.AppendEvent{Event: ev},
		store.AppendEvent{Event: expiring, ExpiresAt: now.Add(time.Hour)},
		store.Claim{Key: "IN#whatsapp#wamid.reopen"},
		store.CreateIdempotency{Idempotency: store.Idempotency{Key: "idem", RequestHash: "h", MessageID: rec.ID}},
	)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := s.PutBlob(ctx, "bodies/"+rec.ID, strings.NewReader("body"), "text/plain", map[string]string{"k": "v"}); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopening after the expiring event's time removes it; the rest stays.
	clk.Advance(2 * time.Hour)
	s = open(t, dir, clk)
	defer s.Close()

	got, err := s.Conversation(ctx, store.KeyOf(conv))
	if err != nil || !got.LastInboundAt.Equal(now) || !got.WindowClosesAt.Equal(conv.WindowClosesAt) {
		t.Errorf("Conversation after reopen = %+v, %v; want the window", got, err)
	}
	if r, err := s.MessageByPlatformID(ctx, message.WhatsApp, "wamid.reopen"); err != nil || r.ID != rec.ID {
		t.Errorf("MessageByPlatformID after reopen = %s, %v; want %s", r.ID, err, rec.ID)
	}
	if rs, err := s.RecentMessages(ctx, store.KeyOf(conv), 10); err != nil || len(rs) != 1 || rs[0].ID != rec.ID {
		t.Errorf("RecentMessages after reopen = %d messages, %v; want %s", len(rs), err, rec.ID)
	}
	if es, err := s.Events(ctx, "", 10); err != nil || len(es) != 1 || es[0].ID != ev.ID {
		t.Errorf("Events after reopen = %+v, %v; want only %s", es, err, ev.ID)
	}
	if err := s.Apply(ctx, store.Claim{Key: "IN#whatsapp#wamid.reopen"}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("Claim after reopen: got error %v, want %v", err, store.ErrDuplicate)
	}
	if i, err := s.Idempotency(ctx, "idem"); err != nil || i.MessageID != rec.ID {
		t.Errorf("Idempotency after reopen = %+v, %v", i, err)
	}
	rc, info, err := s.GetBlob(ctx, "bodies/"+rec.ID)
	if err != nil {
		t.Fatalf("GetBlob after reopen: %v", err)
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil || string(body) != "body" || info.ContentType != "text/plain" || info.Meta["k"] != "v" {
		t.Errorf("GetBlob after reopen = %q %+v, %v", body, info, err)
	}
}
