package local

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/clock"
)

// lockedBuffer collects the stack's log lines from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

func startLoggedStack(t *testing.T, level string, clk clock.Clock) (*Stack, *lockedBuffer) {
	t.Helper()
	env := map[string]string{"PARLEY_LOG_LEVEL": level, "PARLEY_DATA_DIR": t.TempDir()}
	var logs lockedBuffer
	st, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", Getenv: func(k string) string { return env[k] }, Log: &logs, Clock: clk, FallbackEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, &logs
}

// TestLogsMaskCustomers: at info level no log line carries a customer id
// whole, only its last four characters; at debug level they are whole.
func TestLogsMaskCustomers(t *testing.T) {
	for _, tc := range []struct {
		level      string
		whole      bool
		wantMasked string
	}{
		{"info", false, "/v1/conversations/whatsapp/" + waBusiness + "/********0123"},
		{"debug", true, "/v1/conversations/whatsapp/" + waBusiness + "/" + waCustomer},
	} {
		t.Run(tc.level, func(t *testing.T) {
			st, logs := startLoggedStack(t, tc.level, clock.NewManual(start))
			reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "Hi"})
			reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "Hi"})
			for _, path := range []string{
				"/v1/conversations/whatsapp/" + waBusiness + "/" + waCustomer,
				"/v1/conversations/apple/" + appleBusiness + "/" + url.PathEscape(appleCustomer),
			} {
				if code := call(t, "GET", st.URL+path, nil, nil); code != http.StatusOK {
					t.Fatalf("GET %s: %d", path, code)
				}
			}
			out := logs.take()
			if got := strings.Contains(out, waCustomer) || strings.Contains(out, "AQAAY1x"); got != tc.whole {
				t.Errorf("customer ids whole in the log: %v, want %v\n%s", got, tc.whole, out)
			}
			if !strings.Contains(out, `"path":"`+tc.wantMasked+`"`) {
				t.Errorf("no request line with path %s\n%s", tc.wantMasked, out)
			}
		})
	}
}

// TestFallbackRunLogsOnlyWork: a run with nothing due writes no line at
// info level; a run that sent something does.
func TestFallbackRunLogsOnlyWork(t *testing.T) {
	clk := clock.NewManual(start)
	st, logs := startLoggedStack(t, "info", clk)
	runJob(t, st, time.Time{})
	if out := logs.take(); strings.Contains(out, "fallback run") {
		t.Errorf("an idle run logged at info:\n%s", out)
	}
	reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "Hi"})
	if code, ans := scheduleSend(t, st, "whatsapp", waBusiness, waCustomer, start.Add(time.Minute), nil); code != http.StatusAccepted {
		t.Fatalf("schedule: %d %v", code, ans)
	}
	clk.Advance(2 * time.Minute)
	if rep := runJob(t, st, time.Time{}); rep.Sent != 1 {
		t.Fatalf("report %+v", rep)
	}
	if out := logs.take(); !strings.Contains(out, `"msg":"fallback run"`) || !strings.Contains(out, `"sent":1`) {
		t.Errorf("a run that sent a message did not log it:\n%s", out)
	}

	dbg, dlogs := startLoggedStack(t, "debug", clock.NewManual(start))
	runJob(t, dbg, time.Time{})
	if out := dlogs.take(); !strings.Contains(out, `"level":"DEBUG","msg":"fallback run"`) {
		t.Errorf("an idle run at debug level:\n%s", out)
	}
}
