package applepay

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound the callbacks parley takes. The rates are token buckets of
// one process (one Lambda instance); PerRequest and PaymentAttempts are
// kept in the store, so they hold across instances.
type Limits struct {
	// Rate and Burst bound the callbacks of every request together.
	Rate  rate.Limit
	Burst int
	// RequestRate and RequestBurst bound the callbacks naming one request.
	RequestRate  rate.Limit
	RequestBurst int
	// PerRequest caps the callbacks forwarded for one request over its
	// life.
	PerRequest int
	// PaymentAttempts caps the paymentGateway calls forwarded for one
	// request.
	PaymentAttempts int
}

// DefaultLimits are the limits of a HandlerConfig that sets none. A payment
// sheet makes a callback each time the customer picks another card,
// contact or shipping method, and waits for each answer: a few a second at
// the most, a few dozen in all.
var DefaultLimits = Limits{
	Rate: 50, Burst: 100,
	RequestRate: 2, RequestBurst: 10,
	PerRequest:      50,
	PaymentAttempts: 5,
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Rate <= 0 {
		l.Rate = d.Rate
	}
	if l.Burst <= 0 {
		l.Burst = d.Burst
	}
	if l.RequestRate <= 0 {
		l.RequestRate = d.RequestRate
	}
	if l.RequestBurst <= 0 {
		l.RequestBurst = d.RequestBurst
	}
	if l.PerRequest <= 0 {
		l.PerRequest = d.PerRequest
	}
	if l.PaymentAttempts <= 0 {
		l.PaymentAttempts = d.PaymentAttempts
	}
	return l
}

// maxBuckets bounds the per-request buckets a process keeps; past it, the
// full ones (requests idle long enough to have their whole burst back) are
// forgotten, then any.
const maxBuckets = 10000

// buckets are the token buckets of the requests, by request id.
type buckets struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newBuckets(every rate.Limit, burst int) *buckets {
	return &buckets{every: every, burst: burst, m: map[string]*rate.Limiter{}}
}

// allow takes a token from the bucket of id at now.
func (b *buckets) allow(id string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.m[id]
	if !ok {
		if len(b.m) >= maxBuckets {
			b.forget(now)
		}
		l = rate.NewLimiter(b.every, b.burst)
		b.m[id] = l
	}
	return l.AllowN(now, 1)
}

// forget drops the full buckets, which a new one would equal; if none is
// full, half of them, whichever they are.
func (b *buckets) forget(now time.Time) {
	for id, l := range b.m {
		if l.TokensAt(now) >= float64(b.burst) {
			delete(b.m, id)
		}
	}
	if len(b.m) < maxBuckets {
		return
	}
	for id := range b.m {
		if len(b.m) <= maxBuckets/2 {
			break
		}
		delete(b.m, id)
	}
}
