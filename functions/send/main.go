// Command send is the Lambda function behind the send API (API Gateway
// HTTP API): it sends messages and answers questions about them.
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
		fmt.Fprintln(os.Stderr, "send:", err)
		os.Exit(1)
	}
	svc, err := service.New(ctx, cfg, service.Options{Log: service.NewLogger(os.Stdout, cfg.LogLevel)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "send:", err)
		os.Exit(1)
	}
	lambda.Start(lambdahttp.HTTPAPI(svc.API()))
}
