package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"

	"github.com/parleyhq/parley/shared/access"
	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/logs"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/requestid"
	"github.com/parleyhq/parley/shared/store"
)

// Sender sends one message and cancels scheduled ones (the send use case).
type Sender interface {
	Send(ctx context.Context, req message.SendRequest) (message.SendResult, error)
	Cancel(ctx context.Context, id string) (message.Record, error)
}

// API returns the handler of the send API:
//
//	POST /v1/messages
//	GET  /v1/messages/{id}
//	DELETE /v1/messages/{id}   (cancels a scheduled message)
//	GET  /v1/conversations/{channel}/{businessId}/{customerId}
//	GET  /v1/events?after=<cursor>&limit=<n>
//	POST /v1/uploads           (a URL to PUT a large attachment to)
//	PUT  /v1/uploads/{id}      (that URL, when the blob store cannot presign)
//
// up nil leaves out the upload routes. scopes limits each caller (the IAM
// principal the Lambda adapter puts in the request's context) to its
// businesses: sends, reads and events of others are refused with 403
// forbidden; nil scopes let every caller act for every business.
func API(s Sender, st store.Store, up *Uploads, log *slog.Logger, scopes access.Scopes) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/messages", handleSend(s, scopes))
	if up != nil {
		mux.Handle("POST /v1/uploads", up.handleCreate())
		if _, presigns := up.Blobs.(store.PresignPuter); !presigns {
			mux.Handle("PUT /v1/uploads/{id}", up.handlePut())
		}
	}
	mux.Handle("GET /v1/messages/{id}", handleGetMessage(st, scopes))
	mux.Handle("DELETE /v1/messages/{id}", handleCancel(s, st, scopes))
	mux.Handle("GET /v1/conversations/{channel}/{businessId}/{customerId}", handleConversation(st, scopes))
	mux.Handle("GET /v1/events", handleEvents(st, scopes))
	mux.Handle("/v1/", notFound())
	return logRequests(log, mux)
}

func handleSend(s Sender, scopes access.Scopes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req message.SendRequest
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		if err := scopes.Check(access.Caller(r.Context()), req.BusinessID, "send as"); err != nil {
			writeError(w, err)
			return
		}
		res, err := s.Send(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		requestid.SetMessageID(r.Context(), res.ID)
		encode(w, http.StatusAccepted, res)
	})
}

// handleCancel cancels a scheduled message and answers its record.
func handleCancel(s Sender, st store.Store, scopes access.Scopes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		requestid.SetMessageID(r.Context(), id)
		if scopes != nil {
			// Whose message it is decides; an unknown id is Cancel's 404.
			rec, err := st.Message(r.Context(), id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				writeError(w, storeError(r, "reading a message", err))
				return
			}
			if err == nil {
				if err := scopes.Check(access.Caller(r.Context()), rec.BusinessID, "cancel messages of"); err != nil {
					writeError(w, err)
					return
				}
			}
		}
		rec, err := s.Cancel(r.Context(), id)
		if err != nil {
			writeError(w, err)
			return
		}
		encode(w, http.StatusOK, rec)
	})
}

func handleGetMessage(st store.Store, scopes access.Scopes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		requestid.SetMessageID(r.Context(), id)
		rec, err := st.Message(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, message.Errorf(message.CodeNotFound, "no message %q", id))
			return
		}
		if err != nil {
			writeError(w, storeError(r, "reading a message", err))
			return
		}
		if err := scopes.Check(access.Caller(r.Context()), rec.BusinessID, "read"); err != nil {
			writeError(w, err)
			return
		}
		encode(w, http.StatusOK, rec)
	})
}

// conversationView is the answer of GET /v1/conversations/….
type conversationView struct {
	Channel       message.Channel `json:"channel"`
	BusinessID    string          `json:"businessId"`
	CustomerID    string          `json:"customerId"`
	Window        *windowView     `json:"window,omitempty"`
	Closed        bool            `json:"closed"`
	ClosedAt      string          `json:"closedAt,omitempty"`
	LastInboundAt string          `json:"lastInboundAt,omitempty"`
	Capabilities  []string        `json:"capabilities,omitempty"`
	// Routing is the latest intent, group, locale and device-agent (Apple).
	message.Routing
	// Customer is every id and the profile of a WhatsApp customer;
	// GroupChat is set on a WhatsApp group's conversation.
	Customer       *message.Customer `json:"customer,omitempty"`
	GroupChat      bool              `json:"groupChat,omitempty"`
	RecentMessages []message.Record  `json:"recentMessages"`
}

type windowView struct {
	Open     bool   `json:"open"`
	ClosesAt string `json:"closesAt,omitempty"`
}

const recentLimit = 20

func handleConversation(st store.Store, scopes access.Scopes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := store.ConversationKey{
			Channel:    message.Channel(r.PathValue("channel")),
			BusinessID: r.PathValue("businessId"),
			CustomerID: r.PathValue("customerId"),
		}
		if !k.Channel.Valid() {
			writeError(w, &message.Error{Code: message.CodeInvalidRequest, Message: `channel must be "whatsapp" or "apple"`,
				Details: message.Problems{{Field: "channel", Problem: "unknown channel"}}})
			return
		}
		if err := scopes.Check(access.Caller(r.Context()), k.BusinessID, "read"); err != nil {
			writeError(w, err)
			return
		}
		// The customer id as the channel writes it: a WhatsApp number
		// given with a "+" or spaces reads the same conversation.
		if ch, ok := channel.Lookup(k.Channel); ok {
			k.CustomerID = ch.CustomerID(k.CustomerID)
		}
		view := conversationView{Channel: k.Channel, BusinessID: k.BusinessID, CustomerID: k.CustomerID, RecentMessages: []message.Record{}}
		// Any id of a WhatsApp customer reaches their conversation, which
		// is kept under their business-scoped user id (store/alias.go).
		conv, err := store.ResolveConversation(r.Context(), st, k)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			writeError(w, storeError(r, "reading a conversation", err))
			return
		default:
			k.CustomerID = conv.CustomerID
			view.CustomerID = conv.CustomerID
			view.Customer = conv.Customer
			view.GroupChat = conv.GroupChat
			if !conv.LastInboundAt.IsZero() {
				view.LastInboundAt = conv.LastInboundAt.UTC().Format(timeFormat)
			}
			view.Closed = conv.Closed
			if conv.Closed {
				view.ClosedAt = conv.ClosedAt.UTC().Format(timeFormat)
			}
			view.Capabilities = conv.Capabilities
			view.Routing = conv.Routing
		}
		if ch, ok := channel.Lookup(k.Channel); ok && ch.Window() > 0 {
			view.Window = &windowView{Open: !conv.WindowClosesAt.IsZero()}
			if view.Window.Open {
				view.Window.ClosesAt = conv.WindowClosesAt.UTC().Format(timeFormat)
			}
		}
		recs, err := st.RecentMessages(r.Context(), k, recentLimit)
		if err != nil {
			writeError(w, storeError(r, "reading recent messages", err))
			return
		}
		view.RecentMessages = append(view.RecentMessages, recs...)
		encode(w, http.StatusOK, view)
	})
}

const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// eventsPage is the answer of GET /v1/events.
type eventsPage struct {
	Events []message.Event `json:"events"`
	// Next is the cursor for the following page: pass it as ?after=.
	Next string `json:"next"`
}

const (
	defaultEventsLimit = 100
	maxEventsLimit     = 1000
)

// handleEvents answers a page of the event log. A caller limited to some
// businesses sees only their events; the page's cursor still moves past
// the others, so a page may hold fewer than limit events.
func handleEvents(st store.Store, scopes access.Scopes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		own, limited := scopes.Businesses(access.Caller(r.Context()))
		if limited && len(own) == 0 {
			caller := access.Caller(r.Context())
			if caller == "" {
				caller = "a caller without an IAM identity"
			}
			writeError(w, message.Errorf(message.CodeForbidden, "%s may not read the events of any business", caller))
			return
		}
		after := r.URL.Query().Get("after")
		limit := defaultEventsLimit
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxEventsLimit {
				writeError(w, &message.Error{Code: message.CodeInvalidRequest, Message: "limit must be a whole number from 1 to 1000",
					Details: message.Problems{{Field: "limit", Problem: "must be 1 to 1000"}}})
				return
			}
			limit = n
		}
		evs, err := st.Events(r.Context(), after, limit)
		if err != nil {
			writeError(w, storeError(r, "reading events", err))
			return
		}
		page := eventsPage{Events: []message.Event{}, Next: after}
		for _, ev := range evs {
			if !limited || slices.Contains(own, ev.BusinessID) {
				page.Events = append(page.Events, ev)
			}
		}
		if len(evs) > 0 {
			page.Next = evs[len(evs)-1].ID
		}
		encode(w, http.StatusOK, page)
	})
}

func notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, message.Errorf(message.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
}

func storeError(r *http.Request, what string, err error) error {
	slog.Default().ErrorContext(r.Context(), what+" failed", "error", err)
	return message.Errorf(message.CodeInternal, "%s failed", what)
}

// logRequests logs one line per request: method, path (its customer id
// masked), status.
func logRequests(log *slog.Logger, h http.Handler) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		// The mux has matched r by now, so the route's customer id is known.
		log.Info("request", "method", r.Method, logs.Path(r.URL.Path, r.PathValue("customerId")), "status", sw.status)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}
