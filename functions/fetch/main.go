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
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/service"
)

func main() {
	svc, err := service.FromEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "fetch:", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var res events.SQSEventResponse
		for _, m := range ev.Records {
			var j queue.Job
			err := json.Unmarshal([]byte(m.Body), &j)
			if err == nil {
				j.Attempt, _ = strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
				err = svc.Payload.Fetch(ctx, j)
			}
			if err != nil {
				svc.Log.Error("a fetch job failed", "sqs_message_id", m.MessageId, "error", err)
				res.BatchItemFailures = append(res.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
		}
		return res, nil
	})
}
