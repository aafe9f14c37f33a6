package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/whatsapp"
)

const benchAppSecret = "bench-app-secret"

var benchAppleSecret = []byte("0123456789abcdef0123456789abcdef")

const benchMSPID = "7d4e2a10-5c3b-4f8e-9a61-0c2b3d4e5f60"

// whatsAppBatch returns a webhook with n text messages, as Meta batches them.
func whatsAppBatch(n int) []byte {
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = fmt.Sprintf(`{"from":"447700900123","id":"wamid.BENCH%06d","timestamp":"1795510800","type":"text","text":{"body":"Is the 14:00 slot still free? Café au lait"}}`, i)
	}
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sam"},"wa_id":"447700900123"}],"messages":[` +
		strings.Join(msgs, ",") + `]}}]}]}`)
}

func sign(body []byte) string {
	mac := hmac.New(sha256.New, []byte(benchAppSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// BenchmarkWhatsAppIngestCPU is parley's webhook CPU per request, no I/O:
// verify the signature, parse, normalise. Compare with
// BenchmarkWhatsAppFloor over the same body.
func BenchmarkWhatsAppIngestCPU(b *testing.B) {
	for _, n := range []int{1, 100} {
		body := whatsAppBatch(n)
		sig := sign(body)
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if !whatsapp.ValidSignature(body, sig, benchAppSecret) {
					b.Fatal("bad signature")
				}
				p, err := whatsapp.Parse(body, time.Unix(1795510800, 0))
				if err != nil || len(p.Items) != n {
					b.Fatalf("parse: %v, %d items", err, len(p.Items))
				}
			}
		})
	}
}

// BenchmarkWhatsAppFloor is the least any verifier must do: HMAC-SHA256
// of the body and a generic encoding/json decode of it.
func BenchmarkWhatsAppFloor(b *testing.B) {
	for _, n := range []int{1, 100} {
		body := whatsAppBatch(n)
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				mac := hmac.New(sha256.New, []byte(benchAppSecret))
				mac.Write(body)
				_ = mac.Sum(nil)
				var v any
				if err := json.Unmarshal(body, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// nopIngester stands in for the store so that the handler is measured alone.
type nopIngester struct{}

func (nopIngester) Ingest(_ context.Context, items []message.InboundItem) (ingest.Result, error) {
	return ingest.Result{Stored: len(items)}, nil
}

// BenchmarkWhatsAppHandler is the whole webhook handler without storage.
func BenchmarkWhatsAppHandler(b *testing.B) {
	h := Webhooks(nopIngester{}, []channel.Webhook{whatsapp.Webhook{AppSecret: channel.Fixed(benchAppSecret)}}, clock.System{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, n := range []int{1, 100} {
		body := whatsAppBatch(n)
		sig := sign(body)
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				r := httptest.NewRequest("POST", "/webhooks/whatsapp", bytes.NewReader(body))
				r.Header.Set("X-Hub-Signature-256", sig)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

func appleRequest(b *testing.B) ([]byte, http.Header) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"v":1,"id":"5c1e8d2a-7f3b-4e6a-9d0c-1b2a3c4d5e6f","type":"text","sourceId":"urn:mbid:AQAAY1x/Wq+Lr0c=","destinationId":"3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70","locale":"en_US","body":"Hi! Do you have the blue tee in size M?"}`))
	zw.Close()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": benchMSPID, "iat": 1795510800}).SignedString(benchAppleSecret)
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+tok)
	h.Set("id", "5c1e8d2a-7f3b-4e6a-9d0c-1b2a3c4d5e6f")
	h.Set("source-id", "urn:mbid:AQAAY1x/Wq+Lr0c=")
	h.Set("destination-id", "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70")
	h.Set("capability-list", "QUICK,LIST,TIME")
	h.Set("Content-Encoding", "gzip")
	return buf.Bytes(), h
}

// BenchmarkAppleIngestCPU: verify the JWT, gunzip with caps, parse.
func BenchmarkAppleIngestCPU(b *testing.B) {
	body, h := appleRequest(b)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := apple.VerifyToken(h.Get("Authorization"), benchAppleSecret, benchMSPID, time.Unix(1795510800, 0)); err != nil {
			b.Fatal(err)
		}
		raw, err := apple.ReadBody(bytes.NewReader(body), "gzip", apple.MaxWebhookBody, apple.MaxWebhookBodyInflated)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := apple.Parse(h, raw, time.Unix(1795510800, 0)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppleFloor: HMAC-SHA256 over the token's signing input, gunzip,
// generic JSON decode.
func BenchmarkAppleFloor(b *testing.B) {
	body, h := appleRequest(b)
	tok := strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
	input := tok[:strings.LastIndexByte(tok, '.')]
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		mac := hmac.New(sha256.New, benchAppleSecret)
		mac.Write([]byte(input))
		_ = mac.Sum(nil)
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(zr)
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatal(err)
		}
	}
}
