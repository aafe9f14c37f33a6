// Package awsrec records the requests an AWS JSON-protocol client sends,
// so that tests can hold parley's own clients (shared/awsapi/...) to what
// the AWS SDK sends for the same input, and answer them as AWS would.
package awsrec

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
)

// Request is one request as it arrived.
type Request struct {
	// Target is the X-Amz-Target header: "AmazonSQS.SendMessage".
	Target      string
	ContentType string
	Body        []byte
}

// Recorder is an endpoint that keeps every request and answers each with
// Status and Answer (200 and {} when unset). Set them before the request.
type Recorder struct {
	URL    string
	Status int
	Answer string

	mu   sync.Mutex
	reqs []Request
}

// New starts a Recorder that stops when t ends.
func New(t testing.TB) *Recorder {
	t.Helper()
	r := &Recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, Request{Target: req.Header.Get("X-Amz-Target"), ContentType: req.Header.Get("Content-Type"), Body: body})
		status, answer := r.Status, r.Answer
		r.mu.Unlock()
		if status == 0 {
			status = http.StatusOK
		}
		if answer == "" {
			answer = "{}"
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Take returns the requests received since the last Take and forgets
// them.
func (r *Recorder) Take() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := r.reqs
	r.reqs = nil
	return reqs
}

// CheckPair takes the two requests sent since the last Take, parley's
// first and the SDK's second, and fails t unless they name the same
// operation with the same content type and the same JSON.
func (r *Recorder) CheckPair(t testing.TB, name string) {
	t.Helper()
	reqs := r.Take()
	if len(reqs) != 2 {
		t.Fatalf("%s: %d requests, want 2", name, len(reqs))
	}
	got, want := reqs[0], reqs[1]
	if got.Target != want.Target || got.ContentType != want.ContentType || !SameJSON(got.Body, want.Body) {
		t.Errorf("%s:\n sent %s %s %s\n SDK  %s %s %s", name, got.Target, got.ContentType, got.Body, want.Target, want.ContentType, want.Body)
	}
}

// SameJSON reports whether a and b are the same JSON value: the same
// members with the same values, in any order and whatever the escaping;
// numbers compare by their text.
func SameJSON(a, b []byte) bool {
	va, erra := decode(a)
	vb, errb := decode(b)
	return erra == nil && errb == nil && reflect.DeepEqual(va, vb)
}

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}
