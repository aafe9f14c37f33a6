// Command ingest is the Lambda function behind the webhooks' Function URL:
// it verifies and stores what Apple and WhatsApp deliver, forwards Apple
// Pay's callbacks, queues the payloads of large messages, and sends the
// fallback of a WhatsApp message that fails late with window_closed.
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
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/lambdahttp"
	"github.com/parleyhq/parley/shared/metrics"
	"github.com/parleyhq/parley/shared/requestid"
	"github.com/parleyhq/parley/shared/service"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	env, aws, err := awsenv.Load(ctx, getenv)
	if err != nil {
		return err
	}
	cfg := env.Ingest()
	if err := env.Err(); err != nil {
		return err
	}
	log, rec := awsenv.Observe(stdout, cfg.LogLevel, cfg.MetricsNamespace)
	st := adapters.Store(aws.Client, cfg.AWS, clock.System{})
	p := service.Ports{Store: st, Blobs: st, Publisher: metrics.Events{Publisher: adapters.Publisher(aws.Client, cfg.Bus, log), Metrics: rec}, Clock: clock.System{}, Log: log, Metrics: rec,
		Secrets: aws.WebhookSecrets()}
	wa, _ := aws.PlatformHTTP(service.PlatformTimeout)
	in := &ingest.Ingester{Store: st, Blobs: st, Publisher: p.Publisher, Clock: p.Clock, Log: log,
		AuthTokens: service.AuthKeys(cfg.Apple, p), Fallbacks: service.WhatsAppSender(cfg.WhatsApp, p, service.Options{WhatsAppHTTP: wa})}
	if cfg.PayloadQueueURL != "" {
		in.Payloads = adapters.Queue(aws.Client, cfg.PayloadQueueURL)
	}
	lambda.Start(requestid.Lambda(lambdahttp.FunctionURL(service.Webhooks(in, cfg.WhatsAppWebhook, cfg.Apple, cfg.PaymentProcessorURL, cfg.ApplePayCallbacks, p))))
	return nil
}
