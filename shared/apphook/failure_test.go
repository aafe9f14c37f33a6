package apphook_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/message"
)

// TestFailureKind: an attempt the app answers is named by its status
// class; one it does not answer in time is a timeout; one that reaches no
// server is unreachable; a 2xx is no failure.
func TestFailureKind(t *testing.T) {
	key, _ := apphook.ParseSecret(specSecret)
	status := make(chan int, 1)
	hang := make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := <-status
		if s == 0 {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		if s == http.StatusFound {
			w.Header().Set("Location", "https://elsewhere.example/hooks")
		}
		w.WriteHeader(s)
	}))
	defer app.Close()
	defer close(hang)
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/hooks"
	l.Close()

	ev := message.Event{ID: "evt_1", Type: message.EventReceived, Time: time.Now()}
	for _, c := range []struct {
		status int
		url    string
		want   string
	}{
		{http.StatusServiceUnavailable, "", "5xx"},
		{http.StatusInternalServerError, "", "5xx"},
		{http.StatusGone, "", "4xx"},
		{http.StatusFound, "", "3xx"},
		{0, "", apphook.FailureTimeout},
		{-1, closed, apphook.FailureUnreachable},
		{http.StatusNoContent, "", ""},
	} {
		url := app.URL + "/hooks"
		if c.url != "" {
			url = c.url
		} else {
			status <- c.status
		}
		client := &apphook.Client{URL: url, Key: key, HTTP: &http.Client{Timeout: 200 * time.Millisecond,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		err := client.Post(context.Background(), ev)
		if c.want == "" {
			if err != nil {
				t.Errorf("status %d: %v, want a delivery", c.status, err)
			}
			continue
		}
		if got := apphook.FailureKind(err); err == nil || got != c.want {
			t.Errorf("status %d, %s: %v is %q, want %q", c.status, url, err, got, c.want)
		}
	}
	if got := apphook.FailureKind(context.DeadlineExceeded); got != apphook.FailureTimeout {
		t.Errorf("the invocation's deadline is %q, want %q", got, apphook.FailureTimeout)
	}
}
