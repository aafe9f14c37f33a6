package apphook

import (
	"context"
	"errors"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Schedule is when the attempts of one delivery are made, each after the
// one before: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
// later — the last attempt comes 27 h 35 min after the first.
var Schedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// StatusFailed is the status of a parked delivery.
const StatusFailed = "failed"

// Delivery is an event that ran out of attempts, parked.
type Delivery struct {
	// ID is the event's id, which is also the webhook-id of every attempt.
	ID            string        `json:"id"`
	Status        string        `json:"status"`
	Event         message.Event `json:"event"`
	Attempts      int           `json:"attempts"`
	LastError     string        `json:"lastError"`
	LastAttemptAt time.Time     `json:"lastAttemptAt"`
}

// ErrNotParked is the answer for an id Parking does not hold.
var ErrNotParked = errors.New("apphook: no parked delivery with this id")

// Parking keeps deliveries that ran out of attempts until they are
// redriven.
type Parking interface {
	// Park keeps d; parking the same id again replaces it.
	Park(ctx context.Context, d Delivery) error
	// Parked returns up to limit deliveries with ids after after, by id,
	// and the cursor of the next page ("" at the end).
	Parked(ctx context.Context, after string, limit int) ([]Delivery, string, error)
	// Unpark removes the delivery id and returns it; ErrNotParked when
	// there is none.
	Unpark(ctx context.Context, id string) (Delivery, error)
}

// Redriver hands an unparked event back to delivery.
type Redriver interface {
	Redrive(ctx context.Context, ev message.Event) error
}

// Deliveries is what the API offers of parked deliveries.
type Deliveries struct {
	Parking Parking
	Again   Redriver
}

// Redrive unparks id and delivers its event again, from the first attempt
// of Schedule. The event goes after those already waiting in its
// conversation.
// allow, when not nil, may refuse the delivery once it is read (the
// caller's access): it is then parked again and allow's error returned.
func (d Deliveries) Redrive(ctx context.Context, id string, allow func(Delivery) error) (Delivery, error) {
	p, err := d.Parking.Unpark(ctx, id)
	if err != nil {
		return Delivery{}, err
	}
	if allow != nil {
		if err := allow(p); err != nil {
			return Delivery{}, errors.Join(err, d.Parking.Park(ctx, p))
		}
	}
	if err := d.Again.Redrive(ctx, p.Event); err != nil {
		// Keep it parked: nothing is lost when the queue is away.
		if perr := d.Parking.Park(ctx, p); perr != nil {
			return Delivery{}, errors.Join(err, perr)
		}
		return Delivery{}, err
	}
	p.Status = "redriven"
	return p, nil
}

// Parked lists the parked deliveries (the API's view).
func (d Deliveries) Parked(ctx context.Context, after string, limit int) ([]Delivery, string, error) {
	return d.Parking.Parked(ctx, after, limit)
}
