// Package eventbridge is the event bus adapter on Amazon EventBridge: it
// publishes parley's events to a bus, sends again those the bus refuses
// for a passing reason, and parks the rest in an SQS dead-letter queue.
package eventbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/parleyhq/parley/shared/awsapi"
	ebapi "github.com/parleyhq/parley/shared/awsapi/eventbridge"
	"github.com/parleyhq/parley/shared/awsapi/sqs"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
)

// Source is the EventBridge source of parley's events.
const Source = "parley"

// API is the part of the EventBridge client Publisher uses.
type API interface {
	PutEvents(ctx context.Context, in *ebapi.PutEventsInput, opts ...awsapi.CallOption) (*ebapi.PutEventsOutput, error)
}

// SQSAPI is the part of the SQS client Publisher uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...awsapi.CallOption) (*sqs.SendMessageOutput, error)
}

// Publisher publishes events to an EventBridge bus, detail-type = the
// event's type, detail = the event's JSON. The entries of a request the bus
// refuses with a code AWS documents as retryable (RetryableCode) are sent
// again, alone, as Retry allows; the events the bus refuses otherwise, or
// still refuses then, go to the dead-letter queue. A request is never sent
// again once the bus may have acted on it (awsapi.AtMostOnce: PutEvents
// has no idempotency token, and a repeat would publish its events twice);
// the events of a request whose outcome is unknown (a 5xx, an answer lost
// or damaged) are parked, so an event is on the bus at most once and on
// the bus or parked at least once. Only when parking fails too does
// Publish return an error (the event is still in the event log).
type Publisher struct {
	Client API
	Bus    string
	DLQ    SQSAPI
	DLQURL string
	Log    *slog.Logger
	// Retry bounds the sending again of refused entries: its Attempts
	// count the first request too. The zero Policy means EntryRetry.
	Retry retry.Policy
}

// EntryRetry is the default Retry: two more requests after the first,
// 100 ms and then 200 ms apart (jittered), within 5 seconds — well inside
// the webhooks' and the send API's time.
var EntryRetry = retry.Policy{Attempts: 3, Base: 100 * time.Millisecond, Max: time.Second, Budget: 5 * time.Second}

// RetryableCode reports whether EventBridge refused an entry for a reason
// that may pass (its PutEventsResultEntry documents InternalFailure and
// ThrottlingException as retryable), so that the entry may be sent again:
// a refused entry was not put on the bus, so nothing is published twice.
func RetryableCode(code string) bool {
	return code == "InternalFailure" || code == "ThrottlingException"
}

// errRefusedForNow marks a request some of whose entries may be sent again.
var errRefusedForNow = errors.New("eventbridge: entries refused for now")

// Publish sends evs to the bus.
func (b *Publisher) Publish(ctx context.Context, evs ...message.Event) error {
	for len(evs) > 0 {
		n := min(len(evs), ebapi.MaxEntries)
		if err := b.publish(ctx, evs[:n]); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return nil
}

func (b *Publisher) publish(ctx context.Context, evs []message.Event) error {
	entries := make([]ebapi.PutEventsRequestEntry, len(evs))
	docs := make([]string, len(evs))
	for i, ev := range evs {
		doc, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("eventbridge: encoding event %s: %w", ev.ID, err)
		}
		docs[i] = string(doc)
		entries[i] = ebapi.PutEventsRequestEntry{
			EventBusName: b.Bus,
			Source:       Source,
			DetailType:   ev.Type,
			Detail:       docs[i],
			Time:         ebapi.Time{Time: ev.Time},
		}
	}
	policy := b.Retry
	if policy.Attempts == 0 {
		policy = EntryRetry
	}
	// pending holds the indexes of the entries still to send, parked those
	// the bus refused for good.
	pending := make([]int, len(evs))
	for i := range pending {
		pending[i] = i
	}
	var parked []int
	// codes keeps why the bus last refused each entry, for the log.
	codes := make([]string, len(evs))
	err := policy.DoIf(ctx, func(err error) bool { return errors.Is(err, errRefusedForNow) }, func(ctx context.Context, attempt int) error {
		in := &ebapi.PutEventsInput{Entries: make([]ebapi.PutEventsRequestEntry, len(pending))}
		for j, i := range pending {
			in.Entries[j] = entries[i]
		}
		out, err := b.Client.PutEvents(ctx, in, awsapi.AtMostOnce())
		if err != nil {
			return err
		}
		var again []int
		for j, i := range pending {
			switch {
			case j >= len(out.Entries):
				// AWS answers every entry; one it did not answer is parked.
				codes[i] = "no answer"
				parked = append(parked, i)
			case out.Entries[j].ErrorCode == "":
			case RetryableCode(out.Entries[j].ErrorCode):
				codes[i] = out.Entries[j].ErrorCode
				again = append(again, i)
			default:
				codes[i] = out.Entries[j].ErrorCode + ": " + out.Entries[j].ErrorMessage
				parked = append(parked, i)
			}
		}
		pending = again
		if len(pending) > 0 {
			b.Log.Info("the bus refused events for now", "count", len(pending), "attempt", attempt)
			return errRefusedForNow
		}
		return nil
	})
	if err != nil && !errors.Is(err, errRefusedForNow) {
		b.Log.Warn("publishing events failed", "count", len(pending), "error", err)
		for _, i := range pending {
			codes[i] = awsapi.ErrorCode(err)
		}
	}
	parked = append(parked, pending...)
	if len(parked) == 0 {
		return nil
	}
	// In the order they were published.
	slices.Sort(parked)
	for _, i := range parked {
		if err := b.park(ctx, evs[i], docs[i], codes[i]); err != nil {
			return err
		}
	}
	return nil
}

func (b *Publisher) park(ctx context.Context, ev message.Event, doc, why string) error {
	if b.DLQ == nil || b.DLQURL == "" {
		return fmt.Errorf("eventbridge: event %s could not be published and no dead-letter queue is configured", ev.ID)
	}
	_, err := b.DLQ.SendMessage(ctx, &sqs.SendMessageInput{QueueURL: b.DLQURL, MessageBody: sqs.JSONBody([]byte(doc))})
	if err != nil {
		return fmt.Errorf("eventbridge: event %s could not be published nor parked in the dead-letter queue: %w", ev.ID, err)
	}
	b.Log.Warn("event parked in the dead-letter queue", "event_id", ev.ID, "type", ev.Type, "channel", ev.Channel, "refused", why)
	return nil
}
