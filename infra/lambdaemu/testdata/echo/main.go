// Command echo is the Lambda function the emulator's tests run. Its payload
// names an action: echo the payload back, report its context and
// environment, fail, panic, exit, sleep, answer too much, break its
// response stream, or probe the Runtime API. With ECHO_INIT=error it
// reports an initialisation error instead of starting; with ECHO_INIT=exit
// it exits at once.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Action  string   `json:"action"`
	Message string   `json:"message"`
	Size    int      `json:"size"`
	Env     []string `json:"env"`
}

// report is the answer to the "context" action.
type report struct {
	RequestID   string            `json:"requestId"`
	DeadlineMs  int64             `json:"deadlineMs"`
	FunctionARN string            `json:"functionArn"`
	TraceID     string            `json:"traceId"`
	PID         int               `json:"pid"`
	Env         map[string]string `json:"env"`
}

func main() {
	switch os.Getenv("ECHO_INIT") {
	case "error":
		postInitError()
		os.Exit(1)
	case "exit":
		os.Exit(2)
	case "slow":
		time.Sleep(200 * time.Millisecond)
	}
	lambda.Start(handle)
}

func handle(ctx context.Context, payload json.RawMessage) (any, error) {
	lc, ok := lambdacontext.FromContext(ctx)
	deadline, hasDeadline := ctx.Deadline()
	if !ok || lc.AwsRequestID == "" || !hasDeadline {
		return nil, errors.New("echo: the context has no request id or no deadline")
	}
	var req request
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	switch req.Action {
	case "echo":
		return payload, nil
	case "context":
		r := report{
			RequestID:   lc.AwsRequestID,
			DeadlineMs:  deadline.UnixMilli(),
			FunctionARN: lc.InvokedFunctionArn,
			TraceID:     os.Getenv("_X_AMZN_TRACE_ID"),
			PID:         os.Getpid(),
			Env:         map[string]string{},
		}
		for _, name := range req.Env {
			r.Env[name] = os.Getenv(name)
		}
		return r, nil
	case "error":
		return nil, errors.New(req.Message)
	case "panic":
		panic(req.Message)
	case "exit":
		os.Exit(3)
	case "sleep":
		time.Sleep(time.Hour)
		return nil, nil
	case "big":
		return strings.Repeat("x", req.Size), nil
	case "broken-stream":
		return io.MultiReader(strings.NewReader(`{"partial":`), brokenReader{}), nil
	case "probe":
		return probe(), nil
	}
	return nil, fmt.Errorf("echo: unknown action %q", req.Action)
}

// brokenReader fails as a response stream can midway.
type brokenReader struct{}

func (brokenReader) Read([]byte) (int, error) { return 0, errors.New("stream broke") }

// probe calls the Runtime API the way a faulty runtime would, and reports
// the status codes it answered.
func probe() map[string]int {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	calls := map[string]string{
		"unknownRequestId": api + "/invocation/not-a-request-id/response",
		"lateInitError":    api + "/init/error",
	}
	codes := map[string]int{}
	for name, url := range calls {
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"errorMessage":"probe","errorType":"Probe"}`))
		if err != nil {
			codes[name] = -1
			continue
		}
		resp.Body.Close()
		codes[name] = resp.StatusCode
	}
	return codes
}

// postInitError reports an initialisation error as a runtime does.
func postInitError() {
	url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"errorMessage":"PARLEY_TABLE is required","errorType":"ConfigError"}`))
	if err != nil {
		return
	}
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "ConfigError")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	resp.Body.Close()
}
