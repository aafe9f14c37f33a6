// Package queue is the port through which parley hands work to another
// function: a Job on a queue. The SQS adapter (queue/sqs) is production's;
// InProcess runs the jobs in the same process, with the same retries and
// the same last-attempt rule, for the local stack and tests.
package queue

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Job is one unit of payload work. A fetch job names an inbound message (by
// its platform id) and one payload of it; a decode job names the raw object
// a fetch wrote.
type Job struct {
	Channel           message.Channel     `json:"channel,omitempty"`
	BusinessID        string              `json:"businessId,omitempty"`
	CustomerID        string              `json:"customerId,omitempty"`
	PlatformMessageID string              `json:"platformMessageId,omitempty"`
	Payload           *message.PayloadRef `json:"payload,omitempty"`
	// Key is the raw object of a decode job.
	Key string `json:"key,omitempty"`
	// Attempt is which delivery of the job this is, 1 for the first (SQS's
	// ApproximateReceiveCount); it is not sent.
	Attempt int `json:"-"`
}

// Sender puts jobs on a queue.
type Sender interface {
	Send(ctx context.Context, j Job) error
}

// InProcess runs each job in a goroutine of this process: up to Attempts
// deliveries (default 3), Backoff doubling between them (default 100 ms),
// as an SQS queue with a redrive policy would. Handle must be set before
// the first Send.
type InProcess struct {
	Handle   func(ctx context.Context, j Job) error
	Attempts int
	Backoff  time.Duration
	Log      *slog.Logger
	wg       sync.WaitGroup
}

// Send starts j and returns at once.
func (q *InProcess) Send(_ context.Context, j Job) error {
	attempts, backoff := q.Attempts, q.Backoff
	if attempts <= 0 {
		attempts = 3
	}
	if backoff <= 0 {
		backoff = 100 * time.Millisecond
	}
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		for a := 1; a <= attempts; a++ {
			j.Attempt = a
			err := q.Handle(context.Background(), j)
			if err == nil {
				return
			}
			if q.Log != nil {
				q.Log.Warn("a payload job failed", "attempt", a, "of", attempts, "platform_message_id", j.PlatformMessageID, "key", j.Key, "error", err)
			}
			if a < attempts {
				time.Sleep(backoff << (a - 1))
			}
		}
	}()
	return nil
}

// Wait blocks until every job sent so far has finished, its retries
// included.
func (q *InProcess) Wait() { q.wg.Wait() }
