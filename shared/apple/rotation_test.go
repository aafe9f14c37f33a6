package apple

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestVerifyAsksForAnotherSecretOnlyForASignature: a token signed with
// another secret asks the secret for another value (a rotation), a token
// refused for anything else does not, and a secret that has no value to
// give refuses.
func TestVerifyAsksForAnotherSecretOnlyForASignature(t *testing.T) {
	const mspID = "7d4e2a10-5c3b-4f8e-9a61-0c2b3d4e5f60"
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	held, rotated := []byte("msp-secret-held-of-thirty-two-by"), []byte("msp-secret-rotated-thirty-two-by")
	token := func(key []byte, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// The secret holds held; asked again, it gives rotated.
	var asked int
	rotating := func(_ context.Context, match func(string) bool) bool {
		if match(base64.StdEncoding.EncodeToString(held)) {
			return true
		}
		asked++
		return match(base64.StdEncoding.EncodeToString(rotated))
	}
	steps := []struct {
		name  string
		token string
		err   error
		asked int
	}{
		{"signed with the value held", token(held, jwt.MapClaims{"aud": mspID, "iat": now.Unix()}), nil, 0},
		{"signed with the rotated value", token(rotated, jwt.MapClaims{"aud": mspID, "iat": now.Unix()}), nil, 1},
		{"signed with neither", token([]byte("forged-secret-of-thirty-two-byte"), jwt.MapClaims{"aud": mspID, "iat": now.Unix()}), ErrBadToken, 1},
		{"another audience", token(held, jwt.MapClaims{"aud": "someone-else", "iat": now.Unix()}), ErrBadToken, 0},
		{"too old", token(held, jwt.MapClaims{"aud": mspID, "iat": now.Add(-time.Hour).Unix()}), ErrBadToken, 0},
		{"not a token", "not-a-token", ErrBadToken, 0},
		{"no token", "", ErrNoAuthorization, 0},
	}
	h := Webhook{MSPID: mspID, Secret: rotating}
	for _, s := range steps {
		asked = 0
		r := httptest.NewRequest(http.MethodPost, "/webhooks/apple/message", nil)
		if s.token != "" {
			r.Header.Set("Authorization", "Bearer "+s.token)
		}
		if err := h.verify(r, now); !errors.Is(err, s.err) || (s.err == nil) != (err == nil) || asked != s.asked {
			t.Errorf("%s: %v after %d requests for another value, want %v after %d", s.name, err, asked, s.err, s.asked)
		}
	}
	unavailable := Webhook{MSPID: mspID, Secret: func(context.Context, func(string) bool) bool { return false }}
	r := httptest.NewRequest(http.MethodPost, "/webhooks/apple/message", nil)
	r.Header.Set("Authorization", "Bearer "+token(held, jwt.MapClaims{"aud": mspID, "iat": now.Unix()}))
	if err := unavailable.verify(r, now); !errors.Is(err, ErrBadToken) {
		t.Errorf("a secret without a value: %v, want %v", err, ErrBadToken)
	}
}
