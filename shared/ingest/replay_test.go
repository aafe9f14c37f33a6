package ingest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/send"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/dynamo"
	"github.com/parleyhq/parley/shared/store/embedded"
)

// The replay tests deliver one stream of webhooks in order, then shuffled,
// with every batch delivered twice and some delivered concurrently, and
// expect the same final state and the same events, each once: statuses
// before the messages they concern and before their send is recorded,
// read before delivered, batches mixing new and seen items, Apple
// duplicates, closes before the messages they follow.

var r0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// step is one delivery: a webhook's items, or a send being recorded.
type step struct {
	items []message.InboundItem
	send  string // the platform id the send gets
}

func waMsg(customer, pid string, sec int) message.InboundItem {
	return message.InboundItem{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: customer,
		PlatformMessageID: pid, At: r0.Add(time.Duration(sec) * time.Second), Body: &message.Body{Type: "text", Text: "hi " + pid}}
}

func waStatus(pid, status string, sec int) message.InboundItem {
	return message.InboundItem{Kind: message.KindStatus, Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: "447700900001",
		PlatformMessageID: pid, Status: status, At: r0.Add(time.Duration(sec) * time.Second)}
}

func appleItem(kind, pid string, sec int, caps ...string) message.InboundItem {
	it := message.InboundItem{Kind: kind, Channel: message.Apple, BusinessID: "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70", CustomerID: "urn:mbid:AQAAY1x",
		PlatformMessageID: pid, At: r0.Add(time.Duration(sec) * time.Second), Capabilities: caps}
	if kind == message.KindMessage {
		it.Body = &message.Body{Type: "text", Text: "apple " + pid}
	}
	return it
}

// stream is the in-order stream.
func stream() []step {
	return []step{
		{items: []message.InboundItem{waMsg("447700900001", "wamid.in1", 1), waMsg("447700900002", "wamid.in2", 2)}},
		{send: "wamid.out1"},
		{items: []message.InboundItem{waStatus("wamid.out1", "sent", 10)}},
		{items: []message.InboundItem{waStatus("wamid.out1", "delivered", 11), waMsg("447700900001", "wamid.in3", 12)}},
		{items: []message.InboundItem{waStatus("wamid.out1", "read", 13)}},
		{send: "wamid.out2"},
		{items: []message.InboundItem{waStatus("wamid.out2", "sent", 20), waStatus("wamid.out2", "delivered", 21)}},
		{items: []message.InboundItem{appleItem(message.KindMessage, "a-1", 30, "QUICK"), appleItem(message.KindTypingStart, "a-2", 31)}},
		{items: []message.InboundItem{appleItem(message.KindClose, "a-3", 32, "QUICK", "LIST")}},
		{items: []message.InboundItem{appleItem(message.KindMessage, "a-4", 40, "QUICK", "LIST", "TIME")}},
		{items: []message.InboundItem{appleItem(message.KindClose, "a-5", 41)}},
		{items: []message.InboundItem{waMsg("447700900002", "wamid.in4", 50), waMsg("447700900002", "wamid.in5", 51), waMsg("447700900002", "wamid.in6", 52)}},
	}
}

// pidPlatform sends a template and answers with its name as the platform
// id, as fast as Meta, whose statuses may come first.
type pidPlatform struct{}

func (pidPlatform) Supports(string) bool                      { return true }
func (pidPlatform) Validate(message.Message) message.Problems { return nil }
func (pidPlatform) Send(_ context.Context, o message.Outgoing) (string, error) {
	return o.Message.Name, nil
}

type storeFactory func(t *testing.T, clk clock.Clock) store.Store

func stores(t *testing.T) map[string]storeFactory {
	var srv *moto.Server
	var once sync.Once
	var tables atomic.Int64
	return map[string]storeFactory{
		"embedded": func(t *testing.T, clk clock.Clock) store.Store {
			st, err := embedded.Open(t.TempDir(), clk)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		"dynamo": func(t *testing.T, clk clock.Clock) store.Store {
			once.Do(func() { srv = moto.StartT(t) })
			db := dynamo.NewClient(srv.Endpoint(), "")
			name := fmt.Sprintf("parley-replay-%d", tables.Add(1))
			if err := dynamo.CreateTable(t.Context(), db, name); err != nil {
				t.Fatal(err)
			}
			return dynamo.New(dynamo.Config{AWS: db, Table: name, Bucket: name, Clock: clk})
		},
	}
}

// outcome is what a run leaves, in terms that do not depend on the order:
// ids parley makes are replaced by the platform ids they stand for.
type outcome struct {
	conversations []string
	messages      []string
	events        []string
}

func replay(t *testing.T, st store.Store, clk clock.Clock, steps []step, concurrency int) outcome {
	t.Helper()
	ctx := t.Context()
	in := &ingest.Ingester{Store: st, Publisher: bus.Discard{}, Clock: clk}
	snd := &send.Sender{Store: st, Publisher: bus.Discard{}, Clock: clk, Platforms: map[message.Channel]send.Platform{message.WhatsApp: pidPlatform{}},
		Retry: retry.Policy{Attempts: 1}}
	work := make(chan step)
	var wg sync.WaitGroup
	errs := make(chan error, len(steps))
	for range concurrency {
		wg.Go(func() {
			for s := range work {
				if s.send != "" {
					_, err := snd.Send(ctx, message.SendRequest{Channel: message.WhatsApp, BusinessID: "106540352242922", To: "447700900001",
						Message: message.Message{Type: message.TypeTemplate, Name: s.send, Language: "en"}, IdempotencyKey: s.send})
					if err != nil && message.AsError(err).Code != message.CodeConflict {
						errs <- fmt.Errorf("send %s: %v", s.send, err)
					}
					continue
				}
				if _, err := in.Ingest(ctx, s.items); err != nil {
					errs <- fmt.Errorf("webhook %v: %v", s.items, err)
				}
			}
		})
	}
	for _, s := range steps {
		work <- s
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return observe(t, st)
}

func observe(t *testing.T, st store.Store) outcome {
	t.Helper()
	ctx := t.Context()
	var o outcome
	keys := []store.ConversationKey{
		{Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: "447700900001"},
		{Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: "447700900002"},
		{Channel: message.Apple, BusinessID: "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70", CustomerID: "urn:mbid:AQAAY1x"},
	}
	pidOf := map[string]string{}
	for _, k := range keys {
		c, err := st.Conversation(ctx, k)
		if err != nil {
			t.Fatalf("Conversation %v: %v", k, err)
		}
		o.conversations = append(o.conversations, fmt.Sprintf("%s %s last=%s window=%s closed=%v/%s caps=%v expires=%s", k.Channel, k.CustomerID,
			c.LastInboundAt.UTC().Format(time.RFC3339), c.WindowClosesAt.UTC().Format(time.RFC3339), c.Closed, c.ClosedAt.UTC().Format(time.RFC3339),
			c.Capabilities, c.ExpiresAt.UTC().Format(time.RFC3339)))
		recs, err := st.RecentMessages(ctx, k, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			pidOf[r.ID] = r.PlatformMessageID
			var hist []string
			for _, h := range r.History {
				hist = append(hist, h.Status+"@"+h.At.UTC().Format("15:04:05"))
			}
			if r.Direction == message.Outbound {
				// The first entry is the record's own, at the time it
				// was written; the rest are the platform's, by time.
				hist = append(hist[:1], slices.Sorted(slices.Values(hist[1:]))...)
				hist[0] = strings.Split(hist[0], "@")[0]
			} else {
				hist = []string{r.Status}
			}
			o.messages = append(o.messages, fmt.Sprintf("%s %s %s %s", r.Direction, r.PlatformMessageID, r.Status, strings.Join(hist, ",")))
		}
	}
	sort.Strings(o.messages)
	evs, err := st.Events(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		o.events = append(o.events, fmt.Sprintf("%s %s %s msg=%s", e.Type, e.PlatformMessageID, e.Status, pidOf[e.MessageID]))
	}
	sort.Strings(o.events)
	return o
}

func TestReplayShuffledAndDuplicated(t *testing.T) {
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			now := r0.Add(time.Minute)
			want := replay(t, newStore(t, clock.NewManual(now)), clock.NewManual(now), stream(), 1)
			if len(want.events) != 18 {
				t.Fatalf("the in-order run gave %d events: %s", len(want.events), strings.Join(want.events, "\n"))
			}
			t.Run("reversed", func(t *testing.T) {
				// Every status before its send, read before delivered, each
				// close before the message it follows.
				steps := stream()
				slices.Reverse(steps)
				clk := clock.NewManual(now)
				st := newStore(t, clk)
				got := replay(t, st, clk, steps, 1)
				if !slices.Equal(got.messages, want.messages) || !slices.Equal(got.events, want.events) || !slices.Equal(got.conversations, want.conversations) {
					t.Errorf("reversed:\n got %v\nwant %v", got, want)
				}
			})
			for seed := range uint64(3) {
				t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(seed, 11))
					steps := stream()
					// Every batch twice, one of them split up and mixed
					// into others (new and seen items together).
					var extra []step
					for _, s := range steps {
						if len(s.items) > 1 {
							extra = append(extra, step{items: s.items[:1]}, step{items: slices.Concat(s.items[1:], s.items[:1])})
						} else {
							extra = append(extra, s)
						}
					}
					steps = append(steps, extra...)
					rng.Shuffle(len(steps), func(i, j int) { steps[i], steps[j] = steps[j], steps[i] })
					clk := clock.NewManual(now)
					got := replay(t, newStore(t, clk), clk, steps, 1+int(seed))
					for _, part := range []struct {
						what      string
						got, want []string
					}{{"conversations", got.conversations, want.conversations}, {"messages", got.messages, want.messages}, {"events", got.events, want.events}} {
						if !slices.Equal(part.got, part.want) {
							t.Errorf("%s\n got %s\nwant %s", part.what, strings.Join(part.got, "\n     "), strings.Join(part.want, "\n     "))
						}
					}
				})
			}
		})
	}
}
