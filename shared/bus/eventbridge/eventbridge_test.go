package eventbridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/parleyhq/parley/infra/awsrec"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/awsapi"
	ebapi "github.com/parleyhq/parley/shared/awsapi/eventbridge"
	sqsapi "github.com/parleyhq/parley/shared/awsapi/sqs"
	"github.com/parleyhq/parley/shared/bus/eventbridge"
	"github.com/parleyhq/parley/shared/message"
)

// TestRefusedEventsAreParked: the events EventBridge refuses — some
// entries of a request it accepts (its documented answer), or the whole
// request — go to the dead-letter queue (SQS on moto), each once, as the
// JSON the bus would have carried; the accepted ones do not.
func TestRefusedEventsAreParked(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	reader := sqs.NewFromConfig(m.SDKConfig())
	created, err := reader.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("parley-events-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	bus := awsrec.New(t)
	p := &eventbridge.Publisher{
		Client: ebapi.New(&awsapi.Client{Endpoint: bus.URL, Region: "us-east-1", MaxAttempts: 1}),
		Bus:    "parley",
		DLQ:    sqsapi.New(awsapi.FromEnv(func(string) string { return "" }, m.Endpoint())),
		DLQURL: *created.QueueUrl,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	var evs []message.Event
	for i := range 3 {
		evs = append(evs, message.Event{ID: fmt.Sprint("evt_", i), Type: "message.received", Time: time.Date(2026, 12, 3, 9, 0, i, 0, time.UTC),
			Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: "447700900123"})
	}
	bus.Answer = `{"FailedEntryCount":1,"Entries":[{"EventId":"4c1f7e2a-0d9b-4a36-b5e8-7f2c1d0e9a84"},
		{"ErrorCode":"InternalFailure","ErrorMessage":"Internal service error."},{"EventId":"9e3d5b71-2f8c-4b0a-a6d4-3c7e1f5b2d90"}]}`
	if err := p.Publish(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if got := parked(t, reader, *created.QueueUrl); !slices.Equal(got, []string{"evt_1"}) {
		t.Errorf("a request with one refused entry parked %v, want evt_1", got)
	}
	sent := bus.Take()
	var req struct{ Entries []struct{ Detail string } }
	if len(sent) != 1 || json.Unmarshal(sent[0].Body, &req) != nil || len(req.Entries) != 3 || !strings.Contains(req.Entries[1].Detail, `"evt_1"`) {
		t.Fatalf("the bus received %d requests, want one of 3 entries", len(sent))
	}

	bus.Status, bus.Answer = http.StatusBadRequest, `{"__type":"ResourceNotFoundException","message":"Event bus parley does not exist."}`
	if err := p.Publish(ctx, evs[0], evs[2]); err != nil {
		t.Fatal(err)
	}
	if got := parked(t, reader, *created.QueueUrl); !slices.Equal(got, []string{"evt_0", "evt_2"}) {
		t.Errorf("a refused request parked %v, want both its events", got)
	}

	p.DLQURL = ""
	if err := p.Publish(ctx, evs[0]); err == nil || !strings.Contains(err.Error(), "evt_0") {
		t.Errorf("without a dead-letter queue: %v, want an error naming the event", err)
	}
}

// parked reads the ids of the events in the dead-letter queue.
func parked(t *testing.T, reader *sqs.Client, url string) []string {
	t.Helper()
	out, err := reader.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, msg := range out.Messages {
		var ev message.Event
		if err := json.Unmarshal([]byte(*msg.Body), &ev); err != nil {
			t.Fatalf("parked %q: %v", *msg.Body, err)
		}
		ids = append(ids, ev.ID)
		if _, err := reader.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: msg.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(ids)
	return ids
}
