// Command decode is the Lambda function of the decode queue, which the
// bucket feeds with a notification for every object created under raw/:
// it decodes a large interactive reply (Apple's decodePayload, or locally
// when it refuses), or takes an attachment as it is, completes the stored
// message and emits its message.received event. It also accepts an S3
// event directly. Failed records are reported as batch item failures; on
// the last delivery the message is marked failed before the record goes to
// the dead-letter queue.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
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
	"github.com/parleyhq/parley/shared/requestid"
	"github.com/parleyhq/parley/shared/retry"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "decode:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	env, aws, err := awsenv.Load(ctx, getenv)
	if err != nil {
		return err
	}
	cfg := env.PayloadDecode()
	if err := env.Err(); err != nil {
		return err
	}
	log, rec := awsenv.Observe(stdout, cfg.LogLevel, cfg.MetricsNamespace)
	st := adapters.Store(aws.Client, cfg.AWS, clock.System{})
	_, ap := aws.PlatformHTTP(10 * time.Second)
	svc := &payload.Service{Store: st, Blobs: st, Publisher: metrics.Events{Publisher: adapters.Publisher(aws.Client, cfg.Bus, log), Metrics: rec}, Clock: clock.System{}, Log: log,
		MMCS:        &apple.MMCS{Client: &apple.Client{BaseURL: cfg.Apple.MSPURL, MSPID: cfg.Apple.MSPID, Secret: cfg.Apple.Secret, HTTP: ap}},
		AuthTokens:  &appleauth.Keys{Blobs: st, Secret: cfg.Apple.Secret, Clock: clock.System{}},
		MaxAttempts: cfg.MaxAttempts, Retry: payload.RetryPolicy(retry.Default)}
	lambda.Start(requestid.Lambda(func(ctx context.Context, raw json.RawMessage) (*events.SQSEventResponse, error) {
		var probe struct {
			Records []struct {
				EventSource string `json:"eventSource"`
			}
		}
		if err := json.Unmarshal(raw, &probe); err != nil || len(probe.Records) == 0 {
			return nil, errors.New("decode: the event is neither an SQS nor an S3 event")
		}
		if probe.Records[0].EventSource == "aws:s3" {
			var ev events.S3Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, err
			}
			for _, key := range rawKeys(ev) {
				err := svc.Decode(ctx, key, 1)
				rec.Job(ctx, "decode", 1, cfg.MaxAttempts, err)
				if err != nil {
					return nil, err
				}
			}
			return nil, nil
		}
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		res := &events.SQSEventResponse{}
		for _, m := range ev.Records {
			attempt, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
			var s3ev events.S3Event
			// S3's test event and anything else without records holds
			// no key, and is done with.
			err := json.Unmarshal([]byte(m.Body), &s3ev)
			for _, key := range rawKeys(s3ev) {
				if err = svc.Decode(ctx, key, attempt); err != nil {
					break
				}
			}
			rec.Job(ctx, "decode", attempt, cfg.MaxAttempts, err)
			if err != nil {
				log.Error("a decode record failed", "sqs_message_id", m.MessageId, "error", err)
				res.BatchItemFailures = append(res.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			}
		}
		return res, nil
	}))
	return nil
}

// rawKeys returns the object keys under raw/ that ev reports created. S3
// writes keys URL-encoded, spaces as +.
func rawKeys(ev events.S3Event) []string {
	var keys []string
	for _, r := range ev.Records {
		if !strings.HasPrefix(r.EventName, "ObjectCreated") {
			continue
		}
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil || !strings.HasPrefix(key, payload.RawPrefix) {
			continue
		}
		keys = append(keys, key)
	}
	return keys
}
