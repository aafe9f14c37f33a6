package apphook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

// The example of the Standard Webhooks specification: its secret, id,
// timestamp and body, and the signature every library must give.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignKnownAnswer(t *testing.T) {
	key, err := apphook.ParseSecret(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := apphook.Sign(key, specID, specTimestamp, []byte(specBody)); got != specSignature {
		t.Errorf("Sign = %s, want %s", got, specSignature)
	}
}

func TestParseSecret(t *testing.T) {
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="} {
		if _, err := apphook.ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q) accepted", bad)
		}
	}
}

func TestVerify(t *testing.T) {
	key, _ := apphook.ParseSecret(specSecret)
	at := time.Unix(specTimestamp, 0)
	headers := func(id, ts, sig string) http.Header {
		h := http.Header{}
		for k, v := range map[string]string{apphook.HeaderID: id, apphook.HeaderTimestamp: ts, apphook.HeaderSignature: sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		return h
	}
	ts := strconv.Itoa(specTimestamp)
	tests := []struct {
		name string
		h    http.Header
		body string
		now  time.Time
		want error
	}{
		{"valid", headers(specID, ts, specSignature), specBody, at, nil},
		{"valid among others", headers(specID, ts, "v1,bm90IGl0 v2,whatever "+specSignature), specBody, at, nil},
		{"4 minutes late", headers(specID, ts, specSignature), specBody, at.Add(4 * time.Minute), nil},
		{"replayed 6 minutes later", headers(specID, ts, specSignature), specBody, at.Add(6 * time.Minute), apphook.ErrTimestamp},
		{"from the future", headers(specID, ts, specSignature), specBody, at.Add(-6 * time.Minute), apphook.ErrTimestamp},
		{"body changed", headers(specID, ts, specSignature), `{"test": 2432232315}`, at, apphook.ErrSignature},
		{"id changed", headers("msg_other", ts, specSignature), specBody, at, apphook.ErrSignature},
		{"timestamp changed", headers(specID, strconv.Itoa(specTimestamp+1), specSignature), specBody, at, apphook.ErrSignature},
		{"another version", headers(specID, ts, "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), specBody, at, apphook.ErrSignature},
		{"no signature", headers(specID, ts, ""), specBody, at, apphook.ErrMissingHeaders},
		{"no id", headers("", ts, specSignature), specBody, at, apphook.ErrMissingHeaders},
		{"timestamp not a number", headers(specID, "soon", specSignature), specBody, at, apphook.ErrTimestamp},
	}
	for _, tt := range tests {
		if err := apphook.Verify(key, tt.h, []byte(tt.body), tt.now); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// app is the app's endpoint: it verifies every request and records the
// event ids it accepted, in order; fail says which attempts it refuses.
type app struct {
	key  []byte
	now  func() time.Time
	mu   sync.Mutex
	got  []string
	seen map[string]int // attempts per id
	fail func(id string, attempt int) bool
	bad  []string
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := apphook.Verify(a.key, r.Header, body, a.now()); err != nil {
		a.bad = append(a.bad, err.Error())
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	id := r.Header.Get(apphook.HeaderID)
	if a.seen == nil {
		a.seen = map[string]int{}
	}
	a.seen[id]++
	if a.fail != nil && a.fail(id, a.seen[id]) {
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	a.got = append(a.got, id)
}

func event(i int, customer string) message.Event {
	return message.Event{ID: fmt.Sprintf("%08d", i), Type: message.EventReceived, Time: time.Unix(int64(i), 0).UTC(),
		Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: customer}
}

// fakeClock is moved by the dispatcher's Sleep: no test waits for real.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return ctx.Err()
}

func setup(t *testing.T, fail func(id string, attempt int) bool) (*apphook.Dispatcher, *app, *fakeClock, apphook.Dir) {
	t.Helper()
	key, _ := apphook.ParseSecret(specSecret)
	clk := &fakeClock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	a := &app{key: key, now: clk.Now, fail: fail}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	dir := apphook.Dir(t.TempDir())
	c := &apphook.Client{URL: srv.URL, Key: key, Now: clk.Now}
	d := &apphook.Dispatcher{Post: c.Post, Parking: dir, Now: clk.Now, Sleep: clk.Sleep, Log: quiet}
	t.Cleanup(d.Close)
	return d, a, clk, dir
}

// TestOrderPerConversation: events of many conversations published from
// many goroutines reach the app in each conversation's order, even when
// some attempts fail and are retried.
func TestOrderPerConversation(t *testing.T) {
	d, a, _, _ := setup(t, func(id string, attempt int) bool {
		n, _ := strconv.Atoi(id)
		return n%7 == 0 && attempt < 3
	})
	// Conversations wait side by side: their waits must not move the
	// clock the signatures are checked against.
	d.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	const conversations, each = 8, 25
	var wg sync.WaitGroup
	for c := range conversations {
		wg.Go(func() {
			for i := range each {
				d.Publish(context.Background(), event(c*1000+i, fmt.Sprintf("4477009%05d", c)))
			}
		})
	}
	wg.Wait()
	d.Flush()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.bad) > 0 {
		t.Fatalf("the app refused signatures: %v", a.bad)
	}
	if len(a.got) != conversations*each {
		t.Fatalf("the app got %d events, want %d", len(a.got), conversations*each)
	}
	last := map[int]int{}
	for _, id := range a.got {
		n, _ := strconv.Atoi(id)
		c, i := n/1000, n%1000
		if prev, ok := last[c]; ok && i != prev+1 {
			t.Fatalf("conversation %d: event %d arrived after %d", c, i, prev)
		}
		last[c] = i
	}
}

// TestRetriesThenParks: a failing endpoint gets every attempt of Schedule,
// at its intervals (more than 24 hours in all), then the event is parked
// and the conversation's next event goes out; redrive delivers it again.
func TestRetriesThenParks(t *testing.T) {
	down := true
	var mu sync.Mutex
	d, a, clk, dir := setup(t, func(id string, _ int) bool {
		mu.Lock()
		defer mu.Unlock()
		return id == "00000001" && down
	})
	start := clk.Now()
	d.Publish(context.Background(), event(1, "447700900123"), event(2, "447700900123"))
	d.Flush()

	if !slices.Equal(clk.slept, apphook.Schedule[1:]) {
		t.Errorf("waits between attempts %v, want %v", clk.slept, apphook.Schedule[1:])
	}
	if span := clk.Now().Sub(start); span < 24*time.Hour {
		t.Errorf("attempts span %s, want at least 24 hours", span)
	}
	a.mu.Lock()
	if a.seen["00000001"] != len(apphook.Schedule) || !slices.Equal(a.got, []string{"00000002"}) {
		t.Errorf("attempts of the failing event %d, delivered %v; want %d and the next event", a.seen["00000001"], a.got, len(apphook.Schedule))
	}
	a.mu.Unlock()
	parked, next, err := dir.Parked(context.Background(), "", 10)
	if err != nil || next != "" || len(parked) != 1 {
		t.Fatalf("parked %+v %q %v, want the one event", parked, next, err)
	}
	p := parked[0]
	if p.ID != "00000001" || p.Status != apphook.StatusFailed || p.Attempts != len(apphook.Schedule) || p.Event.CustomerID != "447700900123" ||
		p.LastError != "the app answered HTTP 503: not now" || !p.LastAttemptAt.Equal(clk.Now()) {
		t.Errorf("parked delivery %+v", p)
	}

	// Redrive while the app is back: delivered once, unparked.
	mu.Lock()
	down = false
	mu.Unlock()
	deliveries := apphook.Deliveries{Parking: dir, Again: d}
	got, err := deliveries.Redrive(context.Background(), "00000001", nil)
	if err != nil || got.Status != "redriven" {
		t.Fatalf("Redrive = %+v, %v", got, err)
	}
	d.Flush()
	a.mu.Lock()
	if !slices.Equal(a.got, []string{"00000002", "00000001"}) {
		t.Errorf("delivered %v after the redrive", a.got)
	}
	a.mu.Unlock()
	if parked, _, _ := dir.Parked(context.Background(), "", 10); len(parked) != 0 {
		t.Errorf("still parked after the redrive: %+v", parked)
	}
	if _, err := deliveries.Redrive(context.Background(), "00000001", nil); !errors.Is(err, apphook.ErrNotParked) {
		t.Errorf("a second redrive = %v, want ErrNotParked", err)
	}
}

// TestRedriveKeepsItParkedWhenItCannotQueue: nothing is lost when the
// queue refuses a redrive.
func TestRedriveKeepsItParkedWhenItCannotQueue(t *testing.T) {
	dir := apphook.Dir(t.TempDir())
	ctx := context.Background()
	dir.Park(ctx, apphook.Delivery{ID: "00000009", Status: apphook.StatusFailed, Event: event(9, "447700900123")})
	if _, err := (apphook.Deliveries{Parking: dir, Again: refusing{}}).Redrive(ctx, "00000009", nil); err == nil {
		t.Fatal("Redrive succeeded with the queue away")
	}
	if parked, _, _ := dir.Parked(ctx, "", 10); len(parked) != 1 {
		t.Errorf("parked after a failed redrive: %+v, want the delivery kept", parked)
	}
}

type refusing struct{}

func (refusing) Redrive(context.Context, message.Event) error { return errors.New("queue away") }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestParkingAdapters runs the same promises against the folder and the
// DynamoDB table (moto).
func TestParkingAdapters(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	ddb := dynamo.NewClient(m.Endpoint(), "us-east-1")
	if err := dynamo.CreateTable(ctx, ddb, "parley-hooks"); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]apphook.Parking{"dir": apphook.Dir(t.TempDir()), "dynamo": apphook.Table{Client: dynamodb.New(ddb), Name: "parley-hooks"}} {
		t.Run(name, func(t *testing.T) {
			for i := range 5 {
				ev := event(5-i, "447700900123")
				if err := p.Park(ctx, apphook.Delivery{ID: ev.ID, Status: apphook.StatusFailed, Event: ev, Attempts: 8, LastError: "HTTP 500"}); err != nil {
					t.Fatal(err)
				}
			}
			var ids []string
			after := ""
			for range 10 {
				page, next, err := p.Parked(ctx, after, 2)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range page {
					ids = append(ids, d.ID)
					if d.Event.CustomerID != "447700900123" || d.Attempts != 8 || d.Status != apphook.StatusFailed {
						t.Errorf("parked %+v", d)
					}
				}
				if next == "" {
					break
				}
				after = next
			}
			if !slices.Equal(ids, []string{"00000001", "00000002", "00000003", "00000004", "00000005"}) {
				t.Errorf("pages gave %v", ids)
			}
			d, err := p.Unpark(ctx, "00000003")
			if err != nil || d.ID != "00000003" || d.Event.ID != "00000003" {
				t.Errorf("Unpark = %+v, %v", d, err)
			}
			if _, err := p.Unpark(ctx, "00000003"); !errors.Is(err, apphook.ErrNotParked) {
				t.Errorf("a second Unpark = %v, want ErrNotParked", err)
			}
			if _, err := p.Unpark(ctx, "../etc/passwd"); !errors.Is(err, apphook.ErrNotParked) {
				t.Errorf("Unpark of a path = %v, want ErrNotParked", err)
			}
			if page, _, _ := p.Parked(ctx, "", 10); len(page) != 4 {
				t.Errorf("%d parked after one Unpark, want 4", len(page))
			}
		})
	}
}
