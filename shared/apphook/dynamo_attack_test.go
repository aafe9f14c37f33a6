package apphook_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

// losingProxy passes requests on to DynamoDB (moto) and their answers
// back, except that it lets the first request for target reach DynamoDB
// and then drops the connection before its answer: a request that arrived
// and whose answer was lost, which the client tries again.
type losingProxy struct {
	to, target string
	// before, when set, runs before the first request for target is
	// passed on (another client's request getting there first).
	before func()
	// keep passes every answer on.
	keep bool
	lost atomic.Int32
}

func (p *losingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	first := r.Header.Get("X-Amz-Target") == p.target && p.lost.Add(1) == 1
	if first && p.before != nil {
		p.before()
	}
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.to+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if first && !p.keep {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}

// TestUnparkSurvivesALostAnswer: when the delete of a parked delivery
// reaches DynamoDB but its answer is lost, the client's retry finds the
// item gone; Unpark must still hand the delivery back to be redriven, not
// report it as never parked (which would lose it).
func TestUnparkSurvivesALostAnswer(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	if err := dynamo.CreateTable(ctx, dynamo.NewClient(m.Endpoint(), "us-east-1"), "parley-hooks"); err != nil {
		t.Fatal(err)
	}
	proxy := &losingProxy{to: m.Endpoint(), target: "DynamoDB_20120810.DeleteItem"}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	p := apphook.Table{Client: dynamodb.New(dynamo.NewClient(srv.URL, "us-east-1")), Name: "parley-hooks"}
	ev := event(7, "447700900123")
	if err := p.Park(ctx, apphook.Delivery{ID: ev.ID, Status: apphook.StatusFailed, Event: ev, Attempts: 8, LastError: "HTTP 503"}); err != nil {
		t.Fatal(err)
	}
	d, err := p.Unpark(ctx, ev.ID)
	if proxy.lost.Load() < 2 {
		t.Fatalf("the delete was sent %d times, want a retry after the lost answer", proxy.lost.Load())
	}
	if err != nil || d.ID != ev.ID || d.Event.CustomerID != "447700900123" || d.Attempts != 8 {
		t.Fatalf("Unpark after a lost answer = %+v, %v; want the delivery", d, err)
	}
	if _, err := p.Unpark(ctx, ev.ID); !errors.Is(err, apphook.ErrNotParked) {
		t.Errorf("a second Unpark = %v, want ErrNotParked", err)
	}
	if page, _, err := p.Parked(ctx, "", 10); err != nil || len(page) != 0 {
		t.Errorf("parked after Unpark: %+v, %v", page, err)
	}
}

// TestUnparkTakenByAnotherRedrive: a delete refused at its first try
// means another redrive took the delivery in between: ErrNotParked, so
// that it is queued once.
func TestUnparkTakenByAnotherRedrive(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	direct := apphook.Table{Client: dynamodb.New(dynamo.NewClient(m.Endpoint(), "us-east-1")), Name: "parley-hooks"}
	if err := dynamo.CreateTable(ctx, direct.Client.AWS, direct.Name); err != nil {
		t.Fatal(err)
	}
	ev := event(9, "447700900123")
	if err := direct.Park(ctx, apphook.Delivery{ID: ev.ID, Status: apphook.StatusFailed, Event: ev, Attempts: 8}); err != nil {
		t.Fatal(err)
	}
	var other error
	proxy := &losingProxy{to: m.Endpoint(), target: "DynamoDB_20120810.DeleteItem", keep: true,
		before: func() { _, other = direct.Unpark(ctx, ev.ID) }}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	p := apphook.Table{Client: dynamodb.New(dynamo.NewClient(srv.URL, "us-east-1")), Name: direct.Name}
	if _, err := p.Unpark(ctx, ev.ID); !errors.Is(err, apphook.ErrNotParked) {
		t.Errorf("Unpark of a delivery another redrive took = %v, want ErrNotParked", err)
	}
	if other != nil {
		t.Errorf("the other redrive's Unpark: %v", other)
	}
}
