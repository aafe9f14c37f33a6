package apple

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testMSPID = "6a1f0c4e-0000-4000-8000-1234567890ab"

// sign returns a token with claims, signed by method with key.
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func TestMintToken(t *testing.T) {
	now := time.Date(2024, 5, 29, 16, 26, 40, 900e6, time.UTC)
	token, err := MintToken(testSecret, testMSPID, now)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(token, claims,
		func(*jwt.Token) (any, error) { return testSecret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(testMSPID))
	if err != nil {
		t.Fatalf("the token does not verify with the decoded secret: %v", err)
	}
	if alg := parsed.Header["alg"]; alg != "HS256" {
		t.Errorf("header alg = %v, want HS256", alg)
	}
	want := jwt.MapClaims{"iss": testMSPID, "iat": float64(now.Unix())}
	if len(claims) != len(want) || claims["iss"] != want["iss"] || claims["iat"] != want["iat"] {
		t.Errorf("claims = %v, want exactly %v (no aud, no exp)", claims, want)
	}

	b64 := []byte(base64.StdEncoding.EncodeToString(testSecret))
	if _, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return b64, nil }); err == nil {
		t.Error("the token verifies with the Base64 text of the secret; the key must be the decoded bytes")
	}
}

func TestMintTokenRefusesMissingCredentials(t *testing.T) {
	now := time.Unix(1717000000, 0)
	if _, err := MintToken(nil, testMSPID, now); err == nil {
		t.Error("MintToken with no secret succeeded")
	}
	if _, err := MintToken(testSecret, "", now); err == nil {
		t.Error("MintToken with no MSP id succeeded")
	}
}

func TestVerifyToken(t *testing.T) {
	now := time.Date(2024, 5, 29, 16, 26, 40, 0, time.UTC)
	iat := now.Unix()
	at := func(d time.Duration) jwt.MapClaims { return jwt.MapClaims{"aud": testMSPID, "iat": now.Add(d).Unix()} }
	good := jwt.MapClaims{"aud": testMSPID, "iat": iat}
	otherKey := []byte("0123456789abcdef0123456789abcdef")
	b64Key := []byte(base64.StdEncoding.EncodeToString(testSecret))
	hs256 := jwt.SigningMethodHS256
	tests := []struct {
		name          string
		authorization string
		want          error
	}{
		{"valid", "Bearer " + sign(t, hs256, testSecret, good), nil},
		{"scheme in lower case", "bearer " + sign(t, hs256, testSecret, good), nil},
		{"aud array naming the MSP", "Bearer " + sign(t, hs256, testSecret, jwt.MapClaims{"aud": []string{"someone-else", testMSPID}, "iat": iat}), nil},
		{"exp in the future", "Bearer " + sign(t, hs256, testSecret, jwt.MapClaims{"aud": testMSPID, "iat": iat, "exp": time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()}), nil},
		{"extra claims", "Bearer " + sign(t, hs256, testSecret, jwt.MapClaims{"aud": testMSPID, "iat": iat, "iss": "apple", "jti": "x"}), nil},

		{"no header", "", ErrNoAuthorization},
		{"blank header", "   ", ErrNoAuthorization},
		{"not bearer", "Basic dXNlcjpwYXNz", ErrNoAuthorization},
		{"bearer without token", "Bearer ", ErrNoAuthorization},
		{"token without scheme", sign(t, hs256, testSecret, good), ErrNoAuthorization},

		{"forged signature", "Bearer " + sign(t, hs256, otherKey, good), ErrBadToken},
		{"keyed with the Base64 text", "Bearer " + sign(t, hs256, b64Key, good), ErrBadToken},
		{"wrong aud", "Bearer " + sign(t, hs256, testSecret, jwt.MapClaims{"aud": "someone-else", "iat": iat}), ErrBadToken},
		{"aud array without the MSP", "Bearer " + sign(t, hs256, testSecret, jwt.MapClaims{"aud": []string{"a", "b"}, "iat": iat}), ErrBadToken},
		{"no aud", "Bearer " + sign(t, hs256, testSecret, jwt.MapClaims{"iat": iat}), ErrBadToken},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good), ErrBadToken},
		{"alg HS512", "Bearer " + sign(t, jwt.SigningMethodHS512, testSecret, good), ErrBadToken},
		{"expired exp", "Bearer " + sign(t, hs256, testSecret, jwt.MapClaims{"aud": testMSPID, "iat": iat, "exp": iat - 1}), ErrBadToken},
		{"not a JWT", "Bearer not.a.jwt", ErrBadToken},

		// Freshness: Apple signs each delivery when it sends it.
		{"issued at the oldest allowed", "Bearer " + sign(t, hs256, testSecret, at(-TokenMaxAge)), nil},
		{"issued at the furthest skew allowed", "Bearer " + sign(t, hs256, testSecret, at(TokenMaxSkew)), nil},
		{"issued a second too long ago", "Bearer " + sign(t, hs256, testSecret, at(-TokenMaxAge-time.Second)), ErrBadToken},
		{"issued two years ago", "Bearer " + sign(t, hs256, testSecret, at(-2*365*24*time.Hour)), ErrBadToken},
		{"issued a second too far ahead", "Bearer " + sign(t, hs256, testSecret, at(TokenMaxSkew+time.Second)), ErrBadToken},
		{"issued three years ahead", "Bearer " + sign(t, hs256, testSecret, at(3*365*24*time.Hour)), ErrBadToken},
		{"no iat", "Bearer " + sign(t, hs256, testSecret, jwt.MapClaims{"aud": testMSPID}), ErrBadToken},
		{"iat not a number", "Bearer " + sign(t, hs256, testSecret, jwt.MapClaims{"aud": testMSPID, "iat": "yesterday"}), ErrBadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyToken(tt.authorization, testSecret, testMSPID, now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyToken: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyToken = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyTokenNeedsConfiguration(t *testing.T) {
	now := time.Unix(1717000000, 0)
	auth := "Bearer " + sign(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"aud": testMSPID, "iat": now.Unix()})
	for _, tt := range []struct {
		name   string
		secret []byte
		mspID  string
	}{
		{"no secret", nil, testMSPID},
		{"no MSP id", testSecret, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyToken(auth, tt.secret, tt.mspID, now)
			if err == nil || errors.Is(err, ErrBadToken) || errors.Is(err, ErrNoAuthorization) {
				t.Fatalf("VerifyToken = %v, want a configuration error", err)
			}
		})
	}
}
