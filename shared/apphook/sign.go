// Package apphook pushes parley's events to the app's own HTTPS endpoint,
// beside EventBridge: one POST per event, its body the event's JSON (as
// GET /v1/events gives it), signed the Standard Webhooks way so that the app
// can tell parley's requests from anyone's and reject replays; delivered in
// order within a conversation, retried on a schedule that spans more than a
// day, then parked where the API lists and redrives it.
//
// The ports are Parking (where deliveries that ran out of attempts wait);
// Dispatcher delivers in this process (the local stack), Queue hands events
// to an SQS FIFO queue grouped by conversation and Consumer drains it (AWS).
package apphook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts a secret written the Standard Webhooks way: whsec_
// followed by the key's bytes in Base64.
const SecretPrefix = "whsec_"

// Tolerance is how far a request's timestamp may be from the receiver's
// clock before Verify calls it a replay.
const Tolerance = 5 * time.Minute

// ParseSecret reads whsec_<Base64 of at least 24 bytes>, the form Standard
// Webhooks libraries take, and returns the HMAC key.
func ParseSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, errors.New("must start with " + SecretPrefix + " followed by Base64, e.g. " + SecretPrefix + "$(openssl rand -base64 32)")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("must be " + SecretPrefix + " followed by Base64: " + err.Error())
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("must hold 24 to 64 bytes after %s, it holds %d", SecretPrefix, len(key))
	}
	return key, nil
}

// Sign returns the webhook-signature of one request: v1, then the Base64
// HMAC-SHA256 under key of id, timestamp (Unix seconds) and body joined by
// dots.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, timestamp, body))
}

func mac(key []byte, id string, timestamp int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Errors of Verify.
var (
	ErrMissingHeaders = errors.New("apphook: webhook-id, webhook-timestamp and webhook-signature are required")
	ErrTimestamp      = errors.New("apphook: webhook-timestamp is not within the tolerance of now (a replay, or a clock far off)")
	ErrSignature      = errors.New("apphook: no webhook-signature matches")
)

// Verify checks a request as the app should: the three headers present,
// the timestamp within Tolerance of now, and one of the space-separated
// v1 signatures matching body (compared in constant time).
func Verify(key []byte, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrTimestamp
	}
	want := mac(key, id, sec, body)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
