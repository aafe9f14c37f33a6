package apphook_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/awsapi"
	sqsapi "github.com/parleyhq/parley/shared/awsapi/sqs"
	"github.com/parleyhq/parley/shared/message"
)

// visibility records the waits Consumer asks SQS for, and asks them.
type visibility struct {
	*sqsapi.Client
	waits []int
}

func (v *visibility) ChangeMessageVisibility(ctx context.Context, in *sqsapi.ChangeMessageVisibilityInput, opts ...awsapi.CallOption) error {
	v.waits = append(v.waits, in.VisibilityTimeout)
	return v.Client.ChangeMessageVisibility(ctx, in, opts...)
}

// TestQueueAndConsumer: on an SQS FIFO queue (moto) the events of a
// conversation come out in order; a failed delivery waits the next step of
// Schedule and holds the rest of its batch; the last attempt parks it.
func TestQueueAndConsumer(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	// The SDK sets the queue up and reads it, independently of parley's
	// own client.
	client := sqs.NewFromConfig(m.SDKConfig())
	ours := sqsapi.New(awsapi.FromEnv(func(string) string { return "" }, m.Endpoint()))
	created, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("parley-hooks.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	url := *created.QueueUrl
	q := &apphook.Queue{Client: ours, URL: url}
	var published []message.Event
	for i := range 6 {
		published = append(published, event(i, []string{"447700900123", "447700900999"}[i%2]))
	}
	if err := q.Publish(ctx, published...); err != nil {
		t.Fatal(err)
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	var batch events.SQSEvent
	for _, msg := range out.Messages {
		batch.Records = append(batch.Records, events.SQSMessage{MessageId: *msg.MessageId, ReceiptHandle: *msg.ReceiptHandle, Body: *msg.Body, Attributes: msg.Attributes})
	}
	if len(batch.Records) != 6 {
		t.Fatalf("received %d messages, want 6", len(batch.Records))
	}

	var delivered []string
	v := &visibility{Client: ours}
	c := &apphook.Consumer{Client: v, URL: url, Parking: apphook.Dir(t.TempDir()), Post: func(_ context.Context, ev message.Event) error {
		if ev.ID == published[3].ID {
			return errors.New("the app answered HTTP 503")
		}
		delivered = append(delivered, ev.ID)
		return nil
	}}
	resp, err := c.Handle(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string][]string{}
	for _, id := range delivered {
		n, _ := strconv.Atoi(id)
		per[published[n].CustomerID] = append(per[published[n].CustomerID], id)
	}
	for cust, ids := range per {
		if !slices.IsSorted(ids) {
			t.Errorf("conversation %s delivered out of order: %v", cust, ids)
		}
	}
	failedAt := slices.IndexFunc(batch.Records, func(r events.SQSMessage) bool {
		return r.Body != "" && strings.Contains(r.Body, `"id":"`+published[3].ID+`"`)
	})
	if len(resp.BatchItemFailures) != len(batch.Records)-failedAt || resp.BatchItemFailures[0].ItemIdentifier != batch.Records[failedAt].MessageId {
		t.Errorf("failures %+v, want the failed message and every one after it", resp.BatchItemFailures)
	}
	if !slices.Equal(v.waits, []int{int(apphook.Schedule[1].Seconds())}) {
		t.Errorf("visibility changes %v, want one of %s", v.waits, apphook.Schedule[1])
	}

	// The last attempt parks the event and still fails the message, so that
	// SQS moves it to the dead-letter queue.
	last := batch.Records[failedAt]
	last.Attributes = map[string]string{"ApproximateReceiveCount": strconv.Itoa(len(apphook.Schedule))}
	resp, _ = c.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{last}})
	if len(resp.BatchItemFailures) != 1 {
		t.Errorf("the last attempt reported %+v, want its failure", resp.BatchItemFailures)
	}
	parked, _, _ := c.Parking.Parked(ctx, "", 10)
	if len(parked) != 1 || parked[0].ID != published[3].ID || parked[0].Attempts != len(apphook.Schedule) {
		t.Errorf("parked %+v, want the failed event after %d attempts", parked, len(apphook.Schedule))
	}
}
