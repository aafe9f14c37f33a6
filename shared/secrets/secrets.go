// Package secrets keeps the values of parley's Secrets Manager secret for a
// time-to-live, so that a rotated credential reaches running functions
// within minutes rather than when their containers recycle — and at once
// when a platform refuses the old one.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/secretsmanager"
)

// DefaultTTL is how long values are kept when Cache.TTL is zero.
const DefaultTTL = 5 * time.Minute

// Reader reads the whole secret: a JSON object of strings.
type Reader func(ctx context.Context) (map[string]string, error)

// Getter is the Secrets Manager call a Reader needs.
type Getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...awsapi.CallOption) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManager returns the Reader of the secret arn (its current
// version): its string value or, for a secret stored as bytes, its binary
// value.
func SecretsManager(c Getter, arn string) Reader {
	return func(ctx context.Context) (map[string]string, error) {
		out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretID: arn})
		if err != nil {
			return nil, err
		}
		doc := out.SecretBinary
		if out.SecretString != nil {
			doc = []byte(*out.SecretString)
		}
		if doc == nil {
			return nil, errors.New("the secret has no value")
		}
		vals := map[string]string{}
		if err := json.Unmarshal(doc, &vals); err != nil {
			return nil, errors.New("the secret is not a JSON object of strings")
		}
		// A value pasted with a line break or spaces around it is meant
		// without them, as in the environment.
		for k, v := range vals {
			vals[k] = strings.TrimSpace(v)
		}
		return vals, nil
	}
}

// Cache holds the secret's values for TTL. Read is required.
type Cache struct {
	Read Reader
	TTL  time.Duration
	Now  func() time.Time
	Log  *slog.Logger

	mu     sync.Mutex
	vals   map[string]string
	readAt time.Time
	// checkedAt is when a refused check last read the secret again;
	// failedAt when a read last failed, and why.
	checkedAt time.Time
	failedAt  time.Time
	failure   error
}

// RecheckInterval is how often, at most, the checks of one cache read the
// secret again because a request presented something the value held did
// not match: forged requests cannot make parley call Secrets Manager at
// their own rate.
const RecheckInterval = 30 * time.Second

// Value returns the value of name. The secret is read again when the
// values are older than the TTL, or when refused — a value a platform has
// just refused — is the one held: a rotation is then picked up at once,
// while a refusal of a value already replaced costs no read. When a
// re-read fails, the values held are kept, the failure logged, and the
// secret is not read again for RecheckInterval: a Secrets Manager that
// fails is not called at the rate of the requests.
func (c *Cache) Value(ctx context.Context, name, refused string) (string, error) {
	return c.value(ctx, name, refused, false)
}

// Values returns every value of the secret, read first when those held
// are older than the TTL or there are none: what a function reads its
// settings from at start, so that the credentials it then takes from the
// cache need no read of their own. The error is the Reader's when nothing
// is held.
func (c *Cache) Values(ctx context.Context) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.refresh(ctx, false, false); err != nil {
		return nil, err
	}
	return maps.Clone(c.vals), nil
}

// value is Value; with patient, a cache that holds no values and failed
// to read them less than RecheckInterval ago fails without reading.
func (c *Cache) value(ctx context.Context, name, refused string, patient bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.refresh(ctx, refused != "" && c.vals[name] == refused, patient); err != nil {
		return "", fmt.Errorf("secrets: reading the secret: %w", err)
	}
	v, ok := c.vals[name]
	if !ok || v == "" {
		return "", fmt.Errorf("secrets: the secret holds no %s", name)
	}
	return v, nil
}

// refresh reads the secret when the values held are older than the TTL,
// when there are none, or when again says so, unless a read failed less
// than RecheckInterval ago and values are held (or patient): a failed
// re-read keeps the values held. It fails only when no values are held.
// c.mu is held.
func (c *Cache) refresh(ctx context.Context, again, patient bool) error {
	now := c.now()
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	stale := c.vals == nil || now.Sub(c.readAt) >= ttl || again
	if stale && (c.vals != nil || patient) && !c.failedAt.IsZero() && now.Sub(c.failedAt) < RecheckInterval {
		if c.vals == nil {
			return c.failure
		}
		stale = false
	}
	if !stale {
		return nil
	}
	vals, err := c.Read(ctx)
	switch {
	case err == nil:
		c.vals, c.readAt, c.failedAt, c.failure = vals, now, time.Time{}, nil
	case c.vals == nil:
		c.failedAt, c.failure = now, err
		return err
	default:
		c.failedAt, c.failure = now, err
		c.log().Warn("reading the secret again failed; the values read before are kept", "error", err)
	}
	return nil
}

// Check reports whether match accepts the value of name: whether what a
// request presents (a webhook's signature, a verify token) was made with
// it. When match refuses the value held, the secret is read again — at
// most once per RecheckInterval for all the checks of c — and match is
// asked once more of the value read, if it differs: a rotated secret is
// accepted at once, and a value rotated away is refused from then on.
// Check refuses when no value can be had, and logs why.
func (c *Cache) Check(ctx context.Context, name string, match func(value string) bool) bool {
	v, err := c.value(ctx, name, "", true)
	if err != nil {
		c.log().Error("a webhook could not be verified: the secret is not available", "secret", name, "error", err)
		return false
	}
	if match(v) {
		return true
	}
	fresh, ok := c.recheck(ctx, name, v)
	return ok && match(fresh)
}

// recheck reads the secret again for a check that held refused, unless
// the checks did so less than RecheckInterval ago. It returns the value
// of name to try, if it is not refused.
func (c *Cache) recheck(ctx context.Context, name, refused string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v := c.vals[name]; v != "" && v != refused {
		// Read again since the value was taken.
		return v, true
	}
	now := c.now()
	if !c.checkedAt.IsZero() && now.Sub(c.checkedAt) < RecheckInterval {
		return "", false
	}
	c.checkedAt = now
	vals, err := c.Read(ctx)
	if err != nil {
		c.failedAt, c.failure = now, err
		c.log().Warn("reading the secret again failed; the values read before are kept", "error", err)
		return "", false
	}
	c.vals, c.readAt, c.failedAt, c.failure = vals, now, time.Time{}, nil
	v := vals[name]
	return v, v != "" && v != refused
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

// Transport authorises each request with the current value of one secret
// and, when the answer is 401, reads the secret again and, if the value
// has changed since, sends the request once more with the new one. A 401
// means the request was not accepted, so the second try never doubles a
// send. A request whose body cannot be replayed is not sent again; the
// next one uses the new value.
type Transport struct {
	// Base sends the requests (http.DefaultTransport when nil).
	Base  http.RoundTripper
	Cache *Cache
	// Name is the secret's key, e.g. PARLEY_WHATSAPP_TOKEN.
	Name string
	// Authorize sets the request's credentials from the value; a request
	// it leaves without them goes as it is.
	Authorize func(r *http.Request, value string) error
	// Refused are the answers' statuses that mean the credentials were
	// refused (401 when empty; Apple answers 403 to a token signed with
	// a wrong secret).
	Refused []int
}

// RoundTrip sends r as described on Transport.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	value, err := t.Cache.Value(r.Context(), t.Name, "")
	if err != nil {
		return nil, err
	}
	first := r.Clone(r.Context())
	if err := t.Authorize(first, value); err != nil {
		return nil, err
	}
	resp, err := base.RoundTrip(first)
	refused := t.Refused
	if len(refused) == 0 {
		refused = []int{http.StatusUnauthorized}
	}
	if err != nil || !slices.Contains(refused, resp.StatusCode) {
		return resp, err
	}
	fresh, err := t.Cache.Value(r.Context(), t.Name, value)
	if err != nil || fresh == value || (r.Body != nil && r.Body != http.NoBody && r.GetBody == nil) {
		return resp, nil
	}
	second := r.Clone(r.Context())
	if r.GetBody != nil {
		if second.Body, err = r.GetBody(); err != nil {
			return resp, nil
		}
	}
	if err := t.Authorize(second, fresh); err != nil {
		return resp, nil
	}
	resp.Body.Close()
	return base.RoundTrip(second)
}
