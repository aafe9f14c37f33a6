package storetest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/store"
)

func testClaimDuplicate(t *testing.T, h *harness) {
	k := h.key("IN#whatsapp#wamid.A")
	h.apply(t, store.Claim{Key: k, ExpiresAt: at(time.Hour)})
	h.applyFails(t, store.ErrDuplicate, store.Claim{Key: k, ExpiresAt: at(2 * time.Hour)})

	// Another key is free.
	h.apply(t, store.Claim{Key: h.key("IN#whatsapp#wamid.B"), ExpiresAt: at(time.Hour)})
	// The same key twice in one batch: the second finds it taken, or the
	// store refuses the batch; either way it must not be written.
	twice := h.key("IN#apple#twice")
	if err := h.st.Apply(h.ctx, store.Claim{Key: twice}, store.Claim{Key: twice}); err == nil {
		t.Fatalf("Apply of the same claim twice in one batch: no error")
	}
	h.apply(t, store.Claim{Key: twice})
}

func testClaimExpiry(t *testing.T, h *harness) {
	k := h.key("IN#apple#expiring")
	permanent := h.key("IN#apple#forever")
	h.apply(t,
		store.Claim{Key: k, ExpiresAt: at(time.Hour)},
		store.Claim{Key: permanent},
	)

	// The steps run in order.
	steps := []struct {
		now       time.Time
		expiresAt time.Time
		want      error
	}{
		{at(time.Hour - time.Millisecond), at(2 * time.Hour), store.ErrDuplicate},
		{at(time.Hour), at(3 * time.Hour), nil}, // expired: taken again
		{at(2 * time.Hour), at(4 * time.Hour), store.ErrDuplicate},
		{at(3*time.Hour - time.Millisecond), at(4 * time.Hour), store.ErrDuplicate},
		{at(3 * time.Hour), time.Time{}, nil},
		{at(forever), at(forever + time.Hour), store.ErrDuplicate},
	}
	for _, s := range steps {
		h.clk.Set(s.now)
		if s.want == nil {
			h.apply(t, store.Claim{Key: k, ExpiresAt: s.expiresAt})
		} else {
			h.applyFails(t, s.want, store.Claim{Key: k, ExpiresAt: s.expiresAt})
		}
	}
	h.applyFails(t, store.ErrDuplicate, store.Claim{Key: permanent})
}

// testClaimed: a store that checks claims in bulk reports the live claims
// among many keys (more than one read's hundred, some twice), and neither
// an absent nor an expired one.
func testClaimed(t *testing.T, h *harness) {
	cc, ok := h.st.(store.ClaimChecker)
	if !ok {
		t.Fatalf("%T does not check claims in bulk (store.ClaimChecker)", h.st)
	}
	var keys []string
	want := map[string]bool{}
	var writes []store.Write
	for i := range 150 {
		k := h.key(fmt.Sprintf("IN#whatsapp#wamid.%d#status#read", i))
		keys = append(keys, k)
		if i%3 == 0 {
			want[k] = true
			writes = append(writes, store.Claim{Key: k, ExpiresAt: at(2 * time.Hour)})
		}
	}
	expiring := h.key("IN#whatsapp#wamid.expiring")
	writes = append(writes, store.Claim{Key: expiring, ExpiresAt: at(time.Hour)})
	for w := range slices.Chunk(writes, 25) {
		h.apply(t, w...)
	}
	keys = append(keys, keys[0], expiring)

	got, err := cc.Claimed(h.ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	want[expiring] = true
	if !maps.Equal(got, want) {
		t.Fatalf("Claimed: %d keys, want %d", len(got), len(want))
	}
	h.clk.Set(at(time.Hour))
	delete(want, expiring)
	if got, err = cc.Claimed(h.ctx, keys); err != nil || !maps.Equal(got, want) {
		t.Fatalf("Claimed after a claim expired: %d keys (%v), want %d", len(got), err, len(want))
	}
}
