// Package adapters builds, from a function's settings, the AWS adapters
// of parley's ports: the store (DynamoDB and S3), the event publisher
// (EventBridge, its dead-letter queue and the webhook queue), the job queue
// (SQS) and the event webhooks' parked deliveries, pointed at a local
// endpoint (moto) when the settings name one. It is apart from awsenv so
// that a function that uses none of them (the webhook function) links
// none of their SDK clients.
package adapters

import (
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebsdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	sqssdk "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/awsenv"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/bus/eventbridge"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/queue/sqs"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

// Store returns the DynamoDB and S3 store of c.
func Store(cfg aws.Config, c config.AWS, clk clock.Clock) *dynamo.Store {
	ddb, s3c := dynamo.Clients(cfg, c.Endpoint)
	return dynamo.New(dynamo.Config{AWS: ddb, S3: s3c, Table: c.Table, Bucket: c.Bucket, Clock: clk, Shards: c.Shards})
}

// Publisher returns the EventBridge publisher of b, which parks the events
// EventBridge refuses in b's dead-letter queue (none when b names no bus),
// and, when b names the webhook queue, also queues every event there.
func Publisher(cfg aws.Config, endpoint string, b config.Bus, log *slog.Logger) bus.Publisher {
	eb := eventBus(cfg, endpoint, b, log)
	if b.WebhookQueueURL == "" {
		return eb
	}
	hooks := &apphook.Queue{URL: b.WebhookQueueURL, Client: sqssdk.NewFromConfig(cfg, awsenv.Endpoint(endpoint, func(o *sqssdk.Options, u *string) { o.BaseEndpoint = u }))}
	return bus.Many{eb, hooks}
}

func eventBus(cfg aws.Config, endpoint string, b config.Bus, log *slog.Logger) bus.Publisher {
	if b.Name == "" {
		return bus.Discard{}
	}
	return &eventbridge.Publisher{
		Client: ebsdk.NewFromConfig(cfg, awsenv.Endpoint(endpoint, func(o *ebsdk.Options, u *string) { o.BaseEndpoint = u })),
		Bus:    b.Name,
		DLQ:    sqssdk.NewFromConfig(cfg, awsenv.Endpoint(endpoint, func(o *sqssdk.Options, u *string) { o.BaseEndpoint = u })),
		DLQURL: b.DLQURL,
		Log:    log,
	}
}

// Deliveries returns the event webhooks' deliveries parked in c's table,
// redriven through the webhook queue at url.
func Deliveries(cfg aws.Config, c config.AWS, url string) apphook.Deliveries {
	// Until awsenv hands out the function's AWS client, the
	// environment's credentials, in cfg's region.
	ddb := awsapi.FromEnv(os.Getenv, c.Endpoint)
	ddb.Region = cfg.Region
	q := &apphook.Queue{URL: url, Client: sqssdk.NewFromConfig(cfg, awsenv.Endpoint(c.Endpoint, func(o *sqssdk.Options, u *string) { o.BaseEndpoint = u }))}
	return apphook.Deliveries{Parking: apphook.Table{Client: dynamodb.New(ddb), Name: c.Table}, Again: q}
}

// Queue returns the SQS queue at url.
func Queue(cfg aws.Config, endpoint, url string) *sqs.Queue {
	return &sqs.Queue{URL: url, Client: sqssdk.NewFromConfig(cfg, awsenv.Endpoint(endpoint, func(o *sqssdk.Options, u *string) { o.BaseEndpoint = u }))}
}
