package playground

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

func TestRoutes(t *testing.T) {
	srv := httptest.NewServer(Handler(Config{Events: (&eventLog{}).read}))
	defer srv.Close()
	tests := []struct {
		method, path string
		status       int
		contentType  string
		contains     string
	}{
		{"GET", "/", 200, "text/html", "<title>parley playground</title>"},
		{"GET", "/playground/app.js", 200, "text/javascript", "connect("},
		{"GET", "/playground/playground.css", 200, "text/css", ".phone"},
		{"GET", "/playground/missing.js", 404, "", ""},
		{"GET", "/playground/", 404, "", ""},
		{"GET", "/playground/index.html", 404, "", ""},
		{"GET", "/elsewhere", 404, "", ""},
		{"POST", "/", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.contentType) {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if !bytes.Contains(body, []byte(tt.contains)) {
				t.Errorf("body does not contain %q", tt.contains)
			}
		})
	}
}

func TestPageKeepsToItsOrigin(t *testing.T) {
	res := httptest.NewRecorder()
	Handler(Config{Events: (&eventLog{}).read}).ServeHTTP(res, httptest.NewRequest("GET", "/", nil))
	if got := res.Header().Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'self'", got)
	}
}

// TestAssets checks that the page fetches nothing from elsewhere (no CDN,
// no web font) and that every file it names is embedded.
func TestAssets(t *testing.T) {
	remote := regexp.MustCompile(`(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import|@font-face|from\s+["'](?:https?:)?//|import\(\s*["'](?:https?:)?//`)
	local := regexp.MustCompile(`(?:src|href)="/playground/([^"]+)"|from '\./([^']+)'`)
	names := 0
	err := fs.WalkDir(assets, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, name)
		if err != nil {
			return err
		}
		if m := remote.Find(b); m != nil {
			t.Errorf("%s reaches outside the page: %q", name, m)
		}
		for _, m := range local.FindAllSubmatch(b, -1) {
			ref := string(m[1]) + string(m[2])
			if _, err := fs.Stat(assets, path.Join(path.Dir(name), ref)); err != nil {
				t.Errorf("%s names %s, which is not embedded", name, ref)
			}
			names++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if names == 0 {
		t.Error("found no references between the assets: the pattern no longer matches them")
	}
}

func TestStream(t *testing.T) {
	log := events(250)
	tests := []struct {
		name          string
		lastEventID   string
		after         string
		wantFrom, end int // the events expected: log[wantFrom:end]
	}{
		{"from the start, in batches", "", "", 0, 250},
		{"resumes after Last-Event-ID", log[246].ID, "", 247, 250},
		{"after names the cursor", "", log[247].ID, 248, 250},
		{"Last-Event-ID wins over after", log[248].ID, log[10].ID, 249, 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &eventLog{events: log}
			s := openStream(t, serve(t, Config{Events: l.read, Poll: time.Millisecond}), tt.after, tt.lastEventID)
			for _, want := range log[tt.wantFrom:tt.end] {
				s.expect(t, want)
			}
		})
	}
}

func TestStreamSendsNewEvents(t *testing.T) {
	log := events(3)
	l := &eventLog{events: log[:1]}
	s := openStream(t, serve(t, Config{Events: l.read, Poll: time.Millisecond}), "", "")
	s.expect(t, log[0])
	l.append(log[1], log[2])
	s.expect(t, log[1])
	s.expect(t, log[2])
}

func TestStreamHeartbeat(t *testing.T) {
	l := &eventLog{}
	s := openStream(t, serve(t, Config{Events: l.read, Poll: time.Hour, Heartbeat: time.Millisecond}), "", "")
	if m := s.next(t); m.comment != "heartbeat" {
		t.Fatalf("first message = %+v, want the heartbeat comment", m)
	}
}

func TestStreamEndsWhenDone(t *testing.T) {
	done := make(chan struct{})
	s := openStream(t, serve(t, Config{Events: (&eventLog{}).read, Poll: time.Millisecond, Done: done}), "", "")
	close(done)
	if _, err := io.ReadAll(s.r); err != nil {
		t.Fatalf("reading to the end of the stream: %v", err)
	}
}

func TestStreamOutlivesLogFailures(t *testing.T) {
	log := events(1)
	l := &eventLog{events: log, failures: 5}
	logged := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logged, nil))
	s := openStream(t, serve(t, Config{Events: l.read, Poll: time.Millisecond, Log: logger}), "", "")
	s.expect(t, log[0])
	if n := strings.Count(logged.String(), "reading the event log failed"); n != 1 {
		t.Errorf("logged the failure %d times, want once for a run of failures:\n%s", n, logged.String())
	}
}

// eventLog is an event log in memory, read as store.Store.Events reads.
type eventLog struct {
	mu       sync.Mutex
	events   []message.Event
	failures int // the next reads that fail
}

func (l *eventLog) read(_ context.Context, after string, limit int) ([]message.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures > 0 {
		l.failures--
		return nil, errors.New("the store is away")
	}
	var out []message.Event
	for _, ev := range l.events {
		if ev.ID > after && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (l *eventLog) append(evs ...message.Event) {
	l.mu.Lock()
	l.events = append(l.events, evs...)
	l.mu.Unlock()
}

// events returns n events in log order.
func events(n int) []message.Event {
	start := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	out := make([]message.Event, n)
	for i := range out {
		at := start.Add(time.Duration(i) * time.Second)
		out[i] = message.Event{
			ID: fmt.Sprintf("%019d-%08d-0000", at.UnixNano(), i), Type: message.EventReceived, Time: at,
			Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: "447700900123",
			Body: &message.Body{Type: message.BodySelection, Selections: []message.Selection{{ID: "row-1", Title: "Row\nwith a line break"}}},
		}
	}
	return out
}

// serve serves the playground for the test and returns its URL. The
// server closes after the streams the test opens.
func serve(t *testing.T, cfg Config) string {
	t.Helper()
	srv := httptest.NewServer(Handler(cfg))
	t.Cleanup(srv.Close)
	return srv.URL
}

// sseReader reads Server-Sent Events.
type sseReader struct {
	r   io.ReadCloser
	buf *bufio.Reader
}

type sse struct {
	id, data, comment string
}

func openStream(t *testing.T, base, after, lastEventID string) *sseReader {
	t.Helper()
	// A stream that stalls fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	url := base + "/playground/stream"
	if after != "" {
		url += "?after=" + after
	}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q; want 200 text/event-stream", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &sseReader{r: res.Body, buf: bufio.NewReader(res.Body)}
	if m := s.next(t); m.data != "" || m.comment != "" {
		t.Fatalf("first message = %+v, want the retry interval alone", m)
	}
	return s
}

// next returns the next message: its fields up to a blank line.
func (s *sseReader) next(t *testing.T) sse {
	t.Helper()
	var m sse
	for {
		line, err := s.buf.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			return m
		case strings.HasPrefix(line, ": "):
			m.comment = line[2:]
		case strings.HasPrefix(line, "id: "):
			m.id = line[4:]
		case strings.HasPrefix(line, "data: "):
			if m.data != "" {
				t.Fatalf("a message with two data lines: the browser would join them")
			}
			m.data = line[6:]
		case strings.HasPrefix(line, "retry: "):
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
}

// expect reads the next message and checks that it carries want.
func (s *sseReader) expect(t *testing.T, want message.Event) {
	t.Helper()
	m := s.next(t)
	if m.id != want.ID {
		t.Fatalf("message id = %q, want %q", m.id, want.ID)
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if m.data != string(wantJSON) {
		t.Fatalf("data = %s\nwant %s", m.data, wantJSON)
	}
}

// syncBuffer lets the handler's goroutine log while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
