package applepay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
)

const (
	requestID = "8ef748b5-3dc5-47ae-b185-65e91518d209"
	textID    = "0b1c2d3e-0000-4000-8000-000000000001"
	// paymentData stands for the encrypted Apple Pay token; it must never
	// reach the log.
	paymentData = "c2VjcmV0LXBheW1lbnQtdG9rZW4tZGF0YQ"
)

var (
	now = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	// payRecord is an applePay message sent a minute ago that asks for a
	// shipping contact and offers shipping methods: every step applies.
	payRecord = message.Record{ID: "msg_pay1", Channel: message.Apple, Direction: message.Outbound, Type: message.TypeApplePay,
		BusinessID: "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70", CustomerID: "urn:mbid:AQAAY1x/Wq+Lr0c=", PlatformMessageID: requestID,
		Message: &message.Message{Type: message.TypeApplePay, Payment: json.RawMessage(paymentRequestJSON(true, true))},
		Status:  message.StatusSent, CreatedAt: now.Add(-time.Minute), UpdatedAt: now.Add(-time.Minute), Version: 1}
	textRecord = message.Record{ID: "msg_text1", Channel: message.Apple, Direction: message.Outbound, Type: message.TypeText,
		BusinessID: payRecord.BusinessID, CustomerID: payRecord.CustomerID, PlatformMessageID: textID,
		Message: &message.Message{Type: message.TypeText, Text: "hello"},
		Status:  message.StatusSent, CreatedAt: now.Add(-time.Minute), UpdatedAt: now.Add(-time.Minute), Version: 1}
)

func callbackBody(id string) string {
	return `{"requestIdentifier":"` + id + `","version":"1.0","payment":{"paymentToken":{"paymentMethod":{"displayName":"Visa 1234","network":"Visa","type":"Credit"},` +
		`"transactionIdentifier":"4F1A","paymentData":{"data":"` + paymentData + `"}},"billingContact":{"givenName":"Johnny","postalCode":"95014"}}}`
}

// paddedBody is a callback for the request id, padded to n bytes.
func paddedBody(id string, n int) string {
	b := `{"requestIdentifier":"` + id + `","pad":""}`
	return b[:len(b)-2] + strings.Repeat("x", n-len(b)) + `"}`
}

// processor is a fake payment processor: it answers each callback with
// status and body, or, when slow, not until the caller gives up.
type processor struct {
	status int
	body   string
	slow   bool
}

// forwarded is what the processor received.
type forwarded struct {
	path, messageID, contentType, body string
}

type answer struct {
	status int
	body   string
}

func TestCallbacks(t *testing.T) {
	ok := func(body string) processor { return processor{status: 200, body: body} }
	tests := []struct {
		name      string
		callback  string
		path      string // default applepay.PathPrefix + callback
		method    string // default POST
		body      string // default callbackBody(requestID)
		processor processor
		timeout   time.Duration // default 10s
		lookupErr error
		emitErr   error
		noURL     bool
		paid      bool // the request was paid a minute ago

		want          answer
		wantForwarded bool
		// wantEvent is the status and detail of the payment.callback
		// event; "" for none.
		wantStatus string
		wantDetail string
	}{
		{name: "payment charged", callback: "paymentGateway", processor: ok(`{"status":"STATUS_SUCCESS"}`),
			want: answer{200, `{"status":"STATUS_SUCCESS"}`}, wantForwarded: true,
			wantStatus: "STATUS_SUCCESS", wantDetail: `{"step":"paymentGateway","processorStatus":200}`},
		{name: "payment declined", callback: "paymentGateway", processor: ok(`{"status":"STATUS_FAILURE"}`),
			want: answer{200, `{"status":"STATUS_FAILURE"}`}, wantForwarded: true,
			wantStatus: "STATUS_FAILURE", wantDetail: `{"step":"paymentGateway","processorStatus":200}`},
		{name: "payment with errors passed through", callback: "paymentGateway",
			processor: ok(`{"status":"STATUS_INVALID_BILLING_POSTAL_ADDRESS","errors":[{"code":"billingContactInvalid"}]}`),
			want:      answer{200, `{"status":"STATUS_INVALID_BILLING_POSTAL_ADDRESS","errors":[{"code":"billingContactInvalid"}]}`}, wantForwarded: true,
			wantStatus: "STATUS_INVALID_BILLING_POSTAL_ADDRESS", wantDetail: `{"step":"paymentGateway","processorStatus":200}`},
		{name: "processor fails", callback: "paymentGateway", processor: processor{status: 500, body: `oops`},
			want: answer{200, `{"status":"STATUS_FAILURE"}`}, wantForwarded: true,
			wantStatus: "STATUS_FAILURE", wantDetail: `{"step":"paymentGateway","processorStatus":500,"problem":"the processor answered 500"}`},
		{name: "processor times out", callback: "paymentGateway", processor: processor{slow: true}, timeout: 50 * time.Millisecond,
			want: answer{200, `{"status":"STATUS_FAILURE"}`}, wantForwarded: true,
			wantStatus: "STATUS_FAILURE", wantDetail: `{"step":"paymentGateway","processorStatus":0,"problem":"the processor did not answer within 50ms"}`},
		{name: "processor answers without a status", callback: "paymentGateway", processor: ok(`{"charged":true}`),
			want: answer{200, `{"status":"STATUS_FAILURE"}`}, wantForwarded: true,
			wantStatus: "STATUS_FAILURE", wantDetail: `{"step":"paymentGateway","processorStatus":200,"problem":"the processor's answer has no Apple Pay \"status\""}`},
		{name: "no processor configured", callback: "paymentGateway", noURL: true,
			want:       answer{200, `{"status":"STATUS_FAILURE"}`},
			wantStatus: "STATUS_FAILURE", wantDetail: `{"step":"paymentGateway","processorStatus":0,"problem":"no payment processor is configured"}`},
		{name: "event not recorded, Apple still answered", callback: "paymentGateway", processor: ok(`{"status":"STATUS_SUCCESS"}`), emitErr: errors.New("store down"),
			want: answer{200, `{"status":"STATUS_SUCCESS"}`}, wantForwarded: true,
			wantStatus: "STATUS_SUCCESS", wantDetail: `{"step":"paymentGateway","processorStatus":200}`},
		{name: "upper-case request id", callback: "paymentGateway", body: callbackBody(strings.ToUpper(requestID)), processor: ok(`{"status":"STATUS_SUCCESS"}`),
			want: answer{200, `{"status":"STATUS_SUCCESS"}`}, wantForwarded: true,
			wantStatus: "STATUS_SUCCESS", wantDetail: `{"step":"paymentGateway","processorStatus":200}`},

		{name: "payment for an unknown request", callback: "paymentGateway", body: callbackBody("00000000-0000-4000-8000-000000000000"),
			processor: ok(`{"status":"STATUS_SUCCESS"}`), want: answer{200, `{"status":"STATUS_FAILURE"}`}},
		{name: "payment naming a text message", callback: "paymentGateway", body: callbackBody(textID),
			processor: ok(`{"status":"STATUS_SUCCESS"}`), want: answer{200, `{"status":"STATUS_FAILURE"}`}},
		{name: "payment without a request id", callback: "paymentGateway", body: `{"version":"1.0","payment":{}}`,
			processor: ok(`{"status":"STATUS_SUCCESS"}`), want: answer{200, `{"status":"STATUS_FAILURE"}`}},
		{name: "payment, not JSON", callback: "paymentGateway", body: `requestIdentifier=` + requestID,
			processor: ok(`{"status":"STATUS_SUCCESS"}`), want: answer{200, `{"status":"STATUS_FAILURE"}`}},
		{name: "payment over 1 MiB", callback: "paymentGateway", body: `{"requestIdentifier":"` + requestID + `","pad":"` + strings.Repeat("x", 1<<20) + `"}`,
			processor: ok(`{"status":"STATUS_SUCCESS"}`), want: answer{200, `{"status":"STATUS_FAILURE"}`}},
		{name: "payment, store failing", callback: "paymentGateway", lookupErr: errors.New("store down"),
			processor: ok(`{"status":"STATUS_SUCCESS"}`), want: answer{200, `{"status":"STATUS_FAILURE"}`}},

		{name: "payment method update", callback: "paymentMethodUpdate", processor: ok(`{"newTotal":{"label":"Total","amount":"9.00","type":"final"}}`),
			want: answer{200, `{"newTotal":{"label":"Total","amount":"9.00","type":"final"}}`}, wantForwarded: true,
			wantStatus: "forwarded", wantDetail: `{"step":"paymentMethodUpdate","processorStatus":200}`},
		{name: "shipping contact update", callback: "shippingContactUpdate", processor: ok(`{"newLineItems":[{"label":"Tax","amount":"0.80"}]}`),
			want: answer{200, `{"newLineItems":[{"label":"Tax","amount":"0.80"}]}`}, wantForwarded: true,
			wantStatus: "forwarded", wantDetail: `{"step":"shippingContactUpdate","processorStatus":200}`},
		{name: "shipping method update, no change", callback: "shippingMethodUpdate", processor: ok(``),
			want: answer{200, `{}`}, wantForwarded: true,
			wantStatus: "forwarded", wantDetail: `{"step":"shippingMethodUpdate","processorStatus":200}`},
		{name: "order tracking", callback: "orderTracking", processor: ok(`{}`), paid: true,
			want: answer{200, `{}`}, wantForwarded: true,
			wantStatus: "forwarded", wantDetail: `{"step":"orderTracking","processorStatus":200}`},
		{name: "fallback", callback: "fallback", processor: processor{status: 204},
			want: answer{200, `{}`}, wantForwarded: true,
			wantStatus: "forwarded", wantDetail: `{"step":"fallback","processorStatus":204}`},
		{name: "update, processor fails", callback: "shippingContactUpdate", processor: processor{status: 500, body: `{"error":"boom"}`},
			want: answer{200, `{}`}, wantForwarded: true,
			wantStatus: "processor_failed", wantDetail: `{"step":"shippingContactUpdate","processorStatus":500,"problem":"the processor answered 500"}`},
		{name: "update, processor times out", callback: "paymentMethodUpdate", processor: processor{slow: true}, timeout: 50 * time.Millisecond,
			want: answer{200, `{}`}, wantForwarded: true,
			wantStatus: "processor_failed", wantDetail: `{"step":"paymentMethodUpdate","processorStatus":0,"problem":"the processor did not answer within 50ms"}`},
		{name: "update, processor answers an array", callback: "shippingMethodUpdate", processor: ok(`[1,2]`),
			want: answer{200, `{}`}, wantForwarded: true,
			wantStatus: "processor_failed", wantDetail: `{"step":"shippingMethodUpdate","processorStatus":200,"problem":"the processor's answer is not a JSON object"}`},

		{name: "update for an unknown request", callback: "orderTracking", body: callbackBody("00000000-0000-4000-8000-000000000000"),
			want: answer{404, `{"error":{"code":"not_found","message":"no Apple Pay request \"00000000-0000-4000-8000-000000000000\""}}`}},
		{name: "update without a request id", callback: "fallback", body: `{}`,
			want: answer{400, `{"error":{"code":"invalid_request","message":"the body must be a JSON object with a requestIdentifier"}}`}},
		{name: "update of exactly 1 MiB", callback: "paymentMethodUpdate", body: paddedBody(requestID, applepay.MaxBody), processor: ok(`{}`),
			want: answer{200, `{}`}, wantForwarded: true,
			wantStatus: "forwarded", wantDetail: `{"step":"paymentMethodUpdate","processorStatus":200}`},
		{name: "update a byte over 1 MiB", callback: "paymentMethodUpdate", body: paddedBody(requestID, applepay.MaxBody+1),
			want: answer{413, `{"error":{"code":"too_large","message":"the body is over the limit of 1048576 bytes"}}`}},
		{name: "update over 1 MiB", callback: "shippingContactUpdate", body: `{"requestIdentifier":"` + requestID + `","pad":"` + strings.Repeat("x", 1<<20) + `"}`,
			want: answer{413, `{"error":{"code":"too_large","message":"the body is over the limit of 1048576 bytes"}}`}},
		{name: "update, store failing", callback: "shippingMethodUpdate", lookupErr: errors.New("store down"),
			want: answer{500, `{"error":{"code":"internal","message":"internal error"}}`}},
		{name: "unknown callback", path: applepay.PathPrefix + "refund",
			want: answer{404, `{"error":{"code":"not_found","message":"no Apple Pay callback at POST /webhooks/apple/pay/refund"}}`}},
		{name: "GET", callback: "paymentGateway", method: http.MethodGet,
			want: answer{404, `{"error":{"code":"not_found","message":"no Apple Pay callback at GET /webhooks/apple/pay/paymentGateway"}}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []forwarded
			proc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				got = append(got, forwarded{r.URL.Path, r.Header.Get("X-Parley-Message-Id"), r.Header.Get("Content-Type"), string(b)})
				mu.Unlock()
				if tt.processor.slow {
					<-r.Context().Done()
					return
				}
				w.WriteHeader(tt.processor.status)
				io.WriteString(w, tt.processor.body)
			}))
			defer proc.Close()

			var events []message.Event
			var logs bytes.Buffer
			clk := clock.NewManual(now)
			st := newStore(t, clk, payRecord, textRecord)
			cfg := applepay.HandlerConfig{
				ProcessorURL: proc.URL + "/applepay",
				Timeout:      tt.timeout,
				Store:        st,
				Emit: func(_ context.Context, ev message.Event) error {
					events = append(events, ev)
					return tt.emitErr
				},
				Log:   slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
				Clock: clk,
			}
			if tt.lookupErr != nil {
				cfg.Store = failingStore{st, tt.lookupErr}
			}
			if tt.paid {
				paid := store.Payment{MessageID: payRecord.ID, Steps: map[string]int{"paymentGateway": 1}, Status: "STATUS_SUCCESS",
					PaidAt: now.Add(-time.Minute), Version: 2, ExpiresAt: now.Add(time.Hour)}
				if err := st.Apply(t.Context(), store.PutPayment{State: paid}); err != nil {
					t.Fatal(err)
				}
			}
			if cfg.Timeout == 0 {
				cfg.Timeout = 10 * time.Second
			}
			if tt.noURL {
				cfg.ProcessorURL = ""
			}
			path, method, body := tt.path, tt.method, tt.body
			if path == "" {
				path = applepay.PathPrefix + tt.callback
			}
			if method == "" {
				method = http.MethodPost
			}
			if body == "" {
				body = callbackBody(requestID)
			}
			rec := httptest.NewRecorder()
			applepay.Handler(cfg).ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))

			if rec.Code != tt.want.status || !jsonEqual(t, rec.Body.String(), tt.want.body) {
				t.Errorf("answer = %d %s, want %d %s", rec.Code, rec.Body, tt.want.status, tt.want.body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("answer Content-Type = %q", ct)
			}

			mu.Lock()
			defer mu.Unlock()
			if !tt.wantForwarded {
				if len(got) != 0 {
					t.Errorf("forwarded %d callbacks, want none", len(got))
				}
			} else {
				want := forwarded{"/applepay/" + tt.callback, "msg_pay1", "application/json", body}
				if len(got) != 1 || got[0] != want {
					t.Errorf("forwarded %+v, want exactly %+v", got, want)
				}
			}

			if tt.wantStatus == "" {
				if len(events) != 0 {
					t.Errorf("events %+v, want none", events)
				}
			} else if len(events) != 1 {
				t.Errorf("%d events, want 1", len(events))
			} else {
				ev := events[0]
				if ev.Type != "payment.callback" || ev.Channel != message.Apple || ev.MessageID != "msg_pay1" ||
					ev.BusinessID != payRecord.BusinessID || ev.CustomerID != payRecord.CustomerID ||
					ev.PlatformMessageID != requestID || !ev.Time.Equal(now) || ev.ID == "" {
					t.Errorf("event = %+v", ev)
				}
				if ev.Body == nil || ev.Body.Type != message.BodyPayment || ev.Body.Payment == nil {
					t.Fatalf("event body = %+v, want a payment body", ev.Body)
				}
				if ev.Body.Payment.Status != tt.wantStatus || !jsonEqual(t, string(ev.Body.Payment.Detail), tt.wantDetail) {
					t.Errorf("event payment = %s %s, want %s %s", ev.Body.Payment.Status, ev.Body.Payment.Detail, tt.wantStatus, tt.wantDetail)
				}
			}

			for _, secret := range []string{paymentData, "Johnny", "95014"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("the log holds %q from the callback body:\n%s", secret, logs.String())
				}
			}
		})
	}
}

func TestHandlerNeedsStoreAndEmit(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Handler without Store and Emit did not panic")
		}
	}()
	applepay.Handler(applepay.HandlerConfig{})
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatalf("bad expected JSON %s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}
