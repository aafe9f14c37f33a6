// Package schedule is the use case behind functions/fallback: every run
// pages through the scheduled items that are due, claims each with a
// versioned write (so that two overlapping runs never send one item
// twice), and sends it through the send use case, which chooses the message
// or its fallback. A run stops claiming before its deadline and leaves the
// rest to the next one, and keeps each business number under its
// throughput limit. It knows no Lambda or AWS type.
package schedule

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/metrics"
	"github.com/parleyhq/parley/shared/send"
	"github.com/parleyhq/parley/shared/store"
)

// Defaults of a Job's settings.
const (
	// DefaultPerSecond is the messages per second a business number may
	// send (WhatsApp Cloud API's default throughput).
	DefaultPerSecond = 80
	// DefaultPageSize is how many due items one read returns.
	DefaultPageSize = 25
	// DefaultLease is how long a claim keeps an item from other runs: longer
	// than any run (a Lambda function runs at most 15 minutes), so that an
	// item comes back only when the run that claimed it is gone.
	DefaultLease = 16 * time.Minute
	// DefaultReserve is the time before the deadline at which a run stops
	// claiming: enough to finish the sends in flight (a platform call with
	// its retries).
	DefaultReserve = 15 * time.Second
	// DefaultWorkers is how many items a run sends at once.
	DefaultWorkers = 8
)

// Sender sends claimed items: *send.Sender.
type Sender interface {
	SendClaimed(ctx context.Context, sc store.Scheduled) (message.SendResult, error)
	Abandon(ctx context.Context, sc store.Scheduled)
}

// Job runs the due scheduled items. Store, Sender and Clock are required;
// the rest take their defaults when zero.
type Job struct {
	Store  store.Store
	Sender Sender
	Clock  clock.Clock
	Log    *slog.Logger
	// PerSecond is each business number's limit; bursts of up to one
	// second's worth are allowed.
	PerSecond float64
	PageSize  int
	Lease     time.Duration
	Reserve   time.Duration
	Workers   int
	// Sleep waits d (a throttled send); nil sleeps on the system clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Metrics records the lag after each run (none when nil).
	Metrics *metrics.Recorder

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// Report counts what a run did.
type Report struct {
	Claimed      int `json:"claimed"`      // items this run took
	Sent         int `json:"sent"`         // sent as requested
	FallbackSent int `json:"fallbackSent"` // sent as their fallback
	Failed       int `json:"failed"`       // recorded as failed (window_closed, conversation_closed, …)
	Answered     int `json:"answered"`     // re-engagements dropped: the customer wrote
	Abandoned    int `json:"abandoned"`    // claims of a run that died, recorded as failed
	Lost         int `json:"lost"`         // items another run claimed first
	// Stopped is true when the run stopped at its deadline with items
	// possibly left for the next run.
	Stopped bool `json:"stopped"`
}

// Run sends the items due now until none is left or deadline-Reserve is
// reached (a zero deadline has no limit). An error means the store could
// not be read; what was sent is in the report.
func (j *Job) Run(ctx context.Context, deadline time.Time) (Report, error) {
	var rep Report
	var mu sync.Mutex
	count := func(f func(*Report)) {
		mu.Lock()
		f(&rep)
		mu.Unlock()
	}
	cursor := ""
	for {
		if j.late(deadline, 0) {
			rep.Stopped = true
			break
		}
		// Due at now is due: the reader's bound is exclusive.
		items, next, err := j.Store.DueItems(ctx, j.Clock.Now().Add(time.Nanosecond), j.pageSize(), cursor)
		if err != nil {
			return rep, err
		}
		if len(items) == 0 {
			break
		}
		cursor = next
		work := make(chan store.Scheduled)
		var wg sync.WaitGroup
		var stopped sync.Once
		for range min(j.workers(), len(items)) {
			wg.Go(func() {
				for sc := range work {
					if !j.one(ctx, sc, deadline, count) {
						stopped.Do(func() { count(func(r *Report) { r.Stopped = true }) })
					}
				}
			})
		}
		for _, sc := range items {
			work <- sc
		}
		close(work)
		wg.Wait()
		if rep.Stopped || ctx.Err() != nil {
			break
		}
	}
	// A run that found nothing to do is a debug line: the job runs every minute.
	level := slog.LevelInfo
	if rep == (Report{}) {
		level = slog.LevelDebug
	}
	j.log().Log(ctx, level, "fallback run", "claimed", rep.Claimed, "sent", rep.Sent, "fallback_sent", rep.FallbackSent,
		"failed", rep.Failed, "answered", rep.Answered, "abandoned", rep.Abandoned, "lost", rep.Lost, "stopped", rep.Stopped)
	j.recordLag(ctx)
	return rep, nil
}

// recordLag records how long the oldest item still due has waited: 0 when
// the run left none, growing when runs cannot keep up or keep failing. A
// claimed item counts once its lease has run out.
func (j *Job) recordLag(ctx context.Context) {
	if j.Metrics == nil {
		return
	}
	now := j.Clock.Now()
	items, _, err := j.Store.DueItems(ctx, now, 1, "")
	if err != nil {
		j.log().Warn("reading the oldest due item failed; no lag recorded", "error", err)
		return
	}
	var lag time.Duration
	if len(items) > 0 {
		lag = max(now.Sub(items[0].DueAt), 0)
	}
	j.Metrics.Record(ctx, metrics.FallbackLag, metrics.Seconds, lag.Seconds(), metrics.Dimensions{})
}

// one throttles, claims and sends sc; false when the deadline came first
// and sc was left for the next run.
func (j *Job) one(ctx context.Context, sc store.Scheduled, deadline time.Time, count func(func(*Report))) bool {
	now := j.Clock.Now()
	r := j.limiter(sc.Request.BusinessID).ReserveN(now, 1)
	wait := r.DelayFrom(now)
	if j.late(deadline, wait) {
		r.CancelAt(now)
		return false
	}
	if wait > 0 {
		if err := j.sleep(ctx, wait); err != nil {
			return false
		}
	}
	claimed := sc
	claimed.Claimed = true
	claimed.DueAt = j.Clock.Now().Add(j.lease())
	claimed.Version = sc.Version + 1
	err := j.Store.Apply(ctx, store.PutScheduled{Item: claimed, PrevVersion: sc.Version})
	switch {
	case errors.Is(err, store.ErrConflict):
		count(func(r *Report) { r.Lost++ })
		return true
	case err != nil:
		j.log().Error("claiming a scheduled item failed", "message_id", sc.ID, "error", err)
		return true
	}
	count(func(r *Report) { r.Claimed++ })
	if sc.Claimed {
		j.log().Warn("a claimed item outlived its lease; recording it as failed", "message_id", sc.ID)
		j.Sender.Abandon(ctx, claimed)
		count(func(r *Report) { r.Abandoned++ })
		return true
	}
	res, err := j.Sender.SendClaimed(ctx, claimed)
	switch {
	case errors.Is(err, send.ErrAnswered):
		count(func(r *Report) { r.Answered++ })
	case err != nil:
		j.log().Info("scheduled message failed", "message_id", sc.ID, "kind", sc.Kind, "code", message.AsError(err).Code)
		count(func(r *Report) { r.Failed++ })
	case res.Status == send.StatusFallbackSent:
		count(func(r *Report) { r.FallbackSent++ })
	default:
		count(func(r *Report) { r.Sent++ })
	}
	return true
}

// late reports whether, after waiting wait, less than Reserve would be left
// before deadline.
func (j *Job) late(deadline time.Time, wait time.Duration) bool {
	return !deadline.IsZero() && j.Clock.Now().Add(wait).Add(j.reserve()).After(deadline)
}

// limiter is the token bucket of a business number: PerSecond tokens a
// second, bursts of one second's worth.
func (j *Job) limiter(business string) *rate.Limiter {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.limiters == nil {
		j.limiters = map[string]*rate.Limiter{}
	}
	l, ok := j.limiters[business]
	if !ok {
		perSecond := j.PerSecond
		if perSecond <= 0 {
			perSecond = DefaultPerSecond
		}
		l = rate.NewLimiter(rate.Limit(perSecond), max(int(perSecond), 1))
		j.limiters[business] = l
	}
	return l
}

func (j *Job) sleep(ctx context.Context, d time.Duration) error {
	if j.Sleep != nil {
		return j.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (j *Job) pageSize() int {
	if j.PageSize > 0 {
		return j.PageSize
	}
	return DefaultPageSize
}

func (j *Job) lease() time.Duration {
	if j.Lease > 0 {
		return j.Lease
	}
	return DefaultLease
}

func (j *Job) reserve() time.Duration {
	if j.Reserve > 0 {
		return j.Reserve
	}
	return DefaultReserve
}

func (j *Job) workers() int {
	if j.Workers > 0 {
		return j.Workers
	}
	return DefaultWorkers
}

func (j *Job) log() *slog.Logger {
	if j.Log == nil {
		return slog.Default()
	}
	return j.Log
}
