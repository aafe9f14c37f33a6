package schedule

import (
	"testing"
	"time"
)

// TestLimiter: a number sends a second's worth at once, then one every
// 1/rate; a token given back is reused; idle time refills up to the burst.
func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	l := (&Job{PerSecond: 4}).limiter("106540352242922")
	steps := []struct {
		at     time.Duration
		cancel bool
		want   time.Duration
	}{
		{0, false, 0}, {0, false, 0}, {0, false, 0}, {0, false, 0},
		{0, false, 250 * time.Millisecond},
		{0, false, 500 * time.Millisecond},
		{0, true, 750 * time.Millisecond}, // taken, then given back
		{0, false, 750 * time.Millisecond},
		{time.Second, false, 0},                      // 4 tokens back, 3 owed: 1 left
		{time.Second, false, 250 * time.Millisecond}, // owed again
		{time.Hour, false, 0},                        // refilled to the burst, no further
		{time.Hour, false, 0}, {time.Hour, false, 0}, {time.Hour, false, 0},
		{time.Hour, false, 250 * time.Millisecond},
	}
	for i, s := range steps {
		now := t0.Add(s.at)
		r := l.ReserveN(now, 1)
		if got := r.DelayFrom(now); got != s.want {
			t.Fatalf("step %d at +%s: wait %s, want %s", i, s.at, got, s.want)
		}
		if s.cancel {
			r.CancelAt(now)
		}
	}
}
