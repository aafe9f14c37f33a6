package appleauth_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/appleauth"
)

// A known-answer vector. The expected token was computed independently
// (pyca/cryptography: ECDH on SECP384R1, X963KDF with SHA-256, AESGCM with
// a 16-byte nonce) from these keys and plaintext.
const (
	recipientHex = "997e24d3d91935fc9c10c6db91dc70523d699881528810343e04b28abbcf79fa2a5b3aaa050dafba5d08b6cf87f9c31b"
	ephemeralHex = "97834a085bbb5a973f95655c382f3a5c4b91c233cc0fc5f431c04541951ffd8b2f42c5ecc243f2707e4f4bc923de6cd7"
	plaintext    = "c0de.parley-oauth-code.5f3a9e"
	tokenHex     = "0419b7f3980d1f0f51b7a280909f512d6f2b9f3d2dceae0d99450434e5f0350f7e073d4e7e3388b39e0a26ea5fdb990094a1baf46a94e239c621fccf2ff231f054b69292dbc928eab2087bd2c08542f26ee255e40964de3e62f916f8a1d4a798312ff0b8e26bb2346764b1b1cd11cbc4e9cd75ade86f89b2194489f467555e8e3ada43545e203ac635ba30b51036"
)

func knownToken(t testing.TB) []byte {
	t.Helper()
	b, err := hex.DecodeString(tokenHex)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncryptKnownAnswer(t *testing.T) {
	got := encryptToken(t, mustKey(t, recipientHex).PublicKey(), mustKey(t, ephemeralHex), []byte(plaintext))
	if hex.EncodeToString(got) != tokenHex {
		t.Fatalf("token =\n%x\nwant\n%s", got, tokenHex)
	}
}

func TestDecryptToken(t *testing.T) {
	recipient := mustKey(t, recipientHex)
	token := knownToken(t)
	b64 := base64.StdEncoding.EncodeToString
	flip := func(i int) string {
		b := append([]byte(nil), token...)
		b[i] ^= 0x01
		return b64(b)
	}
	other, err := ecdh.P384().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     *ecdh.PrivateKey
		token   string
		want    string
		wantErr string
	}{
		{name: "padded Base64", key: recipient, token: b64(token), want: plaintext},
		{name: "unpadded Base64", key: recipient, token: base64.RawStdEncoding.EncodeToString(token), want: plaintext},
		{name: "surrounding space", key: recipient, token: " " + b64(token) + "\n", want: plaintext},
		{name: "flipped tag byte", key: recipient, token: flip(len(token) - 1), wantErr: "does not decrypt"},
		{name: "flipped ciphertext byte", key: recipient, token: flip(appleauth.PublicKeySize), wantErr: "does not decrypt"},
		{name: "flipped key byte, off the curve", key: recipient, token: flip(appleauth.PublicKeySize - 1), wantErr: "not a P-384 point"},
		{name: "bad point prefix", key: recipient, token: flip(0), wantErr: "not a P-384 point"},
		{name: "truncated tag", key: recipient, token: b64(token[:len(token)-1]), wantErr: "does not decrypt"},
		{name: "no ciphertext", key: recipient, token: b64(token[:appleauth.PublicKeySize+16]), wantErr: "113 bytes, at least 114 needed"},
		{name: "only the key", key: recipient, token: b64(token[:appleauth.PublicKeySize]), wantErr: "97 bytes, at least 114 needed"},
		{name: "empty", key: recipient, token: "", wantErr: "0 bytes, at least 114 needed"},
		{name: "not Base64", key: recipient, token: "!!not base64!!", wantErr: "not Base64"},
		{name: "URL-safe Base64", key: recipient, token: base64.URLEncoding.EncodeToString(token), wantErr: "not Base64"},
		{name: "wrong key", key: other, token: b64(token), wantErr: "does not decrypt"},
		{name: "P-256 key", key: p256, token: b64(token), wantErr: "not a P-384 private key"},
		{name: "no key", key: nil, token: b64(token), wantErr: "not a P-384 private key"},
		{name: "not UTF-8", key: recipient,
			token:   b64(encryptToken(t, recipient.PublicKey(), mustKey(t, ephemeralHex), []byte{0xff, 0xfe})),
			wantErr: "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appleauth.DecryptToken(tt.key, tt.token)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DecryptToken = %q, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("DecryptToken = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestDecryptTokenRoundTrip(t *testing.T) {
	for _, plain := range []string{"x", "ya29.a0AfH6SMBx-access-token", strings.Repeat("é", 600)} {
		priv, err := ecdh.P384().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appleauth.DecryptToken(priv, encryptB64(t, priv.PublicKey(), plain))
		if err != nil || got != plain {
			t.Errorf("round trip of %d bytes = %q, %v", len(plain), got, err)
		}
	}
}

func FuzzDecryptToken(f *testing.F) {
	token := knownToken(f)
	f.Add(base64.StdEncoding.EncodeToString(token))
	f.Add(base64.StdEncoding.EncodeToString(token[:appleauth.PublicKeySize+17]))
	f.Add(base64.StdEncoding.EncodeToString(token[:appleauth.PublicKeySize]))
	f.Add("BA==")
	f.Add("")
	f.Add("====")
	recipient := mustKey(f, recipientHex)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := appleauth.DecryptToken(recipient, s)
		if err == nil && got == "" {
			t.Fatalf("DecryptToken(%q) = empty token without an error", s)
		}
	})
}
