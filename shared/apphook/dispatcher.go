package apphook

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/logs"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
)

// Dispatcher delivers events in this process: one queue per conversation,
// drained by one goroutine while it holds events, so that a conversation's
// events reach the app in the order they were published while other
// conversations go on. An event that fails every attempt of Schedule is
// parked and the conversation moves on to its next event.
//
// It is a bus.Publisher. Events wait in memory: a process that stops
// leaves the undelivered ones in the event log only.
type Dispatcher struct {
	Post    func(ctx context.Context, ev message.Event) error
	Parking Parking
	// Schedule defaults to the package's Schedule.
	Schedule []time.Duration
	// Now defaults to time.Now; Sleep waits between attempts and returns
	// early with the context's error (tests inject both).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger

	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	queues map[string][]message.Event
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.ctx, d.cancel = context.WithCancel(context.Background())
		d.queues = map[string][]message.Event{}
		if d.Schedule == nil {
			d.Schedule = Schedule
		}
		if d.Now == nil {
			d.Now = time.Now
		}
		if d.Sleep == nil {
			d.Sleep = retry.Sleep
		}
		if d.Log == nil {
			d.Log = slog.Default()
		}
	})
}

// Publish queues evs behind the events of their conversations.
func (d *Dispatcher) Publish(_ context.Context, evs ...message.Event) error {
	d.init()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ev := range evs {
		k := GroupOf(ev)
		q := d.queues[k]
		d.queues[k] = append(q, ev)
		if len(q) == 0 {
			d.wg.Go(func() { d.drain(k) })
		}
	}
	return nil
}

// Redrive queues ev again (a parked delivery the API redrives).
func (d *Dispatcher) Redrive(ctx context.Context, ev message.Event) error {
	return d.Publish(ctx, ev)
}

// drain delivers the queue of conversation k until it is empty.
func (d *Dispatcher) drain(k string) {
	for {
		d.mu.Lock()
		q := d.queues[k]
		if len(q) == 0 || d.ctx.Err() != nil {
			delete(d.queues, k)
			d.mu.Unlock()
			return
		}
		ev := q[0]
		d.mu.Unlock()
		d.deliver(ev)
		d.mu.Lock()
		d.queues[k] = d.queues[k][1:]
		d.mu.Unlock()
	}
}

// deliver makes the attempts of Schedule and parks ev when all fail.
func (d *Dispatcher) deliver(ev message.Event) {
	var err error
	for i, wait := range d.Schedule {
		if wait > 0 && d.Sleep(d.ctx, wait) != nil {
			return
		}
		if err = d.Post(d.ctx, ev); err == nil {
			return
		}
		if d.ctx.Err() != nil {
			return
		}
		d.Log.Warn("an event webhook attempt failed", "event_id", ev.ID, "type", ev.Type, "channel", ev.Channel,
			logs.Customer(ev.CustomerID), "attempt", i+1, "of", len(d.Schedule), "error", err)
	}
	p := Delivery{ID: ev.ID, Status: StatusFailed, Event: ev, Attempts: len(d.Schedule), LastError: err.Error(), LastAttemptAt: d.Now().UTC()}
	if perr := d.Parking.Park(d.ctx, p); perr != nil {
		d.Log.Error("parking an undeliverable event failed; it stays in the event log", "event_id", ev.ID, "error", perr)
		return
	}
	d.Log.Error("event webhook parked after its last attempt", "event_id", ev.ID, "type", ev.Type, "error", err)
}

// Close stops delivering: attempts in flight are abandoned and events still
// queued stay in the event log only.
func (d *Dispatcher) Close() {
	d.init()
	d.cancel()
	d.wg.Wait()
}

// Flush waits until every queue is empty: every event published so far is
// delivered or parked.
func (d *Dispatcher) Flush() {
	d.init()
	d.wg.Wait()
}

// GroupOf is the conversation an event belongs to: the unit of ordering.
func GroupOf(ev message.Event) string {
	return string(ev.Channel) + "#" + ev.BusinessID + "#" + ev.CustomerID
}
