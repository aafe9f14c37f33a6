package awsenv_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsenv"
	"github.com/parleyhq/parley/shared/config"
)

// TestBurstsReuseConnections: rounds of 32 parallel DynamoDB calls — what
// ingest runs for a large batch — through the AWS client a function gets
// open 32 connections once and reuse them, rather than opening a new one
// for every call past Go's default of 2 idle connections per host.
func TestBurstsReuseConnections(t *testing.T) {
	const parallel, rounds = 32, 5
	var opened atomic.Int64
	var inFlight sync.WaitGroup
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Done()
		<-release // answer once the whole round is in flight
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write([]byte(`{}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	env := map[string]string{config.AWSEndpoint: srv.URL}
	_, a, err := awsenv.Load(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	client := a.Client
	client.MaxAttempts = 1
	for range rounds {
		inFlight.Add(parallel)
		var done sync.WaitGroup
		errs := make(chan error, parallel)
		for i := range parallel {
			done.Go(func() {
				errs <- client.Call(context.Background(), awsapi.DynamoDB, "GetItem",
					[]byte(fmt.Sprintf(`{"TableName":"parley","Key":{"PK":{"S":"%d"}}}`, i)), nil)
			})
		}
		waited := make(chan struct{})
		go func() { inFlight.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(30 * time.Second):
			t.Fatal("the round's calls never were all in flight")
		}
		for range parallel {
			release <- struct{}{}
		}
		done.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := opened.Load(); n > parallel {
		t.Errorf("%d rounds of %d parallel calls opened %d connections, want %d, reused round after round", rounds, parallel, n, parallel)
	}
}
