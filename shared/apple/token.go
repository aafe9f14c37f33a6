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

// Freshness of the tokens of Apple's webhooks. Apple signs a token for each
// delivery (HS256 over aud and iat, nothing of the request: see VerifyToken)
// and publishes no lifetime for it, so parley bounds how long a captured
// token works: its iat may be at most TokenMaxAge old, and at most
// TokenMaxSkew ahead of parley's clock, for clocks that disagree.
const (
	TokenMaxAge  = 5 * time.Minute
	TokenMaxSkew = time.Minute
)

// VerifyToken checks the Authorization header of a webhook from Apple at now:
// a bearer JWT signed with HS256 and the decoded secret whose aud (a string
// or an array of strings) names mspID and whose iat lies between TokenMaxAge
// before now and TokenMaxSkew after it. Apple sends no exp; one that is
// present must not have passed. It returns ErrNoAuthorization when there is
// no bearer token and an error wrapping ErrBadToken, with the reason, when
// the token does not verify.
//
// Apple's token names no part of the request (neither the body nor the id,
// source-id or destination-id headers), so nothing binds it to one: within
// its freshness window it verifies on any request. Two deliveries signed in
// the same second even carry the same token, so a token seen twice is no
// sign of a replay; a replayed delivery is recognised by its message id
// instead, when it is stored.
func VerifyToken(authorization string, secret []byte, mspID string, now time.Time) error {
	if len(secret) == 0 || mspID == "" {
		return errors.New("apple: verify token: the MSP id or secret is not configured")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return ErrNoAuthorization
	}
	parsed, err := jwt.Parse(token,
		func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithAudience(mspID),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	iat, err := parsed.Claims.GetIssuedAt()
	switch {
	case err != nil:
		return fmt.Errorf("%w: iat: %v", ErrBadToken, err)
	case iat == nil:
		return fmt.Errorf("%w: iat: is required", ErrBadToken)
	case now.Sub(iat.Time) > TokenMaxAge:
		return fmt.Errorf("%w: iat: issued %s before now, the limit is %s", ErrBadToken, now.Sub(iat.Time).Truncate(time.Second), TokenMaxAge)
	case iat.Time.Sub(now) > TokenMaxSkew:
		return fmt.Errorf("%w: iat: issued %s after now, the limit is %s", ErrBadToken, iat.Time.Sub(now).Truncate(time.Second), TokenMaxSkew)
	}
	return nil
}
