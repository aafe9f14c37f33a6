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

// testIdempotencyLease: a claim is a lease of seconds. Dying while holding
// it leaves the key claimable once it ends; recording the outcome keeps the
// key for its full retention; a release names its lease and never frees
// another request's claim.
func testIdempotencyLease(t *testing.T, h *harness) {
	const lease = 30 * time.Second
	key := h.key("idem-lease")
	first := store.Idempotency{Key: key, Lease: "lease-1", RequestHash: "sha256:r", MessageID: message.NewMessageID(), ExpiresAt: at(lease)}
	h.apply(t, store.CreateIdempotency{Idempotency: first})
	h.wantIdempotency(t, first)

	// The holder died: within the lease the key is taken, after it free.
	h.clk.Set(at(lease - time.Millisecond))
	second := first
	second.Lease, second.ExpiresAt = "lease-2", at(2*lease)
	h.applyFails(t, store.ErrDuplicate, store.CreateIdempotency{Idempotency: second})
	h.clk.Set(at(lease))
	h.apply(t, store.CreateIdempotency{Idempotency: second})
	h.wantIdempotency(t, second)

	// The first holder, late, cannot release the second's claim.
	h.applyFails(t, store.ErrConflict, store.DeleteIdempotency{Key: key, Lease: "lease-1"})
	h.wantIdempotency(t, second)

	// The outcome is recorded with the key's retention and outlives the
	// lease; the unknown outcome too.
	answered := second
	answered.Status = 502
	answered.Answer = []byte(`{"error":{"code":"delivery_unknown"}}`)
	answered.ExpiresAt = at(24 * time.Hour)
	h.apply(t, store.PutIdempotency{Idempotency: answered})
	h.clk.Set(at(3 * lease))
	h.wantIdempotency(t, answered)
	h.applyFails(t, store.ErrDuplicate, store.CreateIdempotency{Idempotency: first})

	// The holder releases its own claim; releasing an expired claim, or
	// none, is not an error.
	other := h.key("idem-lease-release")
	mine := store.Idempotency{Key: other, Lease: "lease-3", RequestHash: "sha256:r", ExpiresAt: at(4 * lease)}
	h.apply(t, store.CreateIdempotency{Idempotency: mine})
	h.apply(t, store.DeleteIdempotency{Key: other, Lease: "lease-3"})
	_, err := h.st.Idempotency(h.ctx, other)
	wantNotFound(t, "Idempotency after its lease's release", err)
	h.apply(t, store.DeleteIdempotency{Key: other, Lease: "lease-3"})
	mine.Lease, mine.ExpiresAt = "lease-4", at(3*lease+time.Second)
	h.apply(t, store.CreateIdempotency{Idempotency: mine})
	h.clk.Set(at(3*lease + time.Second))
	h.apply(t, store.DeleteIdempotency{Key: other, Lease: "lease-5"})
}
