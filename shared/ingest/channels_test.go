package ingest

import (
	"testing"

	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/message"
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

// TestAnItemOfAChannelNotLinkedIsNotAcknowledged: a binary stores only
// what a channel it links can answer for; anything else fails the webhook
// and leaves nothing behind.
func TestAnItemOfAChannelNotLinkedIsNotAcknowledged(t *testing.T) {
	in, st, clk := newIngester(t)
	it := waText("m-sms-1", "hello", clk.Now())
	it.Channel = "sms"
	if _, err := in.Ingest(t.Context(), []message.InboundItem{it}); err == nil {
		t.Fatal("Ingest took an item of a channel that is not linked")
	}
	if evs, err := st.Events(t.Context(), "", 10); err != nil || len(evs) != 0 {
		t.Errorf("events = %v, %v; want none", evs, err)
	}
}
