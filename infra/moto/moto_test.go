package moto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestServer(t *testing.T) {
	s := StartT(t)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(s.Endpoint()) {
		t.Fatalf("Endpoint() = %q, want http://127.0.0.1:PORT", s.Endpoint())
	}
	ctx := context.Background()

	// moto's S3 answers unsigned path-style requests: a bucket made with a
	// plain PUT shows in the listing until Reset.
	do(t, http.MethodPut, s.Endpoint()+"/reset-probe")
	if got := do(t, http.MethodGet, s.Endpoint()+"/"); !strings.Contains(got, "reset-probe") {
		t.Fatalf("bucket listing after PUT does not name the bucket:\n%s", got)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if got := do(t, http.MethodGet, s.Endpoint()+"/"); strings.Contains(got, "reset-probe") {
		t.Fatalf("bucket listing after Reset still names the bucket:\n%s", got)
	}

	s.Stop()
	if _, err := http.Get(s.Endpoint() + "/moto-api/"); err == nil {
		t.Fatal("the server still answers after Stop")
	}
	s.Stop() // a second Stop (as t.Cleanup makes) returns at once
}

func TestStartWithoutMoto(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := Start(context.Background()); !errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("Start without moto_server on PATH: err = %v, want exec.ErrNotFound", err)
	}

	rec := &fatalRecorder{TB: t}
	if s := StartT(rec); s != nil {
		t.Fatalf("StartT without moto_server on PATH returned a server")
	}
	for _, want := range []string{Command, "pip install"} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("StartT failed the test with %q, want a message naming %q", rec.msg, want)
		}
	}
}

// fatalRecorder records StartT's failure instead of failing the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) { r.msg = fmt.Sprintf(format, args...) }
func (r *fatalRecorder) Fatal(args ...any)                 { r.msg = fmt.Sprint(args...) }

func do(t *testing.T, method, url string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s\n%s", method, url, resp.Status, b)
	}
	return string(b)
}
