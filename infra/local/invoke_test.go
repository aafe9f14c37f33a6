package local

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/lambdaemu"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
)

// TestMakeInvoke runs `make invoke` as README shows it, against a running
// local stack on the AWS store (moto): the send function's built binary,
// under the emulator with infra/local/env.json, sends through the stack's
// Apple simulator and records the message in the store the stack reads;
// the webhook function, with env.json's WebhookFunction settings, delivers
// the webhook queue's samples to the stack's app receiver and parks the
// last attempt the app fails in the table.
func TestMakeInvoke(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make invoke needs make: %v", err)
	}
	m := moto.StartT(t)
	env := map[string]string{"PARLEY_LOG_LEVEL": "warn", "PARLEY_STORE": "aws", "PARLEY_AWS_ENDPOINT": m.Endpoint(),
		"PARLEY_TABLE": "parley", "PARLEY_BUCKET": "parley"}
	st, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", Getenv: func(k string) string { return env[k] },
		Log: os.Stderr, Clock: clock.System{}, FallbackEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// env.json names the stack on :8080 and moto on :5000; the command's
	// environment wins, so the test points each function's settings at
	// this stack and moto.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(function, event string, env ...string) []byte {
		t.Helper()
		logicalID := strings.ToUpper(function[:1]) + function[1:] + "Function"
		file, err := lambdaemu.ReadEnvFile("env.json", logicalID)
		if err != nil {
			t.Fatal(err)
		}
		cmdEnv := os.Environ()
		for _, kv := range file {
			k, v, _ := strings.Cut(kv, "=")
			v = strings.ReplaceAll(v, "http://127.0.0.1:8080", st.URL)
			v = strings.ReplaceAll(v, "http://127.0.0.1:5000", m.Endpoint())
			cmdEnv = append(cmdEnv, k+"="+v)
		}
		cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", "../..", "invoke", "FUNCTION="+function, "EVENT="+event)
		cmd.Env = append(cmdEnv, env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("make invoke %s: %v\nstdout: %s\nstderr: %s", event, err, stdout.String(), stderr.String())
		}
		return stdout.Bytes()
	}
	invoke := func(function, event string) (status int, body string) {
		t.Helper()
		out := run(function, event)
		var res struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("make invoke printed %q, not the function's answer: %v", out, err)
		}
		return res.StatusCode, res.Body
	}
	code, body := invoke("send", "events/send/post-message-apple-text.json")
	var sent struct{ ID, Status, PlatformMessageID string }
	json.Unmarshal([]byte(body), &sent)
	if code != http.StatusAccepted || sent.Status != "sent" || sent.ID == "" {
		t.Fatalf("the send function answered %d %s", code, body)
	}
	// The stack's simulator got it, and the stack reads the record.
	found := false
	for _, m := range st.Apple.Messages(appleCustomer) {
		found = found || m.ID == sent.PlatformMessageID
	}
	if !found {
		t.Errorf("the stack's Apple simulator did not receive %s", sent.PlatformMessageID)
	}
	if rec := record(t, st, sent.ID); rec.Status != "sent" && rec.Status != "accepted" {
		t.Errorf("the stack reads the function's message as %s", rec.Status)
	}

	// A signed webhook sample, written days ago: make invoke signs it again
	// with the time of now, so the ingest function takes it, and the stack
	// reads the customer's message.
	if code, body := invoke("ingest", "events/ingest/apple-text.json"); code != http.StatusOK {
		t.Fatalf("the ingest function answered %d %s", code, body)
	}
	var log struct{ Events []message.Event }
	if code := call(t, "GET", st.URL+"/v1/events?limit=100", nil, &log); code != http.StatusOK {
		t.Fatalf("GET /v1/events: %d", code)
	}
	received := false
	for _, e := range log.Events {
		received = received || (e.Type == message.EventReceived && e.PlatformMessageID == "5c1e8d2a-7f3b-4e6a-9d0c-1b2a3c4d5e6f")
	}
	if !received {
		t.Errorf("the stack has no message.received event of the Apple sample among %d events", len(log.Events))
	}

	// A batch of the webhook queue: the function delivers both events, in
	// order, to the stack's app receiver, which verifies their signatures.
	if out := run("webhook", "events/webhook/sqs-delivery.json"); strings.TrimSpace(string(out)) != `{"batchItemFailures":null}` {
		t.Errorf("the webhook function answered %s, want no failure", out)
	}
	var ids []string
	for _, r := range st.App.Received() {
		ids = append(ids, r.Event.ID)
		if r.ID != r.Event.ID || r.Answer != http.StatusNoContent {
			t.Errorf("the app received %+v", r)
		}
	}
	if want := []string{"1795512600000000000-00000001-58d2565f", "1795512601000000000-00000002-8ba85c79"}; !slices.Equal(ids, want) {
		t.Errorf("the stack's app receiver took %v, want %v", ids, want)
	}

	// The last attempt, the app down: the delivery is parked in the table
	// the stack shares, and the message failed once more.
	out := run("webhook", "events/webhook/sqs-last-attempt.json", "PARLEY_EVENTS_WEBHOOK_URL="+st.URL+"/sim/app/events?answer=503")
	if want := `{"batchItemFailures":[{"itemIdentifier":"4e7a2c91-0b3d-4f6a-9c8e-7d1f2a3b4c50"}]}`; strings.TrimSpace(string(out)) != want {
		t.Errorf("the webhook function answered %s, want %s", out, want)
	}
	parked, _, err := apphook.Table{Client: dynamodb.New(awsapi.FromEnv(func(string) string { return "" }, m.Endpoint())), Name: "parley"}.
		Parked(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 1 || parked[0].ID != "1795512000000000000-00000001-3c9a17e2" || parked[0].Attempts != 8 || !strings.Contains(parked[0].LastError, "HTTP 503") {
		t.Errorf("parked %+v, want the last attempt's event, after 8 attempts, with the app's 503", parked)
	}
}
