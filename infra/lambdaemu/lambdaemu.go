// Package lambdaemu emulates the AWS Lambda Runtime API (version 2018-06-01)
// for one function. It runs a built bootstrap as a child process, hands it
// invocations through the documented next, response and error endpoints,
// and accepts invocations at the URL of AWS's Runtime Interface Emulator,
// POST /2015-03-31/functions/function/invocations.
//
// Like Lambda, it runs one invocation at a time (others wait their turn),
// gives each one a deadline, and replaces the execution environment —
// starts a fresh process for the next invocation — after the runtime
// exits, fails to initialise or runs out of time.
//
// Over HTTP, a function's answer is a 200 carrying its payload, as from
// Lambda's Invoke; a function error is a 200 with X-Amz-Function-Error:
// Unhandled and the error document the runtime reported. An invocation
// that got no answer is a 502 (the runtime could not start, failed to
// initialise or exited) or a 504 (it timed out), with an error document
// {"errorType", "errorMessage"}.
package lambdaemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	// MaxPayload is Lambda's limit on the request and the response payload
	// of a synchronous invocation (6 MB).
	MaxPayload = 6 * 1024 * 1024

	// DefaultTimeout is the function timeout when Config.Timeout is zero,
	// Lambda's default.
	DefaultTimeout = 3 * time.Second

	// DefaultFunctionName is the function name when Config.FunctionName is
	// empty.
	DefaultFunctionName = "function"

	// FunctionErrorUnhandled is the Result.FunctionError (and the
	// X-Amz-Function-Error header) of an invocation the function answered
	// with an error, as Lambda reports it.
	FunctionErrorUnhandled = "Unhandled"

	// initTimeout is Lambda's limit on the init phase: the time a fresh
	// runtime has to ask for its first invocation.
	initTimeout = 10 * time.Second

	// region is the AWS_REGION the function sees unless Config.Env sets one.
	region = "us-east-1"
)

// Errors an invocation can end with instead of a function result. An
// *InvokeError wraps ErrInit, ErrExited or ErrTimeout.
var (
	// ErrInit is a runtime that failed to initialise: it reported an
	// initialisation error or could not be started.
	ErrInit = errors.New("lambdaemu: function initialisation failed")
	// ErrExited is a runtime that exited before answering the invocation.
	ErrExited = errors.New("lambdaemu: runtime exited")
	// ErrTimeout is an invocation that outlived the function timeout, or a
	// runtime that did not ask for an invocation within the init limit.
	ErrTimeout = errors.New("lambdaemu: timed out")
	// ErrTooLarge is a request payload larger than MaxPayload.
	ErrTooLarge = errors.New("lambdaemu: request payload too large")
	// ErrClosed is an invocation of a closed emulator.
	ErrClosed = errors.New("lambdaemu: emulator closed")
)

// InvokeError is an invocation that produced no function result. Type and
// Message are what Lambda would report, e.g. "Runtime.ExitError" and
// "Runtime exited with error: exit status 2".
type InvokeError struct {
	Type    string
	Message string
	kind    error
}

func (e *InvokeError) Error() string { return "lambdaemu: " + e.Type + ": " + e.Message }

// Unwrap returns ErrInit, ErrExited or ErrTimeout.
func (e *InvokeError) Unwrap() error { return e.kind }

// Config describes the function to run.
type Config struct {
	// Bootstrap is the path of the built function (the bootstrap of a
	// provided.al2023 function). Required.
	Bootstrap string
	// Env is added to the Lambda environment the function sees, as
	// KEY=value; a key it repeats replaces the emulator's value, except
	// AWS_LAMBDA_RUNTIME_API.
	Env []string
	// FunctionName is the function's name; DefaultFunctionName if empty.
	FunctionName string
	// Timeout is the function timeout; DefaultTimeout if zero.
	Timeout time.Duration
	// Stdout and Stderr receive the function's output; nil discards it.
	Stdout, Stderr io.Writer
	// Addr is the TCP address to listen on; empty means a free port on
	// 127.0.0.1.
	Addr string
}

// Result is a function's answer to an invocation.
type Result struct {
	// RequestID is the invocation's request id, as the function saw it.
	RequestID string
	// Payload is the function's response, or the error document it
	// reported when FunctionError is set.
	Payload []byte
	// FunctionError is FunctionErrorUnhandled when the function answered
	// with an error, and empty otherwise.
	FunctionError string
	// InitDuration is, for the first invocation of an execution
	// environment, the time from executing the bootstrap to its first
	// request for an invocation (Lambda's Init Duration); zero otherwise.
	InitDuration time.Duration
	// InitCPU is, with InitDuration, the CPU time the bootstrap's process
	// spent until that request, all its threads together: unlike
	// InitDuration, it hardly depends on what else the machine runs.
	// Linux only; zero elsewhere.
	InitCPU time.Duration
}

// Emulator runs one function behind an emulated Lambda Runtime API.
type Emulator struct {
	cfg     Config
	env     []string
	arn     string
	url     string
	srv     *http.Server
	slot    chan struct{} // holds a token while an invocation runs
	closing chan struct{}

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	closed  bool
	proc    *process    // the current execution environment
	current *invocation // the invocation the runtime is working on
}

// invocation is one event on its way through the runtime.
type invocation struct {
	id      string
	payload []byte
	result  chan Result // buffered: receives the function's answer once
}

// Start listens on cfg.Addr, serves the Runtime API and the invocation
// endpoint there, and starts the bootstrap. ctx bounds only the start;
// Close stops the emulator and the function.
func Start(ctx context.Context, cfg Config) (*Emulator, error) {
	if cfg.Bootstrap == "" {
		return nil, errors.New("lambdaemu: Config.Bootstrap is required")
	}
	bootstrap, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("lambdaemu: bootstrap %s: %w", cfg.Bootstrap, err)
	}
	info, err := os.Stat(bootstrap)
	if err != nil {
		return nil, fmt.Errorf("lambdaemu: bootstrap: %w", err)
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("lambdaemu: bootstrap %s is not an executable file", bootstrap)
	}
	cfg.Bootstrap = bootstrap
	if cfg.FunctionName == "" {
		cfg.FunctionName = DefaultFunctionName
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lambdaemu: %w", err)
	}
	e := &Emulator{
		cfg:     cfg,
		url:     "http://" + ln.Addr().String(),
		slot:    make(chan struct{}, 1),
		closing: make(chan struct{}),
	}
	e.env = lambdaEnv(cfg, ln.Addr().String())
	e.arn = "arn:aws:lambda:" + lookupEnv(e.env, "AWS_REGION") + ":123456789012:function:" + cfg.FunctionName
	e.srv = &http.Server{Handler: e.routes(), ReadHeaderTimeout: 10 * time.Second}
	go e.srv.Serve(ln)

	if _, err := e.environment(); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// lambdaEnv returns the environment variables of the function: Lambda's
// own, then cfg.Env, then the Runtime API address.
func lambdaEnv(cfg Config, apiAddr string) []string {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		"AWS_LAMBDA_FUNCTION_NAME=" + cfg.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + cfg.FunctionName,
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + filepath.Dir(cfg.Bootstrap),
	}
	env = append(env, cfg.Env...)
	return append(env, "AWS_LAMBDA_RUNTIME_API="+apiAddr)
}

// lookupEnv returns the last value env gives key, as the process sees it.
func lookupEnv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// URL returns the emulator's base URL, e.g. http://127.0.0.1:9001: invoke
// the function with POST URL/2015-03-31/functions/function/invocations.
func (e *Emulator) URL() string { return e.url }

// Invoke runs the function on payload and returns its answer. Invocations
// run one at a time, in the order they arrive. A function error is a
// Result with FunctionError set; an *InvokeError means the function gave
// no answer. If ctx ends first, Invoke returns ctx.Err() and the
// invocation still runs to its end before the next one starts.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) (Result, error) {
	if len(payload) > MaxPayload {
		return Result{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(payload), MaxPayload)
	}
	select {
	case e.slot <- struct{}{}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-e.closing:
		return Result{}, ErrClosed
	}
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	payload = bytes.Clone(payload)
	go func() {
		defer func() { <-e.slot }()
		res, err := e.run(payload)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// run hands one invocation to the runtime and waits for its answer.
func (e *Emulator) run(payload []byte) (Result, error) {
	inv := &invocation{id: newRequestID(), payload: payload, result: make(chan Result, 1)}
	defer e.forget(inv)

	p, err := e.handOff(inv)
	if err != nil {
		return Result{}, err
	}
	timer := time.NewTimer(e.cfg.Timeout)
	defer timer.Stop()
	select {
	case res := <-inv.result:
		e.mu.Lock()
		if p.served == 1 {
			res.InitDuration, res.InitCPU = p.initDuration, p.initCPU
		}
		e.mu.Unlock()
		return res, nil
	case <-p.done:
		// The runtime may have answered just before it exited (a panicking
		// Go function reports its error, then exits).
		select {
		case res := <-inv.result:
			return res, nil
		default:
			return Result{}, p.exitError()
		}
	case <-timer.C:
		p.stop()
		return Result{}, &InvokeError{
			Type:    "Sandbox.Timedout",
			Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, e.cfg.Timeout.Seconds()),
			kind:    ErrTimeout,
		}
	case <-e.closing:
		return Result{}, ErrClosed
	}
}

// handOff gives inv to the runtime when it next asks for an invocation,
// starting a fresh execution environment if the last one is gone, and
// returns the process that took it.
func (e *Emulator) handOff(inv *invocation) (*process, error) {
	for {
		p, err := e.environment()
		if err != nil {
			return nil, err
		}
		timer := time.NewTimer(initTimeout)
		select {
		case p.next <- inv:
			timer.Stop()
			return p, nil
		case <-p.initFailed:
			timer.Stop()
			p.stop()
			return nil, p.initErr
		case <-p.done:
			timer.Stop()
			select {
			case <-p.initFailed:
				return nil, p.initErr
			default:
			}
			// A warm environment that died between invocations is replaced,
			// as Lambda would; a fresh one that died never initialised.
			e.mu.Lock()
			warm := p.served > 0
			e.mu.Unlock()
			if !warm {
				return nil, p.exitError()
			}
		case <-timer.C:
			p.stop()
			return nil, &InvokeError{
				Type:    "Sandbox.Timedout",
				Message: fmt.Sprintf("the runtime did not ask for an invocation within %s", initTimeout),
				kind:    ErrTimeout,
			}
		case <-e.closing:
			timer.Stop()
			return nil, ErrClosed
		}
	}
}

// environment returns the running execution environment, starting one if
// there is none.
func (e *Emulator) environment() (*process, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if e.proc != nil && !e.proc.exited() {
		return e.proc, nil
	}
	p, err := startProcess(e.cfg, e.env)
	if err != nil {
		return nil, &InvokeError{Type: "Runtime.InvalidEntrypoint", Message: err.Error(), kind: ErrInit}
	}
	e.proc = p
	return p, nil
}

// forget drops inv as the current invocation once it has ended, so that a
// late answer to it is refused.
func (e *Emulator) forget(inv *invocation) {
	e.mu.Lock()
	if e.current == inv {
		e.current = nil
	}
	e.mu.Unlock()
}

// Close stops the function (killing its process group), stops serving and
// fails the invocations in progress or waiting with ErrClosed.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		p := e.proc
		e.mu.Unlock()
		close(e.closing)
		if p != nil {
			p.stop()
		}
		e.closeErr = e.srv.Close()
	})
	return e.closeErr
}
