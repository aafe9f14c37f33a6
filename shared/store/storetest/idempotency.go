package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

func testIdempotencyLifecycle(t *testing.T, h *harness) {
	key := h.key("idem")
	_, err := h.st.Idempotency(h.ctx, key)
	wantNotFound(t, "Idempotency of an unknown key", err)

	first := store.Idempotency{Key: key, RequestHash: "sha256:first", MessageID: message.NewMessageID(), ExpiresAt: at(24 * time.Hour)}
	h.apply(t, store.CreateIdempotency{Idempotency: first})
	h.wantIdempotency(t, first)

	other := first
	other.RequestHash = "sha256:other"
	other.MessageID = message.NewMessageID()
	h.applyFails(t, store.ErrDuplicate, store.CreateIdempotency{Idempotency: other})
	h.wantIdempotency(t, first)

	answered := first
	answered.Status = 202
	answered.Answer = []byte(`{"id":"` + first.MessageID + `","status":"accepted"}`)
	h.apply(t, store.PutIdempotency{Idempotency: answered})
	h.wantIdempotency(t, answered)
	// An answered key is still taken.
	h.applyFails(t, store.ErrDuplicate, store.CreateIdempotency{Idempotency: other})
	h.wantIdempotency(t, answered)

	h.apply(t, store.DeleteIdempotency{Key: key})
	_, err = h.st.Idempotency(h.ctx, key)
	wantNotFound(t, "Idempotency after delete", err)
	h.apply(t, store.CreateIdempotency{Idempotency: other})
	h.wantIdempotency(t, other)

	// Releasing a key nobody holds is not an error.
	h.apply(t, store.DeleteIdempotency{Key: h.key("idem-unknown")})
}

func testIdempotencyExpiry(t *testing.T, h *harness) {
	key := h.key("idem")
	first := store.Idempotency{Key: key, RequestHash: "sha256:first", MessageID: message.NewMessageID(), Status: 400, Answer: []byte(`{"error":{}}`), ExpiresAt: at(time.Hour)}
	h.apply(t, store.CreateIdempotency{Idempotency: first})

	h.clk.Set(at(time.Hour - time.Millisecond))
	h.wantIdempotency(t, first)
	h.applyFails(t, store.ErrDuplicate, store.CreateIdempotency{Idempotency: first})

	h.clk.Set(at(time.Hour))
	_, err := h.st.Idempotency(h.ctx, key)
	wantNotFound(t, "Idempotency at expiry", err)

	second := store.Idempotency{Key: key, RequestHash: "sha256:second", MessageID: message.NewMessageID(), ExpiresAt: at(2 * time.Hour)}
	h.apply(t, store.CreateIdempotency{Idempotency: second})
	h.wantIdempotency(t, second)
	h.applyFails(t, store.ErrDuplicate, store.CreateIdempotency{Idempotency: first})
}
