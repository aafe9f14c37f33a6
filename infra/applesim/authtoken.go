package applesim

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// encryptToken encrypts an OAuth token for the MSP that holds the private
// key of recipient, as the customer's device does in an authentication
// reply (Apple's eciesEncryptionCofactorVariableIVX963SHA256AESGCM).
func encryptToken(recipient *ecdh.PublicKey, token []byte) ([]byte, error) {
	eph, err := ecdh.P384().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("applesim: ephemeral key: %w", err)
	}
	return sealToken(eph, recipient, token)
}

// sealToken encrypts token with the ephemeral key eph: Z = ECDH(eph,
// recipient); 48 bytes of X9.63 KDF (SHA-256) of Z with the ephemeral
// public key as SharedInfo give the AES-256 key (first 32) and the GCM
// nonce (last 16). The result is ephemeral public key ‖ ciphertext ‖ tag.
func sealToken(eph *ecdh.PrivateKey, recipient *ecdh.PublicKey, token []byte) ([]byte, error) {
	if eph.Curve() != ecdh.P384() || recipient.Curve() != ecdh.P384() {
		return nil, fmt.Errorf("applesim: seal token: keys must be P-384")
	}
	z, err := eph.ECDH(recipient)
	if err != nil {
		return nil, fmt.Errorf("applesim: seal token: %w", err)
	}
	ephPub := eph.PublicKey().Bytes()
	km := x963KDF(z, ephPub, 48)
	block, err := aes.NewCipher(km[:32])
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, 16)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), ephPub...)
	return gcm.Seal(out, km[32:], token, nil), nil
}

// x963KDF is ANSI X9.63's key derivation with SHA-256: the concatenation of
// SHA-256(z ‖ counter ‖ sharedInfo), counter = 1, 2, … as 32-bit big
// endian, cut to n bytes.
func x963KDF(z, sharedInfo []byte, n int) []byte {
	var out []byte
	for counter := uint32(1); len(out) < n; counter++ {
		h := sha256.New()
		h.Write(z)
		h.Write(binary.BigEndian.AppendUint32(nil, counter))
		h.Write(sharedInfo)
		out = h.Sum(out)
	}
	return out[:n]
}
