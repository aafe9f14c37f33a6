package ingest

import (
	"testing"

	"github.com/parleyhq/parley/shared/channel"
	// The use case meets the channels through their registration, as a
	// function that links them does (identity_test.go links WhatsApp).
	_ "github.com/parleyhq/parley/shared/apple"
)

// TestDedupeOutlastsEveryReplayHorizon: an item young enough to be stored
// is still recognised when it comes again, on every channel.
func TestDedupeOutlastsEveryReplayHorizon(t *testing.T) {
	for _, name := range channel.Names() {
		ch, _ := channel.Lookup(name)
		if age := ch.MaxItemAge(); age >= DedupeRetention {
			t.Errorf("%s takes items up to %s old, but dedupe claims last %s", name, age, DedupeRetention)
		}
	}
	if len(channel.Names()) < 2 {
		t.Fatalf("channels linked: %v, want both", channel.Names())
	}
}
