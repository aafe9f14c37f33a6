package functions_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/infra/lambdaemu"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/metrics"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

// TestSendObservability: a send through the built send function writes, on
// its standard output, log lines and Embedded Metric Format lines that all
// carry the invocation's request id; the lines about the message carry its
// id; the metrics name the channel and type, never the customer.
func TestSendObservability(t *testing.T) {
	ctx := context.Background()
	m := startStore(t)
	secret, err := apple.DecodeSecret(local.DefaultAppleMSPSecret)
	if err != nil {
		t.Fatal(err)
	}
	ap := httptest.NewServer(applesim.New(applesim.Config{MSPID: local.DefaultAppleMSPID, Secret: secret}))
	defer ap.Close()

	var stdout syncBuffer
	emu, err := lambdaemu.Start(ctx, lambdaemu.Config{Bootstrap: build(t, "send"), FunctionName: "send", Timeout: 30 * time.Second,
		Stdout: &stdout, Stderr: testWriter{t}, Env: []string{
			"PARLEY_STORE=aws", "PARLEY_AWS_ENDPOINT=" + m.Endpoint(), "PARLEY_TABLE=parley", "PARLEY_BUCKET=parley-payloads",
			"PARLEY_WHATSAPP_API_URL=http://127.0.0.1:9/v25.0", "PARLEY_WHATSAPP_TOKEN=" + local.DefaultWhatsAppToken,
			"PARLEY_APPLE_MSP_URL=" + ap.URL + "/v1", "PARLEY_APPLE_MSP_ID=" + local.DefaultAppleMSPID, "PARLEY_APPLE_MSP_SECRET=" + local.DefaultAppleMSPSecret,
			"PARLEY_LOG_LEVEL=info", "PARLEY_METRICS_NAMESPACE=parley/test",
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	event, err := os.ReadFile(filepath.Join("..", "events", "send", "post-message-apple-text.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := emu.Invoke(ctx, event)
	if err != nil || res.FunctionError != "" {
		t.Fatalf("invoke: %v %s", err, res.Payload)
	}
	var a answer
	if err := json.Unmarshal(res.Payload, &a); err != nil || a.StatusCode != 202 {
		t.Fatalf("answer %s, want 202", res.Payload)
	}
	var sent struct{ ID string }
	if err := json.Unmarshal([]byte(a.Body), &sent); err != nil || sent.ID == "" {
		t.Fatalf("body %s", a.Body)
	}
	var customer struct {
		To string `json:"to"`
	}
	var ev struct{ Body string }
	json.Unmarshal(event, &ev)
	json.Unmarshal([]byte(ev.Body), &customer)

	// The function's output reaches stdout through a pipe copied in the
	// background: stopping the function drains it.
	emu.Close()

	var logLines, emfLines, aboutMessage int
	metricsSeen := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(stdout.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("not a JSON line: %s", sc.Bytes())
			continue
		}
		if line["request_id"] != res.RequestID {
			t.Errorf("request_id %v, want the invocation's %s: %s", line["request_id"], res.RequestID, sc.Bytes())
		}
		if tr, _ := line["trace_id"].(string); !strings.HasPrefix(tr, "1-") {
			t.Errorf("no X-Ray trace id: %s", sc.Bytes())
		}
		if _, ok := line["_aws"]; ok {
			emfLines++
			for name := range metrics.Catalog {
				if _, ok := line[name]; ok {
					metricsSeen[name] = line
				}
			}
			if customer.To != "" && strings.Contains(sc.Text(), customer.To) {
				t.Errorf("a metric line carries the customer id: %s", sc.Bytes())
			}
			continue
		}
		logLines++
		if line["message_id"] == sent.ID {
			aboutMessage++
		}
		if line["msg"] == "message sent" || line["msg"] == "request" {
			if line["message_id"] != sent.ID {
				t.Errorf("%q line: message_id %v, want %s", line["msg"], line["message_id"], sent.ID)
			}
		}
	}
	if aboutMessage == 0 {
		t.Errorf("no log line names the message %s:\n%s", sent.ID, stdout.String())
	}
	if logLines == 0 || emfLines == 0 {
		t.Fatalf("%d log lines and %d metric lines:\n%s", logLines, emfLines, stdout.String())
	}
	if l := metricsSeen[metrics.MessagesSent]; l == nil || l["Channel"] != "apple" || l["Type"] != "text" {
		t.Errorf("MessagesSent line %v, want Channel apple, Type text", l)
	}
	if l := metricsSeen[metrics.PlatformLatency]; l == nil || l["Channel"] != "apple" {
		t.Errorf("PlatformLatency line %v, want Channel apple", l)
	}
}

// TestWebhookObservability: the webhook function, fed the webhook queue's
// samples, writes Embedded Metric Format lines for what became of each
// event: delivered (with its latency from the event's creation), a failed
// attempt (by the answer's status class), a delivery parked after the last
// attempt — each line under the invocation's request id.
func TestWebhookObservability(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	c := dynamo.NewClient(m.Endpoint(), "us-east-1")
	if err := dynamo.CreateTable(ctx, c, "parley"); err != nil {
		t.Fatal(err)
	}
	sq := sqs.NewFromConfig(m.SDKConfig())
	hookQ, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("parley-hooks.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	var status atomic.Int32
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(int(status.Load()))
	}))
	defer app.Close()

	var stdout syncBuffer
	emu, err := lambdaemu.Start(ctx, lambdaemu.Config{Bootstrap: build(t, "webhook"), FunctionName: "webhook", Timeout: 30 * time.Second,
		Stdout: &stdout, Stderr: testWriter{t}, Env: []string{
			"PARLEY_AWS_ENDPOINT=" + m.Endpoint(), "PARLEY_TABLE=parley", "PARLEY_BUCKET=parley-payloads", "PARLEY_EVENTS_WEBHOOK_QUEUE_URL=" + aws.ToString(hookQ.QueueUrl),
			"PARLEY_EVENTS_WEBHOOK_URL=" + app.URL + "/hooks/parley", "PARLEY_EVENTS_WEBHOOK_SECRET=whsec_cGFybGV5LWxvY2FsLWV2ZW50cy13ZWJob29rLXNlY3JldA==",
			"PARLEY_LOG_LEVEL=error", "PARLEY_METRICS_NAMESPACE=parley/test",
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()

	type run struct {
		requestID     string
		before, after time.Time
	}
	feed := func(file string, answer int) run {
		t.Helper()
		status.Store(int32(answer))
		event, err := os.ReadFile(filepath.Join("..", "events", "webhook", file))
		if err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		res, err := emu.Invoke(ctx, event)
		if err != nil || res.FunctionError != "" {
			t.Fatalf("invoke %s: %v %s", file, err, res.Payload)
		}
		return run{res.RequestID, before, time.Now()}
	}
	delivered := feed("sqs-delivery.json", http.StatusNoContent)
	failed := feed("sqs-delivery.json", http.StatusServiceUnavailable)
	parkedRun := feed("sqs-last-attempt.json", http.StatusBadGateway)
	emu.Close()

	// The metric lines of each invocation, as "name dimension=value: value".
	byRequest := map[string][]string{}
	latency := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(stdout.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("not a JSON line: %s", sc.Bytes())
			continue
		}
		meta, ok := line["_aws"].(map[string]any)
		if !ok {
			continue
		}
		if strings.Contains(sc.Text(), "447700900") {
			t.Errorf("a metric line carries the customer id: %s", sc.Bytes())
		}
		directive := meta["CloudWatchMetrics"].([]any)[0].(map[string]any)
		if directive["Namespace"] != "parley/test" {
			t.Errorf("namespace %v: %s", directive["Namespace"], sc.Bytes())
		}
		mt := directive["Metrics"].([]any)[0].(map[string]any)
		name := mt["Name"].(string)
		dims := ""
		for _, d := range metrics.Catalog[name] {
			dims += fmt.Sprintf(" %s=%v", d, line[d])
		}
		id, _ := line["request_id"].(string)
		if name == metrics.EventDeliveryLatency {
			if mt["Unit"] != "Milliseconds" {
				t.Errorf("%s in %v", name, mt["Unit"])
			}
			latency[id+dims] = line[name].(float64)
			byRequest[id] = append(byRequest[id], name+dims)
			continue
		}
		byRequest[id] = append(byRequest[id], fmt.Sprintf("%s%s: %v", name, dims, line[name]))
	}

	for _, c := range []struct {
		run  run
		want []string
	}{
		{delivered, []string{
			"EventsDelivered Type=message.received: 1", "EventDeliveryLatency Type=message.received",
			"EventsDelivered Type=message.status: 1", "EventDeliveryLatency Type=message.status"}},
		// The first event fails; the second waits behind it, unattempted.
		{failed, []string{"EventDeliveryFailures Code=5xx: 1"}},
		{parkedRun, []string{"EventDeliveryFailures Code=5xx: 1", "EventDeliveriesParked Type=message.received: 1"}},
	} {
		if got := byRequest[c.run.requestID]; !slices.Equal(got, c.want) {
			t.Errorf("invocation %s: metrics %q, want %q", c.run.requestID, got, c.want)
		}
	}
	// Latency: from the event's time to the app's answer.
	for typ, at := range map[string]time.Time{
		"message.received": time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC),
		"message.status":   time.Date(2026, 11, 24, 9, 30, 1, 0, time.UTC),
	} {
		got, ok := latency[delivered.requestID+" Type="+typ]
		lo, hi := float64(delivered.before.Sub(at).Milliseconds()), float64(delivered.after.Sub(at).Milliseconds()+1)
		if !ok || got < lo || got > hi {
			t.Errorf("%s: latency %v ms, want between %v and %v (the event's age while it was delivered)", typ, got, lo, hi)
		}
	}
}
