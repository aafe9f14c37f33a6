// Package sqs is Amazon SQS's JSON protocol (AmazonSQS, awsJson1_0) on an
// awsapi.Client: the calls parley's functions make, and their shapes as
// SQS's API reference names them.
package sqs

import (
	"context"
	"strings"

	"github.com/parleyhq/parley/shared/awsapi"
)

// Client calls SQS through AWS; it is safe for concurrent use.
type Client struct {
	AWS *awsapi.Client
}

// New returns a Client calling through c.
func New(c *awsapi.Client) *Client { return &Client{AWS: c} }

// SendMessageInput is a SendMessage request. MessageGroupID and
// MessageDeduplicationID are a FIFO queue's; DelaySeconds 0 is the
// queue's own delay.
type SendMessageInput struct {
	QueueURL               string `json:"QueueUrl"`
	MessageBody            string
	DelaySeconds           int    `json:",omitempty"`
	MessageGroupID         string `json:"MessageGroupId,omitempty"`
	MessageDeduplicationID string `json:"MessageDeduplicationId,omitempty"`
}

// SendMessageOutput is SendMessage's answer; SequenceNumber is a FIFO
// queue's.
type SendMessageOutput struct {
	MessageID        string `json:"MessageId"`
	MD5OfMessageBody string
	SequenceNumber   string
}

// SendMessage puts a message on a queue.
func (c *Client) SendMessage(ctx context.Context, in *SendMessageInput, opts ...awsapi.CallOption) (*SendMessageOutput, error) {
	out := new(SendMessageOutput)
	if err := c.AWS.Call(ctx, awsapi.SQS, "SendMessage", in, out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

// ChangeMessageVisibilityInput is a ChangeMessageVisibility request:
// the received message (by its receipt handle) becomes visible again
// VisibilityTimeout seconds from now (0: at once).
type ChangeMessageVisibilityInput struct {
	QueueURL          string `json:"QueueUrl"`
	ReceiptHandle     string
	VisibilityTimeout int
}

// ChangeMessageVisibility sets when a received message is delivered again.
func (c *Client) ChangeMessageVisibility(ctx context.Context, in *ChangeMessageVisibilityInput, opts ...awsapi.CallOption) error {
	return c.AWS.Call(ctx, awsapi.SQS, "ChangeMessageVisibility", in, nil, opts...)
}

// JSONBody returns the JSON document doc as a message body SQS takes
// whole: SQS does not keep U+FFFE or U+FFFF in a message (its API reference
// has it refuse the message, or replace them with U+FFFD), and JSON
// carries them as they are, so they are written as JSON escapes, which
// decode to the same document. encoding/json already escapes every other
// character SQS does not take.
func JSONBody(doc []byte) string {
	s := string(doc)
	if !strings.Contains(s, "\uffff") && !strings.Contains(s, "\ufffe") {
		return s
	}
	return strings.NewReplacer("\uffff", `\uffff`, "\ufffe", `\ufffe`).Replace(s)
}
