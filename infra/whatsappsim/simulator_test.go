package whatsappsim

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

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/whatsapp"
)

const (
	token    = "EAAG-sim-token"
	secret   = "sim-app-secret"
	business = "106540352242922"
	customer = "447700900123"
	prefix   = "/sim/whatsapp"
)

var now = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

// stack is a simulator mounted under prefix, posting its webhooks to a
// recorder, on a manual clock.
type stack struct {
	sim   *Simulator
	srv   *httptest.Server
	hooks *recorder
	clock *clock.Manual
}

func newStack(t *testing.T, known ...string) *stack {
	return newStackWith(t, Config{KnownNumbers: known})
}

// newStackWith is a stack for cfg, with the token, secret, webhook URL
// and clock of every test.
func newStackWith(t *testing.T, cfg Config) *stack {
	t.Helper()
	hooks := &recorder{status: http.StatusOK, answer: "ok"}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	clk := clock.NewManual(now)
	cfg.Token, cfg.AppSecret, cfg.Now = token, secret, clk.Now
	cfg.WebhookURL = hookSrv.URL + "/webhooks/whatsapp"
	sim := New(cfg)
	t.Cleanup(sim.Flush)
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, sim))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &stack{sim: sim, srv: srv, hooks: hooks, clock: clk}
}

// customerWrites opens the window of business and customer with a text
// from the customer, and returns its wamid.
func (s *stack) customerWrites(t *testing.T) string {
	t.Helper()
	var got delivery
	if status := s.post(t, "/reply", "", `{"businessId":"`+business+`","from":"`+customer+`","name":"Sam","text":"hello"}`, &got); status != 200 {
		t.Fatalf("POST /reply: %d %+v", status, got)
	}
	s.hooks.last(t)
	return got.WAMID
}

// send posts body to the Graph endpoint for business.
func (s *stack) send(t *testing.T, body string) (int, graphAnswer) {
	t.Helper()
	var got graphAnswer
	status := s.post(t, "/v25.0/"+business+"/messages", "Bearer "+token, body, &got)
	return status, got
}

// graph is the Graph API base a client would be configured with.
func (s *stack) graph() string { return s.srv.URL + prefix + "/v25.0" }

func (s *stack) client(tok string) *whatsapp.Client {
	return &whatsapp.Client{BaseURL: s.graph(), Token: tok, HTTP: s.srv.Client()}
}

// post sends body to one of the simulator's routes and decodes the answer.
func (s *stack) post(t *testing.T, path, auth, body string, answer any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+prefix+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(t, req, answer)
}

func (s *stack) get(t *testing.T, path string, answer any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+prefix+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req, answer)
}

func do(t *testing.T, req *http.Request, answer any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if answer != nil {
		if err := json.Unmarshal(b, answer); err != nil {
			t.Fatalf("answer %s: %v", b, err)
		}
	}
	return resp.StatusCode
}

// recorder is parley's webhook endpoint as far as the simulator can tell.
type recorder struct {
	status int
	answer string

	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.got = append(rec.got, r)
	rec.body = append(rec.body, b)
	rec.mu.Unlock()
	w.WriteHeader(rec.status)
	io.WriteString(w, rec.answer)
}

// count returns how many webhooks were received since the last call of
// last or count, and forgets them.
func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := len(rec.got)
	rec.got, rec.body = nil, nil
	return n
}

// last returns the only webhook received since the last call.
func (rec *recorder) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 1 {
		t.Fatalf("webhooks received: %d, want 1", len(rec.got))
	}
	r, b := rec.got[0], rec.body[0]
	rec.got, rec.body = nil, nil
	return r, b
}

type graphAnswer struct {
	MessagingProduct string `json:"messaging_product"`
	Contacts         []struct {
		Input string `json:"input"`
		WaID  string `json:"wa_id"`
	} `json:"contacts"`
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
	Error *struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
		ErrorData    struct {
			Details string `json:"details"`
		} `json:"error_data"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

func TestSendChecks(t *testing.T) {
	const bearer = "Bearer " + token
	text := func(body string) string {
		b, _ := json.Marshal(body)
		return `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"text","text":{"body":` + string(b) + `}}`
	}
	tests := []struct {
		name        string
		path        string
		auth        string
		body        string
		wantStatus  int
		wantCode    int
		wantType    string
		wantDetails string
	}{
		{name: "text", auth: bearer, body: text("hello"), wantStatus: 200},
		{name: "type defaults to text", auth: bearer, body: `{"messaging_product":"whatsapp","to":"447700900123","text":{"body":"hi"}}`, wantStatus: 200},
		{name: "emoji at the limit", auth: bearer, body: text(strings.Repeat("👍", 4096)), wantStatus: 200},
		{name: "preview and context", auth: bearer, body: `{"messaging_product":"whatsapp","to":"447700900123","type":"text","text":{"body":"https://x.example","preview_url":true},"context":{"message_id":"wamid.X"}}`, wantStatus: 200},
		{name: "token as parameter", path: "/v25.0/" + business + "/messages?access_token=" + token, body: text("hi"), wantStatus: 200},

		{name: "no token", body: text("hi"), wantStatus: 401, wantCode: 190, wantType: "OAuthException"},
		{name: "wrong token", auth: "Bearer EAAG-other", body: text("hi"), wantStatus: 401, wantCode: 190, wantType: "OAuthException"},
		{name: "not bearer", auth: "Basic " + token, body: text("hi"), wantStatus: 401, wantCode: 190, wantType: "OAuthException"},
		{name: "unknown number", path: "/v25.0/999/messages", auth: bearer, body: text("hi"), wantStatus: 400, wantCode: 100, wantType: "GraphMethodException"},
		{name: "malformed json", auth: bearer, body: `{"messaging_product":"whatsapp",`, wantStatus: 400, wantCode: 100, wantDetails: "not a JSON object"},
		{name: "no messaging_product", auth: bearer, body: `{"to":"447700900123","type":"text","text":{"body":"hi"}}`, wantStatus: 400, wantCode: 100, wantDetails: "messaging_product is required"},
		{name: "wrong messaging_product", auth: bearer, body: `{"messaging_product":"instagram","to":"447700900123","type":"text","text":{"body":"hi"}}`, wantStatus: 400, wantCode: 131009, wantDetails: "messaging_product"},
		{name: "bad recipient_type", auth: bearer, body: `{"messaging_product":"whatsapp","recipient_type":"all","to":"447700900123","text":{"body":"hi"}}`, wantStatus: 400, wantCode: 131009, wantDetails: "recipient_type"},
		{name: "no to", auth: bearer, body: `{"messaging_product":"whatsapp","type":"text","text":{"body":"hi"}}`, wantStatus: 400, wantCode: 100, wantDetails: "The parameter to is required"},
		{name: "empty to", auth: bearer, body: `{"messaging_product":"whatsapp","to":" ","type":"text","text":{"body":"hi"}}`, wantStatus: 400, wantCode: 100, wantDetails: "The parameter to is required"},
		{name: "unknown type", auth: bearer, body: `{"messaging_product":"whatsapp","to":"447700900123","type":"txt","text":{"body":"hi"}}`, wantStatus: 400, wantCode: 100, wantDetails: "Param type must be one of"},
		{name: "type not simulated", auth: bearer, body: `{"messaging_product":"whatsapp","to":"447700900123","type":"location","location":{"latitude":1,"longitude":2}}`, wantStatus: 400, wantCode: 100, wantDetails: `type "location"`},
		{name: "unknown media id", auth: bearer, body: `{"messaging_product":"whatsapp","to":"447700900123","type":"image","image":{"id":"1"}}`, wantStatus: 400, wantCode: 100, wantDetails: "not a valid media id"},
		{name: "no text", auth: bearer, body: `{"messaging_product":"whatsapp","to":"447700900123","type":"text"}`, wantStatus: 400, wantCode: 100, wantDetails: "The parameter text is required"},
		{name: "no body", auth: bearer, body: `{"messaging_product":"whatsapp","to":"447700900123","type":"text","text":{}}`, wantStatus: 400, wantCode: 100, wantDetails: "text['body'] is required"},
		{name: "empty body", auth: bearer, body: text(""), wantStatus: 400, wantCode: 100, wantDetails: "text['body'] is required"},
		{name: "body not a string", auth: bearer, body: `{"messaging_product":"whatsapp","to":"447700900123","type":"text","text":{"body":42}}`, wantStatus: 400, wantCode: 100, wantDetails: "text['body'] must be a string"},
		{name: "ascii one over", auth: bearer, body: text(strings.Repeat("a", 4097)), wantStatus: 400, wantCode: 100, wantDetails: "text['body'] must be at most 4096 characters"},
		{name: "emoji one over", auth: bearer, body: text(strings.Repeat("👍", 4097)), wantStatus: 400, wantCode: 100, wantDetails: "text['body'] must be at most 4096 characters"},
		{name: "preview_url not boolean", auth: bearer, body: `{"messaging_product":"whatsapp","to":"447700900123","text":{"body":"hi","preview_url":"yes"}}`, wantStatus: 400, wantCode: 100, wantDetails: "preview_url"},
		{name: "context without id", auth: bearer, body: `{"messaging_product":"whatsapp","to":"447700900123","text":{"body":"hi"},"context":{}}`, wantStatus: 400, wantCode: 100, wantDetails: "context['message_id']"},
	}
	s := newStack(t, business)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/v25.0/" + business + "/messages"
			}
			var got graphAnswer
			status := s.post(t, path, tt.auth, tt.body, &got)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%+v)", status, tt.wantStatus, got.Error)
			}
			if tt.wantStatus == http.StatusOK {
				if got.Error != nil || len(got.Messages) != 1 || !strings.HasPrefix(got.Messages[0].ID, "wamid.") {
					t.Errorf("answer = %+v, want a wamid", got)
				}
				return
			}
			e := got.Error
			switch {
			case e == nil:
				t.Fatalf("no error envelope")
			case e.Code != tt.wantCode:
				t.Errorf("code = %d, want %d (%+v)", e.Code, tt.wantCode, e)
			case tt.wantType != "" && e.Type != tt.wantType:
				t.Errorf("type = %q, want %q", e.Type, tt.wantType)
			case !strings.Contains(e.ErrorData.Details, tt.wantDetails):
				t.Errorf("details = %q, want it to mention %q", e.ErrorData.Details, tt.wantDetails)
			case e.FBTraceID == "" || e.Message == "":
				t.Errorf("error without message or fbtrace_id: %+v", e)
			}
		})
	}
	var list []Accepted
	s.get(t, "/messages", &list)
	if len(list) != 5 {
		t.Errorf("accepted %d messages, want the 5 valid ones", len(list))
	}
}

func TestAcceptedAndListed(t *testing.T) {
	s := newStack(t)
	bodies := []string{
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"text","text":{"body":"first"}}`,
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+1 (650) 555-1234","type":"text","text":{"body":"second"}}`,
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"447700900123","type":"text","text":{"body":"third"}}`,
	}
	var wamids []string
	for _, b := range bodies {
		var got graphAnswer
		if status := s.post(t, "/v25.0/"+business+"/messages", "Bearer "+token, b, &got); status != 200 {
			t.Fatalf("status %d: %+v", status, got.Error)
		}
		wamids = append(wamids, got.Messages[0].ID)
		if got.MessagingProduct != "whatsapp" || len(got.Contacts) != 1 || got.Contacts[0].WaID != waID(got.Contacts[0].Input) {
			t.Errorf("answer = %+v", got)
		}
	}
	if wamids[0] == wamids[1] || wamids[1] == wamids[2] {
		t.Errorf("wamids repeat: %q", wamids)
	}

	tests := []struct {
		query string
		want  []int
	}{
		{"", []int{0, 1, 2}},
		{"?to=447700900123", []int{0, 2}},
		{"?to=%2B16505551234", []int{1}},
		{"?to=15550000000", nil},
	}
	for _, tt := range tests {
		var list []Accepted
		if status := s.get(t, "/messages"+tt.query, &list); status != 200 {
			t.Fatalf("GET /messages%s: %d", tt.query, status)
		}
		var got []string
		for _, a := range list {
			got = append(got, a.WAMID)
			if a.PhoneNumberID != business || !a.At.Equal(now) {
				t.Errorf("accepted = %+v", a)
			}
		}
		var want []string
		for _, i := range tt.want {
			want = append(want, wamids[i])
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GET /messages%s = %q, want %q", tt.query, got, want)
		}
	}
	list := s.sim.Accepted()
	if string(list[1].Request) != bodies[1] || list[1].To != "+1 (650) 555-1234" || list[1].WaID != "16505551234" {
		t.Errorf("accepted[1] = %+v", list[1])
	}
}

// swapBody replaces the body of every request, to reach the simulator with
// what the client itself would refuse to send.
type swapBody struct {
	body string
	next http.RoundTripper
}

func (s swapBody) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(strings.NewReader(s.body))
	r.ContentLength = int64(len(s.body))
	return s.next.RoundTrip(r)
}

func TestClientRoundTrip(t *testing.T) {
	s := newStack(t, business)
	out := message.Outgoing{BusinessID: business, To: customer, Message: message.Message{Type: message.TypeText, Text: "Café 👍 <b>"}}

	wamid, err := s.client(token).Send(context.Background(), out)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	list := s.sim.Accepted()
	want, _ := whatsapp.Render(out)
	if len(list) != 1 || list[0].WAMID != wamid || !bytes.Equal(list[0].Request, want) || list[0].WaID != customer {
		t.Fatalf("accepted = %+v, want the rendered message as %s", list, wamid)
	}

	tooLong := `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"text","text":{"body":"` + strings.Repeat("a", 4097) + `"}}`
	tests := []struct {
		name     string
		client   *whatsapp.Client
		out      message.Outgoing
		wantCode message.Code
		wantText string
	}{
		{"bad token", s.client("EAAG-expired"), out, message.CodeUnauthorized, "configuration problem"},
		{"too long", &whatsapp.Client{BaseURL: s.graph(), Token: token,
			HTTP: &http.Client{Transport: swapBody{tooLong, http.DefaultTransport}}}, out,
			message.CodeInvalidMessage, "text['body'] must be at most 4096 characters"},
		{"unknown number", s.client(token), message.Outgoing{BusinessID: "999", To: customer, Message: out.Message},
			message.CodePlatformRejected, `phone number id "999"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.Send(context.Background(), tt.out)
			var e *message.Error
			if !errors.As(err, &e) {
				t.Fatalf("Send error = %v, want a *message.Error", err)
			}
			if e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantText) || e.Platform == nil || e.Platform.TraceID == "" {
				t.Errorf("Send error = %s %q %+v, want %s mentioning %q with Meta's trace id", e.Code, e.Message, e.Platform, tt.wantCode, tt.wantText)
			}
		})
	}
	if n := len(s.sim.Accepted()); n != 1 {
		t.Errorf("accepted %d messages, want 1", n)
	}
}

func TestReply(t *testing.T) {
	tests := []struct {
		name string
		req  string
		want message.InboundItem
	}{
		{"text", `{"businessId":"106540352242922","from":"447700900123","name":"Sam","text":"Café 👍 https://x.example/a"}`,
			message.InboundItem{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
				Customer: &message.Customer{WaID: customer, UserID: bsuidFor(business, customer), Name: "Sam"},
				At:       now, PlatformTime: now, Body: &message.Body{Type: "text", Text: "Café 👍 https://x.example/a"}}},
		{"reply with plus", `{"businessId":"106540352242922","from":"+447700900123","text":"yes","replyTo":"wamid.OURS=="}`,
			message.InboundItem{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
				Customer: &message.Customer{WaID: customer, UserID: bsuidFor(business, customer), Name: "Sam"},
				At:       now, PlatformTime: now, Body: &message.Body{Type: "text", Text: "yes"}, ReplyToPlatformID: "wamid.OURS=="}},
		// A customer who adopted a username and keeps their number: no from,
		// no wa_id, their business-scoped user id and username instead.
		{"username, phone number kept", `{"businessId":"106540352242922","userId":"GB.13491208655302741918","username":"sam.r","hidePhone":true,"text":"hi"}`,
			message.InboundItem{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: "GB.13491208655302741918",
				Customer: &message.Customer{UserID: "GB.13491208655302741918", Username: "sam.r"},
				At:       now, PlatformTime: now, Body: &message.Body{Type: "text", Text: "hi"}}},
		{"in a group", `{"businessId":"106540352242922","from":"447700900999","name":"Alex","group":"Y2FwaV9ncm91cDox","text":"hello all"}`,
			message.InboundItem{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: "Y2FwaV9ncm91cDox", GroupID: "Y2FwaV9ncm91cDox",
				Customer: &message.Customer{WaID: "447700900999", UserID: bsuidFor(business, "447700900999"), Name: "Alex"},
				At:       now, PlatformTime: now, Body: &message.Body{Type: "text", Text: "hello all"}}},
	}
	s := newStack(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got delivery
			if status := s.post(t, "/reply", "", tt.req, &got); status != 200 {
				t.Fatalf("status %d: %+v", status, got)
			}
			r, body := s.hooks.last(t)
			if r.URL.Path != "/webhooks/whatsapp" || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("webhook to %s with %q", r.URL.Path, r.Header.Get("Content-Type"))
			}
			if !whatsapp.ValidSignature(body, r.Header.Get("X-Hub-Signature-256"), secret) {
				t.Errorf("signature %q does not verify", r.Header.Get("X-Hub-Signature-256"))
			}
			parsed, err := whatsapp.Parse(body, now.Add(time.Hour))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := tt.want
			want.PlatformMessageID = got.WAMID
			if len(parsed.Items) != 1 || len(parsed.Skipped) != 0 || !reflect.DeepEqual(parsed.Items[0], want) {
				t.Errorf("parsed = %+v, want %+v", parsed, want)
			}
			if got.WebhookStatus != 200 || got.WebhookBody != "ok" || !strings.HasPrefix(got.WAMID, "wamid.") {
				t.Errorf("answer = %+v", got)
			}
		})
	}
}

func TestReplyIsMetaShaped(t *testing.T) {
	s := newStack(t)
	s.post(t, "/reply", "", `{"businessId":"106540352242922","from":"447700900123","name":"Zoë","text":"Café 👍 a/b"}`, nil)
	_, body := s.hooks.last(t)
	for _, want := range []string{`"object":"whatsapp_business_account"`, `"field":"messages"`,
		`"phone_number_id":"106540352242922"`, `"profile":{"name":"Zo\u00eb"}`, `"wa_id":"447700900123"`,
		`"timestamp":"1790856000"`, `"type":"text"`, `"body":"Caf\u00e9 \ud83d\udc4d a\/b"`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("webhook lacks %s:\n%s", want, body)
		}
	}
	// Re-encoding the body (as a careless receiver might) breaks the
	// signature, as it does with Meta's webhooks.
	var v any
	json.Unmarshal(body, &v)
	again, _ := json.Marshal(v)
	if whatsapp.ValidSignature(again, sign(body, secret), secret) {
		t.Errorf("a re-encoded body still verifies")
	}
}

func TestReplyRefuses(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	tests := []struct {
		name       string
		webhookURL string
		req        string
		wantStatus int
		wantError  string
	}{
		{"no business", "", `{"from":"447700900123","text":"hi"}`, 400, "businessId is required"},
		{"unknown business", "", `{"businessId":"999","from":"447700900123","text":"hi"}`, 400, `"999" is not one of`},
		{"no from", "", `{"businessId":"106540352242922","text":"hi"}`, 400, "from is required"},
		{"no text", "", `{"businessId":"106540352242922","from":"447700900123"}`, 400, "text is required"},
		{"typo", "", `{"businessId":"106540352242922","from":"447700900123","txt":"hi"}`, 400, `unknown field "txt"`},
		{"webhook down", down.URL, `{"businessId":"106540352242922","from":"447700900123","text":"hi"}`, 502, "could not be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t, business)
			if tt.webhookURL != "" {
				s.sim.cfg.WebhookURL = tt.webhookURL
			}
			var got struct {
				Error string `json:"error"`
			}
			if status := s.post(t, "/reply", "", tt.req, &got); status != tt.wantStatus || !strings.Contains(got.Error, tt.wantError) {
				t.Errorf("POST /reply = %d %q, want %d mentioning %q", status, got.Error, tt.wantStatus, tt.wantError)
			}
		})
	}
}

func TestReplyReportsWebhookAnswer(t *testing.T) {
	s := newStack(t)
	s.hooks.status, s.hooks.answer = http.StatusUnauthorized, `{"error":{"code":"unauthorized"}}`
	var got delivery
	if status := s.post(t, "/reply", "", `{"businessId":"1","from":"2","text":"hi"}`, &got); status != 200 {
		t.Fatalf("status %d", status)
	}
	if got.WebhookStatus != 401 || got.WebhookBody != `{"error":{"code":"unauthorized"}}` {
		t.Errorf("answer = %+v", got)
	}
}

func TestStatus(t *testing.T) {
	s := newStack(t)
	s.customerWrites(t)
	wamid, err := s.client(token).Send(context.Background(), message.Outgoing{
		BusinessID: business, To: customer, Message: message.Message{Type: message.TypeText, Text: "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	f := false
	service := &message.StatusDetail{Pricing: &message.Pricing{Billable: &f, Model: "PMP", Type: "free_customer_service", Category: "service"}}
	const errorHref = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
	tests := []struct {
		req     string
		status  string
		wantErr *message.PlatformError
		detail  *message.StatusDetail
	}{
		{`{"wamid":"` + wamid + `","status":"sent"}`, "sent", nil, service},
		{`{"wamid":"` + wamid + `","status":"delivered"}`, "delivered", nil, service},
		{`{"wamid":"` + wamid + `","status":"read"}`, "read", nil, nil},
		{`{"wamid":"` + wamid + `","status":"failed","errorCode":131047}`, "failed", &message.PlatformError{Code: 131047, Message: "Re-engagement message",
			Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
			Title:   "Re-engagement message", Href: errorHref}, nil},
		{`{"wamid":"` + wamid + `","status":"failed","errorCode":135000}`, "failed", &message.PlatformError{Code: 135000, Message: "Error", Title: "Error", Href: errorHref}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			var got delivery
			if status := s.post(t, "/status", "", tt.req, &got); status != 200 || got.WAMID != wamid || got.WebhookStatus != 200 {
				t.Fatalf("POST /status = %d %+v", status, got)
			}
			r, body := s.hooks.last(t)
			if !whatsapp.ValidSignature(body, r.Header.Get("X-Hub-Signature-256"), secret) {
				t.Errorf("signature does not verify")
			}
			parsed, err := whatsapp.Parse(body, now.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			want := message.InboundItem{Kind: message.KindStatus, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
				Customer:          &message.Customer{WaID: customer, UserID: bsuidFor(business, customer), Name: "Sam"},
				PlatformMessageID: wamid, At: now, PlatformTime: now, Status: tt.status, StatusError: tt.wantErr, StatusDetail: tt.detail}
			if tt.status == "failed" {
				// A failed status comes without the contact.
				want.Customer = &message.Customer{WaID: customer}
			}
			if len(parsed.Items) != 1 || !reflect.DeepEqual(parsed.Items[0], want) {
				t.Errorf("parsed = %+v, want %+v", parsed, want)
			}
		})
	}
}

func TestStatusRefuses(t *testing.T) {
	s := newStack(t)
	var ok graphAnswer
	s.post(t, "/v25.0/"+business+"/messages", "Bearer "+token, `{"messaging_product":"whatsapp","to":"1","text":{"body":"hi"}}`, &ok)
	wamid := ok.Messages[0].ID
	tests := []struct {
		name       string
		req        string
		wantStatus int
		wantError  string
	}{
		{"never accepted", `{"wamid":"wamid.NOPE","status":"read"}`, 404, "never accepted"},
		{"unknown status", `{"wamid":"` + wamid + `","status":"seen"}`, 400, `got "seen"`},
		{"failed without code", `{"wamid":"` + wamid + `","status":"failed"}`, 400, "errorCode is required"},
		{"code without failed", `{"wamid":"` + wamid + `","status":"read","errorCode":131047}`, 400, "errorCode goes only with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got struct {
				Error string `json:"error"`
			}
			if status := s.post(t, "/status", "", tt.req, &got); status != tt.wantStatus || !strings.Contains(got.Error, tt.wantError) {
				t.Errorf("POST /status = %d %q, want %d mentioning %q", status, got.Error, tt.wantStatus, tt.wantError)
			}
		})
	}
}

func TestMetaJSON(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"plain", `"plain"`},
		{"Café", `"Caf\u00e9"`},
		{"👍", `"\ud83d\udc4d"`},
		{"https://x.example/a", `"https:\/\/x.example\/a"`},
		{`<b> & "q"`, `"<b> & \"q\""`},
		{"line\nbreak\u2028", `"line\nbreak\u2028"`},
	}
	for _, tt := range tests {
		got, err := metaJSON(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("metaJSON(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != tt.in {
			t.Errorf("metaJSON(%q) reads back as %q (%v)", tt.in, back, err)
		}
	}
}
