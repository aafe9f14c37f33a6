package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
)

// VerifyChallenge answers Meta's verification handshake, the GET Meta sends
// when a callback URL is saved: q is the request's query. It returns the
// hub.challenge to echo back with HTTP 200 when hub.mode is "subscribe" and
// hub.verify_token equals verifyToken; otherwise ok is false and the caller
// answers 403. An empty verifyToken verifies nothing.
func VerifyChallenge(q url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || q.Get("hub.mode") != "subscribe" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	challenge = q.Get("hub.challenge")
	return challenge, challenge != ""
}

// ValidSignature reports whether header, the X-Hub-Signature-256 of a
// webhook, is "sha256=" followed by the lowercase hex HMAC-SHA256 of body
// keyed with the app secret, exactly as Meta writes it. body must be the
// bytes as received: Meta signs its own escaped form of the JSON, which a
// re-encoding would not reproduce. An empty appSecret validates nothing.
func ValidSignature(body []byte, header, appSecret string) bool {
	if appSecret == "" {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(header), []byte(want))
}
