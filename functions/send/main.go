// Command send is the Lambda function behind the send API (API Gateway
// HTTP API): it sends messages and answers questions about them.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parleyhq/parley/shared/awsenv"
	"github.com/parleyhq/parley/shared/awsenv/adapters"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/lambdahttp"
	"github.com/parleyhq/parley/shared/metrics"
	"github.com/parleyhq/parley/shared/requestid"
	"github.com/parleyhq/parley/shared/service"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "send:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	env, aws, err := awsenv.Load(ctx, getenv)
	if err != nil {
		return err
	}
	cfg := env.SendAPI()
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
	files, err := service.NewFiles(p, cfg.PublicURL)
	if err != nil {
		return err
	}
	api := service.API(sender, p, cfg.PublicURL, files, cfg.Access)
	if cfg.Bus.WebhookQueueURL != "" {
		// The event webhooks' parked deliveries, redriven through their queue.
		api = service.WithDeliveries(api, adapters.Deliveries(aws.Client, cfg.AWS, cfg.Bus.WebhookQueueURL), log, cfg.Access)
	}
	lambda.Start(requestid.Lambda(lambdahttp.HTTPAPI(api)))
	return nil
}
