package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

const testToken = "EAAG-secret-token"

var hello = message.Outgoing{
	MessageID:  "msg_1",
	BusinessID: business,
	To:         customer,
	Message:    text("hello"),
}

func TestClientSend(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"messaging_product":"whatsapp","contacts":[{"input":"+447700900123","wa_id":"447700900123"}],"messages":[{"id":"wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgS"}]}`)
	}))
	defer srv.Close()

	c := &Client{BaseURL: srv.URL + "/v25.0/", Token: testToken, HTTP: srv.Client()}
	wamid, err := c.Send(context.Background(), hello)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if wamid != "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgS" {
		t.Errorf("wamid = %q", wamid)
	}
	want, _ := Render(hello)
	checks := []struct{ what, got, want string }{
		{"method", got.Method, http.MethodPost},
		{"path", got.URL.Path, "/v25.0/" + business + "/messages"},
		{"authorization", got.Header.Get("Authorization"), "Bearer " + testToken},
		{"content type", got.Header.Get("Content-Type"), "application/json"},
		{"body", string(gotBody), string(want)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
}

// graph is Meta's error envelope for the send endpoint.
func graph(code int, typ, msg, details string) string {
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "AbCdEf123"}
	if details != "" {
		e["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": details}
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return string(b)
}

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantCode   message.Code
		wantRetry  bool
		wantAfter  time.Duration
		wantPE     *message.PlatformError
		wantInText string
	}{
		{name: "window closed", status: 400,
			body:     graph(131047, "OAuthException", "(#131047) Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number."),
			wantCode: message.CodeWindowClosed,
			wantPE: &message.PlatformError{HTTPStatus: 400, Code: 131047, Message: "(#131047) Re-engagement message",
				Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.", TraceID: "AbCdEf123"},
			wantInText: "24 hours"},
		{name: "token expired", status: 401,
			body:       graph(190, "OAuthException", "Error validating access token: Session has expired.", ""),
			wantCode:   message.CodeUnauthorized,
			wantPE:     &message.PlatformError{HTTPStatus: 401, Code: 190, Message: "Error validating access token: Session has expired.", TraceID: "AbCdEf123"},
			wantInText: "configuration problem"},
		{name: "cannot authenticate", status: 401, body: graph(0, "OAuthException", "(#0) AuthException", ""),
			wantCode: message.CodeUnauthorized, wantInText: "invalid or expired"},
		{name: "permission 10", status: 403, body: graph(10, "OAuthException", "(#10) Application does not have permission for this action", ""),
			wantCode: message.CodeUnauthorized, wantInText: "lacks a permission"},
		{name: "permission 200", status: 403, body: graph(200, "OAuthException", "(#200) Permissions error", ""),
			wantCode: message.CodeUnauthorized, wantInText: "lacks a permission"},
		{name: "permission 299", status: 403, body: graph(299, "OAuthException", "(#299) Permissions error", ""),
			wantCode: message.CodeUnauthorized, wantInText: "lacks a permission"},
		{name: "capability 3", status: 500, body: graph(3, "OAuthException", "(#3) Capability or permissions issue", ""),
			wantCode: message.CodeUnauthorized, wantInText: "lacks a permission"},
		{name: "access denied", status: 403, body: graph(131005, "OAuthException", "(#131005) Access denied", "Permission is not granted"),
			wantCode: message.CodeUnauthorized, wantInText: "Permission is not granted"},
		{name: "invalid parameter", status: 400,
			body:     graph(100, "OAuthException", "(#100) Invalid parameter", "Param text['body'] must be at most 4096 characters long."),
			wantCode: message.CodeInvalidMessage, wantInText: "Param text['body'] must be at most 4096 characters long."},
		{name: "parameter missing", status: 400,
			body:     graph(131008, "OAuthException", "(#131008) Required parameter is missing", "The parameter to is required."),
			wantCode: message.CodeInvalidMessage, wantInText: "The parameter to is required."},
		{name: "parameter value", status: 400,
			body:     graph(131009, "OAuthException", "(#131009) Parameter value is not valid", "Button title length invalid. Min length: 1, Max length: 20"),
			wantCode: message.CodeInvalidMessage, wantInText: "Button title length invalid"},
		{name: "unknown phone number id", status: 400,
			body:     `{"error":{"message":"Unsupported post request. Object with ID '106540352242922' does not exist, cannot be loaded due to missing permissions, or does not support this operation.","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"AbCdEf123"}}`,
			wantCode: message.CodePlatformRejected, wantInText: `phone number id "106540352242922"`},
		{name: "throughput", status: 400, body: graph(130429, "OAuthException", "(#130429) Rate limit hit", ""),
			wantCode: message.CodePlatformUnavailable, wantRetry: true, wantAfter: time.Second},
		{name: "pair rate", status: 400, body: graph(131056, "OAuthException", "(#131056) (Business Account, Consumer Account) pair rate limit hit", ""),
			wantCode: message.CodePlatformUnavailable, wantRetry: true, wantAfter: time.Second},
		{name: "unknown failure", status: 500, body: graph(131000, "OAuthException", "(#131000) Something went wrong", ""),
			wantCode: message.CodePlatformUnavailable, wantRetry: true},
		{name: "service unavailable", status: 500, body: graph(131016, "OAuthException", "(#131016) Service unavailable", ""),
			wantCode: message.CodePlatformUnavailable, wantRetry: true},
		{name: "maintenance", status: 500, body: graph(131057, "OAuthException", "(#131057) Account in maintenance mode", ""),
			wantCode: message.CodePlatformUnavailable, wantRetry: true, wantAfter: time.Minute},
		{name: "temporarily down", status: 503, body: graph(2, "OAuthException", "(#2) Service temporarily unavailable", ""),
			wantCode: message.CodePlatformUnavailable, wantRetry: true},
		{name: "app rate limit", status: 400, body: graph(4, "OAuthException", "(#4) Application request limit reached", ""),
			wantCode: message.CodePlatformUnavailable, wantRetry: true},
		{name: "unknown code from a failing server", status: 503, body: graph(1, "OAuthException", "(#1) An unknown error occurred", ""),
			wantCode: message.CodeDeliveryUnknown, wantInText: "HTTP 503 (code 1)"},
		{name: "unknown code refused", status: 400, body: graph(1, "OAuthException", "(#1) An unknown error occurred", ""),
			wantCode: message.CodePlatformRejected, wantInText: "code 1"},
		{name: "registration error", status: 500, body: graph(131045, "OAuthException", "(#131045) Incorrect certificate", ""),
			wantCode: message.CodePlatformRejected, wantInText: "code 131045"},
		{name: "undeliverable", status: 400, body: graph(131026, "OAuthException", "(#131026) Message undeliverable", ""),
			wantCode:   message.CodePlatformRejected,
			wantPE:     &message.PlatformError{HTTPStatus: 400, Code: 131026, Message: "(#131026) Message undeliverable", TraceID: "AbCdEf123"},
			wantInText: "Message undeliverable"},
		{name: "policy restriction", status: 403, body: graph(368, "OAuthException", "(#368) Temporarily blocked for policies violations", ""),
			wantCode: message.CodePlatformRejected},
		{name: "code decides, not status", status: 200 + 300, body: graph(131009, "OAuthException", "(#131009) Parameter value is not valid", ""),
			wantCode: message.CodeInvalidMessage},
		{name: "string error_data", status: 400,
			body:       `{"error":{"message":"(#131009) Parameter value is not valid","type":"OAuthException","code":131009,"error_data":"Template name does not exist in the translation","fbtrace_id":"AbCdEf123"}}`,
			wantCode:   message.CodeInvalidMessage,
			wantPE:     &message.PlatformError{HTTPStatus: 400, Code: 131009, Message: "(#131009) Parameter value is not valid", Details: "Template name does not exist in the translation", TraceID: "AbCdEf123"},
			wantInText: "Template name does not exist"},
		{name: "odd error_data", status: 400,
			body:     `{"error":{"message":"(#131026) Message undeliverable","code":131026,"error_data":[1,2]}}`,
			wantCode: message.CodePlatformRejected,
			wantPE:   &message.PlatformError{HTTPStatus: 400, Code: 131026, Message: "(#131026) Message undeliverable"}},
		{name: "502 with html", status: 502, body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
			wantCode: message.CodeDeliveryUnknown,
			wantPE:   &message.PlatformError{HTTPStatus: 502, Details: "<html><body><h1>502 Bad Gateway</h1></body></html>"}},
		{name: "500 empty", status: 500, body: "",
			wantCode: message.CodeDeliveryUnknown, wantPE: &message.PlatformError{HTTPStatus: 500}},
		{name: "503 empty", status: 503, body: "",
			wantCode: message.CodePlatformUnavailable, wantRetry: true, wantPE: &message.PlatformError{HTTPStatus: 503}},
		{name: "429 without envelope", status: 429, body: "slow down",
			wantCode: message.CodePlatformUnavailable, wantRetry: true},
		{name: "404 not graph", status: 404, body: "404 page not found\n",
			wantCode: message.CodePlatformRejected, wantInText: "check the configured API URL",
			wantPE: &message.PlatformError{HTTPStatus: 404, Details: "404 page not found"}},
		{name: "huge body", status: 500, body: strings.Repeat("x", 3<<20),
			wantCode: message.CodeDeliveryUnknown,
			wantPE:   &message.PlatformError{HTTPStatus: 500, Details: strings.Repeat("x", 256)}},
		{name: "200 without id", status: 200, body: `{"messaging_product":"whatsapp","messages":[]}`,
			wantCode: message.CodeDeliveryUnknown, wantRetry: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := &Client{BaseURL: srv.URL + "/v25.0", Token: testToken, HTTP: srv.Client()}
			_, err := c.Send(context.Background(), hello)
			e := checkError(t, err, tt.wantCode, tt.wantRetry)
			if e.RetryAfter != tt.wantAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.wantAfter)
			}
			if tt.wantPE != nil && (e.Platform == nil || *e.Platform != *tt.wantPE) {
				t.Errorf("Platform = %+v, want %+v", e.Platform, tt.wantPE)
			}
			if !strings.Contains(e.Message, tt.wantInText) {
				t.Errorf("Message = %q, want it to mention %q", e.Message, tt.wantInText)
			}
		})
	}
}

// TestClientTransportErrors: a failure before the request was written is
// retryable; one after it — the server read the request, then timed out,
// reset the connection or cut its answer — is delivery_unknown, never
// retried.
func TestClientTransportErrors(t *testing.T) {
	release := make(chan struct{})
	blocked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		<-release
	}))
	defer blocked.Close()
	defer close(release)
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	}))
	defer reset.Close()
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Content-Length", "200")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.`)
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer cut.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name      string
		url       string
		timeout   time.Duration
		wantCode  message.Code
		wantRetry bool
		wantText  string
	}{
		{"timeout after the request was written", blocked.URL, 50 * time.Millisecond, message.CodeDeliveryUnknown, false, "did not answer in time"},
		{"reset after the request was written", reset.URL, time.Minute, message.CodeDeliveryUnknown, false, "failed after the message was sent"},
		{"answer cut off after a 200", cut.URL, time.Minute, message.CodeDeliveryUnknown, false, "HTTP 200) was cut off"},
		{"connection refused", closed.URL, time.Minute, message.CodePlatformUnavailable, true, "could not reach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			c := &Client{BaseURL: tt.url + "/v25.0", Token: testToken}
			_, err := c.Send(ctx, hello)
			e := checkError(t, err, tt.wantCode, tt.wantRetry)
			if !strings.Contains(e.Message, tt.wantText) {
				t.Errorf("Message = %q, want it to mention %q", e.Message, tt.wantText)
			}
		})
	}
}

func TestClientRefusesBeforeSending(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request to %s", r.URL)
	}))
	defer srv.Close()
	tests := []struct {
		name     string
		token    string
		out      message.Outgoing
		wantCode message.Code
	}{
		{"no token", "", hello, message.CodeUnauthorized},
		{"no business", testToken, message.Outgoing{To: customer, Message: text("hi")}, message.CodeInvalidRequest},
		{"too long", testToken, message.Outgoing{BusinessID: business, To: customer, Message: text(strings.Repeat("a", 4097))}, message.CodeInvalidMessage},
		{"unsupported type", testToken, message.Outgoing{BusinessID: business, To: customer, Message: message.Message{Type: message.TypeAuth}}, message.CodeUnsupportedOnChannel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{BaseURL: srv.URL, Token: tt.token, HTTP: srv.Client()}
			_, err := c.Send(context.Background(), tt.out)
			checkError(t, err, tt.wantCode, false)
		})
	}
}

// checkError asserts err is a *message.Error with the code and retryability
// given, and that neither its text nor its JSON holds the token.
func checkError(t *testing.T, err error, code message.Code, retryable bool) *message.Error {
	t.Helper()
	var e *message.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *message.Error", err, err)
	}
	if e.Code != code || e.Retryable != retryable {
		t.Errorf("error = %s retryable=%v (%q), want %s retryable=%v", e.Code, e.Retryable, e.Message, code, retryable)
	}
	js, _ := json.Marshal(e)
	if strings.Contains(e.Error(), testToken) || strings.Contains(string(js), testToken) {
		t.Errorf("error reveals the token: %s", fmt.Sprint(e.Error(), string(js)))
	}
	return e
}
