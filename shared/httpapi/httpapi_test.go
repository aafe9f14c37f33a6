package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
	"github.com/parleyhq/parley/shared/whatsapp"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// webhookStack is the webhooks handler on a real ingester and embedded store.
func webhookStack(t *testing.T) (http.Handler, store.Store) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	st, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := &ingest.Ingester{Store: st, Blobs: st, Publisher: bus.Discard{}, Clock: clk, Log: quiet}
	return Webhooks(in, []channel.Webhook{
		whatsapp.Webhook{AppSecret: channel.Fixed(benchAppSecret), VerifyToken: channel.Fixed("verify-me")},
		apple.Webhook{MSPID: benchMSPID, Secret: channel.Fixed(base64.StdEncoding.EncodeToString(benchAppleSecret))},
	}, clk, quiet), st
}

func appleToken(t *testing.T, key []byte, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestWebhooks(t *testing.T) {
	text := whatsAppBatch(1)
	appleText := []byte(`{"v":1,"id":"5c1e8d2a-7f3b-4e6a-9d0c-1b2a3c4d5e6f","type":"text","sourceId":"urn:mbid:AQ","destinationId":"biz","body":"hi"}`)
	appleHeaders := func(t *testing.T, auth string) map[string]string {
		return map[string]string{"Authorization": auth, "id": "5c1e8d2a-7f3b-4e6a-9d0c-1b2a3c4d5e6f", "source-id": "urn:mbid:AQ",
			"destination-id": "biz", "Content-Encoding": "gzip"}
	}
	goodAuth := func(t *testing.T) string {
		return appleToken(t, benchAppleSecret, jwt.MapClaims{"aud": benchMSPID, "iat": 1795510800})
	}
	bomb := gz(bytes.Repeat([]byte{'a'}, 64<<20))
	tests := []struct {
		name       string
		method     string
		path       string
		headers    func(t *testing.T) map[string]string
		body       []byte
		wantStatus int
		wantBody   string
		wantEvents int
	}{
		{"whatsapp handshake", "GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me", nil, nil, 200, "1158201444", 0},
		{"whatsapp handshake with a wrong token", "GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope", nil, nil, 403, "", 0},
		{"whatsapp text", "POST", "/webhooks/whatsapp", func(*testing.T) map[string]string { return map[string]string{"X-Hub-Signature-256": sign(text)} }, text, 200, "", 1},
		{"whatsapp without a signature", "POST", "/webhooks/whatsapp", nil, text, 401, "X-Hub-Signature-256", 0},
		{"whatsapp with a signature of another body", "POST", "/webhooks/whatsapp", func(*testing.T) map[string]string {
			return map[string]string{"X-Hub-Signature-256": sign([]byte("{}"))}
		}, text, 401, "", 0},
		{"whatsapp signed garbage", "POST", "/webhooks/whatsapp", func(*testing.T) map[string]string {
			return map[string]string{"X-Hub-Signature-256": sign([]byte("not json"))}
		}, []byte("not json"), 400, "invalid_request", 0},
		{"whatsapp over the cap", "POST", "/webhooks/whatsapp", nil, bytes.Repeat([]byte{' '}, whatsapp.MaxBody+1), 413, "too_large", 0},
		{"apple text", "POST", "/webhooks/apple/message", func(t *testing.T) map[string]string { return appleHeaders(t, goodAuth(t)) }, gz(appleText), 200, "", 1},
		{"apple without authorization", "POST", "/webhooks/apple/message", func(t *testing.T) map[string]string { return appleHeaders(t, "") }, gz(appleText), 401, "", 0},
		{"apple forged token", "POST", "/webhooks/apple/message", func(t *testing.T) map[string]string {
			return appleHeaders(t, appleToken(t, []byte("another secret, another key...."), jwt.MapClaims{"aud": benchMSPID}))
		}, gz(appleText), 403, "", 0},
		{"apple token for another MSP", "POST", "/webhooks/apple/message", func(t *testing.T) map[string]string {
			return appleHeaders(t, appleToken(t, benchAppleSecret, jwt.MapClaims{"aud": "someone-else"}))
		}, gz(appleText), 403, "", 0},
		{"apple truncated gzip", "POST", "/webhooks/apple/message", func(t *testing.T) map[string]string { return appleHeaders(t, goodAuth(t)) }, gz(appleText)[:20], 400, "", 0},
		{"apple gzip bomb", "POST", "/webhooks/apple/message", func(t *testing.T) map[string]string { return appleHeaders(t, goodAuth(t)) }, bomb, 413, "too_large", 0},
		{"apple body missing its type", "POST", "/webhooks/apple/message", func(t *testing.T) map[string]string { return appleHeaders(t, goodAuth(t)) },
			gz([]byte(`{"v":1,"id":"5c1e8d2a-7f3b-4e6a-9d0c-1b2a3c4d5e6f","sourceId":"urn:mbid:AQ","destinationId":"biz"}`)), 400, "", 0},
		{"unknown webhook", "POST", "/webhooks/line", nil, []byte("{}"), 404, "not_found", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st := webhookStack(t)
			r := httptest.NewRequest(tt.method, tt.path, bytes.NewReader(tt.body))
			if tt.headers != nil {
				for k, v := range tt.headers(t) {
					if v != "" {
						r.Header.Set(k, v)
					}
				}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			if !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("body %q does not contain %q", w.Body, tt.wantBody)
			}
			evs, err := st.Events(context.Background(), "", 10)
			if err != nil || len(evs) != tt.wantEvents {
				t.Errorf("%d events stored (%v), want %d", len(evs), err, tt.wantEvents)
			}
		})
	}
}

// sender answers with a fixed result, for the API's own behaviour.
type sender struct{ req *message.SendRequest }

func (s sender) Send(_ context.Context, req message.SendRequest) (message.SendResult, error) {
	*s.req = req
	if req.Message.Text == "fail" {
		return message.SendResult{}, &message.Error{Code: message.CodeWindowClosed, Message: "closed"}
	}
	return message.SendResult{ID: "msg_1", Status: "sent", Channel: req.Channel}, nil
}

func (s sender) Cancel(_ context.Context, id string) (message.Record, error) {
	if id != "msg_scheduled" {
		return message.Record{}, message.Errorf(message.CodeNotFound, "no message %q", id)
	}
	return message.Record{ID: id, Status: message.StatusCancelled}, nil
}

func TestAPIRequests(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got message.SendRequest
	h := API(sender{&got}, st, nil, quiet, nil)
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{"send", "POST", "/v1/messages", `{"channel":"apple","businessId":"b","to":"c","message":{"type":"text","text":"hi"}}`, 202, `"id":"msg_1"`},
		{"use case error", "POST", "/v1/messages", `{"channel":"apple","businessId":"b","to":"c","message":{"type":"text","text":"fail"}}`, 422, `"code":"window_closed"`},
		{"malformed JSON", "POST", "/v1/messages", `{"channel":`, 400, `"code":"invalid_request"`},
		{"not an object", "POST", "/v1/messages", `[1,2]`, 400, `"code":"invalid_request"`},
		{"two objects", "POST", "/v1/messages", `{} {}`, 400, `more than one JSON value`},
		{"empty body", "POST", "/v1/messages", ``, 400, `the body is empty`},
		{"unknown field", "POST", "/v1/messages", `{"chanel":"apple"}`, 400, `"field":"chanel"`},
		{"unknown nested field", "POST", "/v1/messages", `{"message":{"type":"text","txt":"x"}}`, 400, `unknown field`},
		{"wrong type", "POST", "/v1/messages", `{"to":5}`, 400, `"field":"to"`},
		{"over the cap", "POST", "/v1/messages", `{"channel":"` + strings.Repeat("a", MaxRequestBody) + `"}`, 413, `"code":"too_large"`},
		{"missing message", "GET", "/v1/messages/msg_none", ``, 404, `"code":"not_found"`},
		{"malformed sendAt", "POST", "/v1/messages", `{"sendAt":"tomorrow at nine"}`, 400, `"field":"sendAt","problem":"\"tomorrow at nine\" is not a time: write RFC 3339`},
		{"cancel", "DELETE", "/v1/messages/msg_scheduled", ``, 200, `"status":"cancelled"`},
		{"cancel a missing message", "DELETE", "/v1/messages/msg_none", ``, 404, `"code":"not_found"`},
		{"unknown channel in a conversation", "GET", "/v1/conversations/sms/b/c", ``, 400, `"field":"channel"`},
		{"empty conversation", "GET", "/v1/conversations/whatsapp/b/c", ``, 200, `"window":{"open":false}`},
		{"events", "GET", "/v1/events", ``, 200, `"events":[]`},
		{"events limit", "GET", "/v1/events?limit=0", ``, 400, `"field":"limit"`},
		{"unknown route", "GET", "/v1/nothing", ``, 404, `"code":"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Fatalf("got %d %s, want %d containing %s", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if w.Code >= 400 {
				var e struct {
					Error *message.Error `json:"error"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("the error is not in the API's format: %s", w.Body)
				}
			}
		})
	}
}
