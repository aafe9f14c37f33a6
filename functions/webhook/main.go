// Command webhook is the Lambda function the webhook queue (SQS FIFO, one
// message group per conversation) runs: it POSTs each event to the app's
// endpoint, signed, in order per conversation; a failed attempt waits the
// next step of the schedule, the last one is parked in the table and the
// message goes to the queue's dead-letter queue. Its metrics count the
// events delivered and their latency, the failed attempts and the parked
// deliveries.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/awsapi/sqs"
	"github.com/parleyhq/parley/shared/awsenv"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/requestid"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	env, aws, err := awsenv.Load(ctx, getenv)
	if err != nil {
		return err
	}
	cfg := env.Webhook()
	if err := env.Err(); err != nil {
		return err
	}
	log, rec := awsenv.Observe(stdout, cfg.LogLevel, cfg.MetricsNamespace)
	client := &apphook.Client{URL: cfg.Hook.URL, Key: cfg.Hook.Key, CurrentKey: aws.EventsWebhookKey()}
	consumer := &apphook.Consumer{
		Post: func(ctx context.Context, ev message.Event) error {
			err := client.Post(ctx, ev)
			if err != nil {
				log.WarnContext(ctx, "event webhook attempt failed", "event", ev.ID, "type", ev.Type, "error", err.Error())
			}
			return err
		},
		Parking: apphook.Table{Client: dynamodb.New(aws.Client), Name: cfg.AWS.Table},
		Client:  sqs.New(aws.Client),
		URL:     cfg.QueueURL,
		Metrics: rec,
	}
	lambda.Start(requestid.Lambda(func(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
		return consumer.Handle(ctx, batch)
	}))
	return nil
}
