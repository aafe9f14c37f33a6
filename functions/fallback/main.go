// Command fallback is the Lambda function EventBridge runs on a schedule:
// it sends the scheduled messages that are due (or their fallbacks) and
// stops before its own deadline, leaving the rest to the next run.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parleyhq/parley/shared/schedule"
	"github.com/parleyhq/parley/shared/service"
)

func main() {
	svc, err := service.FromEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "fallback:", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) (schedule.Report, error) {
		// The run stops claiming schedule.DefaultReserve before the
		// invocation's deadline (none: no limit).
		deadline, _ := ctx.Deadline()
		return svc.RunFallback(ctx, deadline)
	})
}
