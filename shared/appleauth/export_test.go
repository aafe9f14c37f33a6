package appleauth

import (
	"context"
	"crypto/ecdh"
)

// PrivateKey exposes the unsealed private key of a request to the tests.
func (k *Keys) PrivateKey(ctx context.Context, requestID string) (*ecdh.PrivateKey, error) {
	return k.privateKey(ctx, requestID)
}
