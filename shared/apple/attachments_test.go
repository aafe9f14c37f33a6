package apple_test

import (
	"bytes"
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

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/message"
)

const mmcsCustomer = "urn:mbid:AQAAY3ZvTjGmQXk9p+e/Zu7x2Dhc9fN0kRr3Qa4lB1rBXbI8tKQvN5sLmW2o="

// files serves the bytes of its map under /<name>: with a Content-Length,
// or chunked when the name starts with "chunked-".
func files(t *testing.T, fs map[string][]byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		b, ok := fs[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(name, "chunked-") {
			w.Write(b[:1])
			w.(http.Flusher).Flush()
			w.Write(b[1:])
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestClientSendAttachments sends a text with an attachment from each
// source through the simulated gateway and reads back what it accepted:
// one U+FFFC per attachment, the current dictionary keys, and blobs that
// download and decrypt to the files.
func TestClientSendAttachments(t *testing.T) {
	m, sim := newMMCS(t)
	c := m.Client
	invoice := bytes.Repeat([]byte("%PDF-1.7 invoice "), 3000)
	label := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 500)
	manual := bytes.Repeat([]byte("manual "), 20000)
	receipt := []byte("receipt 42")
	web := files(t, map[string][]byte{"invoice.pdf": invoice, "chunked-manual.txt": manual})
	uploaded := map[string][]byte{"uploads/0123456789abcdef0123456789abcdef": label}
	c.Attachment = func(_ context.Context, key string) (io.ReadCloser, int64, error) {
		b, ok := uploaded[key]
		if !ok {
			return nil, 0, fmt.Errorf("key %s: %w", key, apple.ErrNoUpload)
		}
		return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
	}
	o := message.Outgoing{BusinessID: mmcsBusiness, To: mmcsCustomer, Message: message.Message{
		Type: message.TypeText, Text: "Your documents",
		Attachments: []message.OutgoingAttachment{
			{Name: "invoice.pdf", MimeType: "application/pdf", URL: web.URL + "/invoice.pdf"},
			{Name: "label.png", MimeType: "image/png", Upload: "uploads/0123456789abcdef0123456789abcdef"},
			{Name: "receipt.txt", MimeType: "text/plain", Data: receipt},
			{Name: "manual.txt", MimeType: "text/plain", URL: web.URL + "/chunked-manual.txt"},
		},
	}}
	if ps := apple.Validate(o.Message); len(ps) > 0 {
		t.Fatalf("Validate = %v", ps)
	}
	id, err := c.Send(context.Background(), o)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	sent := sim.Messages(mmcsCustomer)
	if len(sent) != 1 || sent[0].ID != id {
		t.Fatalf("the gateway accepted %d messages, want 1 with id %s", len(sent), id)
	}
	var body struct {
		Body        string            `json:"body"`
		Attachments []json.RawMessage `json:"attachments"`
	}
	if err := json.Unmarshal(sent[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if want := "Your documents" + strings.Repeat("\uFFFC", 4); body.Body != want {
		t.Errorf("body = %q, want %q", body.Body, want)
	}
	want := []struct {
		name, mime string
		data       []byte
	}{{"invoice.pdf", "application/pdf", invoice}, {"label.png", "image/png", label}, {"receipt.txt", "text/plain", receipt}, {"manual.txt", "text/plain", manual}}
	if len(body.Attachments) != len(want) {
		t.Fatalf("%d attachments, want %d", len(body.Attachments), len(want))
	}
	for i, raw := range body.Attachments {
		var keys map[string]any
		json.Unmarshal(raw, &keys)
		for _, k := range []string{"name", "mimeType", "size", "signature-base64", "url", "owner", "key"} {
			if _, ok := keys[k].(string); !ok {
				t.Errorf("attachment %d: %s is not a string in %s", i, k, raw)
			}
		}
		if len(keys) != 7 {
			t.Errorf("attachment %d has %d keys, want the 7 current ones: %s", i, len(keys), raw)
		}
		b, err := apple.ParseBlob(raw)
		if err != nil {
			t.Fatalf("attachment %d: ParseBlob: %v", i, err)
		}
		if b.Name != want[i].name || b.MimeType != want[i].mime {
			t.Errorf("attachment %d is %s %s, want %s %s", i, b.Name, b.MimeType, want[i].name, want[i].mime)
		}
		if got := fetch(t, m, b); !bytes.Equal(got, want[i].data) {
			t.Errorf("attachment %d: the blob decrypts to %d other bytes, want the %d of the file", i, len(got), len(want[i].data))
		}
	}
}

func TestClientSendAttachmentErrors(t *testing.T) {
	web := files(t, map[string][]byte{"empty.bin": {}})
	web5xx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	t.Cleanup(web5xx.Close)
	att := func(a message.OutgoingAttachment) message.Message {
		a.Name, a.MimeType = "f.bin", "application/octet-stream"
		return message.Message{Type: message.TypeText, Text: "file", Attachments: []message.OutgoingAttachment{a}}
	}
	tests := []struct {
		name      string
		m         message.Message
		secret    string
		wantCode  message.Code
		retryable bool
		wantText  string
	}{
		{"a URL that is not found", att(message.OutgoingAttachment{URL: web.URL + "/nothing"}), "", message.CodeInvalidMessage, false,
			"message.attachments[0].url: fetching it answered HTTP 404"},
		{"a URL whose server fails", att(message.OutgoingAttachment{URL: web5xx.URL}), "", message.CodeInvalidMessage, true,
			"message.attachments[0].url: fetching it answered HTTP 502"},
		{"an empty file", att(message.OutgoingAttachment{URL: web.URL + "/empty.bin"}), "", message.CodeInvalidMessage, false,
			"message.attachments[0].url: is empty"},
		{"no upload under the key", att(message.OutgoingAttachment{Upload: "uploads/ffff"}), "", message.CodeInvalidMessage, false,
			`message.attachments[0].upload: no file was uploaded under "uploads/ffff"`},
		{"preUpload refusing the token", att(message.OutgoingAttachment{Data: []byte("x")}), "another secret of thirty-two byt", message.CodeUnauthorized, false,
			"preUpload: the MSP gateway refused the credentials (HTTP 403)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, sim := newMMCS(t)
			c := m.Client
			if tt.secret != "" {
				c.Secret = []byte(tt.secret)
			}
			c.Attachment = func(context.Context, string) (io.ReadCloser, int64, error) { return nil, 0, apple.ErrNoUpload }
			_, err := c.Send(context.Background(), message.Outgoing{BusinessID: mmcsBusiness, To: mmcsCustomer, Message: tt.m})
			var e *message.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode || e.Retryable != tt.retryable {
				t.Fatalf("Send = %#v, want %s retryable %v", err, tt.wantCode, tt.retryable)
			}
			text := e.Message
			for _, p := range e.Details {
				text += " " + p.String()
			}
			if !strings.Contains(text, tt.wantText) {
				t.Errorf("Send = %s, want it to say %q", text, tt.wantText)
			}
			if n := len(sim.Messages(mmcsCustomer)); n != 0 {
				t.Errorf("the gateway accepted %d messages, want none", n)
			}
		})
	}
}

// TestClientSendRefusesInternalURLs: with the production fetcher, an
// image or attachment URL on parley's own network is refused naming the
// field, before anything is fetched or sent.
func TestClientSendRefusesInternalURLs(t *testing.T) {
	hits := 0
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Write([]byte("\x89PNG\r\n\x1a\nsecret"))
	}))
	t.Cleanup(internal.Close)
	port := internal.Listener.Addr().(*net.TCPAddr).Port
	for _, u := range []string{
		internal.URL + "/", fmt.Sprintf("https://127.0.0.1:%d/", port), fmt.Sprintf("https://localhost:%d/", port),
		fmt.Sprintf("https://[::ffff:127.0.0.1]:%d/", port), fmt.Sprintf("https://0.0.0.0:%d/", port),
		"https://169.254.169.254/latest/meta-data/",
	} {
		for _, m := range []message.Message{
			{Type: message.TypeText, Text: "file", Attachments: []message.OutgoingAttachment{{Name: "f.bin", MimeType: "application/octet-stream", URL: u}}},
			{Type: message.TypeRichLink, URL: "https://shop.example/", Title: "Shop", Image: &message.Image{URL: u}},
		} {
			m2, sim := newMMCS(t)
			c := m2.Client
			c.Fetch = nil // the strict fetcher of production
			_, err := c.Send(context.Background(), message.Outgoing{BusinessID: mmcsBusiness, To: mmcsCustomer, Message: m})
			var e *message.Error
			if !errors.As(err, &e) || e.Code != message.CodeInvalidMessage || len(e.Details) != 1 ||
				!strings.HasSuffix(e.Details[0].Field, ".url") || !strings.Contains(e.Details[0].Problem, "could not be fetched") {
				t.Errorf("%s %s: Send = %v, want invalid_message naming the url field", m.Type, u, err)
			}
			if n := len(sim.Messages(mmcsCustomer)); n != 0 {
				t.Errorf("%s: the gateway accepted %d messages", u, n)
			}
		}
	}
	if hits != 0 {
		t.Errorf("the internal server was fetched %d times, want 0", hits)
	}
}
