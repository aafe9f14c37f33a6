package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// scheduled returns a new scheduled send (version 1) due at base+due.
func (h *harness) scheduled(due time.Duration) store.Scheduled {
	id := message.NewMessageID()
	sendAt := at(due)
	return store.Scheduled{
		ID:    id,
		Kind:  store.ScheduledSend,
		DueAt: sendAt,
		Request: message.SendRequest{
			Channel: message.WhatsApp, BusinessID: h.key("biz"), To: h.key("cust"),
			Message: message.Message{Type: message.TypeText, Text: "due at " + due.String()},
			SendAt:  &sendAt,
		},
		CreatedAt: h.clk.Now(),
		Version:   1,
		ExpiresAt: at(due + 7*24*time.Hour),
	}
}

// due returns the ids of every item due before before, reading pages of
// size page.
func (h *harness) due(t *testing.T, before time.Time, page int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 100 {
		items, next, err := h.st.DueItems(h.ctx, before, page, cursor)
		if err != nil {
			t.Fatalf("DueItems: %v", err)
		}
		if len(items) > page {
			t.Fatalf("DueItems(limit %d) returned %d items", page, len(items))
		}
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		if len(items) == 0 {
			if next != "" {
				t.Fatalf("DueItems returned no item but the cursor %q", next)
			}
			return ids
		}
		cursor = next
	}
	t.Fatal("DueItems did not come to an end")
	return nil
}

func testScheduleDue(t *testing.T, h *harness) {
	// Written out of order; two due at the same time.
	a, b, c, d := h.scheduled(3*time.Minute), h.scheduled(time.Minute), h.scheduled(2*time.Minute), h.scheduled(time.Hour)
	twin := h.scheduled(2 * time.Minute)
	for _, sc := range []store.Scheduled{a, b, c, d, twin} {
		h.apply(t, store.PutScheduled{Item: sc})
	}
	first, second := c.ID, twin.ID
	if second < first {
		first, second = second, first
	}
	tests := []struct {
		before time.Time
		page   int
		want   []string
	}{
		{at(0), 10, nil},
		{at(time.Minute), 10, nil}, // due at before is not before it
		{at(time.Minute + time.Nanosecond), 10, []string{b.ID}},
		{at(10 * time.Minute), 10, []string{b.ID, first, second, a.ID}},
		{at(10 * time.Minute), 1, []string{b.ID, first, second, a.ID}},
		{at(10 * time.Minute), 3, []string{b.ID, first, second, a.ID}},
		{at(2 * time.Hour), 2, []string{b.ID, first, second, a.ID, d.ID}},
	}
	for _, tt := range tests {
		same(t, "due before "+tt.before.Format(time.RFC3339Nano), h.due(t, tt.before, tt.page), tt.want)
	}
	got, err := h.st.Scheduled(h.ctx, a.ID)
	if err != nil {
		t.Fatalf("Scheduled: %v", err)
	}
	same(t, "Scheduled", normScheduled(got), normScheduled(a))
	_, err = h.st.Scheduled(h.ctx, "msg_unknown"+h.run)
	wantNotFound(t, "Scheduled of an unknown id", err)
}

func testScheduleClaim(t *testing.T, h *harness) {
	sc := h.scheduled(time.Minute)
	h.apply(t, store.PutScheduled{Item: sc})
	// Creating it again is refused.
	h.applyFails(t, store.ErrConflict, store.PutScheduled{Item: sc})

	h.clk.Set(at(2 * time.Minute))
	items, _, err := h.st.DueItems(h.ctx, h.clk.Now(), 10, "")
	if err != nil || len(items) != 1 {
		t.Fatalf("DueItems: %v %v", items, err)
	}
	// Two runs read version 1; the first claim wins, the second conflicts.
	claim := items[0]
	claim.Claimed, claim.DueAt, claim.Version = true, at(17*time.Minute), 2
	h.apply(t, store.PutScheduled{Item: claim, PrevVersion: 1})
	h.applyFails(t, store.ErrConflict, store.PutScheduled{Item: claim, PrevVersion: 1})

	// While the lease runs the item is not due; after it, it is again.
	same(t, "due during the lease", h.due(t, at(16*time.Minute), 10), []string(nil))
	same(t, "due after the lease", h.due(t, at(18*time.Minute), 10), []string{sc.ID})
	got, err := h.st.Scheduled(h.ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "claimed item", normScheduled(got), normScheduled(claim))

	// Done: deleted at the version the run holds.
	h.applyFails(t, store.ErrConflict, store.DeleteScheduled{ID: sc.ID, PrevVersion: 1})
	h.apply(t, store.DeleteScheduled{ID: sc.ID, PrevVersion: 2})
	same(t, "due after deletion", h.due(t, at(time.Hour), 10), []string(nil))
	_, err = h.st.Scheduled(h.ctx, sc.ID)
	wantNotFound(t, "Scheduled after deletion", err)
	h.applyFails(t, store.ErrConflict, store.DeleteScheduled{ID: sc.ID, PrevVersion: 2})
}

func testScheduleAllOrNothing(t *testing.T, h *harness) {
	sc := h.scheduled(time.Minute)
	c := h.conversation(message.WhatsApp, "cust")
	rec := h.record(c, 0)
	rec.Status = message.StatusScheduled
	h.apply(t, store.PutScheduled{Item: sc}, store.PutMessage{Message: rec})
	// Cancelling at a stale version leaves both as they were.
	cancelled := rec
	cancelled.Status, cancelled.Version = "cancelled", 2
	h.applyFails(t, store.ErrConflict, store.DeleteScheduled{ID: sc.ID, PrevVersion: 5}, store.PutMessage{Message: cancelled, PrevVersion: 1})
	h.wantMessage(t, rec)
	same(t, "due", h.due(t, at(time.Hour), 10), []string{sc.ID})
	h.apply(t, store.DeleteScheduled{ID: sc.ID, PrevVersion: 1}, store.PutMessage{Message: cancelled, PrevVersion: 1})
	h.wantMessage(t, cancelled)
	same(t, "due after cancelling", h.due(t, at(time.Hour), 10), []string(nil))
}

func testScheduleExpiry(t *testing.T, h *harness) {
	sc := h.scheduled(time.Minute)
	sc.ExpiresAt = at(time.Hour)
	h.apply(t, store.PutScheduled{Item: sc})
	h.clk.Set(at(time.Hour))
	same(t, "due once expired", h.due(t, at(2*time.Hour), 10), []string(nil))
	_, err := h.st.Scheduled(h.ctx, sc.ID)
	wantNotFound(t, "Scheduled once expired", err)
	// An expired item counts as absent: it can be written anew.
	sc.ExpiresAt = at(3 * time.Hour)
	h.apply(t, store.PutScheduled{Item: sc})
	same(t, "due after rewriting", h.due(t, at(2*time.Hour), 10), []string{sc.ID})
}

func normScheduled(sc store.Scheduled) store.Scheduled {
	sc.DueAt = ms(sc.DueAt)
	sc.ExpiresAt = ms(sc.ExpiresAt)
	sc.CreatedAt = ms(sc.CreatedAt)
	sc.WindowClosesAt = ms(sc.WindowClosesAt)
	if sc.Request.SendAt != nil {
		sa := ms(*sc.Request.SendAt)
		sc.Request.SendAt = &sa
	}
	return sc
}
