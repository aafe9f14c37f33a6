// Package applesim simulates Apple's MSP gateway for the local stack and for
// tests: it accepts what POST /v1/message accepts and refuses what it refuses,
// with Apple's status codes, keeps the messages it accepted, and replies as a
// customer by calling parley's webhook the way Apple does (gzip body, JWT with
// aud = the MSP id, Apple's headers).
//
// Mount it with http.StripPrefix; under /sim/apple the gateway base URL to
// configure is <base>/sim/apple/v1. Routes, relative to the mount:
//
//	POST /v1/message   the gateway's send endpoint
//	GET  /messages     the accepted messages, oldest first; ?to= filters by destination
//	POST /reply        write to the business as a customer (see Reply)
package applesim

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Config is what the simulator shares with the MSP it serves.
type Config struct {
	// MSPID is the MSP id: the iss the gateway demands and the aud of the
	// webhooks it sends.
	MSPID string
	// Secret is the decoded API secret that signs both ways.
	Secret []byte
	// WebhookURL is where replies are posted, in full: unlike Apple, the
	// simulator does not append /message.
	WebhookURL string
	// HTTP is the client that calls the webhook; nil means a client with
	// Apple's 30-second timeout.
	HTTP *http.Client
	// Now is the simulator's clock; nil means time.Now.
	Now func() time.Time
}

// Message is a message the gateway accepted.
type Message struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Source      string          `json:"source"`
	Destination string          `json:"destination"`
	Body        json.RawMessage `json:"body"`
	Time        time.Time       `json:"time"`
}

// Simulator is the simulated gateway, an http.Handler.
type Simulator struct {
	cfg  Config
	mux  *http.ServeMux
	mu   sync.Mutex
	sent []Message
}

// New returns a simulator serving cfg's MSP.
func New(cfg Config) *Simulator {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Simulator{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /v1/message", s.handleMessage)
	s.mux.HandleFunc("GET /messages", s.handleMessages)
	s.mux.HandleFunc("POST /reply", s.handleReply)
	return s
}

// ServeHTTP serves the routes listed in the package documentation.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Messages returns the accepted messages, oldest first; a non-empty to keeps
// those sent to that customer.
func (s *Simulator) Messages(to string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Message{}
	for _, m := range s.sent {
		if to == "" || m.Destination == to {
			out = append(out, m)
		}
	}
	return out
}

func (s *Simulator) handleMessages(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Messages(r.URL.Query().Get("to")))
}

// writeJSON writes v as the JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
