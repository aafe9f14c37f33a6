package schedule_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/metrics"
	"github.com/parleyhq/parley/shared/schedule"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
)

// TestFallbackLag: a run records how long the oldest due item has waited —
// 0 with none waiting, the wait of the one a run had no time for.
func TestFallbackLag(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	clk := clock.NewManual(now)
	st, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out bytes.Buffer
	job := &schedule.Job{Store: st, Clock: clk, Metrics: &metrics.Recorder{W: &out, Now: clk.Now}}
	lag := func() float64 {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var l map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &l); err != nil {
			t.Fatal(err)
		}
		v, ok := l[metrics.FallbackLag].(float64)
		if !ok {
			t.Fatalf("no %s in %s", metrics.FallbackLag, lines[len(lines)-1])
		}
		return v
	}

	if _, err := job.Run(context.Background(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := lag(); got != 0 {
		t.Errorf("lag with nothing due %v, want 0", got)
	}

	item := store.Scheduled{ID: "msg_late", Kind: store.ScheduledSend, DueAt: now.Add(-10 * time.Minute), CreatedAt: now.Add(-time.Hour),
		Request: message.SendRequest{Channel: message.WhatsApp, BusinessID: "106540352242922", To: "447700900123",
			Message: message.Message{Type: message.TypeText, Text: "Your table is ready"}}}
	if err := st.Apply(context.Background(), store.PutScheduled{Item: item}); err != nil {
		t.Fatal(err)
	}
	// A run already at its deadline claims nothing and leaves the item.
	rep, err := job.Run(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Stopped || rep.Claimed != 0 {
		t.Fatalf("report %+v, want a run stopped before claiming", rep)
	}
	if got := lag(); got != 600 {
		t.Errorf("lag %v s, want 600 (the item has been due for 10 minutes)", got)
	}
}
