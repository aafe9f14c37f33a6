package appleauth_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/appleauth"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/store/embedded"
)

var secret = []byte("parley-local-apple-msp-secret-32")

func newKeys(t *testing.T) (*appleauth.Keys, *embedded.Store, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC))
	s, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &appleauth.Keys{Blobs: s, Secret: secret, Clock: clk}, s, clk
}

// publicKey decodes what New returns and checks it is a P-384 point.
func publicKey(t *testing.T, b64 string) *ecdh.PublicKey {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("public key %q: %v", b64, err)
	}
	if len(raw) != 97 || raw[0] != 0x04 {
		t.Fatalf("public key: %d bytes starting %#x, want 97 starting 0x04", len(raw), raw[0])
	}
	pub, err := ecdh.P384().NewPublicKey(raw)
	if err != nil {
		t.Fatalf("public key: %v", err)
	}
	return pub
}

func TestKeysRoundTrip(t *testing.T) {
	ctx := context.Background()
	keys, _, _ := newKeys(t)
	const id = "8EF748B5-3DC5-47AE-B185-65E91518D209"
	pub, err := keys.New(ctx, id)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	got, err := keys.Decrypt(ctx, id, encryptB64(t, publicKey(t, pub), "auth-code-42"))
	if err != nil || got != "auth-code-42" {
		t.Fatalf("Decrypt = %q, %v; want auth-code-42", got, err)
	}

	// Each request has its own key.
	pub2, err := keys.New(ctx, "another-request")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if pub2 == pub {
		t.Fatal("two requests got the same key")
	}
	if _, err := keys.Decrypt(ctx, "another-request", encryptB64(t, publicKey(t, pub), "auth-code-42")); err == nil {
		t.Fatal("a token for one request decrypted with another request's key")
	}
}

func TestKeysExpiry(t *testing.T) {
	tests := []struct {
		name    string
		ttl     time.Duration
		advance time.Duration
		wantErr error
	}{
		{name: "fresh", advance: 0},
		{name: "just before the default hour", advance: time.Hour - time.Second},
		{name: "at the default hour", advance: time.Hour, wantErr: appleauth.ErrExpired},
		{name: "a day later", advance: 24 * time.Hour, wantErr: appleauth.ErrExpired},
		{name: "within a custom TTL", ttl: 10 * time.Minute, advance: 9 * time.Minute},
		{name: "past a custom TTL", ttl: 10 * time.Minute, advance: 11 * time.Minute, wantErr: appleauth.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			keys, _, clk := newKeys(t)
			keys.TTL = tt.ttl
			pub, err := keys.New(ctx, "req-1")
			if err != nil {
				t.Fatal(err)
			}
			token := encryptB64(t, publicKey(t, pub), "code")
			clk.Advance(tt.advance)
			got, err := keys.Decrypt(ctx, "req-1", token)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "the authentication request expired") {
					t.Fatalf("Decrypt = %q, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != "code" {
				t.Fatalf("Decrypt = %q, %v; want code", got, err)
			}
		})
	}
}

func TestKeysMissing(t *testing.T) {
	keys, _, _ := newKeys(t)
	_, err := keys.Decrypt(context.Background(), "never-made", "BA==")
	if !errors.Is(err, appleauth.ErrNoKey) || !strings.Contains(err.Error(), "no key for this request") {
		t.Fatalf("Decrypt = %v, want ErrNoKey", err)
	}
}

func TestKeysStoredSealed(t *testing.T) {
	ctx := context.Background()
	keys, s, _ := newKeys(t)
	pub, err := keys.New(ctx, "req-sealed")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := keys.PrivateKey(ctx, "req-sealed")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(priv.PublicKey().Bytes(), publicKey(t, pub).Bytes()) {
		t.Fatal("the stored private key does not belong to the public key New returned")
	}
	rc, info, err := s.GetBlob(ctx, appleauth.KeyPrefix+"req-sealed")
	if err != nil {
		t.Fatal(err)
	}
	blob, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	scalar := priv.Bytes()
	for _, form := range [][]byte{scalar, []byte(hex.EncodeToString(scalar)), []byte(base64.StdEncoding.EncodeToString(scalar))} {
		if bytes.Contains(blob, form) {
			t.Fatalf("the stored blob holds the private scalar in the clear (%q)", form)
		}
		for k, v := range info.Meta {
			if strings.Contains(k+v, string(form)) {
				t.Fatalf("blob metadata %s=%s holds the private scalar", k, v)
			}
		}
	}
	if info.Meta["expires-at"] != "2026-03-14T10:00:00Z" {
		t.Errorf("metadata expires-at = %q, want 2026-03-14T10:00:00Z", info.Meta["expires-at"])
	}
}

// A sealed key only opens with its own secret, request id and expiry, so
// that a copy under another id or a longer expiry is refused.
func TestKeysTampering(t *testing.T) {
	other := []byte("another-secret-of-32-bytes......")
	tests := []struct {
		name string
		// id is the request to decrypt; key and meta, when key is set, say
		// where the blob of req-a is written again and with what metadata.
		id      string
		key     string
		meta    map[string]string
		secret  []byte
		wantErr string
	}{
		{name: "another secret", id: "req-a", secret: other, wantErr: "does not unseal"},
		{name: "copied under another id", id: "req-b", key: "req-b", meta: map[string]string{"expires-at": "2026-03-14T10:00:00Z"}, wantErr: "does not unseal"},
		{name: "expiry extended", id: "req-a", key: "req-a", meta: map[string]string{"expires-at": "2027-01-01T00:00:00Z"}, wantErr: "does not unseal"},
		{name: "expiry removed", id: "req-a", key: "req-a", wantErr: "no valid expiry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			keys, s, _ := newKeys(t)
			pub, err := keys.New(ctx, "req-a")
			if err != nil {
				t.Fatal(err)
			}
			token := encryptB64(t, publicKey(t, pub), "code")
			if tt.key != "" {
				rc, info, err := s.GetBlob(ctx, appleauth.KeyPrefix+"req-a")
				if err != nil {
					t.Fatal(err)
				}
				blob, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				if err := s.PutBlob(ctx, appleauth.KeyPrefix+tt.key, bytes.NewReader(blob), info.ContentType, tt.meta); err != nil {
					t.Fatal(err)
				}
			}
			if tt.secret != nil {
				keys.Secret = tt.secret
			}
			got, err := keys.Decrypt(ctx, tt.id, token)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Decrypt = %q, %v; want an error containing %q", got, err, tt.wantErr)
			}
		})
	}
}

func TestKeysRefuse(t *testing.T) {
	_, s, _ := newKeys(t)
	tests := []struct {
		name    string
		keys    *appleauth.Keys
		id      string
		wantErr string
	}{
		{name: "no store", keys: &appleauth.Keys{Secret: secret}, id: "r", wantErr: "no blob store"},
		{name: "short secret", keys: &appleauth.Keys{Blobs: s, Secret: []byte("short")}, id: "r", wantErr: "5 bytes, at least 16 needed"},
		{name: "no secret", keys: &appleauth.Keys{Blobs: s}, id: "r", wantErr: "0 bytes, at least 16 needed"},
		{name: "empty id", keys: &appleauth.Keys{Blobs: s, Secret: secret}, id: "", wantErr: "request id: 0 bytes"},
		{name: "long id", keys: &appleauth.Keys{Blobs: s, Secret: secret}, id: strings.Repeat("a", 201), wantErr: "request id: 201 bytes"},
		{name: "slash in id", keys: &appleauth.Keys{Blobs: s, Secret: secret}, id: "../x", wantErr: "without spaces and '/'"},
		{name: "space in id", keys: &appleauth.Keys{Blobs: s, Secret: secret}, id: "a b", wantErr: "without spaces and '/'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.keys.New(context.Background(), tt.id); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New = %v, want an error containing %q", err, tt.wantErr)
			}
			if _, err := tt.keys.Decrypt(context.Background(), tt.id, "BA=="); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Decrypt = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
