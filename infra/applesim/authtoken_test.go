package applesim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"
)

// fixedKey returns the P-384 private key whose scalar is 48 bytes of b.
func fixedKey(t *testing.T, b byte) *ecdh.PrivateKey {
	t.Helper()
	k, err := ecdh.P384().NewPrivateKey(bytes.Repeat([]byte{b}, 48))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// openToken decrypts an authentication token as an MSP does, following
// Apple's "Decrypting the Authentication Token" step by step.
func openToken(priv *ecdh.PrivateKey, sealed []byte) ([]byte, error) {
	const pointLen, tagLen = 97, 16
	if len(sealed) < pointLen+tagLen {
		return nil, errors.New("too short")
	}
	ephRaw := sealed[:pointLen]
	eph, err := ecdh.P384().NewPublicKey(ephRaw)
	if err != nil {
		return nil, err
	}
	z, err := priv.ECDH(eph)
	if err != nil {
		return nil, err
	}
	var km []byte
	for _, counter := range [][]byte{{0, 0, 0, 1}, {0, 0, 0, 2}} {
		sum := sha256.Sum256(append(append(append([]byte{}, z...), counter...), ephRaw...))
		km = append(km, sum[:]...)
	}
	key, iv := km[:32], km[32:48]
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return nil, err
	}
	return gcm.Open(nil, iv, sealed[pointLen:], nil)
}

func TestSealTokenKnownAnswer(t *testing.T) {
	// The answer was computed with Python's cryptography package
	// (ECDH, X963KDF and AESGCM) from the same keys and token.
	const want = "044f2bda7fd2105f8467e21f45223ad58863ffa4c084832d9f6c64ffc47fdd519727ab53cb71f9c40de24b64acde61f02fc7dce130b612fa5dbcac94573a2354fd005d8e9caefdc5fde48304474708bbd82f77e1fd2c630bea236f6f8dccc1678e2f013414756e09cef92305b030d42d22a86fc3f900e32c4ff7e7f237b71733"
	recipient, eph := fixedKey(t, 0x11), fixedKey(t, 0x22)
	if got := base64.StdEncoding.EncodeToString(recipient.PublicKey().Bytes()); got != recipientKey {
		t.Fatalf("recipient public key %s, want the fixtures' %s", got, recipientKey)
	}
	sealed, err := sealToken(eph, recipient.PublicKey(), []byte("the OAuth token"))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(sealed); got != want {
		t.Errorf("sealToken =\n%s\nwant\n%s", got, want)
	}
}

func TestEncryptTokenOpens(t *testing.T) {
	recipient := fixedKey(t, 0x11)
	tokens := []string{"t", "the OAuth token", "ya29.a0AfH6SMB-long-access-token-" + string(bytes.Repeat([]byte("x"), 500))}
	for _, token := range tokens {
		a, err := encryptToken(recipient.PublicKey(), []byte(token))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := encryptToken(recipient.PublicKey(), []byte(token))
		if bytes.Equal(a[:97], b[:97]) {
			t.Errorf("two encryptions share the ephemeral key %x", a[:97])
		}
		if len(a) != 97+len(token)+16 {
			t.Errorf("ciphertext of %d bytes for a %d-byte token, want 97 + %[2]d + 16", len(a), len(token))
		}
		got, err := openToken(recipient, a)
		if err != nil || string(got) != token {
			t.Errorf("openToken = %q, %v; want %q", got, err, token)
		}
		if _, err := openToken(fixedKey(t, 0x33), a); err == nil {
			t.Error("another key opens the token")
		}
	}
}
