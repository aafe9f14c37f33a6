package ingest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley/infra/load"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/httpapi"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store/embedded"
	"github.com/parleyhq/parley/shared/whatsapp"
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
	return attackStack{h: httpapi.Webhooks(in, []channel.Webhook{whatsapp.Webhook{AppSecret: channel.Fixed(secret)}}, clk, nil), st: st, clk: clk}
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

// TestAppleTokenReplay: Apple's token signs neither the body nor the
// routing headers, so a captured one is refused once it is stale (or issued
// in the future), and a delivery replayed while it is fresh is recognised
// by its message id: nothing is stored twice.
func TestAppleTokenReplay(t *testing.T) {
	appleSecret := []byte("attack-apple-msp-secret-32-bytes")
	const mspID = "6a1f0c4e-0000-4000-8000-1234567890ab"
	clk := clock.NewManual(r0)
	st, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := &ingest.Ingester{Store: st, Blobs: st, Publisher: bus.Discard{}, Clock: clk}
	h := httpapi.Webhooks(in, []channel.Webhook{apple.Webhook{MSPID: mspID, Secret: channel.Fixed(base64.StdEncoding.EncodeToString(appleSecret))}}, clk, nil)
	token := func(iat time.Time) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": mspID, "iat": iat.Unix()}).SignedString(appleSecret)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	deliver := func(auth, id, customer, text string) int {
		body, _ := json.Marshal(map[string]any{"v": 1, "type": "text", "id": id, "sourceId": customer, "destinationId": "biz-1", "body": text})
		req := httptest.NewRequest(http.MethodPost, "/webhooks/apple/message", bytes.NewReader(body))
		for k, v := range map[string]string{"Authorization": auth, "id": id, "source-id": customer, "destination-id": "biz-1"} {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	received := func() int {
		evs, err := st.Events(t.Context(), "", 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range evs {
			if e.Type == message.EventReceived {
				n++
			}
		}
		return n
	}

	captured := token(r0)
	if code := deliver(captured, "5c1e8d2a-0000-4000-8000-000000000001", "urn:mbid:AQAAY1x/Wq+Lr0c=", "hello"); code != http.StatusOK {
		t.Fatalf("the first delivery: HTTP %d", code)
	}
	// The same delivery replayed a minute later: acknowledged, not stored again.
	clk.Set(r0.Add(time.Minute))
	if code := deliver(captured, "5c1e8d2a-0000-4000-8000-000000000001", "urn:mbid:AQAAY1x/Wq+Lr0c=", "hello"); code != http.StatusOK || received() != 1 {
		t.Fatalf("a replay within the window: HTTP %d, %d messages stored, want 200 and 1", code, received())
	}
	for _, tt := range []struct {
		name     string
		at       time.Time
		auth     string
		id, text string
	}{
		{"the captured token on a new body and customer once stale", r0.Add(apple.TokenMaxAge + time.Second), captured, "5c1e8d2a-0000-4000-8000-000000000002", "forged"},
		{"a token issued two years ago", r0, token(r0.Add(-2 * 365 * 24 * time.Hour)), "5c1e8d2a-0000-4000-8000-000000000003", "forged"},
		{"a token issued three years ahead", r0, token(r0.Add(3 * 365 * 24 * time.Hour)), "5c1e8d2a-0000-4000-8000-000000000004", "forged"},
		{"a token issued ahead by more than the skew", r0, token(r0.Add(apple.TokenMaxSkew + time.Second)), "5c1e8d2a-0000-4000-8000-000000000005", "forged"},
	} {
		clk.Set(tt.at)
		if code := deliver(tt.auth, tt.id, "urn:mbid:AQAAZm9yZ2Vk", tt.text); code != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", tt.name, code)
		}
	}
	if n := received(); n != 1 {
		t.Errorf("%d messages stored, want the first only", n)
	}
}
