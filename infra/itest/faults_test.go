package itest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/parleyhq/parley/infra/faultproxy"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

// The fault tests run parley's use cases on a misbehaving AWS: moto behind
// infra/faultproxy, which fails DynamoDB, S3, SQS and EventBridge requests
// before or after moto acts on them. What is checked is read straight from
// moto, past the proxy.

// faultyAWS is moto, a table, a bucket, a bus whose events an app's queue
// receives, the events' dead-letter queue, and the proxy in front of them.
type faultyAWS struct {
	moto   *moto.Server
	proxy  *faultproxy.Proxy
	client *awsapi.Client // through the proxy
	direct *dynamo.Store  // past the proxy
	sqs    *sqs.Client
	// appQ receives every event put on the bus; dlq is the events'
	// dead-letter queue.
	appQ, dlq string
}

// someFaults are the faults the tests pick from at random: every one but
// Stalled, whose requests are each held for a whole deadline (the send
// test stalls one on purpose).
var someFaults = []faultproxy.Fault{faultproxy.InternalError, faultproxy.Unavailable, faultproxy.Throttled, faultproxy.ThroughputExceeded,
	faultproxy.LostAs500, faultproxy.LostConnection, faultproxy.ResetMidBody, faultproxy.Delayed, faultproxy.Damaged}

const (
	faultTable  = "parley-faults"
	faultBucket = "parley-faults-payloads"
	faultBus    = "parley-faults"
)

func startFaultyAWS(t *testing.T, seed uint64, rules ...faultproxy.Rule) *faultyAWS {
	t.Helper()
	ctx := context.Background()
	m := moto.StartT(t)
	c := dynamo.NewClient(m.Endpoint(), "us-east-1")
	if err := dynamo.CreateTable(ctx, c, faultTable); err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateBucket(ctx, c, faultBucket); err != nil {
		t.Fatal(err)
	}
	f := &faultyAWS{moto: m, sqs: sqs.NewFromConfig(m.SDKConfig()),
		direct: dynamo.New(dynamo.Config{AWS: c, Table: faultTable, Bucket: faultBucket})}
	eb := eventbridge.NewFromConfig(m.SDKConfig())
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(faultBus)}); err != nil {
		t.Fatal(err)
	}
	f.dlq = f.queue(t, "parley-faults-events-dlq")
	f.appQ = f.queue(t, "parley-faults-app")
	attrs, err := f.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(f.appQ),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("all"), EventBusName: aws.String(faultBus), EventPattern: aws.String(`{"source":["parley"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("all"), EventBusName: aws.String(faultBus),
		Targets: []ebtypes.Target{{Id: aws.String("app"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	f.proxy = faultproxy.Start(t, m.Endpoint(), seed, rules...)
	f.client = dynamo.NewClient(f.proxy.URL(), "us-east-1")
	return f
}

func (f *faultyAWS) queue(t *testing.T, name string) string {
	t.Helper()
	q, err := f.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return *q.QueueUrl
}

// drain receives every message of a queue, as parley events (the bus's
// detail, or a parked event's own JSON).
func (f *faultyAWS) drain(t *testing.T, url string, onBus bool) []message.Event {
	t.Helper()
	ctx := context.Background()
	var evs []message.Event
	for {
		out, err := f.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return evs
		}
		for _, m := range out.Messages {
			doc := []byte(*m.Body)
			if onBus {
				var env struct {
					Detail json.RawMessage `json:"detail"`
				}
				if err := json.Unmarshal(doc, &env); err != nil {
					t.Fatalf("a message on the app's queue is not an EventBridge event: %v\n%s", err, doc)
				}
				doc = env.Detail
			}
			var ev message.Event
			if err := json.Unmarshal(doc, &ev); err != nil {
				t.Fatalf("not a parley event: %v\n%s", err, doc)
			}
			evs = append(evs, ev)
			if _, err := f.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// messages counts the message records in the table by channel and
// platform id ("whatsapp wamid.…"), with one scan past the proxy.
func (f *faultyAWS) messages(t *testing.T) map[string]int {
	t.Helper()
	db := dynamodb.NewFromConfig(f.moto.SDKConfig())
	n := map[string]int{}
	pages := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(faultTable),
		FilterExpression:          aws.String("SK = :msg"),
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":msg": &dbtypes.AttributeValueMemberS{Value: "MSG"}}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			data, ok := it["data"].(*dbtypes.AttributeValueMemberS)
			if !ok {
				t.Fatalf("a message item without its data: %v", it)
			}
			var rec message.Record
			if err := json.Unmarshal([]byte(data.Value), &rec); err != nil {
				t.Fatal(err)
			}
			n[string(rec.Channel)+" "+rec.PlatformMessageID]++
		}
	}
	return n
}

// eventLog reads the whole event log, past the proxy.
func (f *faultyAWS) eventLog(t *testing.T) []message.Event {
	t.Helper()
	var all []message.Event
	after := ""
	for {
		evs, err := f.direct.Events(context.Background(), after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return all
		}
		all = append(all, evs...)
		after = evs[len(evs)-1].ID
	}
}

// injected counts the faults the proxy injected, by operation and fault.
func injected(p *faultproxy.Proxy) map[string]int {
	n := map[string]int{}
	for _, in := range p.Injected() {
		n[in.Op+" "+in.Fault.String()]++
	}
	return n
}

func summary(n map[string]int) string {
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := ""
	for _, k := range keys {
		s += fmt.Sprintf("\n  %4d %s", n[k], k)
	}
	return s
}
