package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/schedule"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

// startJobStack starts a local stack whose fallback job runs only when a
// test runs it; sleep replaces the job's throttling wait.
func startJobStack(t testing.TB, storeKind string, clk clock.Clock, env map[string]string, sleep func(context.Context, time.Duration) error) *Stack {
	t.Helper()
	e := map[string]string{"PARLEY_LOG_LEVEL": "warn"}
	switch storeKind {
	case "embedded":
		e["PARLEY_DATA_DIR"] = t.TempDir()
	case "aws":
		m := moto.StartT(t)
		e["PARLEY_STORE"], e["PARLEY_AWS_ENDPOINT"], e["PARLEY_TABLE"], e["PARLEY_BUCKET"] = "aws", m.Endpoint(), "parley-test", "parley-test"
	}
	for k, v := range env {
		e[k] = v
	}
	noWait := retry.Policy{Attempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}
	st, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", Getenv: func(k string) string { return e[k] }, Log: io.Discard,
		Clock: clk, Retry: &noWait, FallbackEvery: -1, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var orderTemplate = map[string]any{"name": "order_update", "language": "en_US"}

// scheduleSend posts a send request with sendAt and extra fields, and returns
// the status and the answer.
func scheduleSend(t testing.TB, st *Stack, ch, business, to string, sendAt time.Time, extra map[string]any) (int, map[string]any) {
	t.Helper()
	body := map[string]any{"channel": ch, "businessId": business, "to": to,
		"message": map[string]any{"type": "text", "text": "Your table is ready"}, "sendAt": sendAt.UTC().Format(time.RFC3339Nano)}
	for k, v := range extra {
		body[k] = v
	}
	var out map[string]any
	code := callTB(t, "POST", st.URL+"/v1/messages", body, &out)
	return code, out
}

func callTB(t testing.TB, method, url string, body, out any) int {
	t.Helper()
	if tt, ok := t.(*testing.T); ok {
		return call(tt, method, url, body, out)
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytesReader(b))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

func runJob(t testing.TB, st *Stack, deadline time.Time) schedule.Report {
	t.Helper()
	rep, err := st.Service.RunFallback(context.Background(), deadline)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func record(t *testing.T, st *Stack, id string) message.Record {
	t.Helper()
	var rec message.Record
	if code := call(t, "GET", st.URL+"/v1/messages/"+id, nil, &rec); code != http.StatusOK {
		t.Fatalf("GET /v1/messages/%s: %d", id, code)
	}
	return rec
}

// TestScheduledSendsAtTheWindowBoundary: a scheduled send goes as itself
// while the window is open, as its fallback template once it has closed,
// and fails with window_closed without one; a window that opens before the
// send is due lets it go. Apple: fallback.message for a device that cannot
// show the type, conversation_closed for a closed conversation.
func TestScheduledSendsAtTheWindowBoundary(t *testing.T) {
	list := map[string]any{"type": "list", "body": "Pick one", "sections": []any{map[string]any{"title": "S", "items": []any{
		map[string]any{"id": "a", "title": "A"}, map[string]any{"id": "b", "title": "B"}}}}}
	tests := []struct {
		name       string
		channel    string
		wrote      time.Duration // when the customer wrote (from start), <0: never
		capability []string
		closeConv  bool
		due        time.Duration
		extra      map[string]any
		wantStatus string // the record's status
		wantType   string // what was sent
		wantCode   message.Code
		wantReport schedule.Report
	}{
		{"open window, just before it closes", "whatsapp", 0, nil, false, 24*time.Hour - time.Second, nil,
			message.StatusAccepted, "text", "", schedule.Report{Claimed: 1, Sent: 1}},
		{"window closed at due time, fallback template", "whatsapp", 0, nil, false, 24 * time.Hour,
			map[string]any{"fallback": map[string]any{"template": orderTemplate}}, message.StatusAccepted, "template", "", schedule.Report{Claimed: 1, FallbackSent: 1}},
		{"window closed, no fallback", "whatsapp", 0, nil, false, 24 * time.Hour, nil,
			message.StatusFailed, "text", message.CodeWindowClosed, schedule.Report{Claimed: 1, Failed: 1}},
		{"closed when scheduled, open when due", "whatsapp", 2 * time.Hour, nil, false, 3 * time.Hour, nil,
			message.StatusAccepted, "text", "", schedule.Report{Claimed: 1, Sent: 1}},
		{"open window, fallback kept unused", "whatsapp", 0, nil, false, time.Hour,
			map[string]any{"fallback": map[string]any{"template": orderTemplate}}, message.StatusAccepted, "text", "", schedule.Report{Claimed: 1, Sent: 1}},
		{"apple device without LIST, fallback message", "apple", 0, []string{"QUICK"}, false, time.Hour,
			map[string]any{"message": list, "fallback": map[string]any{"message": map[string]any{"type": "text", "text": "Reply A or B"}}},
			message.StatusAccepted, "text", "", schedule.Report{Claimed: 1, FallbackSent: 1}},
		{"apple device without LIST, no fallback", "apple", 0, []string{"QUICK"}, false, time.Hour, map[string]any{"message": list},
			message.StatusFailed, "list", message.CodeUnsupportedOnDevice, schedule.Report{Claimed: 1, Failed: 1}},
		{"apple conversation closed", "apple", 0, nil, true, time.Hour, nil,
			message.StatusFailed, "text", message.CodeConversationClosed, schedule.Report{Claimed: 1, Failed: 1}},
	}
	for _, kind := range stores {
		for _, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				clk := clock.NewManual(start)
				st := startJobStack(t, kind, clk, nil, nil)
				business, customer := waBusiness, waCustomer
				if tt.channel == "apple" {
					business, customer = appleBusiness, appleCustomer
				}
				code, ans := scheduleSend(t, st, tt.channel, business, customer, start.Add(tt.due), tt.extra)
				if code != http.StatusAccepted || ans["status"] != "scheduled" {
					t.Fatalf("schedule: %d %v", code, ans)
				}
				id := ans["id"].(string)
				if tt.wrote >= 0 {
					clk.Set(start.Add(tt.wrote))
					r := map[string]any{"businessId": business, "from": customer, "text": "hi"}
					if tt.capability != nil {
						r["capabilities"] = tt.capability
					}
					reply(t, st, tt.channel, r)
					if tt.closeConv {
						reply(t, st, "apple", map[string]any{"businessId": business, "from": customer, "type": "close"})
					}
				}
				clk.Set(start.Add(tt.due - time.Millisecond))
				if rep := runJob(t, st, time.Time{}); rep != (schedule.Report{}) {
					t.Fatalf("a run before the item is due: %+v", rep)
				}
				clk.Set(start.Add(tt.due))
				if rep := runJob(t, st, time.Time{}); rep != tt.wantReport {
					t.Errorf("run: %+v, want %+v", rep, tt.wantReport)
				}
				rec := record(t, st, id)
				if rec.Status != tt.wantStatus || rec.Type != tt.wantType || (rec.Error == nil) != (tt.wantCode == "") ||
					rec.Error != nil && rec.Error.Code != tt.wantCode {
					t.Errorf("record %s %s error %+v, want %s %s %s", rec.Status, rec.Type, rec.Error, tt.wantStatus, tt.wantType, tt.wantCode)
				}
				if rec.History[0].Status != message.StatusScheduled {
					t.Errorf("history %+v does not start with scheduled", rec.History)
				}
				if rep := runJob(t, st, time.Time{}); rep != (schedule.Report{}) {
					t.Errorf("a second run: %+v, want nothing", rep)
				}
			})
		}
	}
}

// TestOverlappingFallbackRuns: runs started together never send one item
// twice.
func TestOverlappingFallbackRuns(t *testing.T) {
	const items, runs = 30, 4
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewManual(start)
			st := startJobStack(t, kind, clk, nil, nil)
			reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "hi"})
			for i := range items {
				if code, ans := scheduleSend(t, st, "whatsapp", waBusiness, waCustomer, start.Add(time.Minute+time.Duration(i)*time.Millisecond), nil); code != http.StatusAccepted {
					t.Fatalf("schedule: %d %v", code, ans)
				}
			}
			clk.Set(start.Add(time.Hour))
			reps := make([]schedule.Report, runs)
			var wg sync.WaitGroup
			for i := range runs {
				wg.Go(func() { reps[i] = runJob(t, st, time.Time{}) })
			}
			wg.Wait()
			var total schedule.Report
			for _, r := range reps {
				total.Claimed += r.Claimed
				total.Sent += r.Sent
			}
			if total.Claimed != items || total.Sent != items {
				t.Errorf("runs %+v claimed %d and sent %d, want %d each", reps, total.Claimed, total.Sent, items)
			}
			var sim []json.RawMessage
			call(t, "GET", st.URL+"/sim/whatsapp/messages", nil, &sim)
			if len(sim) != items {
				t.Errorf("the simulator received %d messages, want %d", len(sim), items)
			}
		})
	}
}

// TestLateWindowClosedSendsFallback: a message accepted by Meta and failed
// later with 131047 has its fallback template sent, once.
func TestLateWindowClosedSendsFallback(t *testing.T) {
	clk := clock.NewManual(start)
	st := startJobStack(t, "embedded", clk, nil, nil)
	// parley hears the customer, the simulator does not: Meta's window is
	// closed, parley's open.
	body, sig := signedWhatsApp("wamid.DIRECT", "hello", start)
	req, _ := http.NewRequest("POST", st.URL+"/webhooks/whatsapp", bytesReader(body))
	req.Header.Set("X-Hub-Signature-256", sig)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %v %v", res, err)
	}
	res.Body.Close()
	var sent message.SendResult
	code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer,
		"message": map[string]any{"type": "text", "text": "hi"}, "fallback": map[string]any{"template": orderTemplate}}, &sent)
	if code != http.StatusAccepted || sent.Status != "sent" {
		t.Fatalf("send: %d %+v", code, sent)
	}
	st.WhatsApp.Flush()
	st.WhatsApp.Flush()
	rec := record(t, st, sent.ID)
	if rec.Status != message.StatusFailed || rec.Error == nil || rec.Error.Code != message.CodeWindowClosed {
		t.Fatalf("record after a late 131047: %+v", rec)
	}
	var fallbacks []message.Event
	for _, ev := range events(t, st) {
		if ev.Type == message.EventSent && ev.MessageID != sent.ID {
			fallbacks = append(fallbacks, ev)
		}
	}
	if len(fallbacks) != 1 {
		t.Fatalf("%d fallback sends, want 1: %+v", len(fallbacks), fallbacks)
	}
	fb := record(t, st, fallbacks[0].MessageID)
	if fb.Type != message.TypeTemplate || fb.FallbackFor != sent.ID || fb.Message.Name != "order_update" {
		t.Errorf("fallback record %+v", fb)
	}
	// The same failure reported again sends nothing more.
	var status map[string]any
	call(t, "POST", st.URL+"/sim/whatsapp/status", map[string]any{"businessId": waBusiness, "to": waCustomer, "id": rec.PlatformMessageID,
		"status": "failed", "code": 131047}, &status)
	st.WhatsApp.Flush()
	var sim []json.RawMessage
	call(t, "GET", st.URL+"/sim/whatsapp/messages", nil, &sim)
	if len(sim) != 2 {
		t.Errorf("the simulator holds %d messages, want 2 (the text, one template)", len(sim))
	}
}

// TestCancelScheduled: DELETE cancels a scheduled message while it waits,
// and nothing else.
func TestCancelScheduled(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewManual(start)
			st := startJobStack(t, kind, clk, nil, nil)
			reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "hi"})
			_, ans := scheduleSend(t, st, "whatsapp", waBusiness, waCustomer, start.Add(time.Hour), nil)
			id := ans["id"].(string)
			var rec message.Record
			if code := call(t, "DELETE", st.URL+"/v1/messages/"+id, nil, &rec); code != http.StatusOK || rec.Status != message.StatusCancelled {
				t.Fatalf("DELETE: %d %+v", code, rec)
			}
			var e apiError
			if code := call(t, "DELETE", st.URL+"/v1/messages/"+id, nil, &e); code != http.StatusConflict || e.Error.Code != "conflict" {
				t.Errorf("DELETE again: %d %+v", code, e)
			}
			clk.Set(start.Add(2 * time.Hour))
			if rep := runJob(t, st, time.Time{}); rep != (schedule.Report{}) {
				t.Errorf("run after cancelling: %+v", rep)
			}
			if got := record(t, st, id); got.Status != message.StatusCancelled {
				t.Errorf("record %+v", got)
			}
			_, sent, _ := sendText(t, st, "whatsapp", waBusiness, waCustomer, "now")
			if code := call(t, "DELETE", st.URL+"/v1/messages/"+sent.ID, nil, &e); code != http.StatusConflict {
				t.Errorf("DELETE of a sent message: %d %+v", code, e)
			}
			if code := call(t, "DELETE", st.URL+"/v1/messages/msg_none", nil, &e); code != http.StatusNotFound {
				t.Errorf("DELETE of an unknown message: %d %+v", code, e)
			}
		})
	}
}

// TestScheduleRequests: what sendAt and fallback refuse or do instead.
func TestScheduleRequests(t *testing.T) {
	clk := clock.NewManual(start)
	st := startJobStack(t, "embedded", clk, nil, nil)
	tests := []struct {
		name      string
		channel   string
		sendAt    time.Time
		extra     map[string]any
		wantCode  int
		wantField string
		wantBody  string
	}{
		{"in the past: sent now, saying so", "apple", start.Add(-time.Minute), nil, 202, "", "is not in the future, so the message was sent now"},
		{"too far ahead", "apple", start.Add(31 * 24 * time.Hour), nil, 400, "sendAt", "the limit is 30.0 days"},
		{"template fallback on Apple", "apple", start.Add(time.Hour), map[string]any{"fallback": map[string]any{"template": orderTemplate}}, 400, "fallback.template", "Apple has no templates"},
		{"message fallback on WhatsApp", "whatsapp", start.Add(time.Hour), map[string]any{"fallback": map[string]any{"message": map[string]any{"type": "text", "text": "x"}}}, 400, "fallback.message", "use fallback.template"},
		{"template without a name", "whatsapp", start.Add(time.Hour), map[string]any{"fallback": map[string]any{"template": map[string]any{"language": "en"}}}, 400, "fallback.template.name", ""},
		{"empty fallback", "whatsapp", start.Add(time.Hour), map[string]any{"fallback": map[string]any{}}, 400, "fallback", "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			business, customer := waBusiness, waCustomer
			if tt.channel == "apple" {
				business, customer = appleBusiness, appleCustomer
			}
			code, ans := scheduleSend(t, st, tt.channel, business, customer, tt.sendAt, tt.extra)
			b, _ := json.Marshal(ans)
			if code != tt.wantCode || !jsonHas(b, tt.wantBody) {
				t.Fatalf("%d %s, want %d with %q", code, b, tt.wantCode, tt.wantBody)
			}
			if tt.wantField != "" && !jsonHas(b, fmt.Sprintf(`"field":%q`, tt.wantField)) {
				t.Errorf("%s does not name the field %s", b, tt.wantField)
			}
		})
	}
	// A WhatsApp send outside the window with a fallback template sends
	// the template at once.
	var res message.SendResult
	code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer,
		"message": map[string]any{"type": "text", "text": "hi"}, "fallback": map[string]any{"template": orderTemplate}}, &res)
	if code != http.StatusAccepted || res.Status != "fallback_sent" {
		t.Fatalf("send outside the window with a fallback: %d %+v", code, res)
	}
}

func jsonHas(b []byte, s string) bool { return strings.Contains(string(b), s) }

// TestFallbackThrottling: one number's sends keep under its rate (here 2 a
// second, bursts of 2), other numbers are not held up, and a run stops
// before its deadline and leaves the rest to the next.
func TestFallbackThrottling(t *testing.T) {
	clk := clock.NewManual(start)
	var mu sync.Mutex
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return nil
	}
	st := startJobStack(t, "embedded", clk, map[string]string{"PARLEY_THROUGHPUT_PER_SECOND": "2"}, sleep)
	reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "hi"})
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "hi"})
	for i := range 6 {
		scheduleSend(t, st, "whatsapp", waBusiness, waCustomer, start.Add(time.Minute+time.Duration(i)*time.Millisecond), nil)
	}
	for i := range 2 {
		scheduleSend(t, st, "apple", appleBusiness, appleCustomer, start.Add(time.Minute+time.Duration(i)*time.Millisecond), nil)
	}
	clk.Set(start.Add(time.Hour))
	// The deadline leaves a second beyond the reserve: waits up to 1 s.
	rep := runJob(t, st, clk.Now().Add(schedule.DefaultReserve+time.Second))
	if rep.Sent != 6 || !rep.Stopped {
		t.Errorf("first run %+v, want 6 sent (2 Apple, 4 WhatsApp) and stopped", rep)
	}
	slices.Sort(waits)
	if want := []time.Duration{500 * time.Millisecond, time.Second}; !slices.Equal(waits, want) {
		t.Errorf("throttled waits %v, want %v", waits, want)
	}
	clk.Set(start.Add(time.Hour + 10*time.Second))
	if rep := runJob(t, st, time.Time{}); rep.Sent != 2 || rep.Stopped {
		t.Errorf("second run %+v, want the 2 left", rep)
	}
}

// TestScheduleRequestCounts measures DynamoDB requests per scheduled item:
// scheduling it, and one run that claims and sends it.
func TestScheduleRequestCounts(t *testing.T) {
	clk := clock.NewManual(start)
	st := startJobStack(t, "aws", clk, nil, nil)
	ds := st.Service.Store.(*dynamo.Store)
	reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "hi"})
	const n = 10
	ds.ResetCounts()
	for i := range n {
		scheduleSend(t, st, "whatsapp", waBusiness, waCustomer, start.Add(time.Minute+time.Duration(i)*time.Millisecond), nil)
	}
	sched := ds.Counts()
	clk.Set(start.Add(time.Hour))
	ds.ResetCounts()
	if rep := runJob(t, st, time.Time{}); rep.Sent != n {
		t.Fatalf("run %+v", rep)
	}
	run := ds.Counts()
	t.Logf("DynamoDB requests per scheduled item: scheduling %.1f reads + %.1f writes; fallback run %.1f reads + %.1f writes (%d items, one page)",
		float64(sched.Reads)/n, float64(sched.Writes)/n, float64(run.Reads)/n, float64(run.Writes)/n, n)
	if sched.Reads != 0 || sched.Writes != n {
		t.Errorf("scheduling cost %d reads + %d writes for %d items, want %d writes", sched.Reads, sched.Writes, n, n)
	}
	if run.Writes != 2*n || run.Reads > n+2 {
		t.Errorf("the run cost %d reads + %d writes for %d items; the budget is 1 read + 2 writes each, plus the due reads", run.Reads, run.Writes, n)
	}
}

// BenchmarkFallbackRun measures one fallback run against the local stack's
// WhatsApp simulator: items claimed and sent per second.
func BenchmarkFallbackRun(b *testing.B) {
	const items = 200
	clk := clock.NewManual(start)
	st := startJobStack(b, "embedded", clk, map[string]string{"PARLEY_THROUGHPUT_PER_SECOND": "1000"}, nil)
	b.StopTimer()
	for i := range b.N {
		customer := fmt.Sprintf("4477009%05d", i)
		clk.Set(start.Add(time.Duration(i) * 48 * time.Hour))
		now := clk.Now()
		callTB(b, "POST", st.URL+"/sim/whatsapp/reply", map[string]any{"businessId": waBusiness, "from": customer, "text": "hi"}, nil)
		for j := range items {
			scheduleSend(b, st, "whatsapp", waBusiness, customer, now.Add(time.Minute+time.Duration(j)*time.Millisecond), nil)
		}
		clk.Set(now.Add(time.Hour))
		b.StartTimer()
		t0 := time.Now()
		rep := runJob(b, st, time.Time{})
		el := time.Since(t0)
		b.StopTimer()
		if rep.Sent != items {
			b.Fatalf("run %+v", rep)
		}
		b.ReportMetric(float64(items)/el.Seconds(), "items/s")
	}
}

// TestReengagement: a business with a rule gets its template sent before
// the window closes on an unanswered interactive message, and none when
// the customer answered.
func TestReengagement(t *testing.T) {
	rule := `{"` + waBusiness + `":{"minutesBefore":60,"template":{"name":"still_there","language":"en_US"}}}`
	buttons := map[string]any{"type": "buttons", "body": "Still coming?", "buttons": []any{map[string]any{"id": "y", "title": "Yes"}}}
	tests := []struct {
		name     string
		answered bool
		want     schedule.Report
	}{
		{"unanswered", false, schedule.Report{Claimed: 1, Sent: 1}},
		{"answered", true, schedule.Report{Claimed: 1, Answered: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewManual(start)
			st := startJobStack(t, "embedded", clk, map[string]string{"PARLEY_REENGAGEMENT": rule}, nil)
			reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "hi"})
			clk.Set(start.Add(time.Hour))
			sent := sendWhatsApp(t, st, buttons, false)
			if tt.answered {
				clk.Set(start.Add(2 * time.Hour))
				reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "yes"})
			}
			clk.Set(start.Add(23*time.Hour - time.Second))
			if rep := runJob(t, st, time.Time{}); rep != (schedule.Report{}) {
				t.Fatalf("a run before the re-engagement is due: %+v", rep)
			}
			clk.Set(start.Add(23 * time.Hour))
			if rep := runJob(t, st, time.Time{}); rep != tt.want {
				t.Fatalf("run %+v, want %+v", rep, tt.want)
			}
			var reengaged []message.Record
			for _, ev := range events(t, st) {
				if ev.Type == message.EventSent && ev.MessageID != sent.ID {
					reengaged = append(reengaged, record(t, st, ev.MessageID))
				}
			}
			if tt.answered != (len(reengaged) == 0) {
				t.Fatalf("re-engagement messages %+v", reengaged)
			}
			if !tt.answered && (reengaged[0].Message.Name != "still_there" || reengaged[0].FallbackFor != sent.ID) {
				t.Errorf("re-engagement %+v", reengaged[0])
			}
		})
	}
}
