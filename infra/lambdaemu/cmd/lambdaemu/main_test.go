package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRunServesTheFunction(t *testing.T) {
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bootstrap, "../../testdata/echo")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/echo: %v\n%s", err, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	stderr, logs := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-bootstrap", bootstrap, "-port", "0"}, []string{"ECHO_GREETING=hi"}, io.Discard, logs)
		logs.Close()
	}()

	// The first line run writes names the invocation URL.
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, stderr)
	url := regexp.MustCompile(`http://\S+/invocations`).FindString(line)
	if url == "" {
		t.Fatalf("no invocation URL in %q", line)
	}
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"action":"context","env":["ECHO_GREETING"]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ECHO_GREETING":"hi"`) {
		t.Errorf("%d %s, want the function to answer with the command's environment", resp.StatusCode, body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestRunRequiresABootstrap(t *testing.T) {
	if err := run(context.Background(), nil, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "-bootstrap is required") {
		t.Errorf("err %v, want -bootstrap is required", err)
	}
}
