package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

func testApplyAllOrNothing(t *testing.T, h *harness) {
	updated := h.conversation(message.WhatsApp, "updated")
	stale := h.conversation(message.WhatsApp, "stale")
	staleMsg := h.record(stale, time.Minute)
	takenClaim := h.key("IN#whatsapp#taken")
	takenIdem := store.Idempotency{Key: h.key("idem-taken"), RequestHash: "h-taken", MessageID: message.NewMessageID(), ExpiresAt: at(time.Hour)}
	answered := store.Idempotency{Key: h.key("idem-answered"), RequestHash: "h-answered", MessageID: message.NewMessageID(), ExpiresAt: at(time.Hour)}
	released := store.Idempotency{Key: h.key("idem-released"), RequestHash: "h-released", MessageID: message.NewMessageID(), ExpiresAt: at(time.Hour)}
	h.apply(t,
		touchOf(updated),
		touchOf(stale),
		store.PutMessage{Message: staleMsg},
		store.Claim{Key: takenClaim},
		store.CreateIdempotency{Idempotency: takenIdem},
		store.CreateIdempotency{Idempotency: answered},
		store.CreateIdempotency{Idempotency: released},
	)
	staleMsgNext := staleMsg
	staleMsgNext.Status = "read"
	staleMsgNext.Version = 2

	tests := []struct {
		name    string
		failing store.Write
		want    error
	}{
		{"taken claim", store.Claim{Key: takenClaim}, store.ErrDuplicate},
		{"taken idempotency key", store.CreateIdempotency{Idempotency: takenIdem}, store.ErrDuplicate},
		{"stale message", store.PutMessage{Message: staleMsgNext}, store.ErrConflict},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created := h.conversation(message.Apple, fmt.Sprintf("created-%d", i))
			msg := h.record(created, time.Minute)
			ev := h.event(created, message.EventReceived)
			claim := h.key(fmt.Sprintf("IN#apple#fresh-%d", i))
			idem := store.Idempotency{Key: h.key(fmt.Sprintf("idem-fresh-%d", i)), RequestHash: "h", MessageID: msg.ID, ExpiresAt: at(time.Hour)}
			update := updated
			update.LastInboundAt = updated.LastInboundAt.Add(time.Hour)
			update.ExpiresAt = updated.ExpiresAt.Add(time.Hour)
			answer := answered
			answer.Status = 202
			answer.Answer = []byte(`{"id":"x"}`)

			h.applyFails(t, tt.want,
				touchOf(created),
				touchOf(update),
				store.PutMessage{Message: msg},
				store.AppendEvent{Event: ev},
				store.Claim{Key: claim},
				tt.failing,
				store.CreateIdempotency{Idempotency: idem},
				store.PutIdempotency{Idempotency: answer},
				store.DeleteIdempotency{Key: released.Key},
			)

			_, err := h.st.Conversation(h.ctx, store.KeyOf(created))
			wantNotFound(t, "Conversation created by the failed batch", err)
			h.wantConversation(t, updated)
			h.wantConversation(t, stale)
			_, err = h.st.Message(h.ctx, msg.ID)
			wantNotFound(t, "Message written by the failed batch", err)
			_, err = h.st.MessageByPlatformID(h.ctx, msg.Channel, msg.PlatformMessageID)
			wantNotFound(t, "MessageByPlatformID of the failed batch", err)
			h.wantMessage(t, staleMsg)
			evs, err := h.st.Events(h.ctx, "", 100)
			if err != nil {
				t.Fatalf("Events: %v", err)
			}
			if len(evs) != 0 {
				t.Fatalf("Events after failed batches = %s, want none", asJSON(evs))
			}
			_, err = h.st.Idempotency(h.ctx, idem.Key)
			wantNotFound(t, "Idempotency created by the failed batch", err)
			h.wantIdempotency(t, answered)
			h.wantIdempotency(t, released)
			h.wantIdempotency(t, takenIdem)
			// The claim of the failed batch is still free.
			h.apply(t, store.Claim{Key: claim})
		})
	}
}

func testDuplicateOverConflict(t *testing.T, h *harness) {
	c := h.conversation(message.WhatsApp, "cust")
	m := h.record(c, time.Minute)
	taken := h.key("IN#whatsapp#taken")
	idem := store.Idempotency{Key: h.key("idem"), RequestHash: "h", MessageID: m.ID, ExpiresAt: at(time.Hour)}
	h.apply(t,
		touchOf(c),
		store.PutMessage{Message: m},
		store.Claim{Key: taken},
		store.CreateIdempotency{Idempotency: idem},
	)
	older := c
	older.LastInboundAt = c.LastInboundAt.Add(-time.Hour)
	staleConv := touchOf(older)
	staleMsg := store.PutMessage{Message: m}

	tests := []struct {
		name  string
		batch []store.Write
	}{
		{"claim before a stale conversation", []store.Write{store.Claim{Key: taken}, staleConv}},
		{"stale conversation before a claim", []store.Write{staleConv, store.Claim{Key: taken}}},
		{"stale message before an idempotency key", []store.Write{staleMsg, store.CreateIdempotency{Idempotency: idem}}},
		{"idempotency key before a stale message", []store.Write{store.CreateIdempotency{Idempotency: idem}, staleMsg}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.st.Apply(h.ctx, tt.batch...)
			if !errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrConflict) {
				t.Fatalf("Apply: got error %v, want %v alone", err, store.ErrDuplicate)
			}
		})
	}
}
