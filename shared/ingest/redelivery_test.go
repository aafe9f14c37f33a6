package ingest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
)

// countingStore counts the writes and the bulk claim checks of a store.
type countingStore struct {
	*embedded.Store
	applies, checks atomic.Int64
}

func (s *countingStore) Apply(ctx context.Context, ws ...store.Write) error {
	s.applies.Add(1)
	return s.Store.Apply(ctx, ws...)
}

func (s *countingStore) Claimed(ctx context.Context, keys []string) (map[string]bool, error) {
	s.checks.Add(1)
	return s.Store.Claimed(ctx, keys)
}

// TestRedeliveredBatchSkipsWhatWasStored: a large batch of statuses whose
// first delivery stopped part way (a timeout) is delivered again whole;
// the statuses stored the first time are counted as duplicates without a
// write each, the rest are stored, each once.
func TestRedeliveredBatchSkipsWhatWasStored(t *testing.T) {
	in, st, _ := newIngester(t)
	cs := &countingStore{Store: st}
	in.Store = cs
	var batch []message.InboundItem
	for i := range 300 {
		batch = append(batch, status(fmt.Sprintf("wamid.%03d", i), "delivered", 0))
	}
	if r := ingest(t, in, batch[:200]...); r.Pending != 200 {
		t.Fatalf("first delivery, cut short: %+v, want 200 statuses kept pending", r)
	}
	cs.applies.Store(0)
	r := ingest(t, in, batch...)
	if r.Duplicates != 200 || r.Pending != 100 {
		t.Fatalf("redelivery: %+v, want 200 duplicates and 100 pending", r)
	}
	if n := cs.applies.Load(); n != 100 {
		t.Errorf("redelivery wrote %d times, want 100: one for each status not yet stored", n)
	}
	if n := cs.checks.Load(); n != 2 {
		t.Errorf("%d bulk checks, want one a delivery", n)
	}

	// A small delivery is stored item by item, without a bulk check.
	cs.checks.Store(0)
	if r := ingest(t, in, batch[:PrecheckMin-1]...); r.Duplicates != PrecheckMin-1 {
		t.Fatalf("small redelivery: %+v", r)
	}
	if n := cs.checks.Load(); n != 0 {
		t.Errorf("a delivery of %d statuses made %d bulk checks, want none", PrecheckMin-1, n)
	}
}

// TestItemsNamingTooManyFilesAreRejected: an item naming more files than
// a record and its jobs can hold is recorded as rejected, and the rest of
// its batch is stored.
func TestItemsNamingTooManyFilesAreRejected(t *testing.T) {
	in, _, _ := newIngester(t)
	withFiles := func(id string, n, size int) message.InboundItem {
		it := waText(id, "here are the photos", t0)
		for i := range n {
			ref := []byte(`{"name":"` + strings.Repeat("p", size) + `.jpg"}`)
			it.Payloads = append(it.Payloads, message.PayloadRef{Kind: message.PayloadAttachment, Index: i, Ref: ref})
		}
		return it
	}
	r := ingest(t, in,
		withFiles("wamid.many", MaxPayloads+1, 10),
		withFiles("wamid.huge", 1, MaxPayloadRefSize),
		withFiles("wamid.most", MaxPayloads, 1000),
	)
	if r.Rejected != 2 || r.Stored != 1 {
		t.Fatalf("result %+v, want 2 rejected and 1 stored", r)
	}
}
