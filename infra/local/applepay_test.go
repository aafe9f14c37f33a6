package local

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
)

// applePayRequest is an applePay message offering two shipping methods,
// without asking for a shipping contact.
func applePayRequest() map[string]any {
	return map[string]any{"type": "applePay", "bubble": map[string]any{"title": "Pay for your tea"},
		"payment": map[string]any{"merchantName": "Tea Shop", "countryCode": "US", "currencyCode": "USD",
			"total":           map[string]any{"label": "Tea Shop", "amount": "12.00", "type": "final"},
			"shippingMethods": []any{map[string]any{"identifier": "post", "label": "Post", "detail": "3-5 days", "amount": "0.00"}, map[string]any{"identifier": "courier", "label": "Courier", "detail": "tomorrow", "amount": "6.00"}},
			"applePay":        map[string]any{"merchantIdentifier": DefaultApplePayMerchantID, "supportedNetworks": []string{"visa"}, "merchantCapabilities": []string{"supports3DS"}}}}
}

// processorCalls returns the callbacks the payment processor simulator
// received.
func processorCalls(t *testing.T, st *Stack) []string {
	t.Helper()
	var calls []struct {
		Name string `json:"name"`
	}
	call(t, "GET", st.URL+"/sim/applepay/processor/calls", nil, &calls)
	var names []string
	for _, c := range calls {
		names = append(names, c.Name)
	}
	return names
}

// postCallback plays an Apple Pay callback for the request id, as anyone
// on the internet can, and returns parley's answer.
func postCallback(t *testing.T, st *Stack, name, id string) (int, string) {
	t.Helper()
	body := `{"requestIdentifier":"` + id + `","version":"1.0","payment":{"paymentToken":{"paymentMethod":{"displayName":"Visa 0000","network":"Visa","type":"Credit"},"transactionIdentifier":"F0F0","paymentData":{"data":"Zm9yZ2Vk"}}}}`
	res, err := http.Post(st.URL+"/webhooks/apple/pay/"+name, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(bytes.TrimSpace(b))
}

// TestApplePayCallbacksEndToEnd: on both stores, forged Apple Pay callbacks
// (an unknown request, a text message's id, a step the request does not
// have, order tracking before a payment, a replayed payment, a flood) are
// refused and never reach the processor, while the customer's own flow
// through the Apple simulator does.
func TestApplePayCallbacksEndToEnd(t *testing.T) {
	const failure = `{"status":"STATUS_FAILURE"}`
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			st := startStack(t, kind, clock.NewManual(start))
			pay := sendApple(t, st, applePayRequest())
			text := sendApple(t, st, map[string]any{"type": "text", "text": "Your tea is on its way"})

			forged := []struct {
				name, id   string
				wantStatus int
				wantBody   string
			}{
				{"paymentGateway", "00000000-0000-4000-8000-000000000000", 200, failure},
				{"paymentGateway", text.PlatformMessageID, 200, failure},
				{"shippingContactUpdate", pay.PlatformMessageID, 409, "it asks for no shipping contact"},
				{"orderTracking", pay.PlatformMessageID, 409, "only after a successful payment"},
				{"fallback", "not-a-request", 404, "parley's request ids are UUIDs"},
			}
			for _, f := range forged {
				code, body := postCallback(t, st, f.name, f.id)
				if code != f.wantStatus || !strings.Contains(body, f.wantBody) {
					t.Errorf("forged %s for %s: %d %s, want %d …%s…", f.name, f.id, code, body, f.wantStatus, f.wantBody)
				}
			}
			if calls := processorCalls(t, st); len(calls) != 0 {
				t.Fatalf("forged callbacks reached the processor: %v", calls)
			}

			// The customer picks the courier, then pays.
			var d applesim.Delivery
			for _, action := range []map[string]any{
				{"action": "shipping", "ids": []string{"courier"}},
				{"action": "paymentMethod"},
			} {
				action["businessId"], action["from"], action["replyTo"] = appleBusiness, appleCustomer, pay.PlatformMessageID
				if code := call(t, "POST", st.URL+"/sim/apple/reply", action, &d); code != http.StatusOK || d.Callback == nil || d.Callback.Status != http.StatusOK {
					t.Fatalf("%s: %d %+v", action["action"], code, d.Callback)
				}
			}
			reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "action": "pay", "replyTo": pay.PlatformMessageID, "result": "success"})
			if ev := lastEvent(t, st, message.EventReceived); ev.Body.Type != message.BodyPayment || ev.InReplyTo != pay.ID {
				t.Fatalf("payment reply: %+v", ev)
			}
			want := []string{"shippingMethodUpdate", "paymentMethodUpdate", "paymentGateway"}
			if calls := processorCalls(t, st); strings.Join(calls, ",") != strings.Join(want, ",") {
				t.Fatalf("the processor got %v, want %v", calls, want)
			}

			// Paid: a replayed payment and a flood of updates are refused.
			if code, body := postCallback(t, st, "paymentGateway", strings.ToUpper(pay.PlatformMessageID)); code != 200 || body != failure {
				t.Errorf("replayed payment: %d %s", code, body)
			}
			// The request's bucket of 10 had 6 taken (2 forged calls, the
			// customer's 3, the replay): 4 updates are refused as too late,
			// with an event each, 26 over the limit, without one.
			late, over := 0, 0
			for range 30 {
				switch code, _ := postCallback(t, st, "shippingMethodUpdate", pay.PlatformMessageID); code {
				case http.StatusConflict:
					late++
				case http.StatusTooManyRequests:
					over++
				}
			}
			if late != 4 || over != 26 {
				t.Errorf("30 updates of a paid request: %d refused as late, %d over the limit; want 4 and 26", late, over)
			}
			// A flood on an open request: the burst of one request
			// reaches the processor, the rest is refused.
			open := sendApple(t, st, applePayRequest())
			limited := 0
			for range 40 {
				if code, _ := postCallback(t, st, "paymentMethodUpdate", open.PlatformMessageID); code == http.StatusTooManyRequests {
					limited++
				}
			}
			calls := processorCalls(t, st)
			if len(calls) != len(want)+10 || limited != 30 {
				t.Errorf("after the replays and floods the processor got %d calls (%d refused over the limit), want %d", len(calls), limited, len(want)+10)
			}
			var refused int
			for _, ev := range events(t, st) {
				if ev.Type == message.EventPayment && ev.Body.Payment.Status == "refused" {
					refused++
				}
			}
			if refused != 2+1+4 {
				t.Errorf("%d refused payment.callback events, want 7 (2 forged steps, the replay, 4 late updates)", refused)
			}
		})
	}
}

// TestApplePayShippingContactEndToEnd: on both stores, the customer changes
// the shipping address on the sheet of a request that asks for one: the
// Apple simulator calls parley, parley forwards the redacted contact to the
// processor and relays its answer, which the sheet takes, or refuses when
// Apple's would. A request that asks for no contact has no such step.
func TestApplePayShippingContactEndToEnd(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			st := startStack(t, kind, clock.NewManual(start))
			m := applePayRequest()
			m["payment"].(map[string]any)["requiredShippingContactFields"] = []string{"postalAddress", "name", "phone"}
			pay := sendApple(t, st, m)
			plain := sendApple(t, st, applePayRequest())

			contact := func(replyTo string, address map[string]any) (int, applesim.Delivery) {
				t.Helper()
				body := map[string]any{"businessId": appleBusiness, "from": appleCustomer, "action": "shippingContact", "replyTo": replyTo}
				if address != nil {
					body["address"] = address
				}
				var d applesim.Delivery
				return call(t, "POST", st.URL+"/sim/apple/reply", body, &d), d
			}
			if code, _ := contact(plain.PlatformMessageID, nil); code != http.StatusBadRequest {
				t.Errorf("a shipping contact on a request that asks for none: %d, want 400 from the simulator", code)
			}

			// The processor adds the sales tax of the address.
			taxed := `{"newTotal":{"label":"Tea Shop","amount":"12.96","type":"final"},"newLineItems":[{"label":"Tea","amount":"12.00","type":"final"},{"label":"Sales tax","amount":"0.96","type":"final"}]}`
			if code := call(t, "PUT", st.URL+"/sim/applepay/processor/answers/shippingContactUpdate", json.RawMessage(taxed), nil); code != http.StatusNoContent {
				t.Fatalf("PUT the processor's answer: %d", code)
			}
			code, d := contact(pay.PlatformMessageID, map[string]any{"locality": "Seattle", "administrativeArea": "WA", "postalCode": "98101-3143", "countryCode": "US"})
			if code != http.StatusOK || d.Callback == nil || d.Callback.Status != http.StatusOK || d.Callback.Refused != "" || !jsonSame(d.Callback.Body, taxed) {
				t.Fatalf("shipping contact: %d %+v; want the processor's answer relayed and taken", code, d.Callback)
			}
			var calls []struct {
				Name string          `json:"name"`
				Body json.RawMessage `json:"body"`
			}
			call(t, "GET", st.URL+"/sim/applepay/processor/calls", nil, &calls)
			if len(calls) != 1 || calls[0].Name != "shippingContactUpdate" {
				t.Fatalf("the processor got %+v, want one shippingContactUpdate", calls)
			}
			var got struct {
				RequestIdentifier string `json:"requestIdentifier"`
				Payment           struct {
					ShippingContact map[string]any `json:"shippingContact"`
				} `json:"payment"`
			}
			if err := json.Unmarshal(calls[0].Body, &got); err != nil || got.RequestIdentifier != pay.PlatformMessageID ||
				got.Payment.ShippingContact["postalCode"] != "98101" || got.Payment.ShippingContact["locality"] != "Seattle" || got.Payment.ShippingContact["phoneNumber"] != nil {
				t.Errorf("the processor got %s; want the request's id and the contact redacted (ZIP of five digits, no phone)", calls[0].Body)
			}
			ev := lastEvent(t, st, message.EventPayment)
			var detail struct {
				Step            string `json:"step"`
				ProcessorStatus int    `json:"processorStatus"`
			}
			if ev.MessageID != pay.ID || ev.Body.Payment.Status != "forwarded" || json.Unmarshal(ev.Body.Payment.Detail, &detail) != nil ||
				detail.Step != "shippingContactUpdate" || detail.ProcessorStatus != http.StatusOK {
				t.Errorf("payment.callback event %+v %s, want shippingContactUpdate forwarded", ev.Body.Payment, ev.Body.Payment.Detail)
			}

			// An answer Apple's sheet refuses reaches the sheet as the
			// processor gave it, and the sheet refuses it.
			if code := call(t, "PUT", st.URL+"/sim/applepay/processor/answers/shippingContactUpdate", json.RawMessage(`{"newLineItems":[]}`), nil); code != http.StatusNoContent {
				t.Fatalf("PUT the processor's answer: %d", code)
			}
			if _, d := contact(pay.PlatformMessageID, nil); d.Callback == nil || d.Callback.Status != http.StatusOK || !strings.Contains(d.Callback.Refused, "newTotal is required") {
				t.Errorf("an update without newTotal: %+v, want it relayed and refused by the sheet", d.Callback)
			}

			// Paid, the request takes no more shipping contacts.
			reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "action": "pay", "replyTo": pay.PlatformMessageID})
			if _, d := contact(pay.PlatformMessageID, nil); d.Callback == nil || d.Callback.Status != http.StatusConflict || !strings.Contains(d.Callback.Refused, "answered 409") {
				t.Errorf("a shipping contact after the payment: %+v, want parley's 409, refused by the sheet", d.Callback)
			}
			if calls := processorCalls(t, st); strings.Join(calls, ",") != "shippingContactUpdate,shippingContactUpdate,paymentGateway" {
				t.Errorf("the processor got %v", calls)
			}
		})
	}
}

// jsonSame reports whether a and b hold the same JSON value.
func jsonSame(a, b string) bool {
	var va, vb any
	return json.Unmarshal([]byte(a), &va) == nil && json.Unmarshal([]byte(b), &vb) == nil && reflect.DeepEqual(va, vb)
}

// TestApplePayCallbackSettings: the bounds set in the environment are the
// ones the webhooks keep: a callback rate of 1 a second takes a burst of
// 2, and a request lives the lifetime set.
func TestApplePayCallbackSettings(t *testing.T) {
	clk := clock.NewManual(start)
	st := startStackWith(t, "embedded", clk, map[string]string{"PARLEY_APPLEPAY_LIFETIME": "10m", "PARLEY_APPLEPAY_CALLBACK_RATE": "1"})
	pay := sendApple(t, st, applePayRequest())
	var codes []int
	for range 3 {
		code, _ := postCallback(t, st, "paymentMethodUpdate", pay.PlatformMessageID)
		codes = append(codes, code)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Errorf("3 callbacks at once at 1 a second: %v, want 200 200 429", codes)
	}
	clk.Advance(10 * time.Minute)
	if code, body := postCallback(t, st, "paymentMethodUpdate", pay.PlatformMessageID); code != http.StatusConflict || !strings.Contains(body, "10m0s after it was sent") {
		t.Errorf("a callback 10 minutes after the send: %d %s, want 409 expired", code, body)
	}
}
