// Command fallback is the Lambda function EventBridge runs on a schedule:
// it sends the scheduled messages that are due (or their fallbacks) and
// stops before its own deadline, leaving the rest to the next run.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parleyhq/parley/shared/awsenv"
	"github.com/parleyhq/parley/shared/awsenv/adapters"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/metrics"
	"github.com/parleyhq/parley/shared/requestid"
	"github.com/parleyhq/parley/shared/schedule"
	"github.com/parleyhq/parley/shared/service"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fallback:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	env, aws, err := awsenv.Load(ctx, getenv)
	if err != nil {
		return err
	}
	cfg := env.Fallback()
	if err := env.Err(); err != nil {
		return err
	}
	log, rec := awsenv.Observe(stdout, cfg.LogLevel, cfg.MetricsNamespace)
	st := adapters.Store(aws.Client, cfg.AWS, clock.System{})
	p := service.Ports{Store: st, Blobs: st, Publisher: metrics.Events{Publisher: adapters.Publisher(aws.Client, cfg.Bus, log), Metrics: rec}, Clock: clock.System{}, Log: log, Metrics: rec}
	wa, ap := aws.PlatformHTTP(service.PlatformTimeout)
	sender, err := service.Sender(cfg.Send, p, service.Options{WhatsAppHTTP: wa, WhatsAppMediaHTTP: awsenv.MediaHTTP(wa), AppleHTTP: ap})
	if err != nil {
		return err
	}
	job := &schedule.Job{Store: st, Sender: service.Metered{Sender: sender, Metrics: rec}, Clock: p.Clock, Log: log, PerSecond: cfg.ThroughputPerSecond, Metrics: rec}
	lambda.Start(requestid.Lambda(func(ctx context.Context, _ events.CloudWatchEvent) (schedule.Report, error) {
		// The run stops claiming schedule.DefaultReserve before the
		// invocation's deadline (none: no limit).
		deadline, _ := ctx.Deadline()
		return job.Run(ctx, deadline)
	}))
	return nil
}
