package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

func TestDo(t *testing.T) {
	unavailable := &message.Error{Code: message.CodePlatformUnavailable, Retryable: true}
	advised := &message.Error{Code: message.CodePlatformUnavailable, Retryable: true, RetryAfter: 4 * time.Second}
	rejected := &message.Error{Code: message.CodePlatformRejected}
	tests := []struct {
		name      string
		errs      []error // what each attempt returns; nil = success
		wantCalls int
		wantErr   error
		wantSleep []time.Duration // exact sleeps; nil = do not check
	}{
		{"success at once", []error{nil}, 1, nil, nil},
		{"retryable then success", []error{unavailable, nil}, 2, nil, nil},
		{"gives up after the attempts", []error{unavailable, unavailable, unavailable, nil}, 3, unavailable, nil},
		{"terminal error is not retried", []error{rejected, nil}, 1, rejected, nil},
		{"plain error is not retried", []error{errors.New("boom"), nil}, 1, nil, nil},
		{"platform advice is followed", []error{advised, nil}, 2, nil, []time.Duration{4 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var slept []time.Duration
			p := Default
			p.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
			calls := 0
			err := p.Do(context.Background(), func(context.Context, int) error {
				e := tt.errs[calls]
				calls++
				return e
			})
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && tt.errs[calls-1] == nil && err != nil {
				t.Errorf("err = %v, want nil", err)
			}
			if tt.wantSleep != nil && (len(slept) != len(tt.wantSleep) || slept[0] != tt.wantSleep[0]) {
				t.Errorf("slept %v, want %v", slept, tt.wantSleep)
			}
			for _, d := range slept {
				if d > 4*time.Second {
					t.Errorf("backoff %v exceeds the cap", d)
				}
			}
		})
	}
}

func TestDoStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{Attempts: 5, Base: time.Hour, Max: time.Hour}
	calls := 0
	err := p.Do(ctx, func(context.Context, int) error {
		calls++
		cancel()
		return &message.Error{Code: message.CodePlatformUnavailable, Retryable: true}
	})
	if calls != 1 || err == nil {
		t.Fatalf("calls = %d, err = %v; want one call and the error", calls, err)
	}
}

// TestBudget: no try starts and no wait begins past the budget.
func TestBudget(t *testing.T) {
	unavailable := &message.Error{Code: message.CodePlatformUnavailable, Retryable: true, RetryAfter: time.Second}
	p := Policy{Attempts: 10, Base: time.Millisecond, Budget: 2500 * time.Millisecond}
	var slept time.Duration
	p.Sleep = func(_ context.Context, d time.Duration) error { slept += d; return nil }
	calls := 0
	err := p.Do(context.Background(), func(ctx context.Context, _ int) error {
		calls++
		if d, ok := ctx.Deadline(); !ok || time.Until(d) > 2500*time.Millisecond {
			t.Errorf("try %d runs without the budget's deadline", calls)
		}
		return unavailable
	})
	// The fake sleep takes no time, so every 1 s wait fits the budget.
	if calls != 10 || !errors.Is(err, unavailable) {
		t.Errorf("calls %d, err %v", calls, err)
	}
	p.Sleep = nil
	p.Budget = 50 * time.Millisecond
	calls = 0
	p.Do(context.Background(), func(context.Context, int) error { calls++; return unavailable })
	if calls != 1 {
		t.Errorf("a 1 s wait past a 50 ms budget was started: %d calls", calls)
	}
}
