// Package whatsappsim simulates the WhatsApp Cloud API's Graph endpoint
// for the local stack and for tests: it accepts what Meta accepts for text
// messages, refuses what Meta refuses with Meta's error envelopes, records
// what it accepted, and plays the customer by posting signed webhooks
// (replies and delivery statuses) to parley.
//
// A Simulator is an http.Handler with relative routes, meant to be mounted
// under a prefix with http.StripPrefix:
//
//	POST /{version}/{phone-number-id}/messages   the Graph send endpoint
//	GET  /messages[?to=]                         what it accepted, oldest first
//	POST /reply                                  the customer writes (a webhook)
//	POST /status                                 a status for an accepted message (a webhook)
package whatsappsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Config is what a Simulator needs.
type Config struct {
	// Token is the only access token the send endpoint accepts. Empty, it
	// accepts none.
	Token string
	// AppSecret signs the webhooks the simulator posts.
	AppSecret string
	// WebhookURL is where the simulator posts webhooks, e.g. parley's
	// /webhooks/whatsapp.
	WebhookURL string
	// KnownNumbers, when set, are the only phone-number-ids the simulator
	// knows; empty, it knows every id.
	KnownNumbers []string
	// HTTP posts the webhooks; nil means a client with a 10 s timeout.
	HTTP *http.Client
	// Now tells the time of accepted messages and webhooks; nil means
	// time.Now.
	Now func() time.Time
}

// Accepted is a message the simulator accepted.
type Accepted struct {
	WAMID         string `json:"wamid"`
	PhoneNumberID string `json:"phoneNumberId"`
	// To is the recipient as the request gave it; WaID is the same number
	// as Meta reports it back, digits only.
	To   string `json:"to"`
	WaID string `json:"waId"`
	// Request is the request body as received.
	Request json.RawMessage `json:"request"`
	At      time.Time       `json:"at"`
}

// Simulator is the simulated Graph API. Make one with New.
type Simulator struct {
	cfg Config
	mux *http.ServeMux

	mu       sync.Mutex
	accepted []Accepted
}

// New returns a Simulator for cfg.
func New(cfg Config) *Simulator {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Simulator{cfg: cfg, mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Simulator) routes() {
	s.mux.HandleFunc("POST /{version}/{phoneNumberID}/messages", s.handleSend)
	s.mux.HandleFunc("GET /messages", s.handleList)
	s.mux.HandleFunc("POST /reply", s.handleReply)
	s.mux.HandleFunc("POST /status", s.handleStatus)
}

// ServeHTTP serves the simulator's routes.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Accepted returns the messages accepted so far, oldest first.
func (s *Simulator) Accepted() []Accepted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted)
}

func (s *Simulator) record(a Accepted) {
	s.mu.Lock()
	s.accepted = append(s.accepted, a)
	s.mu.Unlock()
}

func (s *Simulator) find(wamid string) (Accepted, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accepted {
		if a.WAMID == wamid {
			return a, true
		}
	}
	return Accepted{}, false
}

func (s *Simulator) knows(phoneNumberID string) bool {
	return len(s.cfg.KnownNumbers) == 0 || slices.Contains(s.cfg.KnownNumbers, phoneNumberID)
}

func (s *Simulator) handleList(w http.ResponseWriter, r *http.Request) {
	to := waID(r.URL.Query().Get("to"))
	list := []Accepted{}
	for _, a := range s.Accepted() {
		if to == "" || a.WaID == to {
			list = append(list, a)
		}
	}
	writeJSON(w, http.StatusOK, list)
}

// writeJSON writes v as the JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers a request to one of the simulator's own routes
// (not the Graph API's) that it cannot serve.
func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": "whatsappsim: " + fmt.Sprintf(format, args...)})
}

// newWAMID returns a message id shaped like Meta's: "wamid." and base64.
func newWAMID() string {
	return "wamid.HBgM" + base64.StdEncoding.EncodeToString(random(30))
}

func random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}
