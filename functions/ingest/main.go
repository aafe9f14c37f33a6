// Command ingest is the Lambda function behind the webhooks' Function URL:
// it verifies and stores what Apple and WhatsApp deliver.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parleyhq/parley/shared/lambdahttp"
	"github.com/parleyhq/parley/shared/service"
)

func main() {
	ctx := context.Background()
	cfg, err := service.LoadConfig(ctx, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
	svc, err := service.New(ctx, cfg, service.Options{Log: service.NewLogger(os.Stdout, cfg.LogLevel)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
	lambda.Start(lambdahttp.FunctionURL(svc.Webhooks()))
}
