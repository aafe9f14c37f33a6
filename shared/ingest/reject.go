package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// Limits of the ids a webhook item carries. The platforms' own ids are far
// shorter (a wamid is about 60 characters, an Apple message id a UUID, a
// phone number id or wa_id at most 20 digits, an Apple opaque customer id
// about 100); anything longer, or with characters outside printable
// ASCII, is not one of theirs.
const (
	MaxPlatformIDLength = 256
	MaxBusinessIDLength = 128
	MaxCustomerIDLength = 512
)

// Limits of the files an item names, fetched later (Payloads): a message
// record keeps what each says of its file, and each goes in a queued job
// (SQS takes 256 KiB), so an item past them could never be stored. Apple
// publishes no limit; an attachment's dictionary is well under 2 KiB.
const (
	MaxPayloads       = 100
	MaxPayloadRefSize = 16 << 10
)

// problem returns why it cannot be stored as it is, or "". An item older
// than its channel's MaxItemAge is a signed body replayed after the
// dedupe window (DedupeRetention outlasts every channel's MaxItemAge).
func problem(ch channel.Channel, it message.InboundItem, now time.Time) string {
	for _, f := range []struct {
		name, value string
		max         int
		required    bool
	}{
		{"platform message id", it.PlatformMessageID, MaxPlatformIDLength, true},
		{"business id", it.BusinessID, MaxBusinessIDLength, true},
		{"customer id", it.CustomerID, MaxCustomerIDLength, it.Kind != message.KindStatus},
		{"quoted message id", it.ReplyToPlatformID, MaxPlatformIDLength, false},
	} {
		if why := badID(f.value, f.max, f.required); why != "" {
			return f.name + ": " + why
		}
	}
	if n := len(it.Payloads); n > MaxPayloads {
		return fmt.Sprintf("%d files, more than %d", n, MaxPayloads)
	}
	for i, p := range it.Payloads {
		if len(p.Ref) > MaxPayloadRefSize {
			return fmt.Sprintf("file %d: its description has %d bytes, more than %d", i, len(p.Ref), MaxPayloadRefSize)
		}
	}
	if limit := ch.MaxItemAge(); limit > 0 && !it.At.IsZero() && now.Sub(it.At) > limit {
		return fmt.Sprintf("its timestamp %s is more than %s old, past the dedupe window: a replay", it.At.UTC().Format(time.RFC3339), limit)
	}
	return ""
}

// badID says what is wrong with an id, or "".
func badID(id string, max int, required bool) string {
	switch {
	case id == "" && required:
		return "missing"
	case len(id) > max:
		return fmt.Sprintf("%d bytes, the limit is %d", len(id), max)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return fmt.Sprintf("byte %d is %q, outside printable ASCII", i, c)
		}
	}
	return ""
}

// reject records an item that cannot be stored as it is: an item.rejected
// event saying why, with only the parts of it that are valid, once per
// item (the claim is on a digest of the item's id).
func (in *Ingester) reject(ctx context.Context, it message.InboundItem, why string) (message.Event, error) {
	now := in.Clock.Now()
	ev := message.Event{ID: message.NewEventID(now), Type: message.EventRejected, Time: now, Channel: it.Channel,
		Error: &message.Error{Code: message.CodeInvalidRequest, Message: "the webhook " + it.Kind + " was not stored: " + why}}
	if badID(it.BusinessID, MaxBusinessIDLength, true) == "" {
		ev.BusinessID = it.BusinessID
	}
	if badID(it.CustomerID, MaxCustomerIDLength, true) == "" {
		ev.CustomerID = it.CustomerID
	}
	if badID(it.PlatformMessageID, MaxPlatformIDLength, true) == "" {
		ev.PlatformMessageID = it.PlatformMessageID
	}
	sum := sha256.Sum256([]byte(string(it.Channel) + "\x00" + it.Kind + "\x00" + it.Status + "\x00" + it.PlatformMessageID))
	key := "IN#" + string(it.Channel) + "#rejected#" + hex.EncodeToString(sum[:16])
	in.log().Warn("webhook item rejected", "channel", it.Channel, "kind", it.Kind, "reason", why)
	return ev, in.apply(ctx, store.Claim{Key: key, ExpiresAt: now.Add(DedupeRetention), Owner: ev.ID}, store.AppendEvent{Event: ev, ExpiresAt: now.Add(EventRetention)})
}
