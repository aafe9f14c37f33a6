package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// payment returns the first state (version 1) of a new Apple Pay request.
func (h *harness) payment() store.Payment {
	return store.Payment{
		MessageID: message.NewMessageID(),
		Steps:     map[string]int{"shippingContactUpdate": 1},
		BusyUntil: at(20 * time.Second),
		UpdatedAt: h.clk.Now(),
		Version:   1,
		ExpiresAt: at(3 * time.Hour),
	}
}

func normPayment(p store.Payment) store.Payment {
	p.PaidAt, p.BusyUntil, p.UpdatedAt, p.ExpiresAt = ms(p.PaidAt), ms(p.BusyUntil), ms(p.UpdatedAt), ms(p.ExpiresAt)
	return p
}

func testPaymentVersions(t *testing.T, h *harness) {
	p := h.payment()
	_, err := h.st.Payment(h.ctx, p.MessageID)
	wantNotFound(t, "Payment before the first callback", err)
	h.apply(t, store.PutPayment{State: p})
	// Creating it again is refused: another callback got there first.
	h.applyFails(t, store.ErrConflict, store.PutPayment{State: p})
	got, err := h.st.Payment(h.ctx, p.MessageID)
	if err != nil {
		t.Fatalf("Payment: %v", err)
	}
	same(t, "Payment", normPayment(got), normPayment(p))

	// Two callbacks read version 1; the first write wins, the second
	// conflicts and leaves the first's state.
	paid := p
	paid.Steps = map[string]int{"shippingContactUpdate": 1, "paymentGateway": 1}
	paid.Status, paid.PaidAt, paid.BusyUntil, paid.Version = "STATUS_SUCCESS", at(time.Minute), time.Time{}, 2
	other := p
	other.Steps, other.Version = map[string]int{"shippingContactUpdate": 2}, 2
	h.apply(t, store.PutPayment{State: paid, PrevVersion: 1})
	h.applyFails(t, store.ErrConflict, store.PutPayment{State: other, PrevVersion: 1})
	got, err = h.st.Payment(h.ctx, p.MessageID)
	if err != nil {
		t.Fatalf("Payment: %v", err)
	}
	same(t, "Payment after two writes", normPayment(got), normPayment(paid))

	_, err = h.st.Payment(h.ctx, "msg_unknown"+h.run)
	wantNotFound(t, "Payment of an unknown message", err)
}

func testPaymentAllOrNothing(t *testing.T, h *harness) {
	p := h.payment()
	c := h.conversation(message.Apple, "cust")
	rec := h.record(c, 0)
	// A payment write and a message go together or not at all.
	h.applyFails(t, store.ErrConflict, store.PutPayment{State: p, PrevVersion: 4}, store.PutMessage{Message: rec})
	_, err := h.st.Payment(h.ctx, p.MessageID)
	wantNotFound(t, "Payment of a failed batch", err)
	_, err = h.st.Message(h.ctx, rec.ID)
	wantNotFound(t, "Message of a failed batch", err)
	h.apply(t, store.PutPayment{State: p}, store.PutMessage{Message: rec})
	h.wantMessage(t, rec)
}

func testPaymentExpiry(t *testing.T, h *harness) {
	p := h.payment()
	h.apply(t, store.PutPayment{State: p})
	h.clk.Set(p.ExpiresAt)
	_, err := h.st.Payment(h.ctx, p.MessageID)
	wantNotFound(t, "Payment once expired", err)
	// An expired state counts as absent: it is written anew from version 0.
	h.applyFails(t, store.ErrConflict, store.PutPayment{State: p, PrevVersion: 1})
	p.ExpiresAt = at(5 * time.Hour)
	h.apply(t, store.PutPayment{State: p})
	got, err := h.st.Payment(h.ctx, p.MessageID)
	if err != nil {
		t.Fatalf("Payment: %v", err)
	}
	same(t, "Payment rewritten", normPayment(got), normPayment(p))
}
