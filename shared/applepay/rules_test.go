package applepay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/applepay"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
)

// paymentRequestJSON is an Apple Pay paymentRequest, asking for a
// shipping contact and offering shipping methods when told to.
func paymentRequestJSON(shippingContact, shippingMethods bool) string {
	pr := map[string]any{
		"merchantName": "Tea Shop", "countryCode": "US", "currencyCode": "USD",
		"total":                        map[string]any{"label": "Tea Shop", "amount": "12.00", "type": "final"},
		"applePay":                     map[string]any{"merchantIdentifier": "merchant.com.example.tea", "supportedNetworks": []string{"visa"}, "merchantCapabilities": []string{"supports3DS"}},
		"requiredBillingContactFields": []string{"postalAddress"},
	}
	if shippingContact {
		pr["requiredShippingContactFields"] = []string{"postalAddress", "name"}
	}
	if shippingMethods {
		pr["shippingMethods"] = []any{map[string]any{"identifier": "post", "label": "Post", "detail": "3-5 days", "amount": "0.00"}}
	}
	b, _ := json.Marshal(pr)
	return string(b)
}

// newStore opens an embedded store reading time from clk, holding recs.
func newStore(t testing.TB, clk clock.Clock, recs ...message.Record) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, r := range recs {
		if err := st.Apply(t.Context(), store.PutMessage{Message: r}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// failingStore fails every message lookup with err.
type failingStore struct {
	store.Store
	err error
}

func (f failingStore) MessageByPlatformID(context.Context, message.Channel, string) (message.Record, error) {
	return message.Record{}, f.err
}

// countingStore counts the message lookups.
type countingStore struct {
	store.Store
	mu      sync.Mutex
	lookups int
}

func (c *countingStore) MessageByPlatformID(ctx context.Context, ch message.Channel, pid string) (message.Record, error) {
	c.mu.Lock()
	c.lookups++
	c.mu.Unlock()
	return c.Store.MessageByPlatformID(ctx, ch, pid)
}

// payProcessor is a payment processor that counts the calls it gets: it
// charges (STATUS_SUCCESS) or, when declining, refuses (STATUS_FAILURE), and
// changes nothing on updates. A call to paymentGateway waits while hold is
// not nil.
type payProcessor struct {
	mu      sync.Mutex
	hits    map[string]int
	decline int // how many payments to decline first
	hold    chan struct{}
	entered chan struct{}
}

func (p *payProcessor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	name := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	p.mu.Lock()
	p.hits[name]++
	declined := name == applepay.PaymentGateway && p.decline > 0
	if declined {
		p.decline--
	}
	hold, entered := p.hold, p.entered
	p.mu.Unlock()
	if name == applepay.PaymentGateway && hold != nil {
		entered <- struct{}{}
		<-hold
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case declined:
		io.WriteString(w, `{"status":"STATUS_FAILURE"}`)
	case name == applepay.PaymentGateway:
		io.WriteString(w, `{"status":"STATUS_SUCCESS"}`)
	default:
		io.WriteString(w, `{}`)
	}
}

func (p *payProcessor) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.hits {
		n += c
	}
	return n
}

// rig is a callback handler over an embedded store, with a counting
// processor.
type rig struct {
	t    testing.TB
	clk  *clock.Manual
	st   store.Store
	proc *payProcessor
	url  string
	cfg  applepay.HandlerConfig
	h    http.Handler

	mu     sync.Mutex
	events []message.Event
}

func newRig(t testing.TB, limits applepay.Limits, recs ...message.Record) *rig {
	t.Helper()
	r := &rig{t: t, clk: clock.NewManual(now), proc: &payProcessor{hits: map[string]int{}}}
	srv := httptest.NewServer(r.proc)
	t.Cleanup(srv.Close)
	r.st = newStore(t, r.clk, recs...)
	r.url = srv.URL
	r.cfg = applepay.HandlerConfig{
		ProcessorURL: srv.URL + "/pay",
		Timeout:      10 * time.Second,
		Store:        r.st,
		Emit: func(_ context.Context, ev message.Event) error {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
			return nil
		},
		Limits: limits,
		Log:    slog.New(slog.DiscardHandler),
		Clock:  r.clk,
	}
	r.h = applepay.Handler(r.cfg)
	return r
}

// instance is another handler on the same store and processor, as
// another Lambda instance would be.
func (r *rig) instance() http.Handler { return applepay.Handler(r.cfg) }

// call makes the callback name for the request id on h (the rig's own
// when nil) and returns the answer.
func (r *rig) call(h http.Handler, name, id string) answer {
	if h == nil {
		h = r.h
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, applepay.PathPrefix+name, strings.NewReader(callbackBody(id))))
	return answer{rec.Code, strings.TrimSpace(rec.Body.String())}
}

func (r *rig) setState(p store.Payment) {
	r.t.Helper()
	if err := r.st.Apply(r.t.Context(), store.PutPayment{State: p}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) state(id string) store.Payment {
	r.t.Helper()
	p, err := r.st.Payment(r.t.Context(), id)
	if err != nil {
		r.t.Fatalf("Payment(%s): %v", id, err)
	}
	return p
}

// refusedEvents returns the problems of the refused payment.callback
// events.
func (r *rig) refusedEvents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		if ev.Body != nil && ev.Body.Payment != nil && ev.Body.Payment.Status == applepay.StatusRefused {
			var d struct {
				Step    string `json:"step"`
				Problem string `json:"problem"`
			}
			json.Unmarshal(ev.Body.Payment.Detail, &d)
			out = append(out, d.Step+": "+d.Problem)
		}
	}
	return out
}

// payRequest returns an applePay record sent at sent, with the request
// id id, asking for a shipping contact and offering shipping methods when
// told to.
func payRequest(id string, sent time.Time, shippingContact, shippingMethods bool) message.Record {
	r := payRecord
	r.ID, r.PlatformMessageID = "msg_"+id[:8], id
	r.Message = &message.Message{Type: message.TypeApplePay, Payment: json.RawMessage(paymentRequestJSON(shippingContact, shippingMethods))}
	r.CreatedAt, r.UpdatedAt = sent, sent
	return r
}

const (
	failureAnswer = `{"status":"STATUS_FAILURE"}`
	successAnswer = `{"status":"STATUS_SUCCESS"}`
)

// TestForgedCallbacksNeverReachTheProcessor: a callback that names no
// applePay message parley sent, one for a closed request, one for a step
// the request does not have, and one over a limit are refused, and the
// processor never hears of them.
func TestForgedCallbacksNeverReachTheProcessor(t *testing.T) {
	const id = "6f1d4c2a-83b5-4e0f-9a7c-2d5e8b1f4a60"
	open := payRequest(id, now.Add(-time.Minute), true, true)
	plain := payRequest(id, now.Add(-time.Minute), false, false)
	paidAt := now.Add(-2 * time.Minute)
	tests := []struct {
		name     string
		rec      message.Record
		conv     *store.TouchConversation
		state    *store.Payment
		callback string
		id       string // default id
		later    time.Duration
		want     answer
		// wantRefused is the problem of the refused event; "" for none.
		wantRefused string
	}{
		{name: "unknown request", rec: open, callback: "paymentGateway", id: "00000000-0000-4000-8000-000000000000",
			want: answer{200, failureAnswer}},
		{name: "unknown request, update", rec: open, callback: "shippingContactUpdate", id: "00000000-0000-4000-8000-000000000000",
			want: answer{404, `{"error":{"code":"not_found","message":"no Apple Pay request \"00000000-0000-4000-8000-000000000000\""}}`}},
		{name: "request id not a UUID", rec: open, callback: "paymentMethodUpdate", id: "../../v1/events",
			want: answer{404, `{"error":{"code":"not_found","message":"no Apple Pay request \"../../v1/events\": parley's request ids are UUIDs"}}`}},
		{name: "request id of 40 KB", rec: open, callback: "paymentGateway", id: strings.Repeat("8", 40<<10),
			want: answer{200, failureAnswer}},
		{name: "id of a text message", rec: func() message.Record {
			r := open
			r.Type, r.Message = message.TypeText, &message.Message{Type: message.TypeText, Text: "hi"}
			return r
		}(), callback: "paymentGateway", want: answer{200, failureAnswer}},
		{name: "id of an inbound message", rec: func() message.Record {
			r := open
			r.Direction, r.Status = message.Inbound, message.StatusReceived
			return r
		}(), callback: "paymentMethodUpdate", want: answer{404, `{"error":{"code":"not_found","message":"no Apple Pay request \"` + id + `\""}}`}},
		{name: "send failed", rec: func() message.Record { r := open; r.Status = message.StatusFailed; return r }(), callback: "paymentGateway",
			want: answer{200, failureAnswer}, wantRefused: "paymentGateway: the Apple Pay request is closed: the message is failed"},
		{name: "scheduled, not sent yet", rec: func() message.Record { r := open; r.Status = message.StatusScheduled; return r }(), callback: "shippingMethodUpdate",
			want:        answer{409, `{"error":{"code":"conflict","message":"the Apple Pay request is closed: the message is not sent yet"}}`},
			wantRefused: "shippingMethodUpdate: the Apple Pay request is closed: the message is not sent yet"},
		{name: "expired", rec: open, callback: "paymentGateway", later: 2*time.Hour - time.Minute,
			want: answer{200, failureAnswer}, wantRefused: "paymentGateway: the Apple Pay request is closed: it expired at 2026-03-14T10:59:00Z, 2h0m0s after it was sent"},
		{name: "expired, update", rec: open, callback: "paymentMethodUpdate", later: 3 * time.Hour,
			want:        answer{409, `{"error":{"code":"conflict","message":"the Apple Pay request is closed: it expired at 2026-03-14T10:59:00Z, 2h0m0s after it was sent"}}`},
			wantRefused: "paymentMethodUpdate: the Apple Pay request is closed: it expired at 2026-03-14T10:59:00Z, 2h0m0s after it was sent"},
		{name: "conversation closed by the customer", rec: open, callback: "paymentGateway",
			conv: &store.TouchConversation{Key: store.ConversationKey{Channel: message.Apple, BusinessID: open.BusinessID, CustomerID: open.CustomerID},
				ClosedAt: now.Add(-30 * time.Second), Retention: time.Hour},
			want: answer{200, failureAnswer}, wantRefused: "paymentGateway: the Apple Pay request is closed: the customer closed the conversation at 2026-03-14T08:59:30Z"},
		{name: "shipping contact the request does not ask for", rec: plain, callback: "shippingContactUpdate",
			want:        answer{409, `{"error":{"code":"conflict","message":"shippingContactUpdate is not a step of this request: it asks for no shipping contact (requiredShippingContactFields)"}}`},
			wantRefused: "shippingContactUpdate: shippingContactUpdate is not a step of this request: it asks for no shipping contact (requiredShippingContactFields)"},
		{name: "shipping contact the request sends to the business", rec: func() message.Record {
			r := open
			m := *r.Message
			m.Endpoints = map[string]string{"shippingContactUpdateUrl": "https://tea.example/pay/contact"}
			r.Message = &m
			return r
		}(), callback: "shippingContactUpdate",
			want:        answer{409, `{"error":{"code":"conflict","message":"shippingContactUpdate is not a step parley takes for this request: its endpoints.shippingContactUpdateUrl is the business's own"}}`},
			wantRefused: "shippingContactUpdate: shippingContactUpdate is not a step parley takes for this request: its endpoints.shippingContactUpdateUrl is the business's own"},
		{name: "shipping method the request does not offer", rec: plain, callback: "shippingMethodUpdate",
			want:        answer{409, `{"error":{"code":"conflict","message":"shippingMethodUpdate is not a step of this request: it offers no shipping methods (shippingMethods)"}}`},
			wantRefused: "shippingMethodUpdate: shippingMethodUpdate is not a step of this request: it offers no shipping methods (shippingMethods)"},
		{name: "order tracking before a payment", rec: open, callback: "orderTracking",
			want:        answer{409, `{"error":{"code":"conflict","message":"orderTracking comes only after a successful payment, and this request is not paid"}}`},
			wantRefused: "orderTracking: orderTracking comes only after a successful payment, and this request is not paid"},
		{name: "order tracking after a declined payment", rec: open, callback: "orderTracking",
			state:       &store.Payment{MessageID: open.ID, Steps: map[string]int{"paymentGateway": 1}, Status: "STATUS_FAILURE", Version: 1},
			want:        answer{409, `{"error":{"code":"conflict","message":"orderTracking comes only after a successful payment, and this request is not paid"}}`},
			wantRefused: "orderTracking: orderTracking comes only after a successful payment, and this request is not paid"},
		{name: "second payment of a paid request", rec: open, callback: "paymentGateway",
			state: &store.Payment{MessageID: open.ID, Steps: map[string]int{"paymentGateway": 1}, Status: "STATUS_SUCCESS", PaidAt: paidAt, Version: 2},
			want:  answer{200, failureAnswer}, wantRefused: "paymentGateway: the Apple Pay request is closed: it was paid at 2026-03-14T08:58:00Z"},
		{name: "update of a paid request", rec: open, callback: "shippingContactUpdate",
			state:       &store.Payment{MessageID: open.ID, Steps: map[string]int{"paymentGateway": 1}, Status: "STATUS_SUCCESS", PaidAt: paidAt, Version: 2},
			want:        answer{409, `{"error":{"code":"conflict","message":"the Apple Pay request is closed: it was paid at 2026-03-14T08:58:00Z"}}`},
			wantRefused: "shippingContactUpdate: the Apple Pay request is closed: it was paid at 2026-03-14T08:58:00Z"},
		{name: "second order tracking", rec: open, callback: "orderTracking",
			state:       &store.Payment{MessageID: open.ID, Steps: map[string]int{"paymentGateway": 1, "orderTracking": 1}, Status: "STATUS_SUCCESS", PaidAt: paidAt, Version: 3},
			want:        answer{409, `{"error":{"code":"conflict","message":"the Apple Pay request is closed: it was paid and its order tracking call was made"}}`},
			wantRefused: "orderTracking: the Apple Pay request is closed: it was paid and its order tracking call was made"},
		{name: "order tracking long after the payment", rec: open, callback: "orderTracking", later: 9 * time.Minute,
			state:       &store.Payment{MessageID: open.ID, Steps: map[string]int{"paymentGateway": 1}, Status: "STATUS_SUCCESS", PaidAt: paidAt, Version: 2},
			want:        answer{409, `{"error":{"code":"conflict","message":"the Apple Pay request is closed: it was paid at 2026-03-14T08:58:00Z and order tracking comes within 10m0s"}}`},
			wantRefused: "orderTracking: the Apple Pay request is closed: it was paid at 2026-03-14T08:58:00Z and order tracking comes within 10m0s"},
		{name: "payment attempts used up", rec: open, callback: "paymentGateway",
			state: &store.Payment{MessageID: open.ID, Steps: map[string]int{"paymentGateway": 5}, Status: "STATUS_FAILURE", Version: 5},
			want:  answer{200, failureAnswer}, wantRefused: "paymentGateway: the Apple Pay request is closed: it had 5 payment attempts, the most parley forwards"},
		{name: "payment while another is with the processor", rec: open, callback: "paymentGateway",
			state: &store.Payment{MessageID: open.ID, Steps: map[string]int{"paymentGateway": 1}, BusyUntil: now.Add(10 * time.Second), Version: 1},
			want:  answer{200, failureAnswer}},
		{name: "update while a payment is with the processor", rec: open, callback: "paymentMethodUpdate",
			state: &store.Payment{MessageID: open.ID, Steps: map[string]int{"paymentGateway": 1}, BusyUntil: now.Add(10 * time.Second), Version: 1},
			want:  answer{429, `{"error":{"code":"rate_limited","message":"too many Apple Pay callbacks (a payment of this request is with the processor)"}}`}},
		{name: "callbacks of the request used up", rec: open, callback: "shippingMethodUpdate",
			state: &store.Payment{MessageID: open.ID, Steps: map[string]int{"shippingMethodUpdate": 30, "shippingContactUpdate": 20}, Version: 50},
			want:  answer{429, `{"error":{"code":"rate_limited","message":"too many Apple Pay callbacks (the request had 50 callbacks, the most parley forwards for one request)"}}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, applepay.Limits{}, tt.rec)
			if tt.conv != nil {
				if err := r.st.Apply(t.Context(), *tt.conv); err != nil {
					t.Fatal(err)
				}
			}
			if tt.state != nil {
				tt.state.ExpiresAt = now.Add(24 * time.Hour)
				r.setState(*tt.state)
			}
			r.clk.Advance(tt.later)
			callID := tt.id
			if callID == "" {
				callID = id
			}
			got := r.call(nil, tt.callback, callID)
			if got.status != tt.want.status || !jsonEqual(t, got.body, tt.want.body) {
				t.Errorf("answer = %d %s, want %d %s", got.status, got.body, tt.want.status, tt.want.body)
			}
			if n := r.proc.total(); n != 0 {
				t.Errorf("the processor got %d calls, want none", n)
			}
			refused := r.refusedEvents()
			switch {
			case tt.wantRefused == "" && len(refused) != 0:
				t.Errorf("refused events %q, want none", refused)
			case tt.wantRefused != "" && (len(refused) != 1 || refused[0] != tt.wantRefused):
				t.Errorf("refused events %q, want exactly %q", refused, tt.wantRefused)
			}
			if tt.state != nil {
				if st := r.state(tt.rec.ID); st.Version != tt.state.Version {
					t.Errorf("a refused callback changed the state: version %d, want %d", st.Version, tt.state.Version)
				}
			}
		})
	}
}

// TestGenuinePayment: a customer who picks a card, a shipping contact and
// a method, is declined once, pays, and gets the order tracked: every
// callback reaches the processor once; then the request is closed.
func TestGenuinePayment(t *testing.T) {
	id := message.NewUUID()
	rec := payRequest(id, now.Add(-time.Minute), true, true)
	r := newRig(t, applepay.Limits{}, rec)
	r.proc.decline = 1
	steps := []struct {
		name string
		want answer
	}{
		{"paymentMethodUpdate", answer{200, `{}`}},
		{"shippingContactUpdate", answer{200, `{}`}},
		{"shippingMethodUpdate", answer{200, `{}`}},
		{"paymentGateway", answer{200, failureAnswer}},
		{"paymentMethodUpdate", answer{200, `{}`}},
		{"paymentGateway", answer{200, successAnswer}},
		{"orderTracking", answer{200, `{}`}},
	}
	for i, s := range steps {
		r.clk.Advance(5 * time.Second)
		// Apple's samples show the request id in upper case.
		if got := r.call(nil, s.name, strings.ToUpper(id)); got != s.want {
			t.Fatalf("step %d %s: %d %s, want %d %s", i, s.name, got.status, got.body, s.want.status, s.want.body)
		}
	}
	want := map[string]int{"paymentMethodUpdate": 2, "shippingContactUpdate": 1, "shippingMethodUpdate": 1, "paymentGateway": 2, "orderTracking": 1}
	if fmt.Sprint(r.proc.hits) != fmt.Sprint(want) {
		t.Errorf("the processor got %v, want %v", r.proc.hits, want)
	}
	st := r.state(rec.ID)
	if fmt.Sprint(st.Steps) != fmt.Sprint(want) || st.Status != applepay.StatusSuccess || !st.PaidAt.Equal(now.Add(30*time.Second)) || !st.BusyUntil.IsZero() {
		t.Errorf("state = %+v", st)
	}
	if !st.ExpiresAt.After(now.Add(2 * time.Hour)) {
		t.Errorf("the state expires at %s, before the request closes", st.ExpiresAt)
	}
	// Paid: a replayed payment and any update are refused.
	if got := r.call(nil, "paymentGateway", id); got != (answer{200, failureAnswer}) {
		t.Errorf("replayed payment: %v", got)
	}
	if got := r.call(nil, "shippingMethodUpdate", id); got.status != 409 {
		t.Errorf("update after the payment: %v", got)
	}
	if n := r.proc.total(); n != 7 {
		t.Errorf("the processor got %d calls, want the 7 of the flow", n)
	}
	if refused := r.refusedEvents(); len(refused) != 2 {
		t.Errorf("refused events %q, want 2", refused)
	}
}

// TestFlood: callbacks past the rate limits are refused without reaching
// the processor, per request and over all requests, and the cap of one
// request holds across instances.
func TestFlood(t *testing.T) {
	t.Run("one request", func(t *testing.T) {
		id := message.NewUUID()
		r := newRig(t, applepay.Limits{}, payRequest(id, now.Add(-time.Minute), true, true))
		limited := 0
		for range 200 {
			if got := r.call(nil, "paymentMethodUpdate", id); got.status == 429 {
				limited++
			}
		}
		burst := applepay.DefaultLimits.RequestBurst
		if hits := r.proc.total(); hits != burst || limited != 200-burst {
			t.Errorf("the processor got %d of 200 callbacks (%d refused), want the burst of %d", hits, limited, burst)
		}
		// A second later there are tokens again, for that request only.
		r.clk.Advance(time.Second)
		if got := r.call(nil, "paymentMethodUpdate", id); got.status != 200 {
			t.Errorf("a callback a second later: %v", got)
		}
	})
	t.Run("all requests", func(t *testing.T) {
		r := newRig(t, applepay.Limits{})
		cs := &countingStore{Store: r.st}
		r.cfg.Store = cs
		h := r.instance()
		refused := 0
		for range 500 {
			got := r.call(h, "paymentGateway", message.NewUUID())
			if got != (answer{200, failureAnswer}) {
				t.Fatalf("forged payment: %v", got)
			}
		}
		for range 20 {
			if got := r.call(h, "shippingContactUpdate", message.NewUUID()); got.status == 429 {
				refused++
			}
		}
		burst := applepay.DefaultLimits.Burst
		if cs.lookups != burst || refused != 20 {
			t.Errorf("%d of 520 forged callbacks were looked up (%d of the last 20 refused), want the burst of %d", cs.lookups, refused, burst)
		}
		if n := r.proc.total(); n != 0 {
			t.Errorf("the processor got %d calls, want none", n)
		}
	})
	t.Run("across instances", func(t *testing.T) {
		id := message.NewUUID()
		rec := payRequest(id, now.Add(-time.Minute), true, true)
		r := newRig(t, applepay.Limits{RequestRate: 1000, RequestBurst: 1000}, rec)
		instances := []http.Handler{r.h, r.instance(), r.instance()}
		for i := range 200 {
			r.call(instances[i%len(instances)], "shippingContactUpdate", id)
		}
		if hits := r.proc.total(); hits != applepay.DefaultLimits.PerRequest {
			t.Errorf("the processor got %d callbacks of one request from 3 instances, want the cap of %d", hits, applepay.DefaultLimits.PerRequest)
		}
	})
}

// TestConcurrentPayments: two payment calls for one request at once, on
// two instances: one reaches the processor, the other is refused while it
// is there, and the request ends paid once.
func TestConcurrentPayments(t *testing.T) {
	id := message.NewUUID()
	rec := payRequest(id, now.Add(-time.Minute), false, false)
	r := newRig(t, applepay.Limits{}, rec)
	r.proc.hold, r.proc.entered = make(chan struct{}), make(chan struct{}, 2)
	first := make(chan answer)
	go func() { first <- r.call(nil, "paymentGateway", id) }()
	<-r.proc.entered
	if got := r.call(r.instance(), "paymentGateway", id); got != (answer{200, failureAnswer}) {
		t.Errorf("second payment while the first is with the processor: %v", got)
	}
	close(r.proc.hold)
	if got := <-first; got != (answer{200, successAnswer}) {
		t.Errorf("first payment: %v", got)
	}
	if n := r.proc.hits["paymentGateway"]; n != 1 {
		t.Errorf("the processor got %d payments, want 1", n)
	}
	if st := r.state(rec.ID); st.PaidAt.IsZero() || st.Steps[applepay.PaymentGateway] != 1 {
		t.Errorf("state = %+v", st)
	}
}

// TestLeaseRunsOut: a payment call whose instance died leaves a lease that
// runs out; the customer can then pay again.
func TestLeaseRunsOut(t *testing.T) {
	id := message.NewUUID()
	rec := payRequest(id, now.Add(-time.Minute), false, false)
	r := newRig(t, applepay.Limits{}, rec)
	r.setState(store.Payment{MessageID: rec.ID, Steps: map[string]int{"paymentGateway": 1}, BusyUntil: now.Add(15 * time.Second), Version: 1, ExpiresAt: now.Add(24 * time.Hour)})
	if got := r.call(nil, "paymentGateway", id); got != (answer{200, failureAnswer}) {
		t.Fatalf("payment during the lease: %v", got)
	}
	r.clk.Advance(15 * time.Second)
	if got := r.call(nil, "paymentGateway", id); got != (answer{200, successAnswer}) {
		t.Fatalf("payment after the lease: %v", got)
	}
	if n := r.proc.total(); n != 1 {
		t.Errorf("the processor got %d calls, want 1", n)
	}
}

func TestStateStoreFailing(t *testing.T) {
	id := message.NewUUID()
	r := newRig(t, applepay.Limits{}, payRequest(id, now.Add(-time.Minute), true, true))
	r.cfg.Store = paymentFailing{r.st}
	h := r.instance()
	if got := r.call(h, "paymentGateway", id); got != (answer{200, failureAnswer}) {
		t.Errorf("payment: %v", got)
	}
	if got := r.call(h, "shippingContactUpdate", id); got.status != 500 {
		t.Errorf("update: %v", got)
	}
	if n := r.proc.total(); n != 0 {
		t.Errorf("the processor got %d calls, want none while parley cannot keep the state", n)
	}
}

// paymentFailing cannot read the state of a request.
type paymentFailing struct{ store.Store }

func (paymentFailing) Payment(context.Context, string) (store.Payment, error) {
	return store.Payment{}, errors.New("store down")
}
