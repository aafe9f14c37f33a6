package infra_test

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley/shared/config"
)

// TestTemplatePayloads: the payload chain as the code expects it. Ingest
// sends to PayloadQueue, which feeds FetchFunction; the bucket notifies
// DecodeQueue of objects under raw/, which feeds DecodeFunction; both
// queues give up after PARLEY_PAYLOAD_MAX_ATTEMPTS deliveries into their
// dead-letter queues, and both functions report batch item failures.
func TestTemplatePayloads(t *testing.T) {
	tmpl := loadTemplate(t)
	fns := resourcesOf[sqsFunction](t, tmpl, "AWS::Serverless::Function")
	ingestEnv := resourcesOf[function](t, tmpl, "AWS::Serverless::Function")["IngestFunction"].Environment.Variables
	if !jsonEqual(ingestEnv[config.PayloadQueueURL], ref("PayloadQueue")) {
		t.Errorf("IngestFunction: %s is %v, want a Ref to PayloadQueue", config.PayloadQueueURL, ingestEnv[config.PayloadQueueURL])
	}
	attempts := fmt.Sprint(fns["FetchFunction"].Environment.Variables[config.PayloadMaxAttempts])
	if decode := fmt.Sprint(fns["DecodeFunction"].Environment.Variables[config.PayloadMaxAttempts]); decode != attempts {
		t.Errorf("%s is %s for FetchFunction and %s for DecodeFunction", config.PayloadMaxAttempts, attempts, decode)
	}
	type queue struct {
		VisibilityTimeout int
		RedrivePolicy     struct {
			DeadLetterTargetArn any `json:"deadLetterTargetArn"`
			MaxReceiveCount     int `json:"maxReceiveCount"`
		}
	}
	queues := resourcesOf[queue](t, tmpl, "AWS::SQS::Queue")
	for _, tt := range []struct{ fn, queue, dlq string }{
		{"FetchFunction", "PayloadQueue", "PayloadDeadLetterQueue"},
		{"DecodeFunction", "DecodeQueue", "DecodeDeadLetterQueue"},
	} {
		q, ok := queues[tt.queue]
		if !ok {
			t.Errorf("no queue %s", tt.queue)
			continue
		}
		if fmt.Sprint(q.RedrivePolicy.MaxReceiveCount) != attempts || !jsonEqual(q.RedrivePolicy.DeadLetterTargetArn, getAtt(tt.dlq, "Arn")) {
			t.Errorf("%s redrive %+v, want %s deliveries into %s", tt.queue, q.RedrivePolicy, attempts, tt.dlq)
		}
		fn := fns[tt.fn]
		if q.VisibilityTimeout < fn.Timeout {
			t.Errorf("%s visibility timeout %d is shorter than %s's timeout %d", tt.queue, q.VisibilityTimeout, tt.fn, fn.Timeout)
		}
		var found bool
		for _, ev := range fn.Events {
			if ev.Type == "SQS" && jsonEqual(ev.Properties.Queue, getAtt(tt.queue, "Arn")) {
				found = true
				if len(ev.Properties.FunctionResponseTypes) != 1 || ev.Properties.FunctionResponseTypes[0] != "ReportBatchItemFailures" {
					t.Errorf("%s does not report batch item failures", tt.fn)
				}
			}
		}
		if !found {
			t.Errorf("%s has no SQS event on %s", tt.fn, tt.queue)
		}
	}
	type bucket struct {
		NotificationConfiguration struct {
			QueueConfigurations []struct {
				Event  string
				Queue  any
				Filter struct {
					S3Key struct {
						Rules []struct{ Name, Value string }
					}
				}
			}
		}
	}
	b := resourcesOf[bucket](t, tmpl, "AWS::S3::Bucket")["Bucket"]
	qc := b.NotificationConfiguration.QueueConfigurations
	if len(qc) != 1 || qc[0].Event != "s3:ObjectCreated:*" || !jsonEqual(qc[0].Queue, getAtt("DecodeQueue", "Arn")) ||
		len(qc[0].Filter.S3Key.Rules) != 1 || qc[0].Filter.S3Key.Rules[0].Value != "raw/" {
		t.Errorf("bucket notifications %+v, want objects created under raw/ sent to DecodeQueue", qc)
	}
}

// sqsFunction is what TestTemplatePayloads reads of a function.
type sqsFunction struct {
	Timeout     int
	Environment environment
	Events      map[string]struct {
		Type       string
		Properties struct {
			Queue                 any
			FunctionResponseTypes []string
		}
	}
}

func getAtt(resource, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{resource, attr}}
}
