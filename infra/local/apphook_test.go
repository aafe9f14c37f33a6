package local

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
)

const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestEventWebhooks: with PARLEY_EVENTS_WEBHOOK_URL and _SECRET set, the
// local stack POSTs every event to the app, signed, in order; the parked
// deliveries are listed through the API.
func TestEventWebhooks(t *testing.T) {
	key, _ := apphook.ParseSecret(hookSecret)
	var mu sync.Mutex
	var got []message.Event
	var bad []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := apphook.Verify(key, r.Header, body, time.Now()); err != nil {
			bad = append(bad, err.Error())
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev message.Event
		json.Unmarshal(body, &ev)
		if r.Header.Get(apphook.HeaderID) != ev.ID {
			bad = append(bad, "webhook-id "+r.Header.Get(apphook.HeaderID)+" is not the event's id "+ev.ID)
		}
		got = append(got, ev)
	}))
	defer app.Close()
	dataDir := t.TempDir()
	env := map[string]string{"PARLEY_LOG_LEVEL": "warn", "PARLEY_DATA_DIR": dataDir,
		"PARLEY_EVENTS_WEBHOOK_URL": app.URL + "/parley", "PARLEY_EVENTS_WEBHOOK_SECRET": hookSecret}
	st, err := Start(context.Background(), Options{Addr: "127.0.0.1:0", Getenv: func(k string) string { return env[k] }, Log: io.Discard,
		Clock: clock.System{}, FallbackEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "Hi"})
	if code, _, e := sendText(t, st, "whatsapp", waBusiness, waCustomer, "Hello"); code != http.StatusAccepted {
		t.Fatalf("send: %d %+v", code, e)
	}
	var log []message.Event
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		log = events(t, st)
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(log) && len(log) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("the app refused: %v", bad)
	}
	if len(got) != len(log) {
		t.Fatalf("the app got %d events, the log holds %d", len(got), len(log))
	}
	for i := range log {
		if got[i].ID != log[i].ID || got[i].Type != log[i].Type {
			t.Errorf("webhook %d is %s %s, the log's is %s %s", i, got[i].ID, got[i].Type, log[i].ID, log[i].Type)
		}
	}

	var page struct {
		Deliveries []apphook.Delivery `json:"deliveries"`
	}
	if code := call(t, "GET", st.URL+"/v1/webhook-deliveries?status=failed", nil, &page); code != http.StatusOK || len(page.Deliveries) != 0 {
		t.Errorf("GET /v1/webhook-deliveries = %d %+v, want 200 and none", code, page)
	}
	// A delivery that ran out of attempts: listed, then redriven.
	parked := log[0]
	if err := apphook.Dir(filepath.Join(dataDir, "webhooks-failed")).Park(context.Background(),
		apphook.Delivery{ID: parked.ID, Status: apphook.StatusFailed, Event: parked, Attempts: 8, LastError: "the app answered HTTP 503"}); err != nil {
		t.Fatal(err)
	}
	if code := call(t, "GET", st.URL+"/v1/webhook-deliveries", nil, &page); code != http.StatusOK || len(page.Deliveries) != 1 || page.Deliveries[0].Event.ID != parked.ID {
		t.Errorf("GET /v1/webhook-deliveries = %d %+v, want the parked delivery", code, page)
	}
	mu.Unlock()
	var redriven apphook.Delivery
	if code := call(t, "POST", st.URL+"/v1/webhook-deliveries/"+parked.ID+"/redrive", nil, &redriven); code != http.StatusAccepted || redriven.Status != "redriven" {
		t.Errorf("redrive = %d %+v", code, redriven)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > len(log) {
			break
		}
	}
	mu.Lock()
	if len(got) != len(log)+1 || got[len(got)-1].ID != parked.ID {
		t.Errorf("after the redrive the app got %d events, want the redriven one last", len(got))
	}
	if code := call(t, "GET", st.URL+"/v1/webhook-deliveries", nil, &page); code != http.StatusOK || len(page.Deliveries) != 0 {
		t.Errorf("still parked after the redrive: %+v", page)
	}
	if code := call(t, "GET", st.URL+"/v1/webhook-deliveries?status=delivered", nil, nil); code != http.StatusBadRequest {
		t.Errorf("GET ?status=delivered = %d, want 400", code)
	}
	if code := call(t, "POST", st.URL+"/v1/webhook-deliveries/nope/redrive", nil, nil); code != http.StatusNotFound {
		t.Errorf("redrive of an unknown id = %d, want 404", code)
	}
}
