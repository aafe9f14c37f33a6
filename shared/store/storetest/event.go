package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

func testEventsEmpty(t *testing.T, h *harness) {
	for _, after := range []string{"", message.NewEventID(base)} {
		got, err := h.st.Events(h.ctx, after, 10)
		if err != nil {
			t.Fatalf("Events(%q): %v", after, err)
		}
		if len(got) != 0 {
			t.Fatalf("Events(%q) of an empty log = %s, want none", after, asJSON(got))
		}
	}
}

// events returns n events of c one second apart, oldest first, moving the
// clock past them.
func (h *harness) events(c message.Conversation, n int) []message.Event {
	evs := make([]message.Event, n)
	types := []string{message.EventReceived, message.EventSent, message.EventStatus, message.EventTyping}
	for i := range evs {
		evs[i] = h.event(c, types[i%len(types)])
		h.clk.Advance(time.Second)
	}
	return evs
}

func testEventsPaging(t *testing.T, h *harness) {
	c := h.conversation(message.WhatsApp, "cust")
	evs := h.events(c, 7)
	evs[2].Status = "delivered"
	evs[5].Error = &message.Error{Code: message.CodePlatformRejected, Message: "refused",
		Platform: &message.PlatformError{HTTPStatus: 400, Code: 131026}}
	// The log orders by id, not by the order of writes.
	h.apply(t, store.AppendEvent{Event: evs[3]}, store.AppendEvent{Event: evs[0]})
	h.apply(t, store.AppendEvent{Event: evs[5]})
	h.apply(t, store.AppendEvent{Event: evs[1]}, store.AppendEvent{Event: evs[6]}, store.AppendEvent{Event: evs[2]})
	h.apply(t, store.AppendEvent{Event: evs[4]})

	t.Run("pages", func(t *testing.T) {
		wantPages := [][]message.Event{evs[0:3], evs[3:6], evs[6:7], nil}
		after := ""
		for i, want := range wantPages {
			got, err := h.st.Events(h.ctx, after, 3)
			if err != nil {
				t.Fatalf("page %d: Events(%q, 3): %v", i, after, err)
			}
			same(t, "Events page", normEvents(got), normEvents(want))
			if len(got) > 0 {
				after = got[len(got)-1].ID
			}
		}
	})

	tests := []struct {
		name  string
		after string
		limit int
		want  []message.Event
	}{
		{"from the start", "", 100, evs},
		{"limit", "", 2, evs[:2]},
		{"after the first", evs[0].ID, 100, evs[1:]},
		{"after a middle one", evs[3].ID, 2, evs[4:6]},
		{"after the last", evs[6].ID, 100, nil},
		{"after an id not in the log", message.NewEventID(evs[4].Time.Add(time.Millisecond)), 100, evs[5:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.st.Events(h.ctx, tt.after, tt.limit)
			if err != nil {
				t.Fatalf("Events(%q, %d): %v", tt.after, tt.limit, err)
			}
			same(t, "Events", normEvents(got), normEvents(tt.want))
		})
	}
}

func testEventsExpiry(t *testing.T, h *harness) {
	c := h.conversation(message.Apple, "cust")
	evs := h.events(c, 6)
	expiries := []time.Duration{0, time.Hour, 3 * time.Hour, time.Hour, 2 * time.Hour, 3 * time.Hour}
	for i, e := range evs {
		w := store.AppendEvent{Event: e}
		if expiries[i] != 0 {
			w.ExpiresAt = at(expiries[i])
		}
		h.apply(t, w)
	}

	steps := []struct {
		now  time.Time
		want []message.Event
	}{
		{at(time.Hour - time.Millisecond), evs},
		{at(time.Hour), []message.Event{evs[0], evs[2], evs[4], evs[5]}},
		{at(2 * time.Hour), []message.Event{evs[0], evs[2], evs[5]}},
		{at(forever), []message.Event{evs[0]}},
	}
	for _, s := range steps {
		h.clk.Set(s.now)
		got, err := h.st.Events(h.ctx, "", 100)
		if err != nil {
			t.Fatalf("at %s: Events: %v", s.now, err)
		}
		same(t, "Events at "+s.now.String(), normEvents(got), normEvents(s.want))

		// Paging skips expired events too; a page may hold fewer than
		// limit, but every live event comes exactly once, in order.
		var paged []message.Event
		after := ""
		for range 2 * len(evs) {
			page, err := h.st.Events(h.ctx, after, 2)
			if err != nil {
				t.Fatalf("at %s: Events(%q, 2): %v", s.now, after, err)
			}
			if len(page) > 2 {
				t.Fatalf("at %s: Events(%q, 2) returned %d events", s.now, after, len(page))
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			after = page[len(page)-1].ID
		}
		same(t, "Events paged at "+s.now.String(), normEvents(paged), normEvents(s.want))
	}
}
