// Package moto runs a real moto_server (a local implementation of the
// DynamoDB, S3, SQS, EventBridge and Scheduler APIs) for tests and the local
// stack.
//
// Start launches moto_server's program, `-H 127.0.0.1 -p 0`, in its own process group,
// reads the port it took from the line it prints on start-up, and waits until
// it answers HTTP. Stop kills the process group and reaps the process. Point
// the AWS SDK at Endpoint (see store/dynamo.NewClient); Reset clears every
// backend between tests that share one server.
//
// moto's DynamoDB is not safe for concurrent requests: two conditional
// writes racing through TransactWriteItems can both succeed. Start therefore
// runs moto_server's own entry point under moto_server's Python interpreter
// with every DynamoDB operation behind one lock (serialised.py), which gives
// back the per-request atomicity real DynamoDB has.
//
// In tests, StartT starts a server that stops when the test ends; it fails
// the test (it never skips it) when moto_server is not installed, so that a
// machine without moto cannot pass the suite by running less of it.
package moto

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Command is the program Start runs.
const Command = "moto_server"

//go:embed serialised.py
var serialised string

// interpreter returns the Python that runs moto_server: the #! line of its
// script, following a pyenv shim to the real script.
func interpreter(path string) (string, error) {
	script := path
	if strings.Contains(filepath.ToSlash(path), "/shims/") {
		out, err := exec.Command("pyenv", "which", Command).Output()
		if err != nil {
			return "", fmt.Errorf("moto: %s is a pyenv shim and `pyenv which %s` failed: %w", path, Command, err)
		}
		script = strings.TrimSpace(string(out))
	}
	f, err := os.Open(script)
	if err != nil {
		return "", fmt.Errorf("moto: %w", err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadBytes('\n')
	if !bytes.HasPrefix(line, []byte("#!")) {
		return "", fmt.Errorf("moto: %s is not a Python script; cannot find its interpreter", script)
	}
	fields := strings.Fields(string(line[2:]))
	if len(fields) == 0 {
		return "", fmt.Errorf("moto: %s has an empty #! line", script)
	}
	if filepath.Base(fields[0]) == "env" && len(fields) > 1 {
		return exec.LookPath(fields[1])
	}
	return fields[0], nil
}

// startTimeout bounds how long StartT waits for the server to answer.
const startTimeout = 30 * time.Second

// Server is a running moto_server.
type Server struct {
	cmd      *exec.Cmd
	endpoint string
	done     chan struct{} // closed when the process has exited
	stopOnce sync.Once
}

// listening matches the line werkzeug prints once the socket is bound.
var listening = regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)

// Start runs moto_server on a free loopback port and returns once it answers
// HTTP requests. The error wraps exec.ErrNotFound when moto_server is not on
// PATH. ctx bounds the start only: if it ends first, the process is stopped
// and ctx's error returned; once started, the server runs until Stop.
func Start(ctx context.Context) (*Server, error) {
	path, err := exec.LookPath(Command)
	if err != nil {
		return nil, fmt.Errorf("moto: %w", err)
	}
	python, err := interpreter(path)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(python, "-c", serialised, "-H", "127.0.0.1", "-p", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("moto: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("moto: start %s: %w", path, err)
	}
	s := &Server{cmd: cmd, done: make(chan struct{})}

	// moto_server prints its address on stderr, then one line per request:
	// keep reading until it exits so that it never blocks on a full pipe.
	found := make(chan string, 1)
	var early strings.Builder // what it printed before the address, for errors
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
			early.WriteString(sc.Text())
			early.WriteByte('\n')
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = cmd.Wait()
		close(s.done)
	}()

	select {
	case s.endpoint = <-found:
	case <-s.done:
		return nil, fmt.Errorf("moto: %s exited before listening: %s", Command, strings.TrimSpace(early.String()))
	case <-ctx.Done():
		s.Stop()
		return nil, fmt.Errorf("moto: waiting for %s to listen: %w", Command, ctx.Err())
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls the server until it answers an HTTP request.
func (s *Server) waitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint+"/moto-api/", nil)
		if err != nil {
			return fmt.Errorf("moto: %w", err)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-tick.C:
		case <-s.done:
			return fmt.Errorf("moto: %s exited before answering", Command)
		case <-ctx.Done():
			return fmt.Errorf("moto: waiting for %s at %s: %w", Command, s.endpoint, ctx.Err())
		}
	}
}

// Endpoint returns the server's base URL, http://127.0.0.1:PORT.
func (s *Server) Endpoint() string { return s.endpoint }

// Reset clears every backend of the server (POST /moto-api/reset).
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint+"/moto-api/reset", nil)
	if err != nil {
		return fmt.Errorf("moto: reset: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("moto: reset: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto: reset: %s", resp.Status)
	}
	return nil
}

// Stop kills the server's process group and waits for the process to exit.
// It is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		// The negative pid names the process group Start created.
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	})
}

// StartT starts a server for the test and stops it when the test ends. It
// fails the test, with a hint on how to install moto, when moto_server is not
// on PATH or does not start within 30 seconds.
func StartT(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := Start(ctx)
	if errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("%v: these tests need a real moto server; install it with: pip install 'moto[server]'", err)
		return nil
	}
	if err != nil {
		t.Fatal(err)
		return nil
	}
	t.Cleanup(s.Stop)
	return s
}
