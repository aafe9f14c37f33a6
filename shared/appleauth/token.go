// Package appleauth holds the keys of Apple's authentication messages and
// decrypts the OAuth tokens that come back. For each request parley makes a
// fresh P-384 key pair, sends the public key as the message's
// responseEncryptionKey, and keeps the private key, sealed, until the
// customer's reply brings the encrypted token. The scheme is the one of
// Apple's "Decrypting the Authentication Token" (Messages for Business REST
// API, developer.apple.com/documentation/businesschatapi/messages_sent/
// interactive_messages/authentication/decrypting_the_authentication_token);
// TestDecryptToken pins it with a known answer computed independently.
package appleauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sizes of the token layout: ephemeral public key ‖ encrypted token ‖ tag.
const (
	// PublicKeySize is the length of an uncompressed P-384 point,
	// 0x04 ‖ X ‖ Y.
	PublicKeySize = 97
	tagSize       = 16
	keySize       = 32 // AES-256
	ivSize        = 16 // Apple's "VariableIV"
)

// DecryptToken decrypts an authentication token Apple returned for the
// request whose key is priv, following Apple's
// eciesEncryptionCofactorVariableIVX963SHA256AESGCM: the token is Base64 of
// an ephemeral P-384 public key (97 bytes), the AES-256-GCM ciphertext and
// its 16-byte tag. The shared secret of priv and the ephemeral key goes
// through the ANSI X9.63 KDF with SHA-256, the ephemeral key as shared
// info, to 48 bytes: the AES key, then a 16-byte nonce. There is no
// associated data. Malformed tokens are errors, never panics.
func DecryptToken(priv *ecdh.PrivateKey, tokenB64 string) (string, error) {
	if priv == nil || priv.Curve() != ecdh.P384() {
		return "", errors.New("appleauth: token: the key is not a P-384 private key")
	}
	ct, err := decodeBase64(tokenB64)
	if err != nil {
		return "", fmt.Errorf("appleauth: token: not Base64: %w", err)
	}
	if least := PublicKeySize + tagSize + 1; len(ct) < least {
		return "", fmt.Errorf("appleauth: token: %d bytes, at least %d needed", len(ct), least)
	}
	ephemeral := ct[:PublicKeySize]
	pub, err := ecdh.P384().NewPublicKey(ephemeral)
	if err != nil {
		return "", fmt.Errorf("appleauth: token: the ephemeral public key is not a P-384 point: %w", err)
	}
	z, err := priv.ECDH(pub)
	if err != nil {
		return "", fmt.Errorf("appleauth: token: key agreement: %w", err)
	}
	gcm, iv, err := tokenCipher(z, ephemeral)
	if err != nil {
		return "", fmt.Errorf("appleauth: token: %w", err)
	}
	plain, err := gcm.Open(nil, iv, ct[PublicKeySize:], nil)
	if err != nil {
		return "", errors.New("appleauth: token: it does not decrypt with this request's key (wrong key or altered token)")
	}
	if !utf8.Valid(plain) {
		return "", errors.New("appleauth: token: the decrypted token is not UTF-8")
	}
	return string(plain), nil
}

// tokenCipher derives the AES-256-GCM cipher (16-byte nonces) and the
// nonce of a token from the shared secret z and the ephemeral public key.
func tokenCipher(z, ephemeral []byte) (cipher.AEAD, []byte, error) {
	km := x963KDF(z, ephemeral, keySize+ivSize)
	block, err := aes.NewCipher(km[:keySize])
	if err != nil {
		return nil, nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, ivSize)
	if err != nil {
		return nil, nil, err
	}
	return gcm, km[keySize:], nil
}

// x963KDF is the ANSI X9.63 key derivation with SHA-256: the
// concatenation of SHA-256(z ‖ counter ‖ info) for counter = 1, 2, …
// (32-bit big-endian), cut to n bytes.
func x963KDF(z, info []byte, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	var counter [4]byte
	for i := uint32(1); len(out) < n; i++ {
		binary.BigEndian.PutUint32(counter[:], i)
		h := sha256.New()
		h.Write(z)
		h.Write(counter[:])
		h.Write(info)
		out = h.Sum(out)
	}
	return out[:n]
}

// decodeBase64 reads standard Base64, padded or not, ignoring surrounding
// white space.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
