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
	svc, err := service.FromEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "send:", err)
		os.Exit(1)
	}
	lambda.Start(lambdahttp.HTTPAPI(svc.API()))
}
