package applepay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

const (
	// DefaultLifetime is how long after it is sent a request takes
	// callbacks. The request carries an Apple Pay merchant session, made
	// just before the send, which expires (expiresAt, about two hours
	// after epochTimestamp in Apple's samples); without a live session the
	// sheet cannot take a payment.
	DefaultLifetime = 2 * time.Hour
	// OrderTrackingWindow is how long after a successful payment Apple's
	// orderTracking call is taken.
	OrderTrackingWindow = 10 * time.Minute
	// leaseSlack is added to the processor's timeout for the lease of a
	// paymentGateway call, for the store writes around it.
	leaseSlack = 5 * time.Second
	// stateRetention is how long the state of a request is kept after the
	// request closes, for whoever looks into a late callback.
	stateRetention = 7 * 24 * time.Hour
	// admitTries bounds the reads and writes of the state when other
	// callbacks for the same request write it at the same time.
	admitTries = 3
)

// refusal is why a callback is not forwarded.
type refusal struct {
	// status is the HTTP status of the answer (for the callbacks other than
	// paymentGateway, which is always answered STATUS_FAILURE).
	status int
	code   message.Code
	reason string
}

// CodeRateLimited answers a callback over a rate limit (HTTP 429).
const CodeRateLimited message.Code = "rate_limited"

func closed(format string, args ...any) *refusal {
	return &refusal{status: 409, code: message.CodeConflict, reason: "the Apple Pay request is closed: " + fmt.Sprintf(format, args...)}
}

func notAStep(format string, args ...any) *refusal {
	return &refusal{status: 409, code: message.CodeConflict, reason: fmt.Sprintf(format, args...)}
}

func limited(format string, args ...any) *refusal {
	return &refusal{status: 429, code: CodeRateLimited, reason: fmt.Sprintf(format, args...)}
}

// sentAt is when parley sent the message of rec: its creation, or, for a
// scheduled send, the first change after it was scheduled.
func sentAt(rec message.Record) time.Time {
	scheduled := false
	for _, h := range rec.History {
		switch {
		case h.Status == message.StatusScheduled:
			scheduled = true
		case scheduled:
			return h.At
		}
	}
	if scheduled || rec.Status == message.StatusScheduled {
		return rec.UpdatedAt
	}
	return rec.CreatedAt
}

// paymentRequest is what the rules read of an Apple Pay paymentRequest.
type paymentRequest struct {
	RequiredShippingContactFields []string          `json:"requiredShippingContactFields"`
	ShippingMethods               []json.RawMessage `json:"shippingMethods"`
}

// check says why the callback name for the request of rec, in state st, is
// not forwarded at now; nil when it is. conv is the request's
// conversation (zero when parley has none).
func (h *handler) check(rec message.Record, conv message.Conversation, st store.Payment, name string, now time.Time) *refusal {
	switch rec.Status {
	case message.StatusFailed, message.StatusCancelled:
		return closed("the message is %s", rec.Status)
	case message.StatusScheduled:
		return closed("the message is not sent yet")
	}
	sent := sentAt(rec)
	if end := sent.Add(h.lifetime); !now.Before(end) {
		return closed("it expired at %s, %s after it was sent", end.UTC().Format(time.RFC3339), h.lifetime)
	}
	if conv.Closed && conv.ClosedAt.After(sent) {
		return closed("the customer closed the conversation at %s", conv.ClosedAt.UTC().Format(time.RFC3339))
	}
	if rec.Message != nil {
		// The request sent Apple's call for this step to the business's
		// own endpoint (message.endpoints): none comes to parley.
		if u := rec.Message.Endpoints[name+"Url"]; u != "" && !strings.HasSuffix(u, PathPrefix+name) {
			return notAStep("%s is not a step parley takes for this request: its endpoints.%sUrl is the business's own", name, name)
		}
	}
	if !st.PaidAt.IsZero() {
		switch {
		case name != OrderTracking:
			return closed("it was paid at %s", st.PaidAt.UTC().Format(time.RFC3339))
		case st.Steps[OrderTracking] > 0:
			return closed("it was paid and its order tracking call was made")
		case !now.Before(st.PaidAt.Add(OrderTrackingWindow)):
			return closed("it was paid at %s and order tracking comes within %s", st.PaidAt.UTC().Format(time.RFC3339), OrderTrackingWindow)
		}
		return nil
	}
	if name == OrderTracking {
		return notAStep("orderTracking comes only after a successful payment, and this request is not paid")
	}
	if now.Before(st.BusyUntil) {
		return limited("a payment of this request is with the processor")
	}
	if total(st.Steps) >= h.limits.PerRequest {
		return limited("the request had %d callbacks, the most parley forwards for one request", h.limits.PerRequest)
	}
	var pr paymentRequest
	if rec.Message != nil && len(rec.Message.Payment) > 0 {
		// Validated at send: a JSON object.
		_ = json.Unmarshal(rec.Message.Payment, &pr)
	}
	switch name {
	case PaymentGateway:
		if st.Steps[PaymentGateway] >= h.limits.PaymentAttempts {
			return closed("it had %d payment attempts, the most parley forwards", h.limits.PaymentAttempts)
		}
	case ShippingContactUpdate:
		if len(pr.RequiredShippingContactFields) == 0 {
			return notAStep("shippingContactUpdate is not a step of this request: it asks for no shipping contact (requiredShippingContactFields)")
		}
	case ShippingMethodUpdate:
		if len(pr.ShippingMethods) == 0 {
			return notAStep("shippingMethodUpdate is not a step of this request: it offers no shipping methods (shippingMethods)")
		}
	}
	return nil
}

func total(steps map[string]int) int {
	n := 0
	for _, c := range steps {
		n += c
	}
	return n
}

// admit decides whether the callback name for the request of rec is
// forwarded and, when it is, counts it in the request's state: the state
// written, or why not. A paymentGateway call takes a lease on the request
// until the processor has answered (settle) or the lease runs out.
func (h *handler) admit(ctx context.Context, rec message.Record, name string) (store.Payment, *refusal, error) {
	conv, err := h.store.Conversation(ctx, store.ConversationKey{Channel: rec.Channel, BusinessID: rec.BusinessID, CustomerID: rec.CustomerID})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Payment{}, nil, err
	}
	for range admitTries {
		st, err := h.state(ctx, rec.ID)
		if err != nil {
			return store.Payment{}, nil, err
		}
		now := h.clock.Now()
		if r := h.check(rec, conv, st, name, now); r != nil {
			return st, r, nil
		}
		next := st
		next.Steps = maps.Clone(st.Steps)
		if next.Steps == nil {
			next.Steps = map[string]int{}
		}
		next.Steps[name]++
		if name == PaymentGateway {
			next.BusyUntil = now.Add(h.timeout + leaseSlack)
		}
		next.UpdatedAt, next.Version = now, st.Version+1
		next.ExpiresAt = sentAt(rec).Add(h.lifetime + OrderTrackingWindow + stateRetention)
		err = h.store.Apply(ctx, store.PutPayment{State: next, PrevVersion: st.Version})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return store.Payment{}, nil, err
		}
		return next, nil, nil
	}
	return store.Payment{}, limited("other callbacks for this request are being taken"), nil
}

// settle records the status a paymentGateway call was answered with and
// ends its lease.
func (h *handler) settle(ctx context.Context, st store.Payment, status string) error {
	expires := st.ExpiresAt
	for range admitTries {
		now := h.clock.Now()
		next := st
		next.Status, next.BusyUntil = status, time.Time{}
		if next.ExpiresAt.IsZero() {
			next.ExpiresAt = expires
		}
		if status == StatusSuccess {
			next.PaidAt = now
		}
		next.UpdatedAt, next.Version = now, st.Version+1
		err := h.store.Apply(ctx, store.PutPayment{State: next, PrevVersion: st.Version})
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		// Another callback wrote meanwhile (after the lease ran out):
		// apply the outcome to what it wrote.
		if st, err = h.state(ctx, st.MessageID); err != nil {
			return err
		}
	}
	return fmt.Errorf("the state of the request kept changing")
}

// state reads the state of the request of message id; a request without
// one has had no callback forwarded yet.
func (h *handler) state(ctx context.Context, id string) (store.Payment, error) {
	st, err := h.store.Payment(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Payment{MessageID: id}, nil
	}
	return st, err
}
