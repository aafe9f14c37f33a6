// Package paysim simulates the two Apple Pay parties the local stack does
// not have: Apple Pay's merchant-session endpoint (POST /paymentSession,
// which in production requires the merchant identity certificate) and a
// business's payment processor (POST /processor/{callback}), which
// approves every payment, charges each transactionIdentifier once, and
// changes nothing on updates unless told what to answer (PUT
// /processor/answers/{callback}). Mount it under /sim/applepay.
package paysim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Call is one callback the processor received.
type Call struct {
	Name string          `json:"name"`
	Body json.RawMessage `json:"body"`
	At   time.Time       `json:"at"`
	// Charged is set on a payment the processor charged; a payment whose
	// transactionIdentifier it charged before is answered again without
	// a second charge.
	Charged bool `json:"charged,omitempty"`
}

// Simulator is the merchant-session endpoint and the processor.
type Simulator struct {
	mux     *http.ServeMux
	now     func() time.Time
	mu      sync.Mutex
	calls   []Call
	charged map[string]bool // by transactionIdentifier
	// answers are what the processor answers to the callbacks other than
	// the payment, by name; {} (no change) for the others.
	answers map[string]json.RawMessage
}

// New returns a simulator reading time from now (time.Now when nil).
func New(now func() time.Time) *Simulator {
	if now == nil {
		now = time.Now
	}
	s := &Simulator{mux: http.NewServeMux(), now: now, charged: map[string]bool{}, answers: map[string]json.RawMessage{}}
	s.mux.HandleFunc("POST /paymentSession", s.session)
	s.mux.HandleFunc("POST /processor/{name}", s.process)
	s.mux.HandleFunc("GET /processor/calls", s.listCalls)
	s.mux.HandleFunc("PUT /processor/answers/{name}", s.setAnswer)
	s.mux.HandleFunc("DELETE /processor/answers/{name}", s.setAnswer)
	return s
}

func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// session answers a merchant-session request the way Apple Pay's gateway
// does, with an object parley embeds unchanged.
func (s *Simulator) session(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MerchantIdentifier string `json:"merchantIdentifier"`
		DomainName         string `json:"domainName"`
		DisplayName        string `json:"displayName"`
		Initiative         string `json:"initiative"`
		InitiativeContext  string `json:"initiativeContext"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		http.Error(w, `{"statusMessage":"Payment Services Exception: invalid JSON"}`, http.StatusBadRequest)
		return
	}
	if req.MerchantIdentifier == "" || req.Initiative != "messaging" || req.InitiativeContext == "" {
		http.Error(w, `{"statusMessage":"Payment Services Exception: merchantIdentifier, initiative \"messaging\" and initiativeContext are required"}`, http.StatusBadRequest)
		return
	}
	now := s.now()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"epochTimestamp":            now.UnixMilli(),
		"expiresAt":                 now.Add(2 * time.Hour).UnixMilli(),
		"merchantSessionIdentifier": "SSH" + random(16),
		"nonce":                     random(8),
		"merchantIdentifier":        req.MerchantIdentifier,
		"domainName":                req.DomainName,
		"displayName":               req.DisplayName,
		"initiative":                req.Initiative,
		"initiativeContext":         req.InitiativeContext,
		"signature":                 random(64),
		"signedFields":              []string{"merchantIdentifier", "merchantSessionIdentifier", "initiative", "initiativeContext", "displayName", "nonce"},
	})
}

// process approves a payment and leaves totals unchanged on updates.
func (s *Simulator) process(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || !json.Valid(body) {
		http.Error(w, `{"error":"the callback is not JSON"}`, http.StatusBadRequest)
		return
	}
	name := r.PathValue("name")
	c := Call{Name: name, Body: body, At: s.now()}
	s.mu.Lock()
	if txn := transaction(body); name == "paymentGateway" && txn != "" && !s.charged[txn] {
		s.charged[txn], c.Charged = true, true
	}
	s.calls = append(s.calls, c)
	answer, set := s.answers[name]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case name == "paymentGateway":
		fmt.Fprint(w, `{"status":"STATUS_SUCCESS"}`)
	case set:
		w.Write(answer)
	default:
		fmt.Fprint(w, `{}`)
	}
}

// setAnswer sets (PUT, a JSON body) or forgets (DELETE) what the processor
// answers to the callback name from now on, e.g. a shippingContactUpdate's
// new total with tax. The payment's answer is its outcome and is not set.
func (s *Simulator) setAnswer(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == "paymentGateway" {
		http.Error(w, `{"error":"the payment's answer is its outcome: every payment is approved"}`, http.StatusBadRequest)
		return
	}
	var answer json.RawMessage
	if r.Method == http.MethodPut {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !json.Valid(body) {
			http.Error(w, `{"error":"the answer is not JSON"}`, http.StatusBadRequest)
			return
		}
		answer = body
	}
	s.mu.Lock()
	if answer == nil {
		delete(s.answers, name)
	} else {
		s.answers[name] = answer
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// transaction returns the transactionIdentifier of a payment callback.
func transaction(body []byte) string {
	var cb struct {
		Payment struct {
			PaymentToken struct {
				TransactionIdentifier string `json:"transactionIdentifier"`
			} `json:"paymentToken"`
		} `json:"payment"`
	}
	_ = json.Unmarshal(body, &cb)
	return cb.Payment.PaymentToken.TransactionIdentifier
}

func (s *Simulator) listCalls(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	calls := append([]Call{}, s.calls...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(calls)
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
