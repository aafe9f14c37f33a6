package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// testOneClaimWins races writers that each claim the same key along with a
// message and an event of their own: exactly one batch must land.
func testOneClaimWins(t *testing.T, h *harness) {
	const writers = 16
	c := h.conversation(message.WhatsApp, "cust")
	claim := h.key("IN#whatsapp#wamid.race")
	msgs := make([]message.Record, writers)
	evs := make([]message.Event, writers)
	for i := range writers {
		msgs[i] = h.record(c, time.Duration(i)*time.Second)
		evs[i] = h.event(c, message.EventReceived)
		evs[i].MessageID = msgs[i].ID
	}

	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			errs[i] = h.st.Apply(h.ctx,
				store.Claim{Key: claim, ExpiresAt: at(time.Hour)},
				store.PutMessage{Message: msgs[i], ExpiresAt: at(time.Hour)},
				store.AppendEvent{Event: evs[i], ExpiresAt: at(time.Hour)},
			)
		})
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrDuplicate):
			t.Fatalf("writer %d: got error %v, want nil or %v", i, err, store.ErrDuplicate)
		}
	}
	if winner < 0 {
		t.Fatalf("no writer succeeded: %v", errs)
	}

	h.wantRecent(t, c, 100, msgs[winner])
	for i, m := range msgs {
		if i == winner {
			continue
		}
		_, err := h.st.Message(h.ctx, m.ID)
		wantNotFound(t, "Message of a losing writer", err)
	}
	got, err := h.st.Events(h.ctx, "", 100)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	same(t, "Events", normEvents(got), normEvents(evs[winner:winner+1]))
}
