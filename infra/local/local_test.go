package local

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

const (
	waBusiness    = "106540352242922"
	waCustomer    = "447700900123"
	appleBusiness = "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70"
	appleCustomer = "urn:mbid:AQAAY1x/Wq+Lr0c="
)

var start = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// stores are the two store adapters every end-to-end test runs against.
var stores = []string{"embedded", "aws"}

// startStack starts a local stack on a free port with the given store.
func startStack(t *testing.T, storeKind string, clk clock.Clock) *Stack {
	t.Helper()
	return startStackWith(t, storeKind, clk, nil)
}

// startStackWith starts a local stack with the given store and settings.
func startStackWith(t *testing.T, storeKind string, clk clock.Clock, settings map[string]string) *Stack {
	t.Helper()
	env := map[string]string{"PARLEY_LOG_LEVEL": "warn"}
	maps.Copy(env, settings)
	switch storeKind {
	case "embedded":
		env["PARLEY_DATA_DIR"] = t.TempDir()
	case "aws":
		m := moto.StartT(t)
		env["PARLEY_STORE"] = "aws"
		env["PARLEY_AWS_ENDPOINT"] = m.Endpoint()
		env["PARLEY_TABLE"] = "parley-test"
		env["PARLEY_BUCKET"] = "parley-test"
	}
	noWait := retry.Policy{Attempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}
	st, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", Getenv: func(k string) string { return env[k] }, Log: io.Discard, Clock: clk, Retry: &noWait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// call sends a JSON request and decodes the JSON answer into out (when not nil).
func call(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: answer %d is not JSON: %s", method, url, res.StatusCode, b)
		}
	}
	return res.StatusCode
}

type apiError struct {
	Error struct {
		Code     string     `json:"code"`
		Message  string     `json:"message"`
		ClosedAt *time.Time `json:"closedAt"`
		Details  []message.Problem
	} `json:"error"`
}

func sendText(t *testing.T, st *Stack, ch, business, to, text string) (int, message.SendResult, apiError) {
	t.Helper()
	var raw json.RawMessage
	code := call(t, "POST", st.URL+"/v1/messages", map[string]any{
		"channel": ch, "businessId": business, "to": to, "message": map[string]any{"type": "text", "text": text},
	}, &raw)
	var res message.SendResult
	var e apiError
	_ = json.Unmarshal(raw, &res)
	_ = json.Unmarshal(raw, &e)
	return code, res, e
}

func events(t *testing.T, st *Stack) []message.Event {
	t.Helper()
	var page struct {
		Events []message.Event `json:"events"`
		Next   string          `json:"next"`
	}
	if code := call(t, "GET", st.URL+"/v1/events?limit=1000", nil, &page); code != http.StatusOK {
		t.Fatalf("GET /v1/events: %d", code)
	}
	return page.Events
}

func reply(t *testing.T, st *Stack, sim string, body map[string]any) {
	t.Helper()
	var out struct {
		WebhookStatus int    `json:"webhookStatus"`
		WebhookBody   string `json:"webhookBody"`
	}
	code := call(t, "POST", st.URL+"/sim/"+sim+"/reply", body, &out)
	if code != http.StatusOK || out.WebhookStatus != http.StatusOK {
		t.Fatalf("%s reply: sim answered %d, webhook answered %d %s", sim, code, out.WebhookStatus, out.WebhookBody)
	}
}

// TestTextBothWaysOnBothChannels walks the foundation's promise: send a
// text to a WhatsApp and an Apple customer, reply as them, see both
// directions in the event log; WhatsApp's window and Apple's close hold.
func TestTextBothWaysOnBothChannels(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewManual(start)
			st := startStack(t, kind, clk)

			// WhatsApp: no customer message yet, so the window is closed.
			code, _, e := sendText(t, st, "whatsapp", waBusiness, waCustomer, "Hello")
			if code != http.StatusUnprocessableEntity || e.Error.Code != "window_closed" {
				t.Fatalf("send before any inbound: %d %+v, want 422 window_closed", code, e)
			}
			reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "name": "Sam", "text": "Is the 14:00 slot free?"})
			code, res, e := sendText(t, st, "whatsapp", waBusiness, waCustomer, "Yes, it is.")
			if code != http.StatusAccepted || res.PlatformMessageID == "" || res.Status != "sent" {
				t.Fatalf("send in the window: %d %+v %+v", code, res, e)
			}
			var rec message.Record
			if code := call(t, "GET", st.URL+"/v1/messages/"+res.ID, nil, &rec); code != http.StatusOK || rec.Message == nil || rec.Message.Text != "Yes, it is." || rec.PlatformMessageID != res.PlatformMessageID {
				t.Fatalf("GET message: %d %+v", code, rec)
			}
			var simMsgs []map[string]any
			call(t, "GET", st.URL+"/sim/whatsapp/messages", nil, &simMsgs)
			if len(simMsgs) != 1 || !strings.Contains(fmt.Sprint(simMsgs[0]), "Yes, it is.") {
				t.Fatalf("the WhatsApp simulator got %v", simMsgs)
			}

			// The window closes 24 hours after the customer's message.
			clk.Advance(24*time.Hour - time.Second)
			if code, _, e := sendText(t, st, "whatsapp", waBusiness, waCustomer, "Still there?"); code != http.StatusAccepted {
				t.Fatalf("send 1 s before the window closes: %d %+v", code, e)
			}
			clk.Advance(time.Second)
			code, _, e = sendText(t, st, "whatsapp", waBusiness, waCustomer, "Too late")
			if code != http.StatusUnprocessableEntity || e.Error.Code != "window_closed" || e.Error.ClosedAt == nil || !e.Error.ClosedAt.Equal(start.Add(24*time.Hour)) {
				t.Fatalf("send when the window closes: %d %+v, want 422 window_closed closed at %s", code, e, start.Add(24*time.Hour))
			}
			reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "back again"})
			if code, _, e := sendText(t, st, "whatsapp", waBusiness, waCustomer, "Welcome back"); code != http.StatusAccepted {
				t.Fatalf("send after the customer reopened the window: %d %+v", code, e)
			}

			// Apple: no window; a close ends the conversation until they write.
			reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "Hi there", "capabilities": []string{"LIST", "TIME"}})
			if code, _, e := sendText(t, st, "apple", appleBusiness, appleCustomer, "Hello from Apple's side"); code != http.StatusAccepted {
				t.Fatalf("apple send: %d %+v", code, e)
			}
			reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "type": "typing_start"})
			reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "type": "close"})
			code, _, e = sendText(t, st, "apple", appleBusiness, appleCustomer, "Are you there?")
			if code != http.StatusUnprocessableEntity || e.Error.Code != "conversation_closed" {
				t.Fatalf("send after close: %d %+v, want 422 conversation_closed", code, e)
			}
			clk.Advance(time.Minute)
			reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "Me again"})
			if code, _, e := sendText(t, st, "apple", appleBusiness, appleCustomer, "Welcome back"); code != http.StatusAccepted {
				t.Fatalf("send after the customer wrote again: %d %+v", code, e)
			}

			// Both directions are in the event log, in order.
			var got []string
			for _, ev := range events(t, st) {
				s := ev.Type + " " + string(ev.Channel)
				if ev.Body != nil {
					s += " " + ev.Body.Text
				}
				if ev.Status != "" && ev.Type != message.EventSent {
					s += " " + ev.Status
				}
				got = append(got, s)
			}
			want := []string{
				"message.received whatsapp Is the 14:00 slot free?",
				"message.sent whatsapp",
				"message.sent whatsapp",
				"message.received whatsapp back again",
				"message.sent whatsapp",
				"message.received apple Hi there",
				"message.sent apple",
				"conversation.typing apple started",
				"conversation.closed apple",
				"message.received apple Me again",
				"message.sent apple",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("event log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			var conv map[string]any
			call(t, "GET", st.URL+"/v1/conversations/whatsapp/"+waBusiness+"/"+waCustomer, nil, &conv)
			if w, _ := conv["window"].(map[string]any); w["open"] != true {
				t.Errorf("conversation view: %v, want an open window", conv)
			}
			if msgs, _ := conv["recentMessages"].([]any); len(msgs) != 5 {
				t.Errorf("conversation view has %d recent messages, want 5", len(msgs))
			}
		})
	}
}

// TestIdempotencyKey: the same key twice sends once and answers the same.
func TestIdempotencyKey(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			st := startStack(t, kind, clock.NewManual(start))
			req := map[string]any{"channel": "apple", "businessId": appleBusiness, "to": appleCustomer,
				"message": map[string]any{"type": "text", "text": "Your order shipped"}, "idempotencyKey": "order-1234-shipped"}
			var first, second message.SendResult
			if code := call(t, "POST", st.URL+"/v1/messages", req, &first); code != http.StatusAccepted {
				t.Fatalf("first: %d", code)
			}
			if code := call(t, "POST", st.URL+"/v1/messages", req, &second); code != http.StatusAccepted {
				t.Fatalf("second: %d", code)
			}
			if first != second {
				t.Fatalf("answers differ: %+v vs %+v", first, second)
			}
			var simMsgs []any
			call(t, "GET", st.URL+"/sim/apple/messages", nil, &simMsgs)
			if len(simMsgs) != 1 {
				t.Fatalf("the simulator received %d messages, want 1", len(simMsgs))
			}
			req["message"] = map[string]any{"type": "text", "text": "Something else"}
			var e apiError
			if code := call(t, "POST", st.URL+"/v1/messages", req, &e); code != http.StatusBadRequest || e.Error.Code != "invalid_request" {
				t.Fatalf("same key, other request: %d %+v", code, e)
			}
		})
	}
}

// signedWhatsApp returns a WhatsApp webhook carrying one text and its signature.
func signedWhatsApp(wamid, text string, ts time.Time) ([]byte, string) {
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":%q},"contacts":[{"profile":{"name":"Sam"},"wa_id":%q}],"messages":[{"from":%q,"id":%q,"timestamp":"%d","type":"text","text":{"body":%q}}]}}]}]}`,
		waBusiness, waCustomer, waCustomer, wamid, ts.Unix(), text)
	mac := hmac.New(sha256.New, []byte(DefaultWhatsAppAppSecret))
	mac.Write([]byte(body))
	return []byte(body), "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// TestConcurrentDuplicateDeliveries: N concurrent deliveries of the same
// webhook store one message and emit one event.
func TestConcurrentDuplicateDeliveries(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			st := startStack(t, kind, clock.NewManual(start))
			body, sig := signedWhatsApp("wamid.DUPLICATE1", "only once", start)
			const n = 12
			var wg sync.WaitGroup
			codes := make([]int, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("POST", st.URL+"/webhooks/whatsapp", bytes.NewReader(body))
					req.Header.Set("X-Hub-Signature-256", sig)
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					res.Body.Close()
					codes[i] = res.StatusCode
				}()
			}
			wg.Wait()
			for i, c := range codes {
				if c != http.StatusOK {
					t.Errorf("delivery %d answered %d, want 200", i, c)
				}
			}
			evs := events(t, st)
			if len(evs) != 1 || evs[0].Body == nil || evs[0].Body.Text != "only once" {
				t.Fatalf("events: %+v, want exactly one message.received", evs)
			}
			var conv struct {
				RecentMessages []message.Record `json:"recentMessages"`
			}
			call(t, "GET", st.URL+"/v1/conversations/whatsapp/"+waBusiness+"/"+waCustomer, nil, &conv)
			if len(conv.RecentMessages) != 1 {
				t.Fatalf("stored %d messages, want 1", len(conv.RecentMessages))
			}
		})
	}
}

// TestRequestCounts measures DynamoDB requests per inbound text and per send.
func TestRequestCounts(t *testing.T) {
	st := startStack(t, "aws", clock.NewManual(start))
	ds, ok := st.Service.Store.(*dynamo.Store)
	if !ok {
		t.Fatalf("the aws store is %T", st.Service.Store)
	}
	// The customer writes through the simulator, so that it too knows the
	// window is open and sends no late failure status during the count.
	ds.ResetCounts()
	reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "count me"})
	in := ds.Counts()
	t.Logf("DynamoDB requests per inbound text: %d reads, %d writes", in.Reads, in.Writes)
	if in.Writes > 2 || in.Reads > 1 {
		t.Errorf("inbound text cost %d reads + %d writes; the budget is 1 read + 2 writes", in.Reads, in.Writes)
	}

	ds.ResetCounts()
	var out message.SendResult
	code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer,
		"message": map[string]any{"type": "text", "text": "counted"}, "idempotencyKey": "count-1"}, &out)
	if code != http.StatusAccepted {
		t.Fatalf("send: %d", code)
	}
	sent := ds.Counts()
	t.Logf("DynamoDB requests per send (with idempotencyKey): %d reads, %d writes", sent.Reads, sent.Writes)
	if sent.Reads > 1 || sent.Writes > 2 {
		t.Errorf("send cost %d reads + %d writes; the budget is 1 read + 2 writes", sent.Reads, sent.Writes)
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
