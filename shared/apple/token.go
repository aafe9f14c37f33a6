package apple

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Errors of VerifyToken. A webhook answers 401 to ErrNoAuthorization and 403
// to ErrBadToken, as Apple's gateway does.
var (
	ErrNoAuthorization = errors.New("apple: no bearer token in the Authorization header")
	ErrBadToken        = errors.New("apple: token refused")
)

// MintToken returns the token that authorises one call to Apple's MSP
// gateway: HS256 keyed with the decoded secret, iss = the MSP id and iat =
// now in seconds. Like Apple's samples it carries no aud and no exp, and a
// fresh one is minted for every request.
func MintToken(secret []byte, mspID string, now time.Time) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("apple: mint token: the MSP secret is empty")
	}
	if mspID == "" {
		return "", errors.New("apple: mint token: the MSP id is empty")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": mspID, "iat": now.Unix()})
	s, err := t.SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("apple: mint token: %w", err)
	}
	return s, nil
}

// VerifyToken checks the Authorization header of a webhook from Apple: a
// bearer JWT signed with HS256 and the decoded secret whose aud (a string or
// an array of strings) names mspID. Apple sends no exp; one that is present
// must not have passed. It returns ErrNoAuthorization when there is no bearer
// token and an error wrapping ErrBadToken, with the reason, when the token
// does not verify.
func VerifyToken(authorization string, secret []byte, mspID string) error {
	if len(secret) == 0 || mspID == "" {
		return errors.New("apple: verify token: the MSP id or secret is not configured")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return ErrNoAuthorization
	}
	_, err := jwt.Parse(token,
		func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithAudience(mspID),
	)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	return nil
}
