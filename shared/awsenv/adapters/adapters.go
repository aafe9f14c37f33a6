// Package adapters builds, from a function's settings and its AWS client,
// the AWS adapters of parley's ports: the store (DynamoDB and S3), the
// event publisher (EventBridge, its dead-letter queue and the webhook
// queue), the job queue (SQS) and the event webhooks' parked deliveries.
// It is apart from awsenv so that a function that uses none of them (the
// webhook function) links none of them.
package adapters

import (
	"log/slog"

	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	ebapi "github.com/parleyhq/parley/shared/awsapi/eventbridge"
	sqsapi "github.com/parleyhq/parley/shared/awsapi/sqs"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/bus/eventbridge"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/queue/sqs"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

// Store returns the DynamoDB and S3 store of c.
func Store(aws *awsapi.Client, c config.AWS, clk clock.Clock) *dynamo.Store {
	return dynamo.New(dynamo.Config{AWS: aws, Table: c.Table, Bucket: c.Bucket, Clock: clk, Shards: c.Shards})
}

// Publisher returns the EventBridge publisher of b, which parks the events
// EventBridge refuses in b's dead-letter queue (none when b names no bus),
// and, when b names the webhook queue, also queues every event there.
func Publisher(aws *awsapi.Client, b config.Bus, log *slog.Logger) bus.Publisher {
	eb := eventBus(aws, b, log)
	if b.WebhookQueueURL == "" {
		return eb
	}
	return bus.Many{eb, &apphook.Queue{URL: b.WebhookQueueURL, Client: sqsapi.New(aws)}}
}

func eventBus(aws *awsapi.Client, b config.Bus, log *slog.Logger) bus.Publisher {
	if b.Name == "" {
		return bus.Discard{}
	}
	return &eventbridge.Publisher{Client: ebapi.New(aws), Bus: b.Name, DLQ: sqsapi.New(aws), DLQURL: b.DLQURL, Log: log}
}

// Deliveries returns the event webhooks' deliveries parked in c's table,
// redriven through the webhook queue at url.
func Deliveries(aws *awsapi.Client, c config.AWS, url string) apphook.Deliveries {
	return apphook.Deliveries{Parking: apphook.Table{Client: dynamodb.New(aws), Name: c.Table}, Again: &apphook.Queue{URL: url, Client: sqsapi.New(aws)}}
}

// Queue returns the SQS queue at url.
func Queue(aws *awsapi.Client, url string) *sqs.Queue {
	return &sqs.Queue{URL: url, Client: sqsapi.New(aws)}
}
