// Package eventbridge is the event bus adapter on Amazon EventBridge: it
// publishes parley's events to a bus and parks those the bus refuses in an
// SQS dead-letter queue.
package eventbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebsdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/parleyhq/parley/shared/message"
)

// Source is the EventBridge source of parley's events.
const Source = "parley"

// API is the part of the EventBridge client Publisher uses.
type API interface {
	PutEvents(ctx context.Context, in *ebsdk.PutEventsInput, opts ...func(*ebsdk.Options)) (*ebsdk.PutEventsOutput, error)
}

// SQSAPI is the part of the SQS client Publisher uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
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

// maxEntries is PutEvents' limit on entries per request.
const maxEntries = 10

// Publish sends evs to the bus.
func (b *Publisher) Publish(ctx context.Context, evs ...message.Event) error {
	for len(evs) > 0 {
		n := min(len(evs), maxEntries)
		if err := b.publish(ctx, evs[:n]); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return nil
}

func (b *Publisher) publish(ctx context.Context, evs []message.Event) error {
	entries := make([]ebtypes.PutEventsRequestEntry, len(evs))
	docs := make([]string, len(evs))
	for i, ev := range evs {
		doc, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("eventbridge: encoding event %s: %w", ev.ID, err)
		}
		docs[i] = string(doc)
		entries[i] = ebtypes.PutEventsRequestEntry{
			EventBusName: aws.String(b.Bus),
			Source:       aws.String(Source),
			DetailType:   aws.String(ev.Type),
			Detail:       aws.String(docs[i]),
			Time:         aws.Time(ev.Time),
		}
	}
	out, err := b.Client.PutEvents(ctx, &ebsdk.PutEventsInput{Entries: entries})
	var failed []int
	switch {
	case err != nil:
		b.Log.Warn("publishing events failed", "count", len(evs), "error", err)
		for i := range evs {
			failed = append(failed, i)
		}
	case out.FailedEntryCount > 0:
		for i, r := range out.Entries {
			if r.ErrorCode != nil {
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
	_, err := b.DLQ.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(b.DLQURL), MessageBody: aws.String(doc)})
	if err != nil {
		return fmt.Errorf("eventbridge: event %s could not be published nor parked in the dead-letter queue: %w", ev.ID, err)
	}
	b.Log.Warn("event parked in the dead-letter queue", "event_id", ev.ID, "type", ev.Type, "channel", ev.Channel)
	return nil
}
