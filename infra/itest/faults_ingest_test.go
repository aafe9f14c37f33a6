package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/infra/faultproxy"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/awsenv/adapters"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/service"
)

// hook is a webhook as a platform sent it, and the item it carries.
type hook struct {
	path    string
	header  http.Header
	body    []byte
	channel message.Channel
	pid     string // the platform id of its item
	kind    string // message.received or conversation.typing
}

// recorder keeps the webhooks the simulators post, answering each 200.
type recorder struct {
	mu    sync.Mutex
	hooks []hook
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.hooks = append(rc.hooks, hook{path: r.URL.Path, header: r.Header.Clone(), body: body})
	rc.mu.Unlock()
}

func (rc *recorder) last(t *testing.T) *hook {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.hooks) == 0 {
		t.Fatal("the simulator posted no webhook")
	}
	return &rc.hooks[len(rc.hooks)-1]
}

// simulatedWebhooks has the simulators write n WhatsApp messages and n
// Apple items (texts, some typing indicators) from a few customers each,
// signed as the platforms sign them.
func simulatedWebhooks(t *testing.T, n int) []hook {
	t.Helper()
	rc := &recorder{}
	capture := httptest.NewServer(rc)
	defer capture.Close()
	wa := httptest.NewServer(whatsappsim.New(whatsappsim.Config{AppSecret: local.DefaultWhatsAppAppSecret, WebhookURL: capture.URL + "/webhooks/whatsapp"}))
	defer wa.Close()
	secret, err := apple.DecodeSecret(local.DefaultAppleMSPSecret)
	if err != nil {
		t.Fatal(err)
	}
	as := applesim.New(applesim.Config{MSPID: local.DefaultAppleMSPID, Secret: secret, WebhookURL: capture.URL + "/webhooks/apple/message"})

	var hooks []hook
	for i := range n {
		body := fmt.Sprintf(`{"businessId":%q,"from":"4477009%05d","text":"message %d under faults"}`, waBusiness, i%25, i)
		resp, err := http.Post(wa.URL+"/reply", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ WAMID string }
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil || d.WAMID == "" {
			t.Fatalf("whatsappsim /reply: %v %+v", err, d)
		}
		h := rc.last(t)
		h.channel, h.pid, h.kind = message.WhatsApp, d.WAMID, message.EventReceived
		hooks = append(hooks, *h)

		rp := applesim.Reply{BusinessID: appleBusiness, From: fmt.Sprintf("urn:mbid:AQAAY1xFaults%02d", i%15), Text: fmt.Sprintf("apple %d under faults", i)}
		kind := message.EventReceived
		if i%5 == 4 {
			rp.Type, rp.Text, kind = "typing_start", "", message.EventTyping
		}
		ad, err := as.Reply(context.Background(), rp)
		if err != nil {
			t.Fatal(err)
		}
		h = rc.last(t)
		h.channel, h.pid, h.kind = message.Apple, ad.ID, kind
		hooks = append(hooks, *h)
	}
	return hooks
}

// TestIngestUnderAWSFaults delivers signed webhooks of both platforms,
// shuffled, some twice, each again after any answer but 2xx (as the
// platforms do), to the webhooks' handler on a DynamoDB, EventBridge and
// SQS that fail a share of their requests before or after acting on them.
// Every webhook ends acknowledged; each item is stored once, with one
// event in the log; each event is on the bus once.
func TestIngestUnderAWSFaults(t *testing.T) {
	const (
		seed = 20261203
		// deadline is each delivery's, as Lambda's would be; a delayed
		// answer comes after it.
		deadline = time.Second
		// workers deliver at once; with one, the faults fall on the same
		// requests in every run.
		workers = 1
	)
	f := startFaultyAWS(t, seed,
		faultproxy.Rule{Op: "DynamoDB_20120810.TransactWriteItems", Rate: 0.4, Faults: someFaults},
		faultproxy.Rule{Op: "AWSEvents.PutEvents", Rate: 0.2, Faults: someFaults},
		faultproxy.Rule{Rate: 0.15, Faults: someFaults},
	)
	f.proxy.Delay = deadline + deadline/4
	hooks := simulatedWebhooks(t, 60)

	logs := &logCount{n: map[string]int{}}
	log := slog.New(logs)
	st := adapters.Store(f.client, config.AWS{Table: faultTable, Bucket: faultBucket}, clock.System{})
	pub := adapters.Publisher(f.client, config.Bus{Name: faultBus, DLQURL: f.dlq}, log)
	in := &ingest.Ingester{Store: st, Blobs: st, Publisher: pub, Clock: clock.System{}, Log: log}
	secret, err := apple.DecodeSecret(local.DefaultAppleMSPSecret)
	if err != nil {
		t.Fatal(err)
	}
	handler := service.Webhooks(in, config.WhatsAppWebhook{AppSecret: local.DefaultWhatsAppAppSecret, VerifyToken: local.DefaultWhatsAppVerifyToken},
		config.Apple{MSPID: local.DefaultAppleMSPID, Secret: secret}, "", config.ApplePayCallbacks{}, service.Ports{Store: st, Blobs: st, Publisher: pub, Log: log})

	// The deliveries: every webhook once, a third of them twice, in a
	// seeded shuffle; a delivery answered anything but 2xx goes back in
	// the queue at a random later place.
	rng := rand.New(rand.NewPCG(seed, 1))
	var queue []int
	for i := range hooks {
		queue = append(queue, i)
		if rng.IntN(3) == 0 {
			queue = append(queue, i)
		}
	}
	rng.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })

	var (
		mu        sync.Mutex
		next      int
		acked     = make([]bool, len(hooks))
		refused   = make([]int, len(hooks))
		redeliver int
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next == len(queue) {
			return 0, false
		}
		next++
		return queue[next-1], true
	}
	const maxRefusals = 20
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i, ok := take()
				if !ok {
					return
				}
				h := hooks[i]
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				req := httptest.NewRequestWithContext(ctx, http.MethodPost, h.path, bytes.NewReader(h.body))
				req.Header = h.header.Clone()
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				// An answer after the deadline never reaches the platform,
				// as Lambda ends the invocation at its timeout.
				late := ctx.Err() != nil
				cancel()
				mu.Lock()
				if w.Code/100 == 2 && !late {
					acked[i] = true
				} else if refused[i]++; refused[i] < maxRefusals {
					redeliver++
					at := next + rng.IntN(len(queue)-next+1)
					queue = append(queue[:at], append([]int{i}, queue[at:]...)...)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d webhooks, %d deliveries (%d again after a refusal or a late answer); faults injected:%s", len(hooks), len(queue), redeliver, summary(injected(f.proxy)))

	// Every webhook was acknowledged in the end, and its item is stored,
	// once.
	stored := f.messages(t)
	for i, h := range hooks {
		if !acked[i] {
			t.Errorf("%s %s: refused %d times, never acknowledged", h.channel, h.pid, refused[i])
			continue
		}
		if h.kind != message.EventReceived {
			continue
		}
		if n := stored[string(h.channel)+" "+h.pid]; n != 1 {
			t.Errorf("%s %s: acknowledged, and stored %d times", h.channel, h.pid, n)
		}
	}

	// Each item has one event in the log; each logged event is on the bus
	// once.
	logged := map[string][]message.Event{}
	for _, ev := range f.eventLog(t) {
		logged[ev.PlatformMessageID] = append(logged[ev.PlatformMessageID], ev)
	}
	for _, h := range hooks {
		if evs := logged[h.pid]; len(evs) != 1 || evs[0].Type != h.kind {
			t.Errorf("%s %s: %d events in the log, want one %s: %+v", h.channel, h.pid, len(evs), h.kind, evs)
		}
	}
	onBus := map[string]int{}
	for _, ev := range f.drain(t, f.appQ, true) {
		onBus[ev.ID]++
	}
	parked := map[string]int{}
	for _, ev := range f.drain(t, f.dlq, false) {
		parked[ev.ID]++
	}
	missing, twice := 0, 0
	for _, h := range hooks {
		for _, ev := range logged[h.pid] {
			switch n := onBus[ev.ID]; {
			case n == 0 && parked[ev.ID] == 0 && logs.unparkedEvent(ev.ID):
				// The dead-letter queue failed too, as the log says: the
				// event is in the event log alone.
				missing++
			case n == 0 && parked[ev.ID] == 0:
				t.Errorf("%s %s: event %s neither on the bus nor parked, and no failure to park it logged", h.channel, h.pid, ev.ID)
			case n > 1:
				twice++
				t.Errorf("%s %s: event %s on the bus %d times", h.channel, h.pid, ev.ID, n)
			}
		}
	}
	t.Logf("logged:%s", summary(logs.counts()))
	t.Logf("bus: %d events, %d parked, %d in the event log alone (parking failed), %d more than once", len(onBus), len(parked), missing, twice)
}

// logCount counts the messages logged at warning level and above, and
// keeps the ids of the events that could be neither published nor parked.
type logCount struct {
	mu       sync.Mutex
	n        map[string]int
	unparked map[string]bool
}

var unparkedRE = regexp.MustCompile(`event (\S+) could not be published nor parked`)

func (l *logCount) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelWarn }
func (l *logCount) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" {
			e := a.Value.String()
			key += ": " + e[max(0, len(e)-120):]
			if m := unparkedRE.FindStringSubmatch(e); m != nil {
				if l.unparked == nil {
					l.unparked = map[string]bool{}
				}
				l.unparked[m[1]] = true
			}
		}
		return true
	})
	l.n[key]++
	return nil
}
func (l *logCount) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCount) WithGroup(string) slog.Handler      { return l }

func (l *logCount) unparkedEvent(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.unparked[id]
}

func (l *logCount) counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.n)
}
