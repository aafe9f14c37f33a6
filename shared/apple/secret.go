package apple

import (
	"encoding/base64"
	"errors"
	"strings"
)

// DecodeSecret decodes the API secret as Apple issues it (Base64) into the
// bytes that key the HMAC of every token. It accepts the standard and the
// URL-safe alphabets, with or without padding. The error never quotes the
// secret.
func DecodeSecret(b64 string) ([]byte, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, errors.New("apple: MSP secret is empty")
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	return nil, errors.New("apple: MSP secret is not Base64")
}
