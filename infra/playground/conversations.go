package playground

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// maxConversations caps the list; the page shows the most recent.
const maxConversations = 100

// conversationItem is one conversation of GET /playground/conversations.
type conversationItem struct {
	Channel    message.Channel `json:"channel"`
	BusinessID string          `json:"businessId"`
	CustomerID string          `json:"customerId"`
	// LastActivityAt is the time of its newest event, LastEvent its type.
	LastActivityAt time.Time `json:"lastActivityAt"`
	LastEvent      string    `json:"lastEvent"`
	// Window is WhatsApp's customer-service window: open, and until when.
	Window *window `json:"window,omitempty"`
	// Closed is set while an Apple customer has closed the conversation.
	Closed bool `json:"closed,omitempty"`
}

type window struct {
	Open     bool      `json:"open"`
	ClosesAt time.Time `json:"closesAt,omitzero"`
}

// conversationIndex knows every conversation the event log has named since
// the playground started reading it, by its newest event. It reads only
// the events after the last one it saw.
type conversationIndex struct {
	events func(ctx context.Context, after string, limit int) ([]message.Event, error)

	mu     sync.Mutex
	cursor string
	byKey  map[store.ConversationKey]*conversationItem
	// shown maps a WhatsApp conversation's key (a business-scoped user
	// id) to the phone number the page knows the customer by, when an
	// event showed one.
	shown map[store.ConversationKey]string
}

// update reads the log from the cursor on.
func (x *conversationIndex) update(ctx context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.byKey == nil {
		x.byKey = map[store.ConversationKey]*conversationItem{}
	}
	for {
		evs, err := x.events(ctx, x.cursor, streamBatch)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			x.cursor = ev.ID
			if ev.CustomerID == "" || ev.BusinessID == "" {
				continue
			}
			k := store.ConversationKey{Channel: ev.Channel, BusinessID: ev.BusinessID, CustomerID: ev.CustomerID}
			if ev.Customer != nil && ev.Customer.WaID != "" && ev.GroupID == "" && ev.Customer.WaID != ev.CustomerID {
				if x.shown == nil {
					x.shown = map[store.ConversationKey]string{}
				}
				x.shown[k] = ev.Customer.WaID
			}
			if phone, ok := x.shown[k]; ok {
				// Any id of a WhatsApp customer reaches their
				// conversation; the page shows the phone number.
				k.CustomerID = phone
			}
			it := x.byKey[k]
			if it == nil {
				it = &conversationItem{Channel: k.Channel, BusinessID: k.BusinessID, CustomerID: k.CustomerID}
				x.byKey[k] = it
			}
			if !ev.Time.Before(it.LastActivityAt) {
				it.LastActivityAt, it.LastEvent = ev.Time, ev.Type
			}
		}
		if len(evs) < streamBatch {
			return nil
		}
	}
}

// recent returns up to limit conversations, the most recent first.
func (x *conversationIndex) recent(limit int) []conversationItem {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]conversationItem, 0, len(x.byKey))
	for _, it := range x.byKey {
		out = append(out, *it)
	}
	slices.SortFunc(out, func(a, b conversationItem) int {
		if c := b.LastActivityAt.Compare(a.LastActivityAt); c != 0 {
			return c
		}
		return cmpKeys(a, b)
	})
	return out[:min(limit, len(out))]
}

func cmpKeys(a, b conversationItem) int {
	for _, c := range [][2]string{{string(a.Channel), string(b.Channel)}, {a.BusinessID, b.BusinessID}, {a.CustomerID, b.CustomerID}} {
		if c[0] != c[1] {
			if c[0] < c[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// conversations answers GET /playground/conversations?limit=n: the
// conversations of the event log, most recent first, each with its window
// (WhatsApp) or closed state (Apple) as the store has them now.
func conversations(cfg Config, x *conversationIndex) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := maxConversations
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxConversations {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid_request",
					"message": "limit must be a whole number from 1 to " + strconv.Itoa(maxConversations)}})
				return
			}
			limit = n
		}
		ctx := r.Context()
		if err := x.update(ctx); err != nil {
			cfg.Log.ErrorContext(ctx, "playground: reading the event log failed", "error", err)
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "internal", "message": "reading the event log failed"}})
			return
		}
		list := x.recent(limit)
		for i := range list {
			it := &list[i]
			if it.Channel == message.WhatsApp {
				it.Window = &window{}
			}
			if cfg.Conversation == nil {
				continue
			}
			c, err := cfg.Conversation(ctx, store.ConversationKey{Channel: it.Channel, BusinessID: it.BusinessID, CustomerID: it.CustomerID})
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				cfg.Log.ErrorContext(ctx, "playground: reading a conversation failed", "error", err)
				writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "internal", "message": "reading a conversation failed"}})
				return
			default:
				if it.Window != nil && !c.WindowClosesAt.IsZero() {
					it.Window.Open, it.Window.ClosesAt = true, c.WindowClosesAt.UTC()
				}
				it.Closed = c.Closed
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"conversations": list})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
