// Package bus delivers parley's events to the app. Events are first written
// to the store's event log (in the same atomic write as the message they
// describe); a Publisher then pushes them out: to an EventBridge bus in
// production (the adapter in bus/eventbridge), nowhere else locally, where
// the log itself is read over HTTP.
package bus

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/shared/message"
)

// Publisher pushes events that are already durable in the event log.
// Publish must not lose an event silently: when it cannot deliver one it
// parks it somewhere durable (a dead-letter queue) or returns an error.
type Publisher interface {
	Publish(ctx context.Context, evs ...message.Event) error
}

// Discard is the Publisher of the local stack: the event log is the
// delivery.
type Discard struct{}

// Publish does nothing.
func (Discard) Publish(context.Context, ...message.Event) error { return nil }

// Many publishes to each of its publishers, every one tried; the errors
// are joined.
type Many []Publisher

// Publish hands evs to every publisher.
func (m Many) Publish(ctx context.Context, evs ...message.Event) error {
	var errs []error
	for _, p := range m {
		if err := p.Publish(ctx, evs...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
