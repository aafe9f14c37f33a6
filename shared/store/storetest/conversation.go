package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// touchOf returns the touch that makes c from nothing: a customer message
// at c.LastInboundAt with c's capabilities, kept until c.ExpiresAt.
func touchOf(c message.Conversation) store.TouchConversation {
	t := store.TouchConversation{Key: store.KeyOf(c), InboundAt: c.LastInboundAt, Capabilities: c.Capabilities,
		Retention: c.ExpiresAt.Sub(c.LastInboundAt)}
	if c.Channel == message.WhatsApp {
		t.Window = 24 * time.Hour
	}
	return t
}

func testConversationCreateAndUpdate(t *testing.T, h *harness) {
	var finals []message.Conversation
	for _, ch := range []message.Channel{message.WhatsApp, message.Apple} {
		c := h.conversation(ch, "cust")
		_, err := h.st.Conversation(h.ctx, store.KeyOf(c))
		wantNotFound(t, "Conversation before any write", err)

		h.apply(t, touchOf(c))
		h.wantConversation(t, c)

		next := c
		next.LastInboundAt = c.LastInboundAt.Add(time.Hour)
		next.ExpiresAt = c.ExpiresAt.Add(time.Hour)
		if ch == message.WhatsApp {
			next.WindowClosesAt = next.LastInboundAt.Add(24 * time.Hour)
		} else {
			next.Capabilities = []string{"QUICK", "AUTH2", "FORM"}
		}
		h.apply(t, touchOf(next))
		h.wantConversation(t, next)

		if ch == message.Apple {
			closed := next
			closed.Closed, closed.ClosedAt = true, next.LastInboundAt.Add(time.Minute)
			closed.ExpiresAt = next.ExpiresAt.Add(time.Minute)
			h.apply(t, store.TouchConversation{Key: store.KeyOf(c), ClosedAt: closed.ClosedAt, Retention: c.ExpiresAt.Sub(c.LastInboundAt)})
			h.wantConversation(t, closed)
			next = closed
		}
		finals = append(finals, next)
	}
	// The two conversations share business and customer ids but not the
	// channel: neither overwrote the other.
	for _, c := range finals {
		h.wantConversation(t, c)
	}
}

// testConversationCommute applies the same touches in many orders, some
// twice, and expects one final conversation: the latest message, the
// latest close (in force only when no message followed it), the
// capabilities of the latest item that had some.
func testConversationCommute(t *testing.T, h *harness) {
	const retention = 365 * 24 * time.Hour
	touches := func(k store.ConversationKey) []store.TouchConversation {
		return []store.TouchConversation{
			{Key: k, InboundAt: at(time.Minute), Capabilities: []string{"QUICK"}, Retention: retention,
				Routing: message.Routing{Intent: "order", Group: "shoes", Locale: "fr_FR"}},
			{Key: k, InboundAt: at(3 * time.Minute), Capabilities: []string{"QUICK", "LIST"}, Retention: retention,
				Routing: message.Routing{Locale: "en_GB", DeviceAgent: "iPhone OS"}},
			{Key: k, ClosedAt: at(2 * time.Minute), Retention: retention},
			{Key: k, ClosedAt: at(4 * time.Minute), Capabilities: []string{"QUICK", "LIST", "TIME"}, Retention: retention},
			{Key: k, InboundAt: at(2 * time.Minute), Retention: retention},
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 6 {
		c := h.conversation(message.Apple, fmt.Sprintf("commute-%d", i))
		k := store.KeyOf(c)
		ts := touches(k)
		rng.Shuffle(len(ts), func(a, b int) { ts[a], ts[b] = ts[b], ts[a] })
		if i%2 == 1 {
			ts = append(ts, ts[:2]...)
		}
		for _, tc := range ts {
			h.apply(t, tc)
		}
		want := message.Conversation{Channel: c.Channel, BusinessID: c.BusinessID, CustomerID: c.CustomerID,
			LastInboundAt: at(3 * time.Minute), Closed: true, ClosedAt: at(4 * time.Minute),
			Capabilities: []string{"QUICK", "LIST", "TIME"}, ExpiresAt: at(4*time.Minute + retention),
			Routing: message.Routing{Intent: "order", Group: "shoes", Locale: "en_GB", DeviceAgent: "iPhone OS"}}
		h.wantConversation(t, want)

		// The customer writes again: the close is history.
		h.apply(t, store.TouchConversation{Key: k, InboundAt: at(5 * time.Minute), Retention: retention})
		want.LastInboundAt, want.Closed, want.ClosedAt, want.ExpiresAt = at(5*time.Minute), false, time.Time{}, at(5*time.Minute+retention)
		h.wantConversation(t, want)
	}
}

// testConversationConcurrentTouches races batches that each store a message
// of one conversation with its touch: every batch lands, and the
// conversation ends at the latest message.
func testConversationConcurrentTouches(t *testing.T, h *harness) {
	const writers = 20
	c := h.conversation(message.WhatsApp, "burst")
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		m := h.record(c, time.Duration(i)*time.Second)
		ev := h.event(c, message.EventReceived)
		next := c
		next.LastInboundAt = at(time.Duration(i) * time.Second)
		next.ExpiresAt = c.ExpiresAt.Add(time.Duration(i) * time.Second)
		wg.Go(func() {
			errs[i] = h.st.Apply(h.ctx,
				store.Claim{Key: h.key(fmt.Sprintf("IN#whatsapp#burst-%d", i)), ExpiresAt: at(time.Hour)},
				touchOf(next),
				store.PutMessage{Message: m, ExpiresAt: at(time.Hour)},
				store.AppendEvent{Event: ev, ExpiresAt: at(time.Hour)},
			)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	want := c
	want.LastInboundAt = at((writers - 1) * time.Second)
	want.WindowClosesAt = want.LastInboundAt.Add(24 * time.Hour)
	want.ExpiresAt = c.ExpiresAt.Add((writers - 1) * time.Second)
	h.wantConversation(t, want)
	evs, err := h.st.Events(h.ctx, "", 100)
	if err != nil || len(evs) != writers {
		t.Fatalf("Events: %d, %v; want %d", len(evs), err, writers)
	}
}

func testConversationWindow(t *testing.T, h *harness) {
	c := h.conversation(message.WhatsApp, "cust")
	apple := h.conversation(message.Apple, "cust")
	h.apply(t, touchOf(c), touchOf(apple))
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

	// An older message delivered late never shrinks the window.
	h.clk.Set(base)
	h.apply(t, store.TouchConversation{Key: store.KeyOf(c), InboundAt: base.Add(-time.Hour), Window: 24 * time.Hour, Retention: time.Hour})
	h.wantConversation(t, c)
}

func testConversationExpiry(t *testing.T, h *harness) {
	c := h.conversation(message.WhatsApp, "cust")
	c.ExpiresAt = at(time.Hour)
	tc := touchOf(c)
	tc.Window = 30 * time.Minute
	h.apply(t, tc)

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

	// An expired conversation is absent: it starts anew.
	again := h.conversation(message.WhatsApp, "cust")
	h.apply(t, touchOf(again))
	h.wantConversation(t, again)
}
