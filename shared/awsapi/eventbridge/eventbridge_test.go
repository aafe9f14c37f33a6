package eventbridge_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/parleyhq/parley/infra/awsrec"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/eventbridge"
)

// TestPutEventsIsTheSDKs: for the same entries, PutEvents sends the body,
// target and content type the AWS SDK's EventBridge client sends, the
// timestamps to the millisecond included.
func TestPutEventsIsTheSDKs(t *testing.T) {
	rec := awsrec.New(t)
	ours := eventbridge.New(&awsapi.Client{Region: "eu-west-1", Endpoint: rec.URL, MaxAttempts: 1})
	theirs := sdk.New(sdk.Options{Region: "eu-west-1", BaseEndpoint: aws.String(rec.URL), RetryMaxAttempts: 1})
	at := time.Date(2026, 12, 3, 9, 30, 15, 987654321, time.UTC)
	detail := `{"id":"evt_1","type":"message.received","body":{"text":"<b>Tomorrow & 14:00</b> ☕"}}`
	ctx := context.Background()
	cases := []struct {
		name   string
		ours   []eventbridge.PutEventsRequestEntry
		theirs []sdktypes.PutEventsRequestEntry
	}{
		{"one event", []eventbridge.PutEventsRequestEntry{{EventBusName: "parley", Source: "parley", DetailType: "message.received", Detail: detail, Time: eventbridge.Time{Time: at}}},
			[]sdktypes.PutEventsRequestEntry{{EventBusName: aws.String("parley"), Source: aws.String("parley"), DetailType: aws.String("message.received"), Detail: aws.String(detail), Time: aws.Time(at)}}},
		{"a whole second, and no time", []eventbridge.PutEventsRequestEntry{
			{EventBusName: "parley", Source: "parley", DetailType: "message.sent", Detail: "{}", Time: eventbridge.Time{Time: at.Truncate(time.Second)}},
			{EventBusName: "arn:aws:events:eu-west-1:123456789012:event-bus/parley", Source: "parley", DetailType: "message.read", Detail: "{}", Resources: []string{"arn:aws:sqs:eu-west-1:123456789012:q"}}},
			[]sdktypes.PutEventsRequestEntry{
				{EventBusName: aws.String("parley"), Source: aws.String("parley"), DetailType: aws.String("message.sent"), Detail: aws.String("{}"), Time: aws.Time(at.Truncate(time.Second))},
				{EventBusName: aws.String("arn:aws:events:eu-west-1:123456789012:event-bus/parley"), Source: aws.String("parley"), DetailType: aws.String("message.read"), Detail: aws.String("{}"), Resources: []string{"arn:aws:sqs:eu-west-1:123456789012:q"}}}},
	}
	for _, c := range cases {
		if _, err := ours.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: c.ours}); err != nil {
			t.Fatal(err)
		}
		if _, err := theirs.PutEvents(ctx, &sdk.PutEventsInput{Entries: c.theirs}); err != nil {
			t.Fatal(err)
		}
		rec.CheckPair(t, c.name)
	}
}

// TestPutEventsPartlyFailing: EventBridge accepts the request and refuses
// some of its entries, which the answer lists in the entries' order with
// their codes (the shape of EventBridge's API reference); an error of the
// whole request is an *awsapi.Error.
func TestPutEventsPartlyFailing(t *testing.T) {
	rec := awsrec.New(t)
	c := eventbridge.New(&awsapi.Client{Region: "eu-west-1", Endpoint: rec.URL, MaxAttempts: 1})
	rec.Answer = `{"FailedEntryCount":2,"Entries":[
		{"EventId":"6f1c2b9e-4d3a-4e8b-9a71-2c5d8e0f4b13"},
		{"ErrorCode":"MalformedDetail","ErrorMessage":"Detail is malformed."},
		{"EventId":"0b8e7d6c-5a4f-4321-8fed-cba987654321"},
		{"ErrorCode":"ThrottlingException","ErrorMessage":"Rate exceeded."}]}`
	entries := make([]eventbridge.PutEventsRequestEntry, 4)
	out, err := c.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	want := eventbridge.PutEventsOutput{FailedEntryCount: 2, Entries: []eventbridge.PutEventsResultEntry{
		{EventID: "6f1c2b9e-4d3a-4e8b-9a71-2c5d8e0f4b13"},
		{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed."},
		{EventID: "0b8e7d6c-5a4f-4321-8fed-cba987654321"},
		{ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded."}}}
	if !reflect.DeepEqual(*out, want) {
		t.Errorf("answer read as %+v, want %+v", out, want)
	}

	rec.Status = http.StatusBadRequest
	rec.Answer = `{"__type":"ResourceNotFoundException","message":"Event bus parley does not exist."}`
	_, err = c.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries})
	var e *awsapi.Error
	if !errors.As(err, &e) || e.Code != "ResourceNotFoundException" || e.Message != "Event bus parley does not exist." {
		t.Errorf("an error answer read as %v", err)
	}
}
