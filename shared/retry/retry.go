// Package retry is parley's one retry policy: exponential backoff with full
// jitter, bounded in attempts, in total time (a budget) and by the
// context's deadline, honouring the platform's own advice when it gives
// one. Only errors marked Retryable are tried again; a platform client
// marks only failures where the request certainly did not arrive (see
// Track), so a retry never sends anything twice.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http/httptrace"
	"sync/atomic"
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
	// Budget caps the whole operation, tries and waits together: each try
	// runs under a context that ends with the budget, and no wait that
	// would end past it is started. 0 means only ctx bounds it.
	Budget time.Duration
	// Sleep waits for d or until ctx is done; nil means a real timer. Tests
	// replace it so they never wait.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultBudget is the default budget of a send: well inside the send
// function's 29-second timeout, leaving time to record the outcome.
const DefaultBudget = 20 * time.Second

// Default is the policy for calls to the platforms: 3 tries within
// DefaultBudget, well inside API Gateway's and the platforms' webhook
// timeouts.
var Default = Policy{Attempts: 3, Base: 250 * time.Millisecond, Max: 2 * time.Second, Budget: DefaultBudget}

// Do calls fn until it succeeds, returns an error that is not retryable
// (see message.Error.Retryable), the attempts run out, or ctx ends. It
// returns fn's last error.
func (p Policy) Do(ctx context.Context, fn func(ctx context.Context, attempt int) error) error {
	return p.DoIf(ctx, retryable, fn)
}

// DoIf is Do with the test of which errors may be tried again given: for
// callers whose errors are not message.Errors (the AWS clients).
func (p Policy) DoIf(ctx context.Context, retryable func(error) bool, fn func(ctx context.Context, attempt int) error) error {
	attempts := max(p.Attempts, 1)
	sleep := p.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	if p.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Budget)
		defer cancel()
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = fn(ctx, attempt)
		if err == nil || attempt >= attempts || !retryable(err) {
			return err
		}
		wait := p.backoff(attempt, err)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			return err
		}
		if serr := sleep(ctx, wait); serr != nil {
			return err
		}
	}
}

// Track returns ctx traced so that wrote reports whether a request made
// with it was written in full to a connection. A failure before that (no
// connection, refused, TLS) certainly did not reach the server and may be
// retried; after it (a timeout, a reset, a body cut off) the server may
// have acted on the request, so it must not be sent again blindly.
func Track(ctx context.Context) (traced context.Context, wrote func() bool) {
	var w atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			w.Store(true)
		}
	}}
	return httptrace.WithClientTrace(ctx, trace), w.Load
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

// Sleep waits for d, or until ctx ends (returning its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
