package lambdaemu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/lambdaemu"
)

// echoBootstrap is the built testdata/echo function.
var echoBootstrap string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdaemu")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	echoBootstrap = filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", echoBootstrap, "./testdata/echo")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building testdata/echo:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// start runs the echo function under an emulator closed with the test.
func start(t *testing.T, cfg lambdaemu.Config) *lambdaemu.Emulator {
	t.Helper()
	if cfg.Bootstrap == "" {
		cfg.Bootstrap = echoBootstrap
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Minute
	}
	em, err := lambdaemu.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	return em
}

// post invokes the emulator over HTTP, as a user would with curl.
func post(t *testing.T, em *lambdaemu.Emulator, payload []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(em.URL()+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// errorDoc is Lambda's error document.
type errorDoc struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func decodeError(t *testing.T, body []byte) errorDoc {
	t.Helper()
	var doc errorDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("error document %q: %v", body, err)
	}
	return doc
}

func TestInvokeOverHTTP(t *testing.T) {
	// One emulator for every case, in order: a case that kills the runtime
	// (panic, exit, too large an answer) also checks that the next case
	// gets a fresh one.
	em := start(t, lambdaemu.Config{})
	tests := []struct {
		name          string
		payload       string
		wantStatus    int
		wantFuncError string
		wantBody      string // exact, when the function answered
		wantErrorType string // when the answer is an error document
		wantMessage   string
	}{
		{name: "echo", payload: `{"action":"echo","n":1}`, wantStatus: 200, wantBody: `{"action":"echo","n":1}`},
		{name: "function error", payload: `{"action":"error","message":"boom"}`, wantStatus: 200,
			wantFuncError: "Unhandled", wantErrorType: "errorString", wantMessage: "boom"},
		{name: "panic", payload: `{"action":"panic","message":"kaboom"}`, wantStatus: 200,
			wantFuncError: "Unhandled", wantErrorType: "string", wantMessage: "kaboom"},
		{name: "echo after a panic", payload: `{"action":"echo","n":2}`, wantStatus: 200, wantBody: `{"action":"echo","n":2}`},
		{name: "exit mid-invocation", payload: `{"action":"exit"}`, wantStatus: 502,
			wantErrorType: "Runtime.ExitError", wantMessage: "Runtime exited with error: exit status 3"},
		{name: "echo after an exit", payload: `{"action":"echo","n":3}`, wantStatus: 200, wantBody: `{"action":"echo","n":3}`},
		{name: "response too large", payload: fmt.Sprintf(`{"action":"big","size":%d}`, lambdaemu.MaxPayload), wantStatus: 200,
			wantFuncError: "Unhandled", wantErrorType: "Function.ResponseSizeTooLarge"},
		{name: "broken response stream", payload: `{"action":"broken-stream"}`, wantStatus: 200,
			wantFuncError: "Unhandled", wantErrorType: "errorString", wantMessage: "stream broke"},
		{name: "request too large", payload: `"` + strings.Repeat("x", lambdaemu.MaxPayload) + `"`, wantStatus: 413,
			wantErrorType: "RequestEntityTooLargeException"},
		{name: "runtime API refuses faulty calls", payload: `{"action":"probe"}`, wantStatus: 200,
			wantBody: `{"lateInitError":403,"unknownRequestId":400}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, em, []byte(tt.payload))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %.300s", resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("X-Amz-Function-Error"); got != tt.wantFuncError {
				t.Errorf("X-Amz-Function-Error %q, want %q", got, tt.wantFuncError)
			}
			if tt.wantErrorType == "" {
				if string(body) != tt.wantBody {
					t.Errorf("body %.300s, want %s", body, tt.wantBody)
				}
				if resp.Header.Get("X-Amzn-RequestId") == "" {
					t.Error("no X-Amzn-RequestId header")
				}
				return
			}
			doc := decodeError(t, body)
			if doc.Type != tt.wantErrorType {
				t.Errorf("errorType %q, want %q", doc.Type, tt.wantErrorType)
			}
			if tt.wantMessage != "" && !strings.Contains(doc.Message, tt.wantMessage) {
				t.Errorf("errorMessage %q, want it to contain %q", doc.Message, tt.wantMessage)
			}
		})
	}
}

func TestInvokeContextAndEnvironment(t *testing.T) {
	const timeout = 42 * time.Second
	em := start(t, lambdaemu.Config{
		FunctionName: "parley-send",
		Timeout:      timeout,
		Env:          []string{"PARLEY_TABLE=parley", "AWS_REGION=eu-west-1"},
	})
	payload := `{"action":"context","env":["AWS_LAMBDA_FUNCTION_NAME","AWS_REGION","_HANDLER","LAMBDA_TASK_ROOT","AWS_LAMBDA_RUNTIME_API","PARLEY_TABLE","HOME"]}`

	before := time.Now()
	res, err := em.Invoke(context.Background(), []byte(payload))
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if res.FunctionError != "" {
		t.Fatalf("function error: %s", res.Payload)
	}
	var got struct {
		RequestID   string            `json:"requestId"`
		DeadlineMs  int64             `json:"deadlineMs"`
		FunctionARN string            `json:"functionArn"`
		TraceID     string            `json:"traceId"`
		Env         map[string]string `json:"env"`
	}
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatalf("%s: %v", res.Payload, err)
	}
	if got.RequestID == "" || got.RequestID != res.RequestID {
		t.Errorf("the function saw request id %q, the result says %q", got.RequestID, res.RequestID)
	}
	if lo, hi := before.Add(timeout).UnixMilli(), after.Add(timeout).UnixMilli(); got.DeadlineMs < lo || got.DeadlineMs > hi {
		t.Errorf("deadline %d, want the timeout after the invocation began, in [%d, %d]", got.DeadlineMs, lo, hi)
	}
	if want := "arn:aws:lambda:eu-west-1:123456789012:function:parley-send"; got.FunctionARN != want {
		t.Errorf("function ARN %q, want %q", got.FunctionARN, want)
	}
	if !strings.HasPrefix(got.TraceID, "Root=1-") {
		t.Errorf("trace id %q, want an X-Ray header", got.TraceID)
	}
	wantEnv := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME": "parley-send",
		"AWS_REGION":               "eu-west-1",
		"_HANDLER":                 "bootstrap",
		"LAMBDA_TASK_ROOT":         filepath.Dir(echoBootstrap),
		"AWS_LAMBDA_RUNTIME_API":   strings.TrimPrefix(em.URL(), "http://"),
		"PARLEY_TABLE":             "parley",
		"HOME":                     "", // the host's environment stays out
	}
	for name, want := range wantEnv {
		if got.Env[name] != want {
			t.Errorf("%s=%q, want %q", name, got.Env[name], want)
		}
	}
}

func TestInvokeQueuesConcurrentInvocations(t *testing.T) {
	em := start(t, lambdaemu.Config{})
	const n = 8
	var wg sync.WaitGroup
	results := make([]lambdaemu.Result, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = em.Invoke(context.Background(), fmt.Appendf(nil, `{"action":"echo","i":%d}`, i))
		}()
	}
	wg.Wait()
	ids := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("invocation %d: %v", i, errs[i])
			continue
		}
		if want := fmt.Sprintf(`{"action":"echo","i":%d}`, i); string(results[i].Payload) != want {
			t.Errorf("invocation %d answered %s, want %s", i, results[i].Payload, want)
		}
		if ids[results[i].RequestID] {
			t.Errorf("request id %s used twice", results[i].RequestID)
		}
		ids[results[i].RequestID] = true
	}
}

func TestInvokeTimeout(t *testing.T) {
	em := start(t, lambdaemu.Config{Timeout: 300 * time.Millisecond})

	_, err := em.Invoke(context.Background(), []byte(`{"action":"sleep"}`))
	var ie *lambdaemu.InvokeError
	if !errors.Is(err, lambdaemu.ErrTimeout) || !errors.As(err, &ie) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if ie.Type != "Sandbox.Timedout" || !strings.Contains(ie.Message, "Task timed out after 0.30 seconds") {
		t.Errorf("error %+v, want Lambda's timeout", ie)
	}

	resp, body := post(t, em, []byte(`{"action":"sleep"}`))
	if resp.StatusCode != http.StatusGatewayTimeout || decodeError(t, body).Type != "Sandbox.Timedout" {
		t.Errorf("over HTTP: %d %s, want 504 Sandbox.Timedout", resp.StatusCode, body)
	}

	res, err := em.Invoke(context.Background(), []byte(`{"action":"echo"}`))
	if err != nil || string(res.Payload) != `{"action":"echo"}` {
		t.Errorf("after a timeout: %s, %v; want a fresh runtime to answer", res.Payload, err)
	}
}

func TestInvokeInitFailure(t *testing.T) {
	tests := []struct {
		name        string
		init        string
		wantErr     error
		wantType    string
		wantMessage string
	}{
		{"init error reported", "error", lambdaemu.ErrInit, "ConfigError", "PARLEY_TABLE is required"},
		{"exit before init", "exit", lambdaemu.ErrExited, "Runtime.ExitError", "Runtime exited with error: exit status 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em := start(t, lambdaemu.Config{Env: []string{"ECHO_INIT=" + tt.init}})

			_, err := em.Invoke(context.Background(), []byte(`{"action":"echo"}`))
			var ie *lambdaemu.InvokeError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &ie) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if ie.Type != tt.wantType || ie.Message != tt.wantMessage {
				t.Errorf("error %q %q, want %q %q", ie.Type, ie.Message, tt.wantType, tt.wantMessage)
			}

			// Every invocation starts a fresh runtime, which fails the same way.
			resp, body := post(t, em, []byte(`{"action":"echo"}`))
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("over HTTP: status %d, want 502", resp.StatusCode)
			}
			if doc := decodeError(t, body); doc.Type != tt.wantType || doc.Message != tt.wantMessage {
				t.Errorf("over HTTP: %+v, want %q %q", doc, tt.wantType, tt.wantMessage)
			}
		})
	}
}

func TestInvokeTooLarge(t *testing.T) {
	em := start(t, lambdaemu.Config{})
	_, err := em.Invoke(context.Background(), make([]byte, lambdaemu.MaxPayload+1))
	if !errors.Is(err, lambdaemu.ErrTooLarge) {
		t.Errorf("err %v, want ErrTooLarge", err)
	}
}

func TestStartRefusesAMissingBootstrap(t *testing.T) {
	_, err := lambdaemu.Start(context.Background(), lambdaemu.Config{Bootstrap: filepath.Join(t.TempDir(), "bootstrap")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err %v, want a missing file", err)
	}
}

// TestInitDuration: the first invocation of an execution environment
// reports the time from exec to the runtime's first request for an
// invocation, as Lambda's Init Duration; a warm one reports none.
func TestInitDuration(t *testing.T) {
	em := start(t, lambdaemu.Config{Env: []string{"ECHO_INIT=slow"}})
	first, err := em.Invoke(context.Background(), []byte(`{"action":"echo"}`))
	if err != nil {
		t.Fatal(err)
	}
	if first.InitDuration < 200*time.Millisecond {
		t.Errorf("init duration %s, want at least the 200ms the function sleeps before it starts", first.InitDuration)
	}
	// Sleeping takes no CPU: the init's CPU time is some, but not the
	// 200ms slept.
	if runtime.GOOS == "linux" && (first.InitCPU <= 0 || first.InitCPU >= 200*time.Millisecond) {
		t.Errorf("init CPU time %s, want more than none and less than the 200ms the function sleeps", first.InitCPU)
	}
	warm, err := em.Invoke(context.Background(), []byte(`{"action":"echo"}`))
	if err != nil {
		t.Fatal(err)
	}
	if warm.InitDuration != 0 || warm.InitCPU != 0 {
		t.Errorf("a warm invocation reports init duration %s, CPU %s, want none", warm.InitDuration, warm.InitCPU)
	}
}
