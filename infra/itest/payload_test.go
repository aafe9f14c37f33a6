// Package itest holds integration tests that run parley's pieces together
// the way they run in AWS: the local stack on moto with real SQS queues,
// and the Lambda bootstraps under the Runtime API emulator, fed the events
// SQS would give them.
package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/parleyhq/parley/infra/lambdaemu"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/payload"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

const (
	table         = "parley-itest"
	bucket        = "parley-itest-payloads"
	appleBusiness = "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70"
	appleCustomer = "urn:mbid:AQAAY1x/Wq+Lr0c="
	// maxReceiveCount is the payload queue's redrive policy, as in
	// template.yaml.
	maxReceiveCount = payload.DefaultMaxAttempts
	// receiveWait bounds how long a receive waits for a message SQS
	// already holds.
	receiveWait = 10 * time.Second
)

// rig is moto, its queues, a local stack on them and the fetch and decode
// functions.
type rig struct {
	st                   *local.Stack
	sqs                  *sqs.Client
	s3                   *s3.Client
	payloadQ, payloadDLQ string
	decodeQ              string
	fetch, decode        *lambdaemu.Emulator
}

func start(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	m := moto.StartT(t)
	c := dynamo.NewClient(m.Endpoint(), "us-east-1")
	if err := dynamo.CreateTable(ctx, c, table); err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateBucket(ctx, c, bucket); err != nil {
		t.Fatal(err)
	}
	// The SDK's S3 client reads what the functions wrote, as an
	// independent check of parley's own.
	r := &rig{s3: s3.NewFromConfig(m.SDKConfig(), func(o *s3.Options) { o.UsePathStyle = true }), sqs: sqs.NewFromConfig(m.SDKConfig())}
	r.payloadQ, r.payloadDLQ = r.queueWithDLQ(t, "parley-payload")
	r.decodeQ, _ = r.queueWithDLQ(t, "parley-decode")

	env := map[string]string{
		"PARLEY_STORE": "aws", "PARLEY_AWS_ENDPOINT": m.Endpoint(), "PARLEY_TABLE": table, "PARLEY_BUCKET": bucket,
		"PARLEY_PAYLOAD_QUEUE_URL": r.payloadQ, "PARLEY_PAYLOAD_MAX_ATTEMPTS": strconv.Itoa(maxReceiveCount),
		"PARLEY_LOG_LEVEL": "warn",
	}
	var err error
	r.st, err = local.Start(ctx, local.Options{Addr: "127.0.0.1:0", Getenv: func(k string) string { return env[k] }, Log: io.Discard, FallbackEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.st.Close() })

	// The functions reach the simulators of the stack, as they would
	// reach Apple's gateway and the Graph API.
	for k, v := range map[string]string{
		"PARLEY_APPLE_MSP_URL": r.st.URL + "/sim/apple/v1", "PARLEY_APPLE_MSP_ID": local.DefaultAppleMSPID,
		"PARLEY_APPLE_MSP_SECRET": local.DefaultAppleMSPSecret, "PARLEY_WHATSAPP_API_URL": r.st.URL + "/sim/whatsapp/v25.0",
		"PARLEY_WHATSAPP_TOKEN": local.DefaultWhatsAppToken, "PARLEY_WHATSAPP_APP_SECRET": local.DefaultWhatsAppAppSecret,
		"PARLEY_WHATSAPP_VERIFY_TOKEN": local.DefaultWhatsAppVerifyToken,
	} {
		env[k] = v
	}
	var fnEnv []string
	for k, v := range env {
		fnEnv = append(fnEnv, k+"="+v)
	}
	emu := func(name string) *lambdaemu.Emulator {
		e, err := lambdaemu.Start(ctx, lambdaemu.Config{Bootstrap: build(t, name), Env: fnEnv, FunctionName: name,
			Timeout: 30 * time.Second, Stdout: testWriter{t}, Stderr: testWriter{t}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	r.fetch, r.decode = emu("fetch"), emu("decode")
	return r
}

// queueWithDLQ creates a queue whose messages go to a dead-letter queue
// after maxReceiveCount receives, and returns both URLs.
func (r *rig) queueWithDLQ(t *testing.T, name string) (string, string) {
	t.Helper()
	ctx := context.Background()
	dlq, err := r.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := r.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": attrs.Attributes["QueueArn"], "maxReceiveCount": maxReceiveCount})
	q, err := r.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name),
		Attributes: map[string]string{"RedrivePolicy": string(redrive), "VisibilityTimeout": "30"}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl), aws.ToString(dlq.QueueUrl)
}

// receive takes the one message waiting on queueURL, as Lambda's event
// source would, and makes it the SQS event Lambda gives the function.
func (r *rig) receive(t *testing.T, queueURL string) (sqstypes.Message, []byte) {
	t.Helper()
	msgs := r.receiveAll(t, queueURL, receiveWait)
	if len(msgs) != 1 {
		t.Fatalf("%s holds %d messages, want 1", queueURL, len(msgs))
	}
	return msgs[0], sqsEvent(queueURL, msgs[0])
}

// receiveAll receives what queueURL holds, waiting up to wait for the
// first message.
func (r *rig) receiveAll(t *testing.T, queueURL string, wait time.Duration) []sqstypes.Message {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(wait)
	for {
		out, err := r.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 || !time.Now().Before(deadline) {
			return out.Messages
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// redeliver makes a received message visible again at once, as the end
// of its visibility timeout would.
func (r *rig) redeliver(t *testing.T, queueURL string, m sqstypes.Message) {
	t.Helper()
	if _, err := r.sqs.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
}

// done deletes a message the function handled, as Lambda does.
func (r *rig) done(t *testing.T, queueURL string, m sqstypes.Message) {
	t.Helper()
	if _, err := r.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) send(t *testing.T, queueURL, body string) {
	t.Helper()
	if _, err := r.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
}

// sqsEvent is the event Lambda's SQS event source makes of m.
func sqsEvent(queueURL string, m sqstypes.Message) []byte {
	attrs := map[string]string{}
	for k, v := range m.Attributes {
		attrs[k] = v
	}
	name := queueURL[strings.LastIndex(queueURL, "/")+1:]
	b, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
		Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: attrs, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:" + name, AWSRegion: "us-east-1",
	}}})
	return b
}

// objectCreated is the notification the bucket sends for a new object:
// the key URL-encoded, spaces as +.
func objectCreated(key string, size int64) string {
	var ev events.S3Event
	ev.Records = append(ev.Records, events.S3EventRecord{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: "us-east-1", EventTime: time.Now().UTC(),
		EventName: "ObjectCreated:CompleteMultipartUpload",
		S3: events.S3Entity{SchemaVersion: "1.0", ConfigurationID: "raw",
			Bucket: events.S3Bucket{Name: bucket, Arn: "arn:aws:s3:::" + bucket},
			Object: events.S3Object{Key: url.QueryEscape(key), Size: size}},
	})
	b, _ := json.Marshal(ev)
	return string(b)
}

// invoke runs a function on payload and returns the records it reported
// failed.
func invoke(t *testing.T, e *lambdaemu.Emulator, payload []byte) []string {
	t.Helper()
	res, err := e.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if res.FunctionError != "" {
		t.Fatalf("function error %s: %s", res.FunctionError, res.Payload)
	}
	var out events.SQSEventResponse
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		t.Fatalf("the answer is not an SQS event response: %s", res.Payload)
	}
	var failed []string
	for _, f := range out.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

// rawObjects lists the raw objects of a platform message.
func (r *rig) rawObjects(t *testing.T, pid string) []string {
	t.Helper()
	out, err := r.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(payload.RawPrefix + "apple/" + pid + "/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func (r *rig) record(t *testing.T, pid string) message.Record {
	t.Helper()
	rec, err := r.st.Service.Store.MessageByPlatformID(context.Background(), message.Apple, pid)
	if err != nil {
		t.Fatalf("the message of %s: %v", pid, err)
	}
	return rec
}

// eventsOf returns the events of the log about the message id.
func (r *rig) eventsOf(t *testing.T, id string) []message.Event {
	t.Helper()
	var page struct {
		Events []message.Event `json:"events"`
	}
	if code := call(t, "GET", r.st.URL+"/v1/events?limit=1000", nil, &page); code != http.StatusOK {
		t.Fatalf("GET /v1/events: %d", code)
	}
	var evs []message.Event
	for _, e := range page.Events {
		if e.MessageID == id {
			evs = append(evs, e)
		}
	}
	return evs
}

// list sends a list picker of n long items and returns the send result.
// Apple answers with the whole list, so the size of the answer follows n.
func (r *rig) list(t *testing.T, n int) message.SendResult {
	t.Helper()
	var items []any
	for i := range n {
		items = append(items, map[string]any{"id": fmt.Sprintf("sku-%d", i), "title": fmt.Sprintf("Item %d", i), "description": strings.Repeat("long words ", 18)})
	}
	var res message.SendResult
	req := map[string]any{"channel": "apple", "businessId": appleBusiness, "to": appleCustomer, "message": map[string]any{
		"type": "list", "body": "Pick", "bubble": map[string]any{"title": "Pick"}, "multipleSelection": true,
		"sections": []any{map[string]any{"title": "All", "items": items}}}}
	if code := call(t, "POST", r.st.URL+"/v1/messages", req, &res); code != http.StatusAccepted {
		t.Fatalf("sending the list: %d %+v", code, res)
	}
	return res
}

// selectItems answers the list platformID with the first n items and
// returns the Apple message id of the answer and whether it went by
// reference.
func (r *rig) selectItems(t *testing.T, platformID string, n int) (string, bool) {
	t.Helper()
	ids := []string{}
	for i := range n {
		ids = append(ids, fmt.Sprintf("sku-%d", i))
	}
	var d struct {
		ID            string `json:"id"`
		WebhookStatus int    `json:"webhookStatus"`
		WebhookBody   string `json:"webhookBody"`
		DataRef       bool   `json:"dataRef"`
	}
	code := call(t, "POST", r.st.URL+"/sim/apple/reply", map[string]any{"action": "select", "replyTo": platformID, "ids": ids}, &d)
	if code != http.StatusOK || d.WebhookStatus != http.StatusOK {
		t.Fatalf("answering the list: %d, webhook %d %s", code, d.WebhookStatus, d.WebhookBody)
	}
	return d.ID, d.DataRef
}

// TestLargeReplyThroughTheQueues runs a large Apple reply through ingest,
// the payload queue, functions/fetch, the bucket's notification and
// functions/decode, each delivered twice; then a job that cannot be
// fetched through its five deliveries into the dead-letter queue.
func TestLargeReplyThroughTheQueues(t *testing.T) {
	r := start(t)
	if code := call(t, "POST", r.st.URL+"/sim/apple/reply", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "hi"}, nil); code != http.StatusOK {
		t.Fatalf("the customer's first message: %d", code)
	}

	// An inline answer, for comparison.
	small := r.list(t, 3)
	inlineID, byRef := r.selectItems(t, small.PlatformMessageID, 2)
	if byRef {
		t.Fatal("a two-item answer went by reference")
	}
	inline := r.record(t, inlineID)
	inlineEvs := r.eventsOf(t, inline.ID)
	if len(inlineEvs) != 1 || inlineEvs[0].Type != message.EventReceived || inlineEvs[0].InReplyTo != small.ID {
		t.Fatalf("events of the inline answer: %+v", inlineEvs)
	}

	// The large answer: ingest stores it pending and puts a job on the
	// payload queue.
	large := r.list(t, 60)
	pid, byRef := r.selectItems(t, large.PlatformMessageID, 50)
	if !byRef {
		t.Fatal("a fifty-item answer went inline")
	}
	rec := r.record(t, pid)
	if rec.Status != message.StatusPayloadPending || len(r.eventsOf(t, rec.ID)) != 0 {
		t.Fatalf("before the fetch: %s with %d events, want payload_pending and none", rec.Status, len(r.eventsOf(t, rec.ID)))
	}

	// fetch, delivered twice: one raw object.
	for delivery := 1; delivery <= 2; delivery++ {
		m, ev := r.receive(t, r.payloadQ)
		if got := m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]; got != strconv.Itoa(delivery) {
			t.Errorf("delivery %d: ApproximateReceiveCount %s", delivery, got)
		}
		if failed := invoke(t, r.fetch, ev); len(failed) != 0 {
			t.Fatalf("fetch, delivery %d: failed %v", delivery, failed)
		}
		if delivery == 1 {
			r.redeliver(t, r.payloadQ, m)
		} else {
			r.done(t, r.payloadQ, m)
		}
	}
	raws := r.rawObjects(t, pid)
	if len(raws) != 1 || raws[0] != payload.RawPrefix+"apple/"+pid+"/interactive" {
		t.Fatalf("raw objects %v, want raw/apple/%s/interactive", raws, pid)
	}
	if got := r.record(t, pid).Status; got != message.StatusPayloadPending {
		t.Fatalf("after the fetch the message is %s; it waits for decode", got)
	}

	// The bucket's notification, delivered twice.
	head, err := r.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(raws[0])})
	if err != nil {
		t.Fatal(err)
	}
	note := objectCreated(raws[0], aws.ToInt64(head.ContentLength))
	r.send(t, r.decodeQ, note)
	r.send(t, r.decodeQ, note)
	notes := r.receiveAll(t, r.decodeQ, receiveWait)
	if len(notes) != 2 {
		t.Fatalf("the decode queue holds %d notifications, want 2", len(notes))
	}
	for i, m := range notes {
		if failed := invoke(t, r.decode, sqsEvent(r.decodeQ, m)); len(failed) != 0 {
			t.Fatalf("decode, notification %d: failed %v", i+1, failed)
		}
		r.done(t, r.decodeQ, m)
	}

	rec = r.record(t, pid)
	if rec.Status != message.StatusReceived || len(rec.History) != 2 || rec.History[0].Status != message.StatusPayloadPending || rec.History[1].Status != message.StatusReceived {
		t.Errorf("the message is %s, history %+v; want payload_pending then received", rec.Status, rec.History)
	}
	evs := r.eventsOf(t, rec.ID)
	if len(evs) != 1 {
		t.Fatalf("%d events of the large answer, want one: %+v", len(evs), evs)
	}
	ev := evs[0]
	if ev.Type != message.EventReceived || ev.InReplyTo != large.ID || ev.Body == nil || ev.Body.Type != message.BodySelection ||
		len(ev.Body.Selections) != 50 || ev.Body.DecodedBy != message.DecodedByPlatform {
		t.Fatalf("event %+v body %+v; want message.received of 50 selections answering %s, decoded by decodePayload", ev, ev.Body, large.ID)
	}
	// The same typed body an inline answer gives.
	if got, want := ev.Body.Selections[:2], inlineEvs[0].Body.Selections; !reflect.DeepEqual(got, want) {
		t.Errorf("the large answer's first selections %+v, the inline answer's %+v", got, want)
	}
	decoded := payload.DecodedPrefix + "apple/" + pid + "/interactive.json"
	if ev.Body.Ref != decoded {
		t.Errorf("body.ref %q, want %q", ev.Body.Ref, decoded)
	}
	obj, err := r.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(decoded)})
	if err != nil {
		t.Fatalf("%s: %v", decoded, err)
	}
	dict, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !json.Valid(dict) || !bytes.Contains(dict, []byte(`"sku-49"`)) {
		t.Errorf("%s holds %d bytes that are not the decoded dictionary", decoded, len(dict))
	}

	// Jobs that cannot be fetched: every delivery fails, the last marks
	// the message failed, and SQS moves the job to the dead-letter queue.
	for _, tt := range []struct {
		name  string
		key   string
		value any
	}{
		{"a file MMCS does not hold", "url", "https://mmcs.applesim.invalid/Mnothinghere"},
		{"a size the file does not have", "size", 1 << 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doomed := r.list(t, 60)
			pid, _ := r.selectItems(t, doomed.PlatformMessageID, 50)
			rec := r.record(t, pid)
			// The job as ingest queued it, with one key of its reference
			// changed.
			m, _ := r.receive(t, r.payloadQ)
			r.done(t, r.payloadQ, m)
			var j queue.Job
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &j); err != nil || j.Payload == nil {
				t.Fatalf("the job %s: %v", aws.ToString(m.Body), err)
			}
			var ref map[string]any
			if err := json.Unmarshal(j.Payload.Ref, &ref); err != nil {
				t.Fatal(err)
			}
			ref[tt.key] = tt.value
			j.Payload.Ref, _ = json.Marshal(ref)
			body, _ := json.Marshal(j)
			r.send(t, r.payloadQ, string(body))

			var last sqstypes.Message
			for attempt := 1; attempt <= maxReceiveCount; attempt++ {
				m, ev := r.receive(t, r.payloadQ)
				if got := m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]; got != strconv.Itoa(attempt) {
					t.Fatalf("delivery %d: ApproximateReceiveCount %s", attempt, got)
				}
				if failed := invoke(t, r.fetch, ev); len(failed) != 1 || failed[0] != aws.ToString(m.MessageId) {
					t.Fatalf("delivery %d: failed %v, want the record", attempt, failed)
				}
				if status := r.record(t, pid).Status; attempt < maxReceiveCount && status != message.StatusPayloadPending {
					t.Fatalf("after delivery %d the message is %s, want payload_pending until the last", attempt, status)
				}
				r.redeliver(t, r.payloadQ, m)
				last = m
			}
			if left := r.receiveAll(t, r.payloadQ, 0); len(left) != 0 {
				t.Fatalf("the payload queue still delivers %d messages after %d receives", len(left), maxReceiveCount)
			}
			dead := r.receiveAll(t, r.payloadDLQ, receiveWait)
			if len(dead) != 1 || aws.ToString(dead[0].MessageId) != aws.ToString(last.MessageId) || aws.ToString(dead[0].Body) != string(body) {
				t.Fatalf("the DLQ holds %d messages, want the job", len(dead))
			}
			r.done(t, r.payloadDLQ, dead[0])

			got := r.record(t, pid)
			if got.Status != message.StatusFailed || got.Error == nil || got.Error.Code != message.CodePayloadFailed {
				t.Errorf("the message is %s, error %+v; want failed with payload_failed", got.Status, got.Error)
			}
			evs := r.eventsOf(t, rec.ID)
			if len(evs) != 1 || evs[0].Type != message.EventFailed || evs[0].Error == nil || evs[0].Error.Code != message.CodePayloadFailed {
				t.Errorf("events of the message %+v; want one message.failed with payload_failed", evs)
			}
			if raws := r.rawObjects(t, pid); len(raws) != 0 {
				t.Errorf("raw objects %v of a job that failed", raws)
			}
		})
	}
}

// build compiles a function's bootstrap as Lambda runs it (lambda.norpc,
// static).
func build(t *testing.T, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, "./functions/"+name)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, b)
	}
	return out
}

// call sends a JSON request and decodes the JSON answer into out (when not
// nil).
func call(t *testing.T, method, url string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: answer %d is not JSON: %s", method, url, res.StatusCode, b)
		}
	}
	return res.StatusCode
}

// testWriter sends a function's output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
