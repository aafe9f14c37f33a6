// Package samples keeps the signed webhook samples of events/ usable on any
// day. A sample is signed once, with the local stack's credentials, and
// carries the time it was written: WhatsApp items their timestamp, Apple's
// token its iat. parley refuses both once they are old (a replay), so
// whatever feeds a sample to a function — the tests, make invoke — signs it
// again with the time of the run first.
package samples

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley/infra/local"
)

// Paths of the webhooks whose samples are signed.
const (
	whatsAppPath = "/webhooks/whatsapp"
	applePath    = "/webhooks/apple/message"
)

var waTimestamp = regexp.MustCompile(`"timestamp":"\d+"`)

// Restamp returns the Lambda Function URL event, a signed webhook of
// events/ingest/, as if it had been sent at at: a WhatsApp body with every
// item's timestamp moved to at and signed again (X-Hub-Signature-256), an
// Apple webhook with a new token issued at at. replace (old, new pairs) is
// applied to the webhook's body and header values first: a sample can
// become a new message.
//
// Only a sample that verifies with the local credentials is signed again: a
// sample of a bad signature or a missing token stays as bad as it is (its
// body is still edited). Any other event is returned as it is.
func Restamp(event []byte, at time.Time, replace ...string) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("samples: the event is not JSON: %w", err)
	}
	path, _ := ev["rawPath"].(string)
	headers, _ := ev["headers"].(map[string]any)
	bodyText, _ := ev["body"].(string)
	if (path != whatsAppPath && path != applePath) || headers == nil || bodyText == "" {
		return event, nil
	}
	r := strings.NewReplacer(replace...)
	for k, v := range headers {
		if s, ok := v.(string); ok && !strings.EqualFold(k, "authorization") && !strings.EqualFold(k, "x-hub-signature-256") {
			headers[k] = r.Replace(s)
		}
	}
	body := []byte(bodyText)
	if b64, _ := ev["isBase64Encoded"].(bool); b64 {
		var err error
		if body, err = base64.StdEncoding.DecodeString(bodyText); err != nil {
			return nil, fmt.Errorf("samples: body: %w", err)
		}
	}
	switch path {
	case whatsAppPath:
		sig := header(headers, "x-hub-signature-256")
		signed := sig != "" && hmac.Equal([]byte(sig), []byte(whatsAppSignature(body)))
		body = []byte(r.Replace(waTimestamp.ReplaceAllString(string(body), `"timestamp":"`+strconv.FormatInt(at.Unix(), 10)+`"`)))
		if signed {
			setHeader(headers, "x-hub-signature-256", whatsAppSignature(body))
		}
	case applePath:
		var err error
		if body, err = editGzip(body, r); err != nil {
			return nil, err
		}
		if appleSigned(header(headers, "authorization")) {
			token, err := AppleToken(at)
			if err != nil {
				return nil, err
			}
			setHeader(headers, "authorization", "Bearer "+token)
		}
	}
	if b64, _ := ev["isBase64Encoded"].(bool); b64 {
		ev["body"] = base64.StdEncoding.EncodeToString(body)
	} else {
		ev["body"] = string(body)
	}
	return json.MarshalIndent(ev, "", "  ")
}

// AppleToken is the token Apple would sign a webhook with at at, for the
// local stack's MSP: HS256 with the decoded secret over aud and iat.
func AppleToken(at time.Time) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": local.DefaultAppleMSPID, "iat": at.Unix()}).SignedString(appleSecret())
}

func appleSecret() []byte {
	key, err := base64.StdEncoding.DecodeString(local.DefaultAppleMSPSecret)
	if err != nil {
		panic("samples: the local Apple secret is not Base64: " + err.Error())
	}
	return key
}

// appleSigned reports whether authorization holds a token the local
// credentials signed, whenever it was issued.
func appleSigned(authorization string) bool {
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	_, err := jwt.Parse(strings.TrimSpace(token), func(*jwt.Token) (any, error) { return appleSecret(), nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithAudience(local.DefaultAppleMSPID))
	return err == nil
}

func whatsAppSignature(body []byte) string {
	mac := hmac.New(sha256.New, []byte(local.DefaultWhatsAppAppSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// editGzip applies r to a gzip body, or to a plain one.
func editGzip(body []byte, r *strings.Replacer) ([]byte, error) {
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		return []byte(r.Replace(string(body))), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("samples: body: %w", err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("samples: body: %w", err)
	}
	edited := r.Replace(string(plain))
	if edited == string(plain) {
		return body, nil
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(edited))
	zw.Close()
	return buf.Bytes(), nil
}

// header returns the value of name, matched without regard to case.
func header(h map[string]any, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// setHeader sets name under the key it already has, whatever its case.
func setHeader(h map[string]any, name, value string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			h[k] = value
			return
		}
	}
	h[name] = value
}
