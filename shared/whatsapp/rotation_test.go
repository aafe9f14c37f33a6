package whatsapp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestWebhookAsksForARotatedSecret: a delivery or a handshake the value
// held does not match is checked against the value the secret gives when
// asked again; one that presents no signature, or is no subscription,
// asks nothing of the secret.
func TestWebhookAsksForARotatedSecret(t *testing.T) {
	// The secret holds held; asked again, it gives rotated.
	var asked int
	rotating := func(held, rotated string) func(context.Context, func(string) bool) bool {
		return func(_ context.Context, match func(string) bool) bool {
			if match(held) {
				return true
			}
			asked++
			return match(rotated)
		}
	}
	h := Webhook{AppSecret: rotating("app-secret-held", "app-secret-rotated"), VerifyToken: rotating("verify-held", "verify-rotated")}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	body := `{"object":"whatsapp_business_account","entry":[]}`
	sign := func(secret string) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(body))
		return "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}
	deliveries := []struct {
		name      string
		signature string
		ok        bool
		asked     int
	}{
		{"signed with the value held", sign("app-secret-held"), true, 0},
		{"signed with the rotated value", sign("app-secret-rotated"), true, 1},
		{"signed with neither", sign("forged"), false, 1},
		{"no signature", "", false, 0},
	}
	for _, d := range deliveries {
		asked = 0
		r := httptest.NewRequest(http.MethodPost, webhookPath, strings.NewReader(body))
		if d.signature != "" {
			r.Header.Set("X-Hub-Signature-256", d.signature)
		}
		_, err := h.receive(r, time.Now(), log)
		if (err == nil) != d.ok || asked != d.asked {
			t.Errorf("%s: %v after %d requests for another value, want ok=%v after %d", d.name, err, asked, d.ok, d.asked)
		}
	}
	handshakes := []struct {
		name, query string
		ok          bool
		asked       int
	}{
		{"the token held", "hub.mode=subscribe&hub.challenge=42&hub.verify_token=verify-held", true, 0},
		{"the rotated token", "hub.mode=subscribe&hub.challenge=42&hub.verify_token=verify-rotated", true, 1},
		{"another token", "hub.mode=subscribe&hub.challenge=42&hub.verify_token=guess", false, 1},
		{"no subscription", "hub.mode=unsubscribe&hub.challenge=42&hub.verify_token=guess", false, 0},
	}
	for _, s := range handshakes {
		asked = 0
		challenge, ok := h.handshake(httptest.NewRequest(http.MethodGet, webhookPath+"?"+s.query, nil), log)
		if ok != s.ok || (ok && challenge != "42") || asked != s.asked {
			t.Errorf("%s: %q %v after %d requests for another value, want ok=%v after %d", s.name, challenge, ok, asked, s.ok, s.asked)
		}
	}
}
