package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

func testMessageGet(t *testing.T, h *harness) {
	_, err := h.st.Message(h.ctx, message.NewMessageID())
	wantNotFound(t, "Message of an unknown id", err)

	c := h.conversation(message.WhatsApp, "cust")
	in := h.record(c, time.Minute)
	sentAt := at(2 * time.Minute)
	failedAt := at(3 * time.Minute)
	closedAt := at(-time.Hour)
	out := message.Record{
		ID:         message.NewMessageID(),
		Channel:    c.Channel,
		BusinessID: c.BusinessID,
		CustomerID: c.CustomerID,
		Direction:  message.Outbound,
		Type:       "text",
		BodyRef:    "bodies/" + h.run,
		Status:     "failed",
		Error: &message.Error{
			Code:     message.CodePlatformRejected,
			Message:  "the platform refused the message",
			Details:  message.Problems{{Field: "message.text", Problem: "too long"}},
			ClosedAt: &closedAt,
			Platform: &message.PlatformError{HTTPStatus: 400, Code: 131047, Message: "Re-engagement message", TraceID: "AbC"},
		},
		History: []message.StatusChange{
			{Status: "accepted", At: sentAt},
			{Status: "failed", At: failedAt, Error: &message.PlatformError{HTTPStatus: 400, Code: 131047}},
		},
		CreatedAt: sentAt,
		UpdatedAt: failedAt,
		Version:   1,
	}
	h.apply(t, store.PutMessage{Message: in, ExpiresAt: at(24 * time.Hour)}, store.PutMessage{Message: out})
	h.wantMessage(t, in)
	h.wantMessage(t, out)
}

func testMessageByPlatformID(t *testing.T, h *harness) {
	for _, ch := range []message.Channel{message.WhatsApp, message.Apple} {
		t.Run(string(ch), func(t *testing.T) {
			c := h.conversation(ch, "cust")
			in := h.record(c, time.Minute)
			h.apply(t, store.PutMessage{Message: in})
			h.wantByPlatformID(t, ch, in.PlatformMessageID, in)

			other := message.Apple
			if ch == message.Apple {
				other = message.WhatsApp
			}
			_, err := h.st.MessageByPlatformID(h.ctx, other, in.PlatformMessageID)
			wantNotFound(t, "MessageByPlatformID on the other channel", err)
			_, err = h.st.MessageByPlatformID(h.ctx, ch, platformID(ch))
			wantNotFound(t, "MessageByPlatformID of an unknown id", err)

			// An outbound message learns its platform id when it is sent.
			out := h.record(c, 2*time.Minute)
			out.Direction = message.Outbound
			out.PlatformMessageID = ""
			out.Status = "accepted"
			h.apply(t, store.PutMessage{Message: out})
			sent := out
			sent.PlatformMessageID = platformID(ch)
			sent.Status = "sent"
			sent.Version = 2
			h.apply(t, store.PutMessage{Message: sent, PrevVersion: 1})
			h.wantByPlatformID(t, ch, sent.PlatformMessageID, sent)

			// Later updates show through the index.
			read := sent
			read.Status = "read"
			read.History = append(read.History, message.StatusChange{Status: "read", At: at(3 * time.Minute)})
			read.Version = 3
			h.apply(t, store.PutMessage{Message: read, PrevVersion: 2})
			h.wantByPlatformID(t, ch, read.PlatformMessageID, read)
			h.wantByPlatformID(t, ch, in.PlatformMessageID, in)
		})
	}
}

// wantByPlatformID fails the test unless the store finds want by (ch, pid).
func (h *harness) wantByPlatformID(t *testing.T, ch message.Channel, pid string, want message.Record) {
	t.Helper()
	got, err := h.st.MessageByPlatformID(h.ctx, ch, pid)
	if err != nil {
		t.Fatalf("MessageByPlatformID(%s, %s): %v", ch, pid, err)
	}
	same(t, "MessageByPlatformID", normRecord(got), normRecord(want))
}

func testMessageConflict(t *testing.T, h *harness) {
	c := h.conversation(message.Apple, "cust")
	m := h.record(c, time.Minute)
	h.apply(t, store.PutMessage{Message: m})
	next := m
	next.Status = "delivered"
	next.Version = 2
	h.apply(t, store.PutMessage{Message: next, PrevVersion: 1})

	for _, prev := range []int64{0, 1, 3} {
		w := m
		w.Status = "read"
		w.Version = prev + 1
		h.applyFails(t, store.ErrConflict, store.PutMessage{Message: w, PrevVersion: prev})
		h.wantMessage(t, next)
	}

	missing := h.record(c, 2*time.Minute)
	missing.Version = 2
	h.applyFails(t, store.ErrConflict, store.PutMessage{Message: missing, PrevVersion: 1})
	_, err := h.st.Message(h.ctx, missing.ID)
	wantNotFound(t, "Message after a failed update", err)
}

func testRecentMessages(t *testing.T, h *harness) {
	c := h.conversation(message.WhatsApp, "cust")
	// Same business, another customer; same ids, another channel.
	otherCustomer := h.conversation(message.WhatsApp, "other")
	otherChannel := h.conversation(message.Apple, "cust")

	// msgs[i] was created at i minutes; they are written out of order.
	msgs := make([]message.Record, 6)
	for i := range msgs {
		msgs[i] = h.record(c, time.Duration(i)*time.Minute)
	}
	h.apply(t, store.PutMessage{Message: msgs[3]}, store.PutMessage{Message: msgs[0]})
	h.apply(t,
		store.PutMessage{Message: h.record(otherCustomer, 10*time.Minute)},
		store.PutMessage{Message: h.record(otherChannel, 10*time.Minute)},
		store.PutMessage{Message: msgs[5]},
	)
	h.apply(t, store.PutMessage{Message: msgs[1]}, store.PutMessage{Message: msgs[4]}, store.PutMessage{Message: msgs[2]})
	// An update neither duplicates nor reorders a message.
	msgs[2].Status = "read"
	msgs[2].UpdatedAt = at(20 * time.Minute)
	msgs[2].Version = 2
	h.apply(t, store.PutMessage{Message: msgs[2], PrevVersion: 1})

	newestFirst := func(n int) []message.Record {
		var out []message.Record
		for i := len(msgs) - 1; i >= 0 && len(out) < n; i-- {
			out = append(out, msgs[i])
		}
		return out
	}
	tests := []struct {
		name  string
		key   store.ConversationKey
		limit int
		want  []message.Record
	}{
		{"all", store.KeyOf(c), 100, newestFirst(6)},
		{"exactly all", store.KeyOf(c), 6, newestFirst(6)},
		{"limited", store.KeyOf(c), 3, newestFirst(3)},
		{"one", store.KeyOf(c), 1, newestFirst(1)},
		{"unknown conversation", store.KeyOf(h.conversation(message.WhatsApp, "unknown")), 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.st.RecentMessages(h.ctx, tt.key, tt.limit)
			if err != nil {
				t.Fatalf("RecentMessages: %v", err)
			}
			same(t, "RecentMessages", normRecords(got), normRecords(tt.want))
		})
	}
}

func testMessageExpiry(t *testing.T, h *harness) {
	c := h.conversation(message.WhatsApp, "cust")
	permanent := h.record(c, time.Minute)
	long := h.record(c, 2*time.Minute)
	short := h.record(c, 3*time.Minute)
	h.apply(t,
		store.PutMessage{Message: short, ExpiresAt: at(time.Hour)},
		store.PutMessage{Message: long, ExpiresAt: at(2 * time.Hour)},
		store.PutMessage{Message: permanent},
	)

	h.clk.Set(at(time.Hour - time.Millisecond))
	h.wantMessage(t, short)
	h.wantByPlatformID(t, short.Channel, short.PlatformMessageID, short)
	h.wantRecent(t, c, 1, short)

	h.clk.Set(at(time.Hour))
	_, err := h.st.Message(h.ctx, short.ID)
	wantNotFound(t, "Message at expiry", err)
	_, err = h.st.MessageByPlatformID(h.ctx, short.Channel, short.PlatformMessageID)
	wantNotFound(t, "MessageByPlatformID at expiry", err)
	// A limit counts only the messages still alive.
	h.wantRecent(t, c, 1, long)
	h.wantRecent(t, c, 10, long, permanent)

	h.clk.Set(at(2 * time.Hour))
	h.wantRecent(t, c, 1, permanent)

	h.clk.Set(at(forever))
	h.wantMessage(t, permanent)
	h.wantByPlatformID(t, permanent.Channel, permanent.PlatformMessageID, permanent)
	h.wantRecent(t, c, 10, permanent)
}

// wantRecent fails the test unless RecentMessages(c, limit) returns want.
func (h *harness) wantRecent(t *testing.T, c message.Conversation, limit int, want ...message.Record) {
	t.Helper()
	got, err := h.st.RecentMessages(h.ctx, store.KeyOf(c), limit)
	if err != nil {
		t.Fatalf("RecentMessages: %v", err)
	}
	same(t, "RecentMessages", normRecords(got), normRecords(want))
}
