package appleauth_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// encryptToken encrypts plain for recipient as Apple's "Decrypting the
// Authentication Token" describes the device doing it:
// ephemeral public key ‖ AES-256-GCM(key, 16-byte IV) ciphertext ‖ tag,
// key and IV from the X9.63 SHA-256 KDF over the shared secret with the
// ephemeral public key as shared info. It returns the raw token bytes.
func encryptToken(t testing.TB, recipient *ecdh.PublicKey, ephemeral *ecdh.PrivateKey, plain []byte) []byte {
	t.Helper()
	z, err := ephemeral.ECDH(recipient)
	if err != nil {
		t.Fatal(err)
	}
	epub := ephemeral.PublicKey().Bytes()
	var km []byte
	for i := uint32(1); len(km) < 48; i++ {
		h := sha256.New()
		h.Write(z)
		h.Write(binary.BigEndian.AppendUint32(nil, i))
		h.Write(epub)
		km = h.Sum(km)
	}
	block, err := aes.NewCipher(km[:32])
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, 16)
	if err != nil {
		t.Fatal(err)
	}
	return gcm.Seal(epub, km[32:48], plain, nil)
}

// encryptB64 is encryptToken in Base64, with a fresh ephemeral key.
func encryptB64(t testing.TB, recipient *ecdh.PublicKey, plain string) string {
	t.Helper()
	eph, err := ecdh.P384().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(encryptToken(t, recipient, eph, []byte(plain)))
}

func mustKey(t testing.TB, hexScalar string) *ecdh.PrivateKey {
	t.Helper()
	b, err := hex.DecodeString(hexScalar)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ecdh.P384().NewPrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
