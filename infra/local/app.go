package local

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/message"
)

// DefaultEventsWebhookSecret is the secret the local app receiver checks
// event webhooks with when the environment sets none (whsec_ + Base64 of
// "parley-local-events-webhook-secret"); infra/local/env.json gives it to
// the webhook function.
const DefaultEventsWebhookSecret = "whsec_cGFybGV5LWxvY2FsLWV2ZW50cy13ZWJob29rLXNlY3JldA=="

// maxAppBody caps what the receiver reads of a request: an event is far
// smaller.
const maxAppBody = 1 << 20

// AppReceiver stands for the app's endpoint of event webhooks, at
// /sim/app/events: it checks each POST as README tells an app to (the
// Standard Webhooks signature with Key, the timestamp within 5 minutes),
// answers 401 when the check fails and 204 when it passes — or the status
// the URL's answer query parameter names (e.g. ?answer=503, an app that is
// down) — and keeps the verified events, which GET lists.
type AppReceiver struct {
	Key []byte
	Now func() time.Time

	mu       sync.Mutex
	received []ReceivedEvent
}

// ReceivedEvent is an event the receiver took, as it came.
type ReceivedEvent struct {
	ID         string        `json:"webhookId"`
	Answer     int           `json:"answer"`
	ReceivedAt time.Time     `json:"receivedAt"`
	Event      message.Event `json:"event"`
}

// Received returns the verified requests, oldest first.
func (a *AppReceiver) Received() []ReceivedEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]ReceivedEvent(nil), a.received...)
}

func (a *AppReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/events" {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(a.Received())
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAppBody))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := apphook.Verify(a.Key, r.Header, body, a.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev message.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "not an event: "+err.Error(), http.StatusBadRequest)
			return
		}
		answer := http.StatusNoContent
		if s, err := strconv.Atoi(r.URL.Query().Get("answer")); err == nil && s >= 200 && s <= 599 {
			answer = s
		}
		a.mu.Lock()
		a.received = append(a.received, ReceivedEvent{ID: r.Header.Get(apphook.HeaderID), Answer: answer, ReceivedAt: a.Now().UTC(), Event: ev})
		a.mu.Unlock()
		w.WriteHeader(answer)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// appKey is the key the receiver checks with: the stack's own events
// webhook secret when it has one, else DefaultEventsWebhookSecret's.
func appKey(cfg Config) []byte {
	if cfg.EventsWebhook != nil {
		return cfg.EventsWebhook.Key
	}
	key, _ := apphook.ParseSecret(DefaultEventsWebhookSecret)
	return key
}
