package apple

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// testSecret has bytes whose Base64 differs between the standard and the
// URL-safe alphabets, and a length that needs padding.
var testSecret = append(bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 10), 0x3e, 0x3f)

func TestDecodeSecret(t *testing.T) {
	std := base64.StdEncoding.EncodeToString(testSecret)
	if !strings.ContainsAny(std, "+/") || !strings.HasSuffix(std, "=") {
		t.Fatalf("test secret %q does not exercise both alphabets and padding", std)
	}
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"standard, padded", std, false},
		{"standard, unpadded", base64.RawStdEncoding.EncodeToString(testSecret), false},
		{"URL-safe, padded", base64.URLEncoding.EncodeToString(testSecret), false},
		{"URL-safe, unpadded", base64.RawURLEncoding.EncodeToString(testSecret), false},
		{"surrounded by white space", " " + std + "\n", false},
		{"empty", "", true},
		{"blank", "  \n", true},
		{"not Base64", "s3cr3t!passphrase", true},
		{"mixed alphabets", "+/-_" + std[4:], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSecret(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("DecodeSecret(%q) = %x, want an error", tt.in, got)
				}
				if s := strings.TrimSpace(tt.in); s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error %q quotes the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeSecret(%q): %v", tt.in, err)
			}
			if !bytes.Equal(got, testSecret) {
				t.Errorf("DecodeSecret(%q) = %x, want %x", tt.in, got, testSecret)
			}
		})
	}
}
