// Package eventbridge is the event bus adapter on Amazon EventBridge: it
// publishes parley's events to a bus and parks those the bus refuses in an
// SQS dead-letter queue.
package eventbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/parleyhq/parley/shared/awsapi"
	ebapi "github.com/parleyhq/parley/shared/awsapi/eventbridge"
	"github.com/parleyhq/parley/shared/awsapi/sqs"
	"github.com/parleyhq/parley/shared/message"
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
// event's type, detail = the event's JSON. Events the bus refuses go to the
// dead-letter queue; only when that fails too does Publish return an error
// (the event is still in the event log).
type Publisher struct {
	Client API
	Bus    string
	DLQ    SQSAPI
	DLQURL string
	Log    *slog.Logger
}

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
	out, err := b.Client.PutEvents(ctx, &ebapi.PutEventsInput{Entries: entries})
	var failed []int
	switch {
	case err != nil:
		b.Log.Warn("publishing events failed", "count", len(evs), "error", err)
		for i := range evs {
			failed = append(failed, i)
		}
	case out.FailedEntryCount > 0:
		for i, r := range out.Entries {
			if r.ErrorCode != "" {
				failed = append(failed, i)
			}
		}
	}
	for _, i := range failed {
		if err := b.park(ctx, evs[i], docs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (b *Publisher) park(ctx context.Context, ev message.Event, doc string) error {
	if b.DLQ == nil || b.DLQURL == "" {
		return fmt.Errorf("eventbridge: event %s could not be published and no dead-letter queue is configured", ev.ID)
	}
	_, err := b.DLQ.SendMessage(ctx, &sqs.SendMessageInput{QueueURL: b.DLQURL, MessageBody: doc})
	if err != nil {
		return fmt.Errorf("eventbridge: event %s could not be published nor parked in the dead-letter queue: %w", ev.ID, err)
	}
	b.Log.Warn("event parked in the dead-letter queue", "event_id", ev.ID, "type", ev.Type, "channel", ev.Channel)
	return nil
}
