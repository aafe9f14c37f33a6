// Package applesim simulates Apple's MSP gateway for the local stack and for
// tests: it accepts what POST /v1/message accepts and refuses what it refuses,
// with Apple's status codes and short text answers, keeps the messages it
// accepted with their interactive kind, and replies as a customer by calling
// parley's webhook the way Apple does (gzip body, JWT with aud = the MSP id,
// Apple's headers, capability-list).
//
// Mount it with http.StripPrefix; under /sim/apple the gateway base URL to
// configure is <base>/sim/apple/v1. Routes, relative to the mount:
//
//	POST /v1/message            the gateway's send endpoint
//	POST /v1/authenticate       the legacy endpoint of the authentication message
//	GET  /v1/preUpload          an upload slot (headers source-id, size or MMCS-Size)
//	POST /mmcs/upload/{token}   the upload-url: the encrypted blob, no token
//	GET  /v1/preDownload        a download-url (headers source-id, MMCS-Url, MMCS-Owner, MMCS-Signature)
//	GET  /mmcs/download/{token} the download-url: the encrypted blob until Config.DownloadTTL passes
//	POST /v1/decodePayload      decrypted interactiveDataRef bytes in (header bid), the dictionary out
//	GET  /messages              the accepted messages, oldest first; ?to= filters by destination
//	POST /reply                 write to the business as a customer (see Reply)
//
// Gateway calls need a bearer HS256 JWT with iss = the MSP id and an iat:
// 401 without one, 403 for one that fails. POST /v1/message also needs the
// id, Source-Id and Destination-Id headers and checks the body as Apple
// would: interactiveData.bid of the form
// com.apple.messages.MSMessageExtensionBalloonPlugin:<team>:<bundle>; for
// Apple's bid (AppleBID), data.version (or mspVersion), data.requestIdentifier
// and exactly one of listPicker, event, quick-reply, authenticate, payment
// and dynamic, with unique image identifiers that every imageIdentifier
// names, 2 to 5 quick replies, unique item and slot identifiers, Apple's
// startTime form, a P-384 responseEncryptionKey and a paymentGatewayUrl; for
// another bid, no data and a URL of at most 64 KB; for a rich link, url,
// title and assets with an image of at most 200 kB. It answers 400 with the
// reason, 404 for a destination that is not an opaque id, else 200.
//
// POST /reply without an action sends text, typing_start, typing_end or
// close. A text may carry attachments ({"name", "mimeType", "data": Base64}):
// each is encrypted (AES-256-CTR, a fresh key, a zero IV) and kept for
// preDownload and download, and the message carries its attachment
// dictionary (name, mimeType, size, url, owner, key, signature in hex) and
// one U+FFFC in its body. With {"action", "replyTo": <Apple message id>} it answers an
// accepted interactive message (replyTo "latest", or none: the newest
// interactive message the business sent the customer) with an interactive webhook whose
// interactiveData echoes the bid, bubbles, sessionIdentifier, version,
// requestIdentifier and images of the request and carries the answer:
//
//	select  ids: list picker items (several only within a multipleSelection
//	        section) → data.listPicker.sections[].items[] of the selected items;
//	        one time slot → data.event.timeslots; one quick reply →
//	        data["quick-reply"] with items, selectedIdentifier, selectedIndex
//	auth    token: data.authenticate {status: authenticated, token}, the token
//	        encrypted for the request's responseEncryptionKey (P-384 ECDH,
//	        X9.63 KDF SHA-256, AES-256-GCM with a 16-byte nonce)
//	pay     result success (default) or failure: POSTs the payment gateway
//	        callback to paymentGatewayUrl, then data.payment with the outcome
//	shipping, paymentMethod, shippingContact
//	        POST shippingMethodUpdateUrl (ids: at most one shipping method),
//	        paymentMethodUpdateUrl, or shippingContactUpdateUrl (address: the
//	        customer's new shipping address, sent redacted; only for a request
//	        with requiredShippingContactFields) and report the answer, with
//	        refused set when the sheet would not take it; no webhook
//	custom  url: the iMessage app's answer, bid and URL, no data
//
// An answer whose interactiveData is over 10 KB goes as an
// interactiveDataRef: its dictionary is encoded, encrypted with AES-256-CTR
// and kept in memory for preDownload, download and decodePayload.
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
	// DownloadTTL is how long a download URL from GET /v1/preDownload
	// serves its blob; 0 means 5 minutes.
	DownloadTTL time.Duration
}

// Message is a message the gateway accepted.
type Message struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Interactive is the kind of an interactive message, one of the Kind
	// constants.
	Interactive string          `json:"interactive,omitempty"`
	Source      string          `json:"source"`
	Destination string          `json:"destination"`
	Body        json.RawMessage `json:"body"`
	Time        time.Time       `json:"time"`
	// AutoReply is the auto-reply header: the message came from a bot.
	AutoReply bool `json:"autoReply,omitempty"`
	// Agent is the msp-agent header as Apple logs it: its first 64
	// characters.
	Agent string `json:"agent,omitempty"`
}

// Simulator is the simulated gateway, an http.Handler.
type Simulator struct {
	cfg  Config
	mux  *http.ServeMux
	mu   sync.Mutex
	sent []Message
	// sessions holds the sessionIdentifier the gateway gave to an
	// interactive message sent without one, by message id.
	sessions map[string]string
	// blobs are the MMCS blobs by MMCS URL; uploads and downloads are the
	// pending upload slots and the download URLs by token.
	blobs     map[string]*blob
	uploads   map[string]*blob
	downloads map[string]download
}

// New returns a simulator serving cfg's MSP.
func New(cfg Config) *Simulator {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DownloadTTL == 0 {
		cfg.DownloadTTL = 5 * time.Minute
	}
	s := &Simulator{
		cfg: cfg, mux: http.NewServeMux(), sessions: map[string]string{},
		blobs: map[string]*blob{}, uploads: map[string]*blob{}, downloads: map[string]download{},
	}
	s.mux.HandleFunc("POST /v1/message", s.handleMessage)
	s.mux.HandleFunc("POST /v1/authenticate", s.handleAuthenticate)
	s.mux.HandleFunc("GET /v1/preUpload", s.handlePreUpload)
	s.mux.HandleFunc("POST /mmcs/upload/{token}", s.handleUpload)
	s.mux.HandleFunc("GET /v1/preDownload", s.handlePreDownload)
	s.mux.HandleFunc("GET /mmcs/download/{token}", s.handleDownload)
	s.mux.HandleFunc("POST /v1/decodePayload", s.handleDecodePayload)
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
