package appleauth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/store"
)

// DefaultTTL is how long a request's key is kept when Keys.TTL is zero.
const DefaultTTL = time.Hour

// The errors Decrypt returns when there is no usable key; test with
// errors.Is. Their text is fit to show the app as the reason a token is
// missing.
var (
	ErrExpired = errors.New("the authentication request expired")
	ErrNoKey   = errors.New("no key for this request")
)

const (
	// KeyPrefix starts the blob key of every request's sealed private key.
	KeyPrefix = "auth-keys/"
	// metaExpiresAt is the blob metadata holding the key's expiry
	// (RFC 3339, UTC). S3 folds metadata names to lower case.
	metaExpiresAt = "expires-at"
	// sealInfo binds the key-encryption key to this one use of Secret.
	sealInfo      = "parley appleauth: sealing authentication private keys, v1"
	sealVersion   = 1
	minSecretSize = 16
	maxRequestID  = 200
	maxSealedSize = 1024
)

// Keys makes and keeps the response-encryption keys of Apple
// authentication requests: one P-384 key pair per request. The private key
// is stored sealed (AES-256-GCM under a key derived from Secret with
// HKDF-SHA256), with the request id and its expiry as associated data, so
// that neither can be swapped in the store without the seal breaking.
type Keys struct {
	// Blobs stores the sealed private keys under KeyPrefix + request id.
	Blobs store.Blobs
	// Secret is the key-encryption secret (e.g. the decoded MSP secret);
	// at least 16 bytes.
	Secret []byte
	// Clock tells the time of expiry; nil means the system clock.
	Clock clock.Clock
	// TTL is how long a key may be used; zero means DefaultTTL.
	TTL time.Duration
}

// New makes the key pair of the request requestID, stores its private key
// sealed, and returns the public key as Apple's responseEncryptionKey wants
// it: Base64 of the 97-byte uncompressed point 0x04 ‖ X ‖ Y.
func (k *Keys) New(ctx context.Context, requestID string) (string, error) {
	kek, err := k.check(requestID)
	if err != nil {
		return "", fmt.Errorf("appleauth: new key: %w", err)
	}
	priv, err := ecdh.P384().GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("appleauth: new key: %w", err)
	}
	expires := k.now().Add(k.ttl()).UTC().Format(time.RFC3339Nano)
	sealed, err := seal(kek, priv.Bytes(), aad(requestID, expires))
	if err != nil {
		return "", fmt.Errorf("appleauth: new key: %w", err)
	}
	meta := map[string]string{metaExpiresAt: expires}
	if err := k.Blobs.PutBlob(ctx, KeyPrefix+requestID, bytes.NewReader(sealed), "application/octet-stream", meta); err != nil {
		return "", fmt.Errorf("appleauth: new key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes()), nil
}

// Decrypt decrypts the token of the customer's answer to the request
// requestID with the key New made for it (see DecryptToken). It fails with
// ErrNoKey when there is no such key and ErrExpired when its TTL has
// passed.
func (k *Keys) Decrypt(ctx context.Context, requestID, tokenB64 string) (string, error) {
	priv, err := k.privateKey(ctx, requestID)
	if err != nil {
		return "", fmt.Errorf("appleauth: request %q: %w", requestID, err)
	}
	return DecryptToken(priv, tokenB64)
}

// privateKey loads and unseals the private key of requestID.
func (k *Keys) privateKey(ctx context.Context, requestID string) (*ecdh.PrivateKey, error) {
	kek, err := k.check(requestID)
	if err != nil {
		return nil, err
	}
	rc, info, err := k.Blobs.GetBlob(ctx, KeyPrefix+requestID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoKey
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	expires := info.Meta[metaExpiresAt]
	at, err := time.Parse(time.RFC3339Nano, expires)
	if err != nil {
		return nil, fmt.Errorf("the stored key has no valid expiry: %q", expires)
	}
	if !k.now().Before(at) {
		return nil, ErrExpired
	}
	sealed, err := io.ReadAll(io.LimitReader(rc, maxSealedSize))
	if err != nil {
		return nil, err
	}
	scalar, err := unseal(kek, sealed, aad(requestID, expires))
	if err != nil {
		return nil, err
	}
	return ecdh.P384().NewPrivateKey(scalar)
}

// check validates k and requestID and returns the key-encryption key.
func (k *Keys) check(requestID string) ([]byte, error) {
	if k.Blobs == nil {
		return nil, errors.New("no blob store")
	}
	if len(k.Secret) < minSecretSize {
		return nil, fmt.Errorf("the key-encryption secret is %d bytes, at least %d needed", len(k.Secret), minSecretSize)
	}
	if requestID == "" || len(requestID) > maxRequestID {
		return nil, fmt.Errorf("request id: %d bytes, it must have 1 to %d", len(requestID), maxRequestID)
	}
	for _, c := range []byte(requestID) {
		if c <= ' ' || c > '~' || c == '/' {
			return nil, fmt.Errorf("request id %q: only printable ASCII without spaces and '/'", requestID)
		}
	}
	return hkdf.Key(sha256.New, k.Secret, nil, sealInfo, 32)
}

func (k *Keys) now() time.Time {
	if k.Clock == nil {
		return clock.System{}.Now()
	}
	return k.Clock.Now()
}

func (k *Keys) ttl() time.Duration {
	if k.TTL <= 0 {
		return DefaultTTL
	}
	return k.TTL
}

// aad is the associated data of a sealed key: its request id and expiry.
// The expiry has a fixed form without a newline, so the pair reads back
// one way only.
func aad(requestID, expires string) []byte {
	return []byte(requestID + "\n" + expires)
}

// seal encrypts plain as version ‖ nonce ‖ ciphertext ‖ tag.
func seal(kek, plain, ad []byte) ([]byte, error) {
	gcm, err := sealCipher(kek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+gcm.NonceSize(), 1+gcm.NonceSize()+len(plain)+gcm.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return gcm.Seal(out, out[1:], plain, ad), nil
}

// unseal reverses seal.
func unseal(kek, sealed, ad []byte) ([]byte, error) {
	gcm, err := sealCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+gcm.NonceSize()+gcm.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("the stored key is not in a form parley writes")
	}
	nonce, ct := sealed[1:1+gcm.NonceSize()], sealed[1+gcm.NonceSize():]
	plain, err := gcm.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, errors.New("the stored key does not unseal (another secret, or it was altered)")
	}
	return plain, nil
}

func sealCipher(kek []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
