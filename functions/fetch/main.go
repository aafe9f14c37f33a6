// Command fetch is the Lambda function of the payload queue: for each job
// it downloads a large interactive reply or an attachment from Apple's
// MMCS, checks its size, decrypts it and streams it into the bucket under
// raw/. Jobs that fail are reported as batch item failures, so that only
// they are delivered again; on the last delivery the message is marked
// failed before the job goes to the dead-letter queue.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/appleauth"
	"github.com/parleyhq/parley/shared/awsenv"
	"github.com/parleyhq/parley/shared/awsenv/adapters"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/metrics"
	"github.com/parleyhq/parley/shared/payload"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/requestid"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/whatsapp"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fetch:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	env, aws, err := awsenv.Load(ctx, getenv)
	if err != nil {
		return err
	}
	cfg := env.PayloadFetch()
	if err := env.Err(); err != nil {
		return err
	}
	log, rec := awsenv.Observe(stdout, cfg.LogLevel, cfg.MetricsNamespace)
	st := adapters.Store(aws.Client, cfg.AWS, clock.System{})
	wa, ap := aws.PlatformHTTP(10 * time.Second)
	svc := &payload.Service{Store: st, Blobs: st, Publisher: metrics.Events{Publisher: adapters.Publisher(aws.Client, cfg.Bus, log), Metrics: rec}, Clock: clock.System{}, Log: log,
		MMCS:        &apple.MMCS{Client: &apple.Client{BaseURL: cfg.Apple.MSPURL, MSPID: cfg.Apple.MSPID, Secret: cfg.Apple.Secret, HTTP: ap}},
		AuthTokens:  &appleauth.Keys{Blobs: st, Secret: cfg.Apple.Secret, Clock: clock.System{}},
		MaxAttempts: cfg.MaxAttempts, Retry: payload.RetryPolicy(retry.Default),
		Media: &whatsapp.Client{BaseURL: cfg.WhatsApp.APIURL, Token: cfg.WhatsApp.Token, HTTP: wa, MediaHTTP: awsenv.MediaHTTP(wa)}}
	lambda.Start(requestid.Lambda(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var res events.SQSEventResponse
		for _, m := range ev.Records {
			var j queue.Job
			err := json.Unmarshal([]byte(m.Body), &j)
			if err == nil {
				j.Attempt, _ = strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
				err = svc.Fetch(ctx, j)
			}
			rec.Job(ctx, "fetch", j.Attempt, cfg.MaxAttempts, err)
			if err != nil {
				log.Error("a fetch job failed", "sqs_message_id", m.MessageId, "error", err)
				res.BatchItemFailures = append(res.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
		}
		return res, nil
	}))
	return nil
}
