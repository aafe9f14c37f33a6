package sqs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/sqs"
	sdktypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/parleyhq/parley/infra/awsrec"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/sqs"
)

// TestRequestsAreTheSDKs: for the same input, each call sends the body,
// target and content type the AWS SDK's SQS client sends.
func TestRequestsAreTheSDKs(t *testing.T) {
	rec := awsrec.New(t)
	ours := sqs.New(&awsapi.Client{Region: "eu-west-1", Endpoint: rec.URL, MaxAttempts: 1})
	theirs := sdk.New(sdk.Options{Region: "eu-west-1", BaseEndpoint: aws.String(rec.URL), RetryMaxAttempts: 1})
	const url = "https://sqs.eu-west-1.amazonaws.com/123456789012/parley-hooks.fifo"
	body := `{"id":"evt_1","text":"<b>&</b> \u2028 café 🍰"}`
	ctx := context.Background()
	cases := []struct {
		name         string
		ours, theirs func() error
	}{
		{"SendMessage", func() error {
			_, err := ours.SendMessage(ctx, &sqs.SendMessageInput{QueueURL: url, MessageBody: body})
			return err
		}, func() error {
			_, err := theirs.SendMessage(ctx, &sdk.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
			return err
		}},
		{"SendMessage to a FIFO queue, delayed", func() error {
			_, err := ours.SendMessage(ctx, &sqs.SendMessageInput{QueueURL: url, MessageBody: body, DelaySeconds: 30,
				MessageGroupID: "0f3a", MessageDeduplicationID: "evt_1-redrive-x"})
			return err
		}, func() error {
			_, err := theirs.SendMessage(ctx, &sdk.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body), DelaySeconds: 30,
				MessageGroupId: aws.String("0f3a"), MessageDeduplicationId: aws.String("evt_1-redrive-x")})
			return err
		}},
		{"ChangeMessageVisibility", func() error {
			return ours.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueURL: url, ReceiptHandle: "AQEB+rh==", VisibilityTimeout: 300})
		}, func() error {
			_, err := theirs.ChangeMessageVisibility(ctx, &sdk.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("AQEB+rh=="), VisibilityTimeout: 300})
			return err
		}},
		{"ChangeMessageVisibility to now", func() error {
			return ours.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueURL: url, ReceiptHandle: "AQEB+rh=="})
		}, func() error {
			_, err := theirs.ChangeMessageVisibility(ctx, &sdk.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("AQEB+rh==")})
			return err
		}},
	}
	for _, c := range cases {
		if err := c.ours(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := c.theirs(); err != nil {
			t.Fatalf("%s (SDK): %v", c.name, err)
		}
		rec.CheckPair(t, c.name)
	}
}

// TestFIFOQueue: on moto, messages sent with group ids come out in order
// per group, a second send under the same deduplication id is dropped, and
// ChangeMessageVisibility makes a received message visible again.
func TestFIFOQueue(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	reader := sdk.NewFromConfig(m.SDKConfig())
	created, err := reader.CreateQueue(ctx, &sdk.CreateQueueInput{QueueName: aws.String("parley-hooks.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	url := *created.QueueUrl
	q := sqs.New(awsapi.FromEnv(func(string) string { return "" }, m.Endpoint()))

	var sent []string
	for i := range 6 {
		group := []string{"conversation-a", "conversation-b"}[i%2]
		body := fmt.Sprintf(`{"group":%q,"n":%d}`, group, i)
		out, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueURL: url, MessageBody: body, MessageGroupID: group, MessageDeduplicationID: fmt.Sprint("evt_", i)})
		if err != nil {
			t.Fatal(err)
		}
		if out.MessageID == "" || out.SequenceNumber == "" {
			t.Errorf("SendMessage answered %+v, want a message id and a sequence number", out)
		}
		sent = append(sent, body)
	}
	// The same deduplication id within five minutes: accepted, not queued.
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueURL: url, MessageBody: `{"again":true}`, MessageGroupID: "conversation-a", MessageDeduplicationID: "evt_0"}); err != nil {
		t.Fatal(err)
	}

	var got, handles []string
	for len(got) < len(sent) {
		out, err := reader.ReceiveMessage(ctx, &sdk.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sdktypes.MessageSystemAttributeName{sdktypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, msg := range out.Messages {
			got = append(got, *msg.Body)
			handles = append(handles, *msg.ReceiptHandle)
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(sent))
	if !slices.Equal(got, want) {
		t.Fatalf("received %q, want %q once each", got, want)
	}

	// Visible again at once, every message of the groups: they come back
	// in their groups' order, received for the second time.
	for _, h := range handles {
		if err := q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueURL: url, ReceiptHandle: h}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := reader.ReceiveMessage(ctx, &sdk.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []sdktypes.MessageSystemAttributeName{sdktypes.MessageSystemAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) == 0 {
		t.Fatal("after ChangeMessageVisibility(0) nothing was received again")
	}
	var again []string
	for _, msg := range out.Messages {
		again = append(again, *msg.Body)
		if n := msg.Attributes["ApproximateReceiveCount"]; n != "2" {
			t.Errorf("%s received again with ApproximateReceiveCount %s, want 2", *msg.Body, n)
		}
	}
	for _, g := range []string{"conversation-a", "conversation-b"} {
		var order []string
		for _, b := range again {
			if strings.Contains(b, g) {
				order = append(order, b)
			}
		}
		if !slices.IsSorted(order) {
			t.Errorf("group %s came back out of order: %q", g, order)
		}
	}
}

// TestErrors: SQS's error answers come back as *awsapi.Error with their
// code and message.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	reader := sdk.NewFromConfig(m.SDKConfig())
	created, err := reader.CreateQueue(ctx, &sdk.CreateQueueInput{QueueName: aws.String("jobs.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.New(awsapi.FromEnv(func(string) string { return "" }, m.Endpoint()))
	cases := []struct {
		name string
		in   *sqs.SendMessageInput
		says string
	}{
		{"no such queue", &sqs.SendMessageInput{QueueURL: m.Endpoint() + "/123456789012/nowhere", MessageBody: "{}"}, "QueueDoesNotExist"},
		{"a FIFO queue without a group", &sqs.SendMessageInput{QueueURL: *created.QueueUrl, MessageBody: "{}", MessageDeduplicationID: "1"}, "MessageGroupId"},
	}
	for _, c := range cases {
		_, err := q.SendMessage(ctx, c.in)
		var e *awsapi.Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code == "" || !strings.Contains(e.Code+" "+e.Message, c.says) {
			t.Errorf("%s: %v, want a 400 with a code, saying %s", c.name, err, c.says)
		}
	}
}

// TestJSONBody: a JSON document holding characters SQS does not take in a
// message (U+FFFE, U+FFFF: a customer can write them) goes as a body of
// characters SQS takes, which decodes to the same document.
func TestJSONBody(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	reader := sdk.NewFromConfig(m.SDKConfig())
	created, err := reader.CreateQueue(ctx, &sdk.CreateQueueInput{QueueName: aws.String("parley-jobs")})
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.New(awsapi.FromEnv(func(string) string { return "" }, m.Endpoint()))
	doc, err := json.Marshal(map[string]string{"text": "hi \uffff there \ufffe, 🙂 <b>&"})
	if err != nil {
		t.Fatal(err)
	}
	// SQS's API reference: a body holds only #x9, #xA, #xD, #x20–#xD7FF,
	// #xE000–#xFFFD and #x10000–#x10FFFF (others are refused, or replaced
	// by U+FFFD, as its pages have said at different times).
	for _, r := range sqs.JSONBody(doc) {
		if !(r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			t.Errorf("the body holds %U, which SQS does not take", r)
		}
	}
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueURL: *created.QueueUrl, MessageBody: sqs.JSONBody(doc)}); err != nil {
		t.Fatal(err)
	}
	got, err := reader.ReceiveMessage(ctx, &sdk.ReceiveMessageInput{QueueUrl: created.QueueUrl})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("%v %+v", err, got)
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(*got.Messages[0].Body), &back); err != nil || back["text"] != "hi \uffff there \ufffe, 🙂 <b>&" {
		t.Errorf("%v %q", err, back["text"])
	}
}
