package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

func TestVerifyChallenge(t *testing.T) {
	const token = "s3cret-verify"
	tests := []struct {
		name          string
		query         string
		verifyToken   string
		wantChallenge string
		wantOK        bool
	}{
		{"valid", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=s3cret-verify", token, "1158201444", true},
		{"wrong token", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess", token, "", false},
		{"token prefix", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=s3cret", token, "", false},
		{"missing token", "hub.mode=subscribe&hub.challenge=1158201444", token, "", false},
		{"wrong mode", "hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=s3cret-verify", token, "", false},
		{"missing mode", "hub.challenge=1158201444&hub.verify_token=s3cret-verify", token, "", false},
		{"missing challenge", "hub.mode=subscribe&hub.verify_token=s3cret-verify", token, "", false},
		{"nothing configured", "hub.mode=subscribe&hub.challenge=1&hub.verify_token=", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			challenge, ok := VerifyChallenge(q, tt.verifyToken)
			if challenge != tt.wantChallenge || ok != tt.wantOK {
				t.Errorf("VerifyChallenge = %q, %v; want %q, %v", challenge, ok, tt.wantChallenge, tt.wantOK)
			}
		})
	}
}

func TestValidSignature(t *testing.T) {
	const secret = "app-secret"
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"text":{"body":"Caf\u00e9"}}}]}]}`)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	sum := hex.EncodeToString(mac.Sum(nil))

	tests := []struct {
		name   string
		body   []byte
		header string
		secret string
		want   bool
	}{
		{"valid", body, "sha256=" + sum, secret, true},
		// Digest computed outside Go: openssl dgst -sha256 -hmac app-secret.
		{"known digest", body, "sha256=a357fe245d77f098ad639cb0776c8c2bae7342c3dcd1b977f49f6c3d0749e5d2", secret, true},
		{"wrong secret", body, "sha256=" + sum, "other-secret", false},
		{"wrong digest", body, "sha256=" + strings.Repeat("0", 64), secret, false},
		{"missing prefix", body, sum, secret, false},
		{"sha1 prefix", body, "sha1=" + sum, secret, false},
		{"uppercase hex", body, "sha256=" + strings.ToUpper(sum), secret, false},
		{"truncated", body, "sha256=" + sum[:63], secret, false},
		{"empty header", body, "", secret, false},
		{"tampered body", []byte(strings.Replace(string(body), "Caf", "Cof", 1)), "sha256=" + sum, secret, false},
		{"re-encoded body", []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"text":{"body":"Café"}}}]}]}`),
			"sha256=" + sum, secret, false},
		{"no secret configured", body, "sha256=" + sum, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidSignature(tt.body, tt.header, tt.secret); got != tt.want {
				t.Errorf("ValidSignature = %v, want %v", got, tt.want)
			}
		})
	}
}
