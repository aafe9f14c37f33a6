package applesim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/message"
)

const (
	mspID    = "6a1f0c4e-0000-4000-8000-1234567890ab"
	business = "3f9a6c2e-5b1d-4e8a-9c70-2d4b6e8f1a03"
	customer = "urn:mbid:AQAAY3ZvTjGmQXk9p+e/Zu7x2Dhc9fN0kRr3Qa4lB1rBXbI8tKQvN5sLmW2o="
)

var (
	secret = []byte("an example secret of 32 bytes!!!")
	now    = time.Date(2024, 5, 29, 16, 26, 40, 0, time.UTC)
)

// mount serves sim under /sim/apple, as the local stack does, and returns
// the server's URL.
func mount(t *testing.T, sim *Simulator) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/sim/apple/", http.StripPrefix("/sim/apple", sim))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/sim/apple"
}

// webhook is parley's side of a reply: it checks the request with the apple
// package and keeps what it parsed.
type webhook struct {
	mu    sync.Mutex
	items []message.InboundItem
	raw   [][]byte
	heads []http.Header
}

func (wh *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, err := apple.ReadBody(bytes.NewReader(raw), r.Header.Get("Content-Encoding"), 1<<20, 1<<20)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := apple.VerifyToken(r.Header.Get("Authorization"), secret, mspID, now); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	item, err := apple.Parse(r.Header, body, now)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	wh.mu.Lock()
	defer wh.mu.Unlock()
	wh.items = append(wh.items, item)
	wh.raw = append(wh.raw, raw)
	wh.heads = append(wh.heads, r.Header)
	io.WriteString(w, "stored")
}

func postJSON(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestReplyPassesTheWebhookChecks(t *testing.T) {
	all := []string{"QUICK", "LIST", "TIME", "AUTH", "AUTH2", "FORM"}
	tests := []struct {
		name     string
		reply    string
		kind     string
		body     *message.Body
		caps     []string
		wantText string
		routing  message.Routing
	}{
		{"text", `{"businessId":"` + business + `","from":"` + customer + `","text":"Hi there 👋"}`,
			message.KindMessage, &message.Body{Type: "text", Text: "Hi there 👋"}, all, `"body":"Hi there 👋"`, message.Routing{Locale: "en_US", DeviceAgent: "iPhone OS"}},
		{"text from an entry point", `{"businessId":"` + business + `","from":"` + customer + `","text":"Hi","intent":"billing","group":"support","deviceAgent":"Watch OS","locale":"en_GB"}`,
			message.KindMessage, &message.Body{Type: "text", Text: "Hi"}, all, `"intent":"billing","group":"support"`,
			message.Routing{Intent: "billing", Group: "support", Locale: "en_GB", DeviceAgent: "Watch OS"}},
		{"text from a Mac", `{"businessId":"` + business + `","from":"` + customer + `","type":"text","text":"Hello","capabilities":["LIST","TIME","QUICK"],"locale":"fr_FR"}`,
			message.KindMessage, &message.Body{Type: "text", Text: "Hello"}, []string{"LIST", "TIME", "QUICK"}, `"locale":"fr_FR"`,
			message.Routing{Locale: "fr_FR", DeviceAgent: "iPhone OS"}},
		{"no capabilities", `{"businessId":"` + business + `","from":"` + customer + `","text":"Hello","capabilities":[]}`,
			message.KindMessage, &message.Body{Type: "text", Text: "Hello"}, nil, `"locale":"en_US"`, message.Routing{Locale: "en_US", DeviceAgent: "iPhone OS"}},
		{"typing_start", `{"businessId":"` + business + `","from":"` + customer + `","type":"typing_start"}`,
			message.KindTypingStart, nil, all, `"type":"typing_start"`, message.Routing{Locale: "en_US", DeviceAgent: "iPhone OS"}},
		{"typing_end", `{"businessId":"` + business + `","from":"` + customer + `","type":"typing_end"}`,
			message.KindTypingEnd, nil, all, `"type":"typing_end"`, message.Routing{Locale: "en_US", DeviceAgent: "iPhone OS"}},
		{"close", `{"businessId":"` + business + `","from":"` + customer + `","type":"close"}`,
			message.KindClose, nil, all, `"type":"close"`, message.Routing{Locale: "en_US", DeviceAgent: "iPhone OS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wh := &webhook{}
			hook := httptest.NewServer(wh)
			defer hook.Close()
			base := mount(t, New(Config{MSPID: mspID, Secret: secret, WebhookURL: hook.URL + "/webhooks/apple/message", Now: func() time.Time { return now }}))

			status, answer := postJSON(t, base+"/reply", tt.reply)
			if status != http.StatusOK {
				t.Fatalf("POST /reply = %d %s", status, answer)
			}
			var d Delivery
			if err := json.Unmarshal(answer, &d); err != nil {
				t.Fatal(err)
			}
			if d.WebhookStatus != http.StatusOK || d.WebhookBody != "stored" {
				t.Fatalf("delivery = %+v, want the webhook's 200 stored", d)
			}
			wh.mu.Lock()
			defer wh.mu.Unlock()
			if len(wh.items) != 1 {
				t.Fatalf("the webhook parsed %d items, want 1", len(wh.items))
			}
			want := message.InboundItem{
				Kind: tt.kind, Channel: message.Apple, BusinessID: business, CustomerID: customer,
				PlatformMessageID: d.ID, At: now, Body: tt.body, Capabilities: tt.caps, Routing: tt.routing,
			}
			if got := wh.items[0]; !reflect.DeepEqual(got, want) {
				t.Errorf("parsed\n%+v\nwant\n%+v", got, want)
			}
			raw, h := wh.raw[0], wh.heads[0]
			if !bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
				t.Errorf("the webhook body is not gzip: %q", raw)
			}
			body, err := apple.ReadBody(bytes.NewReader(raw), "gzip", 1<<20, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(body), `"v":1,"id":"`+d.ID+`"`) || !strings.Contains(string(body), tt.wantText) {
				t.Errorf("webhook body %s, want v, id and %s", body, tt.wantText)
			}
			for name, want := range map[string]string{
				"Content-Type": "application/json", "Content-Encoding": "gzip", "Device-Agent": tt.routing.DeviceAgent,
			} {
				if got := h.Get(name); got != want {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestReplyRefused(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
	}))
	defer refusing.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	good := `{"businessId":"` + business + `","from":"` + customer + `","text":"Hi"}`
	tests := []struct {
		name       string
		webhook    string
		reply      string
		wantStatus int
		wantIn     string
	}{
		{"no business", refusing.URL, `{"from":"` + customer + `","text":"Hi"}`, 400, "businessId"},
		{"from not an opaque id", refusing.URL, `{"businessId":"` + business + `","from":"+15551234567","text":"Hi"}`, 400, "from"},
		{"text without text", refusing.URL, `{"businessId":"` + business + `","from":"` + customer + `"}`, 400, "text"},
		{"typing with text", refusing.URL, `{"businessId":"` + business + `","from":"` + customer + `","type":"typing_start","text":"x"}`, 400, "no text"},
		{"unknown type", refusing.URL, `{"businessId":"` + business + `","from":"` + customer + `","type":"interactive"}`, 400, "type"},
		{"unknown field", refusing.URL, `{"businessId":"` + business + `","from":"` + customer + `","txt":"Hi"}`, 400, "txt"},
		{"not JSON", refusing.URL, `businessId=1`, 400, "JSON"},
		{"webhook unreachable", gone.URL, good, 502, "webhook"},
		{"no webhook configured", "", good, 502, "webhook URL"},
		{"webhook refuses", refusing.URL, good, 200, `"webhookStatus":401`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := mount(t, New(Config{MSPID: mspID, Secret: secret, WebhookURL: tt.webhook}))
			status, answer := postJSON(t, base+"/reply", tt.reply)
			if status != tt.wantStatus || !strings.Contains(string(answer), tt.wantIn) {
				t.Errorf("POST /reply = %d %s; want %d mentioning %s", status, answer, tt.wantStatus, tt.wantIn)
			}
		})
	}
}

// newClient returns an apple.Client of the simulator at base.
func newClient(base string, secret []byte) *apple.Client {
	return &apple.Client{BaseURL: base + "/v1", MSPID: mspID, Secret: secret}
}

func TestClientRoundTrip(t *testing.T) {
	sim := New(Config{MSPID: mspID, Secret: secret, Now: func() time.Time { return now }})
	base := mount(t, sim)
	text := func(to, s string) message.Outgoing {
		return message.Outgoing{BusinessID: business, To: to, Message: message.Message{Type: "text", Text: s}}
	}

	id, err := newClient(base, secret).Send(context.Background(), text(customer, "Your table is ready"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	other := "urn:mbid:AQAAYother"
	if _, err := newClient(base, secret).Send(context.Background(), text(other, "Hello")); err != nil {
		t.Fatalf("Send: %v", err)
	}

	resp, err := http.Get(base + "/messages?to=" + strings.ReplaceAll(customer, "+", "%2B"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []Message
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("GET /messages?to= = %d messages, want 1", len(got))
	}
	m := got[0]
	wantBody := `{"v":1,"id":"` + id + `","type":"text","sourceId":"` + business + `","destinationId":"` + customer + `","body":"Your table is ready"}`
	if m.ID != id || m.Type != "text" || m.Source != business || m.Destination != customer || string(m.Body) != wantBody || !m.Time.Equal(now) {
		t.Errorf("accepted %+v (body %s), want id %s from %s to %s with body %s", m, m.Body, id, business, customer, wantBody)
	}
	if n := len(sim.Messages("")); n != 2 {
		t.Errorf("Messages(\"\") = %d messages, want 2", n)
	}

	failures := []struct {
		name       string
		secret     []byte
		o          message.Outgoing
		wantCode   message.Code
		wantStatus int
	}{
		{"wrong secret", []byte("not the secret at all, 32 bytes!"), text(customer, "Hi"), message.CodeUnauthorized, 403},
		{"missing body", secret, text(customer, ""), message.CodePlatformRejected, 400},
		{"destination not an opaque id", secret, text("+15551234567", "Hi"), message.CodePlatformRejected, 404},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newClient(base, tt.secret).Send(context.Background(), tt.o)
			var e *message.Error
			if !errors.As(err, &e) {
				t.Fatalf("Send = %v, want a *message.Error", err)
			}
			if e.Code != tt.wantCode || e.Platform == nil || e.Platform.HTTPStatus != tt.wantStatus {
				t.Errorf("Send = %s %+v, want %s with HTTP %d", e.Code, e.Platform, tt.wantCode, tt.wantStatus)
			}
		})
	}
	if n := len(sim.Messages("")); n != 2 {
		t.Errorf("after refusals, Messages(\"\") = %d messages, want still 2", n)
	}
}

func TestGatewayChecks(t *testing.T) {
	const id = "0f6d1d8e-4a1b-4a2e-9c7d-5b1e2f3a4c5d"
	token := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	good, err := apple.MintToken(secret, mspID, now)
	if err != nil {
		t.Fatal(err)
	}
	goodAuth := "Bearer " + good
	headers := func(auth string, drop string) map[string]string {
		h := map[string]string{"Authorization": auth, "id": id, "Source-Id": business, "Destination-Id": customer}
		delete(h, drop)
		return h
	}
	body := func(changes string) string {
		return `{"v":1,"id":"` + id + `","sourceId":"` + business + `","destinationId":"` + customer + `",` + changes + `}`
	}
	text := body(`"type":"text","body":"Hello"`)
	tests := []struct {
		name    string
		headers map[string]string
		body    string
		want    int
	}{
		{"text", headers(goodAuth, ""), text, 200},
		{"typing_start", headers(goodAuth, ""), body(`"type":"typing_start"`), 200},
		{"typing_end", headers(goodAuth, ""), body(`"type":"typing_end"`), 200},
		{"interactive", headers(goodAuth, ""), body(`"type":"interactive","interactiveData":` + quickReply), 200},
		{"richLink", headers(goodAuth, ""), body(`"type":"richLink","richLinkData":` + richLink), 200},
		{"lower-case bearer", headers("bearer "+good, ""), text, 200},

		{"no Authorization", headers("", ""), text, 401},
		{"not bearer", headers("Basic dXNlcjpwYXNz", ""), text, 403},
		{"wrong secret", headers(token(jwt.SigningMethodHS256, []byte("wrong"), jwt.MapClaims{"iss": mspID, "iat": now.Unix()}), ""), text, 403},
		{"wrong iss", headers(token(jwt.SigningMethodHS256, secret, jwt.MapClaims{"iss": "someone", "iat": now.Unix()}), ""), text, 403},
		{"no iss", headers(token(jwt.SigningMethodHS256, secret, jwt.MapClaims{"iat": now.Unix()}), ""), text, 403},
		{"no iat", headers(token(jwt.SigningMethodHS256, secret, jwt.MapClaims{"iss": mspID}), ""), text, 403},
		{"alg none", headers(token(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"iss": mspID, "iat": now.Unix()}), ""), text, 403},
		{"alg HS512", headers(token(jwt.SigningMethodHS512, secret, jwt.MapClaims{"iss": mspID, "iat": now.Unix()}), ""), text, 403},
		{"expired", headers(token(jwt.SigningMethodHS256, secret, jwt.MapClaims{"iss": mspID, "iat": now.Unix(), "exp": now.Add(-time.Minute).Unix()}), ""), text, 403},

		{"no id header", headers(goodAuth, "id"), text, 400},
		{"no Source-Id header", headers(goodAuth, "Source-Id"), text, 400},
		{"no Destination-Id header", headers(goodAuth, "Destination-Id"), text, 400},
		{"not JSON", headers(goodAuth, ""), `v=1`, 400},
		{"no v", headers(goodAuth, ""), `{"id":"` + id + `","type":"text","body":"Hi"}`, 400},
		{"v 2", headers(goodAuth, ""), strings.Replace(text, `"v":1`, `"v":2`, 1), 400},
		{"body id differs", headers(goodAuth, ""), strings.Replace(text, id, "11111111-1111-4111-8111-111111111111", 1), 400},
		{"close", headers(goodAuth, ""), body(`"type":"close"`), 400},
		{"unknown type", headers(goodAuth, ""), body(`"type":"list"`), 400},
		{"text without body", headers(goodAuth, ""), body(`"type":"text"`), 400},
		{"text with empty body", headers(goodAuth, ""), body(`"type":"text","body":""`), 400},
		{"interactive without data", headers(goodAuth, ""), body(`"type":"interactive"`), 400},
		{"richLink without data", headers(goodAuth, ""), body(`"type":"richLink","body":"https://example.com"`), 400},

		{"destination not an opaque id", map[string]string{"Authorization": goodAuth, "id": id, "Source-Id": business, "Destination-Id": "+15551234567"}, text, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := New(Config{MSPID: mspID, Secret: secret, Now: func() time.Time { return now }})
			req := httptest.NewRequest(http.MethodPost, "/v1/message", strings.NewReader(tt.body))
			for k, v := range tt.headers {
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("POST /v1/message = %d %q, want %d", rec.Code, rec.Body, tt.want)
			}
			accepted := len(sim.Messages(""))
			switch {
			case tt.want == 200 && (accepted != 1 || rec.Body.Len() != 0):
				t.Errorf("accepted with body %q and %d messages kept, want an empty body and 1", rec.Body, accepted)
			case tt.want != 200 && (accepted != 0 || rec.Body.Len() == 0):
				t.Errorf("refused with body %q and %d messages kept, want a reason and 0", rec.Body, accepted)
			}
		})
	}
}
