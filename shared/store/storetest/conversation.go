package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

func testConversationCreateAndUpdate(t *testing.T, h *harness) {
	var finals []message.Conversation
	for _, ch := range []message.Channel{message.WhatsApp, message.Apple} {
		c := h.conversation(ch, "cust")
		_, err := h.st.Conversation(h.ctx, store.KeyOf(c))
		wantNotFound(t, "Conversation before any write", err)

		h.apply(t, store.PutConversation{Conversation: c, PrevVersion: 0})
		h.wantConversation(t, c)

		next := c
		next.LastInboundAt = c.LastInboundAt.Add(time.Hour)
		if ch == message.WhatsApp {
			next.WindowClosesAt = next.LastInboundAt.Add(24 * time.Hour)
		} else {
			next.Closed = true
			next.ClosedAt = next.LastInboundAt.Add(time.Minute)
			next.Capabilities = []string{"QUICK", "AUTH2", "FORM"}
		}
		next.Version = 2
		h.apply(t, store.PutConversation{Conversation: next, PrevVersion: 1})
		h.wantConversation(t, next)
		finals = append(finals, next)
	}
	// The two conversations share business and customer ids but not the
	// channel: neither overwrote the other.
	for _, c := range finals {
		h.wantConversation(t, c)
	}
}

func testConversationConflict(t *testing.T, h *harness) {
	c := h.conversation(message.WhatsApp, "cust")
	h.apply(t, store.PutConversation{Conversation: c, PrevVersion: 0})
	next := c
	next.Version = 2
	h.apply(t, store.PutConversation{Conversation: next, PrevVersion: 1})

	stale := []struct {
		name string
		prev int64
	}{
		{"create over an existing conversation", 0},
		{"stale version", 1},
		{"version from the future", 7},
	}
	for _, tt := range stale {
		t.Run(tt.name, func(t *testing.T) {
			w := c
			w.LastInboundAt = c.LastInboundAt.Add(5 * time.Hour)
			w.Version = tt.prev + 1
			h.applyFails(t, store.ErrConflict, store.PutConversation{Conversation: w, PrevVersion: tt.prev})
			h.wantConversation(t, next)
		})
	}

	t.Run("update of a missing conversation", func(t *testing.T) {
		missing := h.conversation(message.WhatsApp, "missing")
		missing.Version = 2
		h.applyFails(t, store.ErrConflict, store.PutConversation{Conversation: missing, PrevVersion: 1})
		_, err := h.st.Conversation(h.ctx, store.KeyOf(missing))
		wantNotFound(t, "Conversation after a failed update", err)
	})
}

func testConversationWindow(t *testing.T, h *harness) {
	c := h.conversation(message.WhatsApp, "cust")
	apple := h.conversation(message.Apple, "cust")
	h.apply(t,
		store.PutConversation{Conversation: c, PrevVersion: 0},
		store.PutConversation{Conversation: apple, PrevVersion: 0},
	)
	closes := c.WindowClosesAt

	// The steps run in order: the clock crosses the window's end forwards,
	// then backwards, then forwards again.
	steps := []struct {
		now  time.Time
		open bool
	}{
		{closes.Add(-time.Millisecond), true},
		{closes, false},
		{closes.Add(time.Hour), false},
		{closes.Add(-time.Second), true},
		{base, true},
		{closes.Add(time.Millisecond), false},
	}
	for _, s := range steps {
		h.clk.Set(s.now)
		want := c
		if !s.open {
			want.WindowClosesAt = time.Time{}
		}
		got, err := h.st.Conversation(h.ctx, store.KeyOf(c))
		if err != nil {
			t.Fatalf("at %s: Conversation: %v", s.now, err)
		}
		if !got.WindowClosesAt.IsZero() != s.open {
			t.Fatalf("at %s (window closes %s): WindowClosesAt = %s, want open=%v", s.now, closes, got.WindowClosesAt, s.open)
		}
		same(t, "Conversation at "+s.now.String(), normConversation(got), normConversation(want))

		// A conversation without a window keeps reading without one.
		h.wantConversation(t, apple)
	}
}

func testConversationExpiry(t *testing.T, h *harness) {
	c := h.conversation(message.WhatsApp, "cust")
	c.ExpiresAt = at(time.Hour)
	c.WindowClosesAt = at(30 * time.Minute)
	permanent := h.conversation(message.Apple, "cust")
	permanent.ExpiresAt = time.Time{}
	h.apply(t,
		store.PutConversation{Conversation: c, PrevVersion: 0},
		store.PutConversation{Conversation: permanent, PrevVersion: 0},
	)

	h.clk.Set(at(time.Hour - time.Millisecond))
	want := c
	want.WindowClosesAt = time.Time{}
	got, err := h.st.Conversation(h.ctx, store.KeyOf(c))
	if err != nil {
		t.Fatalf("Conversation before expiry: %v", err)
	}
	same(t, "Conversation before expiry", normConversation(got), normConversation(want))

	h.clk.Set(at(time.Hour))
	_, err = h.st.Conversation(h.ctx, store.KeyOf(c))
	wantNotFound(t, "Conversation at expiry", err)

	// An expired conversation is absent: it can be created anew.
	again := h.conversation(message.WhatsApp, "cust")
	h.apply(t, store.PutConversation{Conversation: again, PrevVersion: 0})
	h.wantConversation(t, again)

	// A zero ExpiresAt never expires.
	h.clk.Set(at(forever))
	h.wantConversation(t, permanent)
}
