package requestid_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/parleyhq/parley/shared/requestid"
)

func lines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestLambdaInvocation: every line logged during an invocation carries its
// request id and trace id, with a context or without; the message id
// appears once the request names it; lines after the invocation carry
// none.
func TestLambdaInvocation(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(requestid.Handler(slog.NewJSONHandler(&buf, nil)))
	h := requestid.Lambda(func(ctx context.Context, in string) (string, error) {
		log.Info("no context")
		requestid.SetMessageID(ctx, "msg_1")
		log.InfoContext(ctx, "with context")
		log.Info("names its own", "message_id", "msg_other")
		log.InfoContext(requestid.WithMessageID(ctx, "msg_2"), "about another message")
		return in, nil
	})
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-7"})
	//lint:ignore SA1029 aws-lambda-go keeps the trace header under this string key.
	ctx = context.WithValue(ctx, "x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	if _, err := h(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	log.Info("after")
	got := lines(t, buf.Bytes())
	want := []map[string]any{
		{"request_id": "req-7", "trace_id": "1-5759e988-bd862e3fe1be46a994272793"},
		{"request_id": "req-7", "message_id": "msg_1"},
		{"request_id": "req-7", "message_id": "msg_other"},
		{"request_id": "req-7", "message_id": "msg_2"},
		{},
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d", len(got), len(want))
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("line %d (%s): %s = %v, want %v", i, got[i]["msg"], k, got[i][k], v)
			}
		}
		if len(w) == 0 {
			for _, k := range []string{"request_id", "trace_id", "message_id"} {
				if _, ok := got[i][k]; ok {
					t.Errorf("line %d (%s) carries %s after the invocation", i, got[i]["msg"], k)
				}
			}
		}
	}
	if n := bytes.Count(buf.Bytes(), []byte(`"message_id"`)); n != 3 {
		t.Errorf("message_id written %d times, want once per line that has one (3)", n)
	}
}
