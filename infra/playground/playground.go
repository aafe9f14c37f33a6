// Package playground is the local stack's browser playground: a page that
// shows a WhatsApp and an Apple conversation as the customer's phone draws
// them, lets a person answer as the customer through the simulators, send
// any message type through the send API, and watch the event log live.
//
// Handler serves, relative to where it is mounted (the local stack mounts
// it at "/"):
//
//	GET /                    the page
//	GET /playground/{file}   its scripts and styles, embedded in the binary
//	GET /playground/stream   the event log as Server-Sent Events
//	GET /playground/conversations?limit=n
//	                         the conversations the event log names, most
//	                         recent first, with their window or closed state
//
// The page itself calls the send API (/v1/), and the simulators'
// /sim/whatsapp/ and /sim/apple/ routes of the same origin.
package playground

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

//go:embed assets
var embedded embed.FS

// assets are the page's files, at the root.
var assets = func() fs.FS {
	sub, err := fs.Sub(embedded, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}()

// Defaults of Config.
const (
	DefaultPoll      = 250 * time.Millisecond
	DefaultHeartbeat = 15 * time.Second
)

// streamBatch is how many events one read of the log asks for; a full
// batch is followed by another read at once.
const streamBatch = 100

// Config is what the playground needs.
type Config struct {
	// Events reads the event log: up to limit events after the cursor,
	// oldest first, "" starting at the beginning (store.Store.Events).
	Events func(ctx context.Context, after string, limit int) ([]message.Event, error)
	// Conversation reads a conversation's state (store.Store.Conversation)
	// for the list of conversations; nil lists them without it.
	Conversation func(ctx context.Context, k store.ConversationKey) (message.Conversation, error)
	// Done, when closed, ends every open stream, so that a server can
	// shut down while pages are open. Nil streams until the client goes.
	Done <-chan struct{}
	// Poll is how often a stream reads the log; zero means DefaultPoll.
	Poll time.Duration
	// Heartbeat is how long a stream may stay silent before it sends a
	// comment, so that proxies keep it open; zero means DefaultHeartbeat.
	Heartbeat time.Duration
	// Log records failures to read the log; nil means slog.Default().
	Log *slog.Logger
}

// Handler returns the playground's routes.
func Handler(cfg Config) http.Handler {
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", page())
	mux.Handle("GET /playground/", http.StripPrefix("/playground/", files()))
	mux.Handle("GET /playground/stream", stream(cfg))
	mux.Handle("GET /playground/conversations", conversations(cfg, &conversationIndex{events: cfg.Events}))
	return mux
}

// contentPolicy keeps the page to its own origin: scripts, styles and
// connections. Images may come from anywhere a message names.
const contentPolicy = "default-src 'self'; img-src 'self' data: http: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

func page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentPolicy)
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, assets, "index.html")
	})
}

func files() http.Handler {
	fsrv := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || r.URL.Path == "index.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fsrv.ServeHTTP(w, r)
	})
}

// stream sends the event log from a cursor on, one SSE message per event
// with the event id as the message id: a browser that reconnects sends
// Last-Event-ID and resumes after it. Without it, ?after= names the
// cursor, and without that the stream starts at the beginning of the log.
func stream(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cursor := r.Header.Get("Last-Event-ID")
		if cursor == "" {
			cursor = r.URL.Query().Get("after")
		}
		rc := http.NewResponseController(w)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		// retry: the browser reconnects one second after losing the stream.
		if _, err := w.Write([]byte("retry: 1000\n\n")); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
		ctx := r.Context()
		poll := time.NewTicker(cfg.Poll)
		defer poll.Stop()
		heartbeat := time.NewTicker(cfg.Heartbeat)
		defer heartbeat.Stop()
		failing := false
		for {
			evs, err := cfg.Events(ctx, cursor, streamBatch)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				// Log the first failure of a run, not one line per poll.
				if !failing {
					cfg.Log.ErrorContext(ctx, "playground: reading the event log failed", "error", err)
				}
				failing = true
			default:
				failing = false
			}
			if len(evs) > 0 {
				for _, ev := range evs {
					b, err := json.Marshal(ev)
					if err != nil {
						cfg.Log.ErrorContext(ctx, "playground: an event cannot be encoded", "event", ev.ID, "error", err)
						cursor = ev.ID
						continue
					}
					if writeEvent(w, ev.ID, b) != nil {
						return
					}
					cursor = ev.ID
				}
				if rc.Flush() != nil {
					return
				}
				heartbeat.Reset(cfg.Heartbeat)
				if len(evs) == streamBatch {
					continue
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-cfg.Done:
				return
			case <-heartbeat.C:
				if _, err := w.Write([]byte(": heartbeat\n\n")); err != nil {
					return
				}
				if rc.Flush() != nil {
					return
				}
			case <-poll.C:
			}
		}
	})
}

// writeEvent writes one event as an SSE message. Encoded JSON has no raw
// line breaks, so one data line carries it.
func writeEvent(w http.ResponseWriter, id string, data []byte) error {
	buf := make([]byte, 0, len(data)+len(id)+16)
	buf = append(buf, "id: "...)
	buf = append(buf, id...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	_, err := w.Write(buf)
	return err
}
