// Package retry is parley's one retry policy: exponential backoff with full
// jitter, bounded in attempts and by the context's deadline, honouring the
// platform's own advice when it gives one.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Policy bounds the retries of one operation.
type Policy struct {
	// Attempts is the total number of tries, the first one included.
	Attempts int
	// Base is the backoff before the second try; it doubles each time.
	Base time.Duration
	// Max caps one backoff.
	Max time.Duration
	// Sleep waits for d or until ctx is done; nil means a real timer. Tests
	// replace it so they never wait.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Default is the policy for calls to the platforms: 3 tries within a few
// seconds, well inside API Gateway's and the platforms' webhook timeouts.
var Default = Policy{Attempts: 3, Base: 250 * time.Millisecond, Max: 2 * time.Second}

// Do calls fn until it succeeds, returns an error that is not retryable
// (see message.Error.Retryable), the attempts run out, or ctx ends. It
// returns fn's last error.
func (p Policy) Do(ctx context.Context, fn func(ctx context.Context, attempt int) error) error {
	attempts := max(p.Attempts, 1)
	sleep := p.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = fn(ctx, attempt)
		if err == nil || attempt >= attempts || !retryable(err) {
			return err
		}
		if serr := sleep(ctx, p.backoff(attempt, err)); serr != nil {
			return err
		}
	}
}

func (p Policy) backoff(attempt int, err error) time.Duration {
	var e *message.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter
	}
	d := p.Base << (attempt - 1)
	if p.Max > 0 && (d > p.Max || d <= 0) {
		d = p.Max
	}
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d))) + d/2
}

func retryable(err error) bool {
	var e *message.Error
	return errors.As(err, &e) && e.Retryable
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
