package ingest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/load"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/httpapi"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store/embedded"
)

const secret = "attack-app-secret"

// waBody is a WhatsApp webhook holding msgs (each {from, id, timestamp,
// text}) as Meta sends it.
func waBody(msgs ...[4]string) []byte {
	var ms []any
	for _, m := range msgs {
		ms = append(ms, map[string]any{"from": m[0], "id": m[1], "timestamp": m[2], "type": "text", "text": map[string]any{"body": m[3]}})
	}
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": "102290129340398",
		"changes": []any{map[string]any{"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
			"metadata": map[string]any{"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
			"messages": ms}}}}}})
	return b
}

type attackStack struct {
	h   http.Handler
	st  *embedded.Store
	clk *clock.Manual
}

func newAttackStack(t *testing.T) attackStack {
	clk := clock.NewManual(r0)
	st, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := &ingest.Ingester{Store: st, Blobs: st, Publisher: bus.Discard{}, Clock: clk}
	return attackStack{h: httpapi.Webhooks(in, httpapi.WebhookSecrets{WhatsAppAppSecret: secret}, clk, nil), st: st, clk: clk}
}

func (a attackStack) deliver(t *testing.T, body []byte) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", load.Sign(body, secret))
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	return rec.Code
}

func (a attackStack) events(t *testing.T) []message.Event {
	evs, err := a.st.Events(t.Context(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestBadIDsInASignedBatch: a signed batch whose items carry ids no
// platform makes (40 KB long, NUL, invalid UTF-8) is acknowledged; each bad
// item becomes one item.rejected event, the good ones are stored, and a
// redelivery adds nothing.
func TestBadIDsInASignedBatch(t *testing.T) {
	a := newAttackStack(t)
	ts := strconv.FormatInt(r0.Unix(), 10)
	huge := strings.Repeat("4", 40<<10)
	body := waBody(
		[4]string{huge, "wamid.bad-from", ts, "a 40 KB from"},
		[4]string{"447700900123", "wamid." + strings.Repeat("A", 40<<10), ts, "a 40 KB wamid"},
		[4]string{"447700900123", "wamid.nul\x00", ts, "a NUL in the wamid"},
		[4]string{"447700900123", "wamid.good", ts, "text with a NUL \x00 and bad UTF-8 \xff kept"},
	)
	for delivery := range 2 {
		if code := a.deliver(t, body); code != http.StatusOK {
			t.Fatalf("delivery %d: HTTP %d, want 200", delivery, code)
		}
		evs := a.events(t)
		var rejected, received int
		for _, e := range evs {
			switch e.Type {
			case message.EventRejected:
				rejected++
				if len(e.PlatformMessageID) > ingest.MaxPlatformIDLength || len(e.CustomerID) > ingest.MaxCustomerIDLength || e.Error == nil {
					t.Errorf("a rejected event carries the bad id or no reason: %.200v", e)
				}
			case message.EventReceived:
				received++
				if e.PlatformMessageID != "wamid.good" || !strings.Contains(e.Body.Text, "NUL \x00 and bad UTF-8 \uFFFD kept") {
					t.Errorf("received %s %q", e.PlatformMessageID, e.Body.Text)
				}
			}
		}
		if rejected != 3 || received != 1 || len(evs) != 4 {
			t.Fatalf("delivery %d: %d rejected, %d received of %d events; want 3, 1 of 4", delivery, rejected, received, len(evs))
		}
	}
}

// TestReplayAfterTheDedupeWindow: a signed body delivered again after its
// dedupe claim has expired is refused as a replay, not stored anew.
func TestReplayAfterTheDedupeWindow(t *testing.T) {
	a := newAttackStack(t)
	body := waBody([4]string{"447700900123", "wamid.once", strconv.FormatInt(r0.Unix(), 10), "hello"})
	if code := a.deliver(t, body); code != http.StatusOK {
		t.Fatalf("HTTP %d", code)
	}
	// A retry days later is still a duplicate.
	a.clk.Set(r0.Add(6 * 24 * time.Hour))
	a.deliver(t, body)
	if n := len(a.events(t)); n != 1 {
		t.Fatalf("%d events after a redelivery within the window, want 1", n)
	}
	a.clk.Set(r0.Add(ingest.DedupeRetention + time.Hour))
	if code := a.deliver(t, body); code != http.StatusOK {
		t.Fatalf("replay: HTTP %d", code)
	}
	evs := a.events(t)
	for _, e := range evs {
		if e.Type == message.EventReceived && e.Time.After(r0) {
			t.Fatalf("the replay was stored as a new message: %+v", e)
		}
	}
	if last := evs[len(evs)-1]; last.Type != message.EventRejected || !strings.Contains(last.Error.Message, "replay") {
		t.Fatalf("the replay gave %+v, want an item.rejected event", last)
	}
}
