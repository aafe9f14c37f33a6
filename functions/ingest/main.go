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
	svc, err := service.FromEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
	lambda.Start(lambdahttp.FunctionURL(svc.Webhooks()))
}
