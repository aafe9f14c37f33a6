// Package functions_test runs the built Lambda bootstraps under the Lambda
// Runtime API emulator, on moto (DynamoDB, S3, EventBridge, SQS) and the
// platform simulators, and feeds them every sample event in events/.
package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/infra/lambdaemu"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/infra/samples"
	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/schedule"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

// builds holds the bootstraps built by this test binary, by function.
var builds struct {
	sync.Mutex
	dir   string
	paths map[string]string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	os.Exit(code)
}

// build compiles a function's bootstrap for this machine, as Lambda would
// run it (lambda.norpc, static), once per test binary.
func build(t testing.TB, name string) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if p, ok := builds.paths[name]; ok {
		return p
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "parley-functions-")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.paths = dir, map[string]string{}
	}
	out := filepath.Join(builds.dir, name, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, "./"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, b)
	}
	builds.paths[name] = out
	return out
}

// answer is what a function returned for an event (API Gateway v2 and
// Function URL responses have the same shape).
type answer struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	// report is the fallback function's answer.
	report schedule.Report
	// raw is the answer as the function gave it.
	raw string
}

func invoke(t *testing.T, emu *lambdaemu.Emulator, payload []byte) answer {
	t.Helper()
	res, err := emu.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if res.FunctionError != "" {
		t.Fatalf("function error %s: %s", res.FunctionError, res.Payload)
	}
	a := answer{raw: string(res.Payload)}
	if err := json.Unmarshal(res.Payload, &a); err != nil {
		t.Fatalf("the answer is not an HTTP response: %s", res.Payload)
	}
	if a.StatusCode == 0 {
		if err := json.Unmarshal(res.Payload, &a.report); err != nil {
			t.Fatalf("the answer is neither an HTTP response nor a fallback report: %s", res.Payload)
		}
	}
	return a
}

// startStore starts moto with the table and the payload bucket every
// function is given.
func startStore(t *testing.T) *moto.Server {
	t.Helper()
	ctx := context.Background()
	m := moto.StartT(t)
	c := dynamo.NewClient(m.Endpoint(), "us-east-1")
	if err := dynamo.CreateTable(ctx, c, "parley"); err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateBucket(ctx, c, "parley-payloads"); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFunctionsWithSampleEvents(t *testing.T) {
	ctx := context.Background()
	m := startStore(t)
	eb := eventbridge.NewFromConfig(m.SDKConfig())
	sq := sqs.NewFromConfig(m.SDKConfig())
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("parley")}); err != nil {
		t.Fatal(err)
	}
	dlq, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("parley-events-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	payloadQ, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("parley-payload")})
	if err != nil {
		t.Fatal(err)
	}
	// An app listening to the bus: a rule sending every parley event to a queue.
	appQ, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: appQ.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("all"), EventBusName: aws.String("parley"), EventPattern: aws.String(`{"source":["parley"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("all"), EventBusName: aws.String("parley"),
		Targets: []ebtypes.Target{{Id: aws.String("app"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}

	// The app's webhook: the FIFO queue the publishers fill, and the app's
	// endpoint, which verifies every request as README shows.
	hookQ, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("parley-hooks.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	const hookSecret = "whsec_cGFybGV5LWxvY2FsLWV2ZW50cy13ZWJob29rLXNlY3JldA=="
	hookKey, err := apphook.ParseSecret(hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	var hooked struct {
		sync.Mutex
		ids  []string
		errs []error
		down bool
	}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hooked.Lock()
		defer hooked.Unlock()
		if err := apphook.Verify(hookKey, r.Header, body, time.Now()); err != nil {
			hooked.errs = append(hooked.errs, err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev struct{ ID string }
		json.Unmarshal(body, &ev)
		if ev.ID != r.Header.Get(apphook.HeaderID) {
			hooked.errs = append(hooked.errs, fmt.Errorf("webhook-id %s for the event %s", r.Header.Get(apphook.HeaderID), ev.ID))
		}
		if hooked.down {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		hooked.ids = append(hooked.ids, ev.ID)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer app.Close()

	secret, err := apple.DecodeSecret(local.DefaultAppleMSPSecret)
	if err != nil {
		t.Fatal(err)
	}
	wa := httptest.NewServer(whatsappsim.New(whatsappsim.Config{Token: local.DefaultWhatsAppToken, AppSecret: local.DefaultWhatsAppAppSecret}))
	defer wa.Close()
	ap := httptest.NewServer(applesim.New(applesim.Config{MSPID: local.DefaultAppleMSPID, Secret: secret}))
	defer ap.Close()

	env := []string{
		"PARLEY_STORE=aws", "PARLEY_AWS_ENDPOINT=" + m.Endpoint(), "PARLEY_TABLE=parley", "PARLEY_BUCKET=parley-payloads",
		"PARLEY_EVENT_BUS=parley", "PARLEY_EVENTS_DLQ_URL=" + aws.ToString(dlq.QueueUrl),
		"PARLEY_WHATSAPP_API_URL=" + wa.URL + "/v25.0", "PARLEY_WHATSAPP_TOKEN=" + local.DefaultWhatsAppToken,
		"PARLEY_WHATSAPP_APP_SECRET=" + local.DefaultWhatsAppAppSecret, "PARLEY_WHATSAPP_VERIFY_TOKEN=" + local.DefaultWhatsAppVerifyToken,
		"PARLEY_APPLE_MSP_URL=" + ap.URL + "/v1", "PARLEY_APPLE_MSP_ID=" + local.DefaultAppleMSPID, "PARLEY_APPLE_MSP_SECRET=" + local.DefaultAppleMSPSecret,
		"PARLEY_PAYLOAD_QUEUE_URL=" + aws.ToString(payloadQ.QueueUrl),
		"PARLEY_LOG_LEVEL=warn", "PARLEY_EVENTS_WEBHOOK_QUEUE_URL=" + aws.ToString(hookQ.QueueUrl),
	}
	emus := map[string]*lambdaemu.Emulator{}
	for _, name := range []string{"ingest", "send", "fallback", "fetch", "decode", "webhook"} {
		fnEnv := env
		if name == "webhook" {
			fnEnv = append(slices.Clip(env), "PARLEY_EVENTS_WEBHOOK_URL="+app.URL+"/hooks/parley", "PARLEY_EVENTS_WEBHOOK_SECRET="+hookSecret)
		}
		emu, err := lambdaemu.Start(ctx, lambdaemu.Config{Bootstrap: build(t, name), Env: fnEnv, FunctionName: name, Timeout: 30 * time.Second, Stderr: testWriter{t}})
		if err != nil {
			t.Fatal(err)
		}
		defer emu.Close()
		emus[name] = emu
	}

	// Every file in events/, in an order that tells a story, with the
	// answer each must get.
	steps := []struct {
		file   string
		status int
		check  func(t *testing.T, a answer)
	}{
		{"ingest/whatsapp-verify.json", 200, bodyIs("1158201444")},
		{"ingest/whatsapp-text.json", 200, nil},
		{"ingest/whatsapp-text.json", 200, nil}, // a redelivery: acknowledged, ignored
		{"ingest/whatsapp-status.json", 200, nil},
		{"ingest/whatsapp-bad-signature.json", 401, nil},
		{"ingest/apple-text.json", 200, nil},
		{"ingest/apple-typing-start.json", 200, nil},
		{"ingest/apple-no-auth.json", 401, nil},
		{"send/post-message-apple-text.json", 202, bodyHas(`"status":"sent"`)},
		{"ingest/apple-close.json", 200, nil},
		{"send/post-message-apple-text.json", 422, bodyHas(`"conversation_closed"`)},
		{"fresh whatsapp webhook", 200, nil},
		{"send/post-message-whatsapp-text.json", 202, bodyHas(`"platformMessageId":"wamid.`)},
		{"send/post-message-whatsapp-text.json", 202, nil}, // same idempotencyKey: same answer
		{"scheduled whatsapp send", 202, bodyHas(`"status":"scheduled"`)},
		{"fallback/scheduled.json", 0, reportIs(schedule.Report{Claimed: 1, Sent: 1})},
		{"send/post-message-invalid.json", 400, bodyHas(`"field":"message.text"`)},
		// A slot for a large attachment: an S3 URL presigned for the PUT.
		{"send/post-upload.json", 201, bodyHas(`"upload":"uploads/`, `X-Amz-Signature=`, `"method":"PUT"`)},
		{"send/get-message.json", 404, bodyHas(`"not_found"`)},
		{"send/get-message-media.json", 404, bodyHas(`"not_found"`)},
		{"send/delete-message.json", 404, bodyHas(`"not_found"`)},
		{"send/get-conversation.json", 200, bodyHas(`"open":true`)},
		{"send/get-events.json", 200, bodyHas(`"message.received"`)},
		// A job whose blob the gateway does not know: reported as a batch
		// item failure, so that SQS delivers it again.
		{"fetch/sqs-job.json", 0, rawIs(`{"batchItemFailures":[{"itemIdentifier":"5f8c2a1e-7b3d-4c9e-a1f0-2b3c4d5e6f70"}]}`)},
		// A notification of a raw object that is not there fails; S3's
		// test event is done with.
		{"decode/sqs-s3-notification.json", 0, rawIs(`{"batchItemFailures":[{"itemIdentifier":"0b1c2d3e-4f50-4617-8a9b-c0d1e2f3a4b5"}]}`)},
		// An S3 event straight from the bucket, for an object outside raw/:
		// nothing to do.
		{"decode/s3-object-created.json", 0, rawIs(`null`)},
		// Two events of one conversation from the webhook queue: both
		// delivered, signed, in order.
		{"webhook/sqs-delivery.json", 0, rawIs(`{"batchItemFailures":null}`)},
		// The 8th and last attempt of an event, and the app's endpoint is
		// down: the delivery is parked, the message failed once more (SQS
		// moves it to the dead-letter queue), and the send API lists it.
		{"webhook/sqs-last-attempt.json", 0, rawIs(`{"batchItemFailures":[{"itemIdentifier":"4e7a2c91-0b3d-4f6a-9c8e-7d1f2a3b4c50"}]}`)},
		{"send/get-webhook-deliveries.json", 200, bodyHas(`"id":"1795512000000000000-00000001-3c9a17e2"`, `"attempts":8`, `HTTP 503`)},
	}
	fed := map[string]bool{}
	var firstSend string
	// The scheduled send is due a moment after it is made; the fallback
	// run comes after that moment.
	var dueAt time.Time
	for _, s := range steps {
		var payload []byte
		fn := strings.SplitN(s.file, "/", 2)[0]
		switch s.file {
		case "fresh whatsapp webhook":
			fn, payload = "ingest", freshWhatsAppEvent(t)
		case "scheduled whatsapp send":
			dueAt = time.Now().Add(time.Second)
			fn, payload = "send", scheduledSendEvent(t, dueAt)
		case "ingest/whatsapp-text.json", "ingest/apple-text.json", "ingest/apple-typing-start.json", "ingest/apple-close.json":
			payload = restamped(t, s.file, time.Now())
			fed[s.file] = true
		case "ingest/whatsapp-status.json":
			// A status of a message parley did not send, an hour old: past
			// the grace in which it would wait for its send, so kept as it is.
			payload = restamped(t, s.file, time.Now().Add(-time.Hour))
			fed[s.file] = true
		default:
			payload, err = os.ReadFile(filepath.Join("..", "events", s.file))
			if err != nil {
				t.Fatal(err)
			}
			fed[s.file] = true
		}
		if fn == "fallback" {
			time.Sleep(time.Until(dueAt))
		}
		hooked.Lock()
		hooked.down = s.file == "webhook/sqs-last-attempt.json"
		hooked.Unlock()
		a := invoke(t, emus[fn], payload)
		if a.StatusCode != s.status {
			t.Fatalf("%s: status %d, want %d: %s", s.file, a.StatusCode, s.status, a.Body)
		}
		if s.check != nil {
			s.check(t, a)
		}
		if s.file == "send/post-message-whatsapp-text.json" {
			if firstSend == "" {
				firstSend = a.Body
			} else if a.Body != firstSend {
				t.Errorf("the same idempotencyKey answered %s, then %s", firstSend, a.Body)
			}
		}
	}

	files, _ := filepath.Glob(filepath.Join("..", "events", "*", "*.json"))
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join("..", "events"), f)
		if !fed[filepath.ToSlash(rel)] {
			t.Errorf("events/%s is not fed to its function by this test", rel)
		}
	}

	var simMsgs []json.RawMessage
	getJSON(t, wa.URL+"/messages", &simMsgs)
	if len(simMsgs) != 2 {
		t.Errorf("the WhatsApp simulator received %d messages, want 2 (one with an idempotency key sent twice, one scheduled)", len(simMsgs))
	}

	// The events reached the app's queue through the EventBridge bus, and
	// none was parked in the dead-letter queue.
	types := map[string]int{}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && types["message.sent"] < 3 {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: appQ.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range out.Messages {
			var env struct {
				DetailType string `json:"detail-type"`
				Source     string `json:"source"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(msg.Body)), &env); err != nil || env.Source != "parley" {
				t.Fatalf("the bus delivered %s", aws.ToString(msg.Body))
			}
			types[env.DetailType]++
		}
	}
	want := map[string]int{"message.received": 3, "message.status": 1, "message.sent": 3, "conversation.typing": 1, "conversation.closed": 1}
	if fmt.Sprint(sortedCounts(types)) != fmt.Sprint(sortedCounts(want)) {
		t.Errorf("events on the bus: %v, want %v", sortedCounts(types), sortedCounts(want))
	}
	out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 0 {
		t.Errorf("the events dead-letter queue holds %d messages (%v), want none", len(out.Messages), err)
	}

	// The app's endpoint took the sample's events, in order, each signed.
	hooked.Lock()
	if want := []string{"1795512600000000000-00000001-58d2565f", "1795512601000000000-00000002-8ba85c79"}; !slices.Equal(hooked.ids, want) || len(hooked.errs) != 0 {
		t.Errorf("the app's webhook took %v (refused: %v), want %v", hooked.ids, hooked.errs, want)
	}
	hooked.Unlock()
	// Every event published was also queued for the webhook, one message
	// group per conversation.
	qattrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: hookQ.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range want {
		total += n
	}
	if got := qattrs.Attributes["ApproximateNumberOfMessages"]; got != fmt.Sprint(total) {
		t.Errorf("the webhook queue holds %s events, want the %d published", got, total)
	}
}

// freshWhatsAppEvent is a Function URL event carrying a customer text with
// the current time, signed with the local app secret: it opens the window
// for the WhatsApp send sample whatever the date.
func freshWhatsAppEvent(t *testing.T) []byte {
	t.Helper()
	return restamped(t, "ingest/whatsapp-text.json", time.Now(), "wamid.HBgM", "wamid.FRESH")
}

// restamped is the signed webhook sample file signed again as if sent at at
// (ingest refuses WhatsApp items older than Meta's retry period and Apple
// tokens older than a few minutes as replays, and the samples' times stay
// where they were written), with the replacements given applied.
func restamped(t *testing.T, file string, at time.Time, replace ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", file))
	if err != nil {
		t.Fatal(err)
	}
	out, err := samples.Restamp(b, at, replace...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// scheduledSendEvent is the WhatsApp send sample with sendAt at, and no
// idempotency key.
func scheduledSendEvent(t *testing.T, at time.Time) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", "send", "post-message-whatsapp-text.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(ev["body"].(string)), &body); err != nil {
		t.Fatal(err)
	}
	delete(body, "idempotencyKey")
	body["sendAt"] = at.UTC().Format(time.RFC3339Nano)
	nb, _ := json.Marshal(body)
	ev["body"] = string(nb)
	out, _ := json.Marshal(ev)
	return out
}

// reportIs checks the fallback function's answer: its run's report.
func reportIs(want schedule.Report) func(*testing.T, answer) {
	return func(t *testing.T, a answer) {
		if a.report != want {
			t.Errorf("fallback run %+v, want %+v", a.report, want)
		}
	}
}

// rawIs checks a function's whole answer.
func rawIs(want string) func(*testing.T, answer) {
	return func(t *testing.T, a answer) {
		if a.raw != want {
			t.Errorf("answer %s, want %s", a.raw, want)
		}
	}
}

func bodyIs(want string) func(*testing.T, answer) {
	return func(t *testing.T, a answer) {
		if a.Body != want {
			t.Errorf("body %q, want %q", a.Body, want)
		}
	}
}

func bodyHas(want ...string) func(*testing.T, answer) {
	return func(t *testing.T, a answer) {
		for _, w := range want {
			if !strings.Contains(a.Body, w) {
				t.Errorf("body %s does not contain %s", a.Body, w)
			}
		}
	}
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %s", url, b)
	}
}

func sortedCounts(m map[string]int) []string {
	var s []string
	for k, v := range m {
		s = append(s, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(s)
	return s
}

// testWriter sends a function's stderr to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestMissingConfiguration: a function started without its configuration
// fails at start-up with one line naming what is missing or malformed,
// among the settings it reads only.
func TestMissingConfiguration(t *testing.T) {
	for _, name := range []string{"ingest", "send", "fallback", "fetch", "decode", "webhook"} {
		t.Run(name, func(t *testing.T) {
			var stderr syncBuffer
			emu, err := lambdaemu.Start(context.Background(), lambdaemu.Config{
				Bootstrap: build(t, name), Env: []string{"PARLEY_WHATSAPP_TOKEN=x", "PARLEY_APPLE_MSP_SECRET=%%%", "PARLEY_APPLEPAY_LIFETIME=forever"}, Stderr: &stderr,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = emu.Invoke(context.Background(), []byte(`{}`))
			emu.Close()
			if err == nil {
				t.Fatal("a function without its configuration must not answer")
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			var line string
			for _, l := range lines {
				if strings.Contains(l, "config:") {
					line = l
				}
			}
			wants := []string{name + ": config:", "PARLEY_TABLE is required", "PARLEY_APPLE_MSP_SECRET must be Base64"}
			if name == "webhook" { // reads no Apple setting; the app's endpoint instead
				wants = []string{name + ": config:", "PARLEY_TABLE is required", "PARLEY_EVENTS_WEBHOOK_URL and PARLEY_EVENTS_WEBHOOK_SECRET are required"}
			}
			for _, want := range wants {
				if !strings.Contains(line, want) {
					t.Errorf("start-up line %q does not say %q (stderr: %q)", line, want, stderr.String())
				}
			}
			// Only the settings the function reads are asked for.
			reads := config.Reads(config.Functions[name])
			for _, n := range []string{config.WhatsAppAPIURL, config.AppleMSPURL, config.ApplePayLifetime} {
				if asked := strings.Contains(line, n); asked != slices.Contains(reads, n) {
					t.Errorf("start-up line %q: mentions %s %v, the function reads it %v", line, n, asked, slices.Contains(reads, n))
				}
			}
			if strings.Contains(stderr.String(), "%%%") {
				t.Error("the start-up error repeats a secret's value")
			}
		})
	}
}

// syncBuffer collects a child's output written from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
