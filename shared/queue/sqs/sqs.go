// Package sqs is the job queue adapter on Amazon SQS: jobs are sent as
// JSON messages, and the queue's consumer (an SQS-triggered function)
// reads them back.
package sqs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parleyhq/parley/shared/awsapi"
	sqsapi "github.com/parleyhq/parley/shared/awsapi/sqs"
	"github.com/parleyhq/parley/shared/queue"
)

// API is the part of the SQS client Queue uses.
type API interface {
	SendMessage(ctx context.Context, in *sqsapi.SendMessageInput, opts ...awsapi.CallOption) (*sqsapi.SendMessageOutput, error)
}

// Queue sends jobs to an SQS queue as JSON.
type Queue struct {
	Client API
	URL    string
}

// Send sends j.
func (q *Queue) Send(ctx context.Context, j queue.Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if _, err := q.Client.SendMessage(ctx, &sqsapi.SendMessageInput{QueueURL: q.URL, MessageBody: sqsapi.JSONBody(b)}); err != nil {
		return fmt.Errorf("queue: sending a job: %w", err)
	}
	return nil
}
