package itest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/faultproxy"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/awsenv/adapters"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/send"
	"github.com/parleyhq/parley/shared/service"
)

// lossyPlatform serves the WhatsApp simulator, and for the sends lose
// picks lets the simulator accept the message, then cuts the connection
// without its answer: Meta has the message, parley does not know.
type lossyPlatform struct {
	sim  *whatsappsim.Simulator
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64
	lost int
	// onSend, when set, is called as each send arrives.
	onSend func()
}

func (p *lossyPlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.onSend != nil && r.Method == http.MethodPost {
		p.onSend()
	}
	p.mu.Lock()
	lose := r.Method == http.MethodPost && p.rng.Float64() < p.rate
	if lose {
		p.lost++
	}
	p.mu.Unlock()
	if !lose {
		p.sim.ServeHTTP(w, r)
		return
	}
	p.sim.ServeHTTP(httptest.NewRecorder(), r)
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
	}
}

// TestSendUnderAWSFaults sends templates with idempotency keys while
// DynamoDB fails a share of the reads and writes around the platform call
// (the key's claim, the conversation, the record and the key's answer),
// and Meta's answer to some sends is lost. The caller tries again with the
// same key after every answer but a final one, and once more after that,
// as a caller whose answer was lost would. WhatsApp receives each message
// at most once; a send whose answer Meta lost is reported delivery_unknown,
// then and on every retry, and never sent again.
func TestSendUnderAWSFaults(t *testing.T) {
	const (
		seed     = 20261204
		sends    = 40
		deadline = 3 * time.Second
	)
	f := startFaultyAWS(t, seed,
		faultproxy.Rule{Op: "DynamoDB_20120810.TransactWriteItems", Rate: 0.3, Faults: someFaults},
		faultproxy.Rule{Op: "DynamoDB_20120810.GetItem", Rate: 0.2, Faults: someFaults},
		faultproxy.Rule{Op: "DynamoDB_20120810.Query", Rate: 0.2, Faults: someFaults},
	)
	f.proxy.Delay = deadline + time.Second

	sim := whatsappsim.New(whatsappsim.Config{Token: local.DefaultWhatsAppToken})
	platform := &lossyPlatform{sim: sim, rng: rand.New(rand.NewPCG(seed, 2)), rate: 0.15}
	meta := httptest.NewServer(platform)
	defer meta.Close()

	clk := clock.NewManual(time.Now())
	logs := &logCount{n: map[string]int{}}
	log := slog.New(logs)
	st := adapters.Store(f.client, config.AWS{Table: faultTable, Bucket: faultBucket}, clk)
	once := retry.Policy{Attempts: 2, Base: 10 * time.Millisecond, Budget: 2 * time.Second}
	snd := service.WhatsAppSender(config.WhatsApp{APIURL: meta.URL + "/v25.0", Token: local.DefaultWhatsAppToken},
		service.Ports{Store: st, Blobs: st, Clock: clk, Log: log}, service.Options{Retry: &once, HTTP: &http.Client{Timeout: 2 * time.Second}})

	type outcome struct {
		tries   int
		sent    string // the platform id of a send that succeeded
		unknown bool   // a try was answered delivery_unknown
		codes   []message.Code
	}
	outcomes := make([]outcome, sends)
	for i := range sends {
		req := message.SendRequest{Channel: message.WhatsApp, BusinessID: waBusiness, To: fmt.Sprintf("4477009%05d", i),
			Message:        message.Message{Type: message.TypeTemplate, Name: "order_update", Language: "en"},
			IdempotencyKey: fmt.Sprintf("order-%d", i)}
		o := &outcomes[i]
		final := false
		for o.tries < 10 {
			o.tries++
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			res, err := snd.Send(ctx, req)
			cancel()
			code := message.Code("")
			if err != nil {
				code = message.AsError(err).Code
			}
			o.codes = append(o.codes, code)
			switch code {
			case "":
				if o.sent != "" && o.sent != res.PlatformMessageID {
					t.Errorf("%s: sent as %s, then as %s", req.IdempotencyKey, o.sent, res.PlatformMessageID)
				}
				o.sent = res.PlatformMessageID
			case message.CodeDeliveryUnknown:
				o.unknown = true
			case message.CodeConflict:
				// The first request still holds the key, or held it
				// when it ended: try again once its lease is over.
				clk.Advance(send.DefaultIdempotencyLease + time.Second)
				continue
			case message.CodeInternal:
				continue
			default:
				t.Errorf("%s: try %d: %v", req.IdempotencyKey, o.tries, err)
			}
			if final {
				break
			}
			// A final answer: asked once more, as by a caller who lost it.
			final = true
		}
		if !final {
			t.Errorf("%s: no final answer in %d tries: %v", req.IdempotencyKey, o.tries, o.codes)
		}
	}
	sim.Flush()

	received := map[string][]whatsappsim.Accepted{}
	for _, a := range sim.Accepted() {
		received[a.WaID] = append(received[a.WaID], a)
	}
	unknown, retried := 0, 0
	for i, o := range outcomes {
		to := fmt.Sprintf("4477009%05d", i)
		got := received[to]
		if len(got) > 1 {
			t.Errorf("order-%d: WhatsApp received the message %d times (answers %v)", i, len(got), o.codes)
		}
		switch {
		case o.sent != "" && o.unknown:
			t.Errorf("order-%d: answered sent and delivery_unknown: %v", i, o.codes)
		case o.sent != "" && (len(got) != 1 || got[0].WAMID != o.sent):
			t.Errorf("order-%d: answered sent as %s; WhatsApp received %+v", i, o.sent, got)
		case o.unknown:
			unknown++
			if len(got) != 1 {
				t.Errorf("order-%d: delivery_unknown, but WhatsApp lost no answer: it received %d", i, len(got))
			}
		}
		if o.tries > 2 {
			retried++
		}
	}
	if unknown == 0 {
		t.Error("no send met a lost answer: the test proves nothing about unknown outcomes")
	}
	t.Logf("%d sends, %d tried again after a failure, %d delivery_unknown (%d answers lost by the platform); faults injected:%s",
		sends, retried, unknown, platform.lost, summary(injected(f.proxy)))
	t.Logf("logged:%s", summary(logs.counts()))
}

// TestSendWhoseRecordStalls stalls the write that records a send WhatsApp
// accepted until the request's deadline: the send must still leave its
// idempotency key's answer, so that the caller's retry with the key, once
// the first request's lease is over, answers as the first did instead of
// sending the message again.
func TestSendWhoseRecordStalls(t *testing.T) {
	const deadline = 3 * time.Second
	f := startFaultyAWS(t, 1)
	f.proxy.Delay = 2 * deadline
	sim := whatsappsim.New(whatsappsim.Config{Token: local.DefaultWhatsAppToken})
	platform := &lossyPlatform{sim: sim, rng: rand.New(rand.NewPCG(1, 1)), onSend: func() {
		// The next write, the record's, is lost on its way to DynamoDB.
		f.proxy.SetRules(faultproxy.Rule{Op: "DynamoDB_20120810.TransactWriteItems", Rate: 1, Faults: []faultproxy.Fault{faultproxy.Stalled}, Limit: 1})
	}}
	meta := httptest.NewServer(platform)
	defer meta.Close()

	clk := clock.NewManual(time.Now())
	st := adapters.Store(f.client, config.AWS{Table: faultTable, Bucket: faultBucket}, clk)
	snd := service.WhatsAppSender(config.WhatsApp{APIURL: meta.URL + "/v25.0", Token: local.DefaultWhatsAppToken},
		service.Ports{Store: st, Blobs: st, Clock: clk, Log: slog.New(&logCount{n: map[string]int{}})},
		service.Options{Retry: &retry.Policy{Attempts: 1}, HTTP: &http.Client{Timeout: time.Second}})
	req := message.SendRequest{Channel: message.WhatsApp, BusinessID: waBusiness, To: "447700900777",
		Message: message.Message{Type: message.TypeTemplate, Name: "order_update", Language: "en"}, IdempotencyKey: "order-stalled"}

	sendOnce := func() (message.SendResult, error) {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		return snd.Send(ctx, req)
	}
	first, err := sendOnce()
	if err != nil {
		t.Fatalf("the first send: %v", err)
	}
	if n := len(f.proxy.Injected()); n != 1 {
		t.Fatalf("%d writes stalled, want the record's", n)
	}
	f.proxy.SetRules()
	clk.Advance(send.DefaultIdempotencyLease + time.Second)
	again, err := sendOnce()
	if got := len(sim.Accepted()); got != 1 {
		t.Fatalf("WhatsApp received the message %d times; the retry with its key answered %+v, %v", got, again, err)
	}
	if err != nil || again.ID != first.ID || again.PlatformMessageID != first.PlatformMessageID {
		t.Fatalf("the retry with the key answered %+v, %v; want the first answer, %+v", again, err, first)
	}
}
