package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// testPendingStatuses keeps statuses for a platform id before its message
// is recorded, refuses a record that has not applied them, and takes them
// away with the record that has.
func testPendingStatuses(t *testing.T, h *harness) {
	c := h.conversation(message.WhatsApp, "cust")
	m := h.record(c, time.Minute)
	m.Direction = message.Outbound
	pid := m.PlatformMessageID
	pend := func(status string, d time.Duration) store.PendStatus {
		return store.PendStatus{Channel: m.Channel, PlatformMessageID: pid, ExpiresAt: at(time.Hour),
			Status: store.PendingStatus{Status: status, At: at(d), ReceivedAt: at(d),
				Error: &message.PlatformError{Code: 131026, Message: "undeliverable"}}}
	}
	h.apply(t, pend("read", 2*time.Second), store.Claim{Key: h.key("IN#read")})
	h.apply(t, pend("delivered", time.Second))
	_, err := h.st.MessageByPlatformID(h.ctx, m.Channel, pid)
	wantNotFound(t, "MessageByPlatformID with only pending statuses", err)
	got, err := h.st.PendingStatuses(h.ctx, m.Channel, pid)
	if err != nil {
		t.Fatalf("PendingStatuses: %v", err)
	}
	want := []store.PendingStatus{pend("read", 2*time.Second).Status, pend("delivered", time.Second).Status}
	for i := range got {
		got[i].At, got[i].ReceivedAt = ms(got[i].At), ms(got[i].ReceivedAt)
	}
	same(t, "PendingStatuses", got, want)

	ev := h.event(c, message.EventSent)
	h.applyFails(t, store.ErrPending, store.PutMessage{Message: m, Pending: 1}, store.AppendEvent{Event: ev})
	_, err = h.st.Message(h.ctx, m.ID)
	wantNotFound(t, "Message refused for its pending statuses", err)
	h.apply(t, store.PutMessage{Message: m, Pending: 2}, store.AppendEvent{Event: ev})
	h.wantMessage(t, m)
	if got, err := h.st.PendingStatuses(h.ctx, m.Channel, pid); err != nil || len(got) != 0 {
		t.Fatalf("PendingStatuses after the record: %v, %v; want none", got, err)
	}
	h.applyFails(t, store.ErrRecorded, pend("sent", 0), store.Claim{Key: h.key("IN#sent")})
	// The refused batch took nothing: its claim is free.
	h.apply(t, store.Claim{Key: h.key("IN#sent")})

	// An inbound message never waits for statuses.
	in := h.record(c, 2*time.Minute)
	h.apply(t, store.PendStatus{Channel: in.Channel, PlatformMessageID: in.PlatformMessageID, ExpiresAt: at(time.Hour),
		Status: store.PendingStatus{Status: "read", At: base, ReceivedAt: base}})
	h.apply(t, store.PutMessage{Message: in})
}
