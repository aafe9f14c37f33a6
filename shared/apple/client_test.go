package apple

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/safefetch"
)

var clientNow = time.Date(2024, 5, 29, 16, 26, 40, 0, time.UTC)

// localFetch fetches from the test servers on 127.0.0.1, as the local
// stack's fetcher does.
var localFetch = safefetch.New(safefetch.Config{AllowLocal: true})

func newClient(url string) *Client {
	return &Client{
		Fetch:   localFetch,
		BaseURL: url + "/v1",
		MSPID:   testMSPID,
		Secret:  testSecret,
		Now:     func() time.Time { return clientNow },
	}
}

func outgoing(platformID string) message.Outgoing {
	return message.Outgoing{
		MessageID:         "msg_1",
		BusinessID:        testBusiness,
		To:                testCustomer,
		Message:           message.Message{Type: "text", Text: "Your table is ready"},
		PlatformMessageID: platformID,
	}
}

func TestClientSend(t *testing.T) {
	for _, tt := range []struct {
		name       string
		platformID string
	}{
		{"chosen id", "0f6d1d8e-4a1b-4a2e-9c7d-5b1e2f3a4c5d"},
		{"new id", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			var gotBody []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				gotBody, _ = io.ReadAll(r.Body)
			}))
			defer srv.Close()

			id, err := newClient(srv.URL).Send(context.Background(), outgoing(tt.platformID))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if tt.platformID != "" && id != tt.platformID {
				t.Errorf("Send = %q, want the chosen id %q", id, tt.platformID)
			}
			if len(id) != 36 {
				t.Errorf("Send = %q, want a UUID", id)
			}
			if got.Method != http.MethodPost || got.URL.Path != "/v1/message" {
				t.Errorf("request = %s %s, want POST /v1/message", got.Method, got.URL.Path)
			}
			for name, want := range map[string]string{
				"id":             id,
				"Source-Id":      testBusiness,
				"Destination-Id": testCustomer,
				"Content-Type":   "application/json",
			} {
				if v := got.Header.Get(name); v != want {
					t.Errorf("header %s = %q, want %q", name, v, want)
				}
			}
			if v := got.Header.Get("auto-reply"); v != "" {
				t.Errorf("header auto-reply = %q, want none", v)
			}
			token, ok := strings.CutPrefix(got.Header.Get("Authorization"), "Bearer ")
			if !ok {
				t.Fatalf("Authorization = %q, want a bearer token", got.Header.Get("Authorization"))
			}
			claims := jwt.MapClaims{}
			if _, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return testSecret, nil },
				jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(testMSPID)); err != nil {
				t.Fatalf("token: %v", err)
			}
			if claims["iat"] != float64(clientNow.Unix()) {
				t.Errorf("iat = %v, want %d", claims["iat"], clientNow.Unix())
			}
			want := `{"v":1,"id":"` + id + `","type":"text","sourceId":"` + testBusiness +
				`","destinationId":"` + testCustomer + `","body":"Your table is ready"}`
			if string(gotBody) != want {
				t.Errorf("body =\n%s\nwant\n%s", gotBody, want)
			}
		})
	}
}

func TestClientSendMintsATokenPerRequest(t *testing.T) {
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens = append(tokens, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	c := newClient(srv.URL)
	sec := int64(0)
	c.Now = func() time.Time { sec++; return clientNow.Add(time.Duration(sec) * time.Second) }
	for range 2 {
		if _, err := c.Send(context.Background(), outgoing("")); err != nil {
			t.Fatal(err)
		}
	}
	if len(tokens) != 2 || tokens[0] == tokens[1] {
		t.Errorf("tokens = %q, want a fresh one per request", tokens)
	}
}

func TestClientSendErrors(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		body          string
		retryAfter    string
		wantCode      message.Code
		wantRetryable bool
		wantAfter     time.Duration
		wantInMessage string
	}{
		{"400", 400, "Bad Request: body is required for type text", "", message.CodePlatformRejected, false, 0, "body is required"},
		{"401", 401, "", "", message.CodeUnauthorized, false, 0, "MSP secret"},
		{"403", 403, "Forbidden", "", message.CodeUnauthorized, false, 0, "MSP id"},
		{"404", 404, "", "", message.CodePlatformRejected, false, 0, "destination-id not recognised"},
		{"410", 410, "Gone", "", message.CodePlatformRejected, false, 0, "HTTP 410"},
		{"429 with Retry-After", 429, "", "5", message.CodePlatformUnavailable, true, 5 * time.Second, "HTTP 429"},
		{"500", 500, "Internal Server Error", "", message.CodeDeliveryUnknown, false, 0, "HTTP 500"},
		{"502", 502, "Bad Gateway", "", message.CodeDeliveryUnknown, false, 0, "may have accepted"},
		{"503 with Retry-After", 503, "", "30", message.CodePlatformUnavailable, true, 30 * time.Second, "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()

			_, err := newClient(srv.URL).Send(context.Background(), outgoing(""))
			var e *message.Error
			if !errors.As(err, &e) {
				t.Fatalf("Send = %v, want a *message.Error", err)
			}
			if e.Code != tt.wantCode || e.Retryable != tt.wantRetryable || e.RetryAfter != tt.wantAfter {
				t.Errorf("Send = code %s, retryable %v, retry after %v; want %s, %v, %v", e.Code, e.Retryable, e.RetryAfter, tt.wantCode, tt.wantRetryable, tt.wantAfter)
			}
			if e.Platform == nil || e.Platform.HTTPStatus != tt.status || e.Platform.Details != tt.body {
				t.Errorf("Platform = %+v, want status %d and details %q", e.Platform, tt.status, tt.body)
			}
			if !strings.Contains(e.Message, tt.wantInMessage) {
				t.Errorf("Message = %q, want it to mention %q", e.Message, tt.wantInMessage)
			}
		})
	}
}

func TestClientSendCapsDetails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, strings.Repeat("é", 10000))
	}))
	defer srv.Close()
	_, err := newClient(srv.URL).Send(context.Background(), outgoing(""))
	var e *message.Error
	if !errors.As(err, &e) || e.Platform == nil {
		t.Fatalf("Send = %v, want a *message.Error", err)
	}
	if n := len(e.Platform.Details); n == 0 || n > maxDetails {
		t.Errorf("len(Details) = %d, want 1..%d", n, maxDetails)
	}
}

// TestClientSendUnavailable: only a failure before the request was written
// is retryable; a timeout or a reset after it is delivery_unknown.
func TestClientSendUnavailable(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	}))
	defer reset.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name      string
		client    *Client
		wantCode  message.Code
		wantRetry bool
	}{
		{"timeout after the request was written", func() *Client {
			c := newClient(slow.URL)
			c.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
			return c
		}(), message.CodeDeliveryUnknown, false},
		{"reset after the request was written", newClient(reset.URL), message.CodeDeliveryUnknown, false},
		{"connection refused", newClient(closed.URL), message.CodePlatformUnavailable, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.Send(context.Background(), outgoing(""))
			var e *message.Error
			if !errors.As(err, &e) {
				t.Fatalf("Send = %v, want a *message.Error", err)
			}
			if e.Code != tt.wantCode || e.Retryable != tt.wantRetry {
				t.Errorf("Send = code %s, retryable %v; want %s, retryable %v", e.Code, e.Retryable, tt.wantCode, tt.wantRetry)
			}
			if e.Platform == nil || e.Platform.HTTPStatus != 0 {
				t.Errorf("Platform = %+v, want HTTP status 0", e.Platform)
			}
		})
	}
}

func TestClientSendRefusesBeforeSending(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()

	list := outgoing("")
	list.Message = message.Message{Type: message.TypeReaction}
	noSecret := newClient(srv.URL)
	noSecret.Secret = nil
	noURL := newClient(srv.URL)
	noURL.BaseURL = ""
	tests := []struct {
		name   string
		client *Client
		o      message.Outgoing
	}{
		{"unsupported type", newClient(srv.URL), list},
		{"no secret", noSecret, outgoing("")},
		{"no gateway URL", noURL, outgoing("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.client.Send(context.Background(), tt.o); err == nil {
				t.Error("Send succeeded")
			}
		})
	}
	if calls != 0 {
		t.Errorf("the gateway got %d requests, want none", calls)
	}
}

// gateway records the requests of a fake MSP gateway that also serves
// images under /img/.
type gateway struct {
	srv   *httptest.Server
	paths []string
	body  []byte
}

func newGateway(t *testing.T, images map[string]func(http.ResponseWriter)) *gateway {
	g := &gateway{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, ok := strings.CutPrefix(r.URL.Path, "/img/"); ok {
			if serve := images[name]; serve != nil {
				serve(w)
				return
			}
			http.NotFound(w, r)
			return
		}
		g.paths = append(g.paths, r.URL.Path)
		g.body, _ = io.ReadAll(r.Body)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func TestClientSendInteractive(t *testing.T) {
	const id = "0f6d1d8e-4a1b-4a2e-9c7d-5b1e2f3a4c5d"
	logo := png(64)
	g := newGateway(t, map[string]func(http.ResponseWriter){
		"logo.png": func(w http.ResponseWriter) { w.Write(logo) },
	})
	var keyFor, sessionFor string
	c := newClient(g.srv.URL)
	c.PayBaseURL = "https://parley.example"
	c.AuthKey = func(_ context.Context, requestID string) (string, error) { keyFor = requestID; return "BKEY", nil }
	c.MerchantSession = func(_ context.Context, initiativeContext string) (json.RawMessage, error) {
		sessionFor = initiativeContext
		return json.RawMessage(`{"nonce":"n1"}`), nil
	}
	byURL := signIn
	byURL.Images = []message.Image{{ID: "logo", URL: g.srv.URL + "/img/logo.png"}}

	tests := []struct {
		name     string
		m        message.Message
		wantPath string
		// wantIn are strings the body must hold.
		wantIn []string
	}{
		{"list", fruitList, "/v1/message", []string{`"listPicker"`, `"requestIdentifier":"` + id + `"`}},
		{"auth with a fetched image", byURL, "/v1/authenticate", []string{
			`"responseEncryptionKey":"BKEY"`,
			`"images":[{"identifier":"logo","data":"` + base64.StdEncoding.EncodeToString(logo) + `"}]`,
		}},
		{"Apple Pay", applePay, "/v1/message", []string{
			`"merchantSession":{"nonce":"n1"}`,
			`"paymentGatewayUrl":"https://parley.example/webhooks/apple/pay/paymentGateway"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.paths = nil
			o := outgoing(id)
			o.Message = tt.m
			if _, err := c.Send(context.Background(), o); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if len(g.paths) != 1 || g.paths[0] != tt.wantPath {
				t.Fatalf("gateway requests = %q, want one to %s", g.paths, tt.wantPath)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(string(g.body), s) {
					t.Errorf("body does not hold %s:\n%s", s, g.body)
				}
			}
		})
	}
	if keyFor != id {
		t.Errorf("AuthKey got request id %q, want the message id %q", keyFor, id)
	}
	if sessionFor != "https://parley.example/webhooks/apple/pay/paymentGateway" {
		t.Errorf("MerchantSession got %q, want the payment gateway URL", sessionFor)
	}
}

func TestClientSendRefusesInteractive(t *testing.T) {
	g := newGateway(t, map[string]func(http.ResponseWriter){
		"missing.png": func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) },
		"broken.png":  func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) },
		"big.png":     func(w http.ResponseWriter) { w.Write(png(MaxImage + 1)) },
		"photo.png":   func(w http.ResponseWriter) { w.Write(append([]byte("GIF89a"), make([]byte, 100)...)) },
		"huge.jpg":    func(w http.ResponseWriter) { w.Write(jpeg(MaxRichLinkImage + 1)) },
	})
	image := func(name string) message.Message {
		m := fruitList
		m.Images = []message.Image{{ID: "apple", URL: g.srv.URL + "/img/" + name}}
		return m
	}
	link := cabinet
	link.Image = &message.Image{URL: g.srv.URL + "/img/huge.jpg"}
	hooked := newClient(g.srv.URL)
	hooked.AuthKey = func(context.Context, string) (string, error) { return "", errors.New("key store down") }
	hooked.MerchantSession = func(context.Context, string) (json.RawMessage, error) {
		return nil, &message.Error{Code: message.CodePlatformUnavailable, Message: "Apple Pay is down", Retryable: true}
	}
	noBase := newClient(g.srv.URL)
	noBase.MerchantSession = hooked.MerchantSession
	notObject := newClient(g.srv.URL)
	notObject.PayBaseURL = "https://parley.example"
	notObject.MerchantSession = func(context.Context, string) (json.RawMessage, error) { return json.RawMessage(`"s"`), nil }
	hooked.PayBaseURL = "https://parley.example"

	tests := []struct {
		name          string
		client        *Client
		m             message.Message
		wantCode      message.Code
		wantRetryable bool
		wantText      string
	}{
		{"image not found", newClient(g.srv.URL), image("missing.png"), message.CodeInvalidMessage, false, "message.images[0].url: fetching it answered HTTP 404"},
		{"image server failing", newClient(g.srv.URL), image("broken.png"), message.CodeInvalidMessage, true, "HTTP 502"},
		{"image over the limit", newClient(g.srv.URL), image("big.png"), message.CodeInvalidMessage, false, "over the limit of 1048576 bytes"},
		{"image a GIF", newClient(g.srv.URL), image("photo.png"), message.CodeInvalidMessage, false, "message.images[0].url: is not a JPEG or PNG image"},
		{"rich link image over 200 kB", newClient(g.srv.URL), link, message.CodeInvalidMessage, false, "message.image.url: is over the limit of 200000 bytes"},
		{"auth without a key store", newClient(g.srv.URL), signIn, message.CodeUnsupportedOnChannel, false, "key store"},
		{"auth key store failing", hooked, signIn, "", false, "key store down"},
		{"Apple Pay without a merchant identity", newClient(g.srv.URL), applePay, message.CodeUnsupportedOnChannel, false, "merchant identity"},
		{"Apple Pay without callback URLs", noBase, applePay, message.CodeUnsupportedOnChannel, false, "PayBaseURL"},
		{"Apple Pay session failing", hooked, applePay, message.CodePlatformUnavailable, true, "Apple Pay is down"},
		{"Apple Pay session not an object", notObject, applePay, "", false, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.paths = nil
			o := outgoing("")
			o.Message = tt.m
			_, err := tt.client.Send(context.Background(), o)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Send = %v, want it to say %q", err, tt.wantText)
			}
			var e *message.Error
			if tt.wantCode != "" && (!errors.As(err, &e) || e.Code != tt.wantCode || e.Retryable != tt.wantRetryable) {
				t.Errorf("Send = %v, want code %s, retryable %v", err, tt.wantCode, tt.wantRetryable)
			}
			if len(g.paths) != 0 {
				t.Errorf("the gateway got %q, want nothing", g.paths)
			}
		})
	}
}
