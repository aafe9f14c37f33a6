package apphook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/sqs"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/metrics"
)

// SQSAPI is the part of the SQS client Queue and Consumer use.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...awsapi.CallOption) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...awsapi.CallOption) error
}

// Queue hands events to an SQS FIFO queue, one message group per
// conversation, so that the webhook function delivers a conversation's
// events in order (AWS). It is a bus.Publisher.
type Queue struct {
	Client SQSAPI
	URL    string
}

// Publish sends each event; the event id deduplicates a second publish of
// the same event within SQS's five minutes.
func (q *Queue) Publish(ctx context.Context, evs ...message.Event) error {
	var errs []error
	for _, ev := range evs {
		errs = append(errs, q.send(ctx, ev, ev.ID))
	}
	return errors.Join(errs...)
}

// Redrive sends a parked event again, under a deduplication id of its own.
func (q *Queue) Redrive(ctx context.Context, ev message.Event) error {
	return q.send(ctx, ev, ev.ID+"-redrive-"+strconv.FormatInt(time.Now().UnixNano(), 36))
}

func (q *Queue) send(ctx context.Context, ev message.Event, dedupe string) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = q.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueURL: q.URL, MessageBody: sqs.JSONBody(b),
		MessageGroupID: groupID(ev), MessageDeduplicationID: dedupe})
	if err != nil {
		return fmt.Errorf("apphook: queueing event %s: %w", ev.ID, err)
	}
	return nil
}

// groupID is GroupOf in the 128 characters SQS allows: its SHA-256 in hex.
func groupID(ev message.Event) string {
	sum := sha256.Sum256([]byte(GroupOf(ev)))
	return hex.EncodeToString(sum[:])
}

// Consumer is the webhook function: it delivers the events of a batch of
// the FIFO queue in order. A failed attempt makes the message visible again
// after the next wait of Schedule (the message group waits with it, which
// keeps the conversation in order) and fails it and every later message of
// the batch; on the last attempt of Schedule the event is parked and the
// message is failed once more, so that SQS moves it to the dead-letter
// queue (maxReceiveCount = len(Schedule)).
//
// Metrics, when set, records each event delivered and its latency from
// the event's creation, each failed attempt by FailureKind, and each
// delivery parked.
type Consumer struct {
	Post    func(ctx context.Context, ev message.Event) error
	Parking Parking
	Client  SQSAPI
	URL     string
	Now     func() time.Time
	Metrics *metrics.Recorder
}

// Handle delivers a batch and reports the messages to deliver again.
func (c *Consumer) Handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for i, rec := range batch.Records {
		if err := c.one(ctx, rec); err != nil {
			for _, later := range batch.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: later.MessageId})
			}
			break
		}
	}
	return resp, nil
}

// errNotAnEvent is a queue message that does not hold an event.
var errNotAnEvent = errors.New("not an event")

func (c *Consumer) one(ctx context.Context, rec events.SQSMessage) error {
	var ev message.Event
	if err := json.Unmarshal([]byte(rec.Body), &ev); err != nil {
		// Not an event parley wrote: to the dead-letter queue as it is.
		c.Metrics.Count(ctx, metrics.EventDeliveryFailures, metrics.Dimensions{Code: FailureInvalid}, 1)
		return fmt.Errorf("apphook: message %s is %w: %w", rec.MessageId, errNotAnEvent, err)
	}
	attempt, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	attempt = max(attempt, 1)
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	err := c.Post(ctx, ev)
	if err == nil {
		c.Metrics.Count(ctx, metrics.EventsDelivered, metrics.Dimensions{Type: ev.Type}, 1)
		if !ev.Time.IsZero() {
			c.Metrics.Duration(ctx, metrics.EventDeliveryLatency, metrics.Dimensions{Type: ev.Type}, max(now().Sub(ev.Time), 0))
		}
		return nil
	}
	c.Metrics.Count(ctx, metrics.EventDeliveryFailures, metrics.Dimensions{Code: FailureKind(err)}, 1)
	if attempt >= len(Schedule) {
		p := Delivery{ID: ev.ID, Status: StatusFailed, Event: ev, Attempts: attempt, LastError: err.Error(), LastAttemptAt: now().UTC()}
		if perr := c.Parking.Park(ctx, p); perr != nil {
			return errors.Join(err, perr)
		}
		c.Metrics.Count(ctx, metrics.EventDeliveriesParked, metrics.Dimensions{Type: ev.Type}, 1)
		return err
	}
	wait := int(Schedule[attempt] / time.Second)
	if verr := c.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueURL: c.URL,
		ReceiptHandle: rec.ReceiptHandle, VisibilityTimeout: wait}); verr != nil {
		return errors.Join(err, verr)
	}
	return err
}
