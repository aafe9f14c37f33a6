// Package whatsappsim simulates the WhatsApp Cloud API's Graph endpoint
// for the local stack and for tests. It plays Meta: it checks the wire JSON
// of every send on its own, by the rules of Meta's message pages (text,
// interactive button, list, cta_url, location_request_message, product,
// product_list, flow and catalog_message, reaction, template; FIDELITY.md
// names the page behind each choice), refuses what Meta refuses
// with Meta's error envelopes, tracks the 24-hour customer service window
// and the number's throughput, records what it accepted, and plays the
// customer by posting signed webhooks to parley: every inbound item of
// Meta's webhook reference (replies, taps, orders, reactions, media,
// contacts, revokes and edits, system changes, call permission answers,
// referrals, forwards, unsupported and unrendered messages), marketing
// preferences, errors of a whole change, and delivery statuses.
//
// A Simulator is an http.Handler with relative routes, meant to be mounted
// under a prefix with http.StripPrefix:
//
//	POST /{version}/{phone-number-id}/messages   the Graph send endpoint
//	GET  /messages[?to=]                         what it accepted, oldest first
//	POST /reply                                  the customer acts (a webhook)
//	POST /status                                 a status for an accepted message (a webhook)
//	POST /preferences                            the customer stops or resumes marketing messages
//	POST /error                                  an error of a whole change, tied to no message
//
// # Sending
//
// A request Meta would refuse for its content is answered with HTTP 400,
// type OAuthException and an fbtrace_id: code 100 for a parameter missing,
// of the wrong JSON type or unknown (misspelled), code 131009 for a value
// out of Meta's limits, with error_data.details naming the parameter and
// the limit, e.g. "Button title length invalid. Min length: 1, Max length:
// 20". Lengths count Unicode code points. A template whose name and
// language are not in Config.KnownTemplates (when set) is refused with
// HTTP 404 code 132001. Config.Rate counts the messages the business sends
// from each number (not the customer's) in a token bucket holding one
// second's worth; over it a send is refused with 130429. Statuses echo the
// request's biz_opaque_callback_data.
//
// The window is kept per phone-number-id and customer wa_id: every
// customer message the simulator delivers through /reply opens it or
// restarts its 24 hours, whatever the action, reactions included (Meta
// says the window opens when the customer messages or calls, and not
// whether a reaction counts; the simulator counts it as a customer
// message). Messages the business sends
// never open it. A template is always allowed. Any other send outside the
// window is accepted (200 and a wamid) and then failed the way Meta usually
// does it: the simulator posts a signed status webhook "failed" with error
// 131047. With Config.WindowErrorsSync the send is refused at once instead,
// HTTP 400 code 131047. A reaction to a message that is not in that chat
// (neither sent by the simulator to that customer nor delivered from them)
// is failed the same way with 131009. Flush waits for these webhooks.
//
// # Playing the customer
//
// POST /reply takes a JSON object with an "action" ("text" when absent).
// Every action names the customer and the business number with
// "businessId" and "from", or takes them from "replyTo", a wamid the
// simulator accepted. A replyTo of "latest" (or none, for an action that
// answers a message) is the newest message the business sent that customer
// that the action can answer: an interactive message or a template, any
// message for react and unreact. "name" is the customer's profile name (remembered
// for later actions); for "location" it is the place's name instead.
//
//	text     {"businessId","from","name","text","replyTo"?}: a text message;
//	         replyTo, when set, becomes context.id as it is, known or not.
//	select   {"replyTo","id"}: a list row (interactive.list_reply with its id,
//	         title and description), a reply button (interactive.button_reply
//	         with its id and title), or a template's quick-reply button by its
//	         payload (type "button", button.payload and button.text: the label
//	         from KnownTemplates, else the payload).
//	location {"replyTo"?,"latitude","longitude","name"?,"address"?}: a shared
//	         location; replyTo, when set, must be a location request.
//	order    {"replyTo","items":[{"productId","quantity","price","currency"}],"text"?}:
//	         a cart sent from a product or product_list message, with that
//	         message's catalog_id and only the products it offered; price is
//	         a decimal (string or number) and arrives as a JSON number.
//	react    {"replyTo","emoji"} and unreact {"replyTo"}: a reaction to any
//	         message the simulator accepted; unreact omits the emoji.
//	flow     {"replyTo","response":{…}}: a completed flow
//	         (interactive.nfm_reply, response_json as a JSON string, with the
//	         message's flow_token when the response has none), answering a
//	         flow message or a template.
//	contacts {"contacts":[{"name":{"formatted_name",…},"phones":[…],…}]}:
//	         shared contact cards, written as Meta writes them.
//	revoke   {"replyTo"}: the customer deletes for everyone a message they
//	         sent through /reply (within 60 hours).
//	edit     {"replyTo","text"}: the customer edits a text they sent (within
//	         15 minutes); edit.message carries the new text.
//	system   {"change":"number","newPhone"}: user_changed_number, from the
//	         old number, no contacts; {"change":"userId","newUserId"}:
//	         user_changed_user_id, no from, no contacts; {"change":"identity",
//	         "identityHash"?}: the security code changed (identity object,
//	         customer_identity_changed; contacts name identity_key_hash from
//	         then on). The simulator knows the customer by the new id after.
//	callPermission {"answer":"accept"|"reject","replyTo"?}: the answer to a
//	         call permission request; an accept lasts 7 days.
//	unsupported {"unsupported":"poll"}: a type the Cloud API does not
//	         support: type "unsupported", errors 131051.
//	unrendered {"replyTo"?}: an interactive message Meta could not render:
//	         no body, and the change's errors say 131000.
//
// Every action names the customer by "from" (their phone number), "userId"
// (their business-scoped user id), or both; "username", "hidePhone" (a
// customer with a username who keeps their number: no from, no wa_id) and
// "parentUserId" complete the profile; "group" writes in a group. A text
// may also carry "referral" ({"sourceUrl","sourceType":"ad"|"post",
// "headline","body","mediaType","imageUrl","videoUrl","thumbnailUrl",
// "ctwaClid" (made up for an ad when absent),"welcomeMessage"}: a
// click-to-WhatsApp ad's opens a free entry point conversation, whose
// statuses for 72 hours carry conversation and free_entry_point pricing),
// "referredProduct" ({"catalogId","productId"}) and "forwarded" ("once",
// "frequently"); a location "url".
//
// An action with a replyTo carries context {from, id}, the business's
// display number and the wamid answered, except react and unreact, whose
// reaction.message_id names it. An unknown wamid, or an id or product the
// message did not offer, is answered 404; a replyTo of the wrong kind
// (select on a text, order on a list…) 400. The answer is
// {"wamid","webhookStatus","webhookBody"}: the customer message's id and
// what parley's webhook answered.
//
// POST /status {"wamid","status","errorCode"?} posts a status (sent,
// delivered, read, or failed with errorCode) for an accepted message.
//
// POST /preferences {"businessId","from"|"userId","name"?,"value":"stop"|
// "resume","detail"?} posts a user_preferences change (category
// marketing_messages). After "stop" a template whose KnownTemplates entry
// has Category MARKETING fails with 131050 (a failed status).
//
// POST /error {"businessId","code"} posts value.errors alone, e.g. 130429.
//
// Webhook bodies are written as Meta writes them (non-ASCII as \u escapes,
// "/" as "\/") and signed with X-Hub-Signature-256 over those bytes.
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
	// KnownTemplates, when set, are the only templates (name and language)
	// a send may use; empty, every template is accepted.
	KnownTemplates []Template
	// WindowErrorsSync refuses a free-form send outside the customer
	// service window with HTTP 400 code 131047, instead of accepting it
	// and posting a failed status.
	WindowErrorsSync bool
	// Rate is the throughput of each phone number, in messages per second
	// with bursts of one second's worth; over it a send is refused with
	// 130429. Zero means unlimited.
	Rate float64
	// HTTP posts the webhooks; nil means a client with a 10 s timeout.
	HTTP *http.Client
	// Now tells the time of accepted messages, webhooks, the window and
	// the rate limit; nil means time.Now.
	Now func() time.Time
}

// Template is an approved message template.
type Template struct {
	Name     string
	Language string
	// QuickReplies are the labels of the template's quick-reply buttons,
	// by index: the text of the customer's tap.
	QuickReplies []string
	// Category is the template's category: MARKETING, UTILITY or
	// AUTHENTICATION, which statuses price it by. A MARKETING template to
	// a customer who stopped marketing messages fails with 131050; an
	// AUTHENTICATION template takes codes of at most 15 characters and no
	// group.
	Category string
}

// Accepted is a message the simulator accepted.
type Accepted struct {
	WAMID         string `json:"wamid"`
	PhoneNumberID string `json:"phoneNumberId"`
	// To is the recipient as the request gave it ("to", or "recipient"
	// for a business-scoped user id); WaID is a phone number as Meta
	// reports it back, digits only; UserID the business-scoped user id the
	// send named; GroupID the group a group send went to.
	To      string `json:"to"`
	WaID    string `json:"waId,omitempty"`
	UserID  string `json:"userId,omitempty"`
	GroupID string `json:"groupId,omitempty"`
	// Type is the request's type; Interactive its interactive.type.
	Type        string `json:"type"`
	Interactive string `json:"interactive,omitempty"`
	// Request is the request body as received.
	Request json.RawMessage `json:"request"`
	At      time.Time       `json:"at"`
	// FailedWith is the error code of the failed status the simulator
	// posted on its own (131047 outside the window), or zero.
	FailedWith int `json:"failedWith,omitempty"`
	// inWindow tells whether the customer service window was open when
	// the message was sent: what its price depends on.
	inWindow bool
}

// Simulator is the simulated Graph API. Make one with New.
type Simulator struct {
	cfg Config
	mux *http.ServeMux
	// pending counts the webhooks posted on the simulator's own initiative.
	pending sync.WaitGroup

	mu       sync.Mutex
	accepted []Accepted
	// lastWrote is when each customer last wrote to each number.
	lastWrote map[chat]time.Time
	// delivered are the customer messages delivered through /reply, by
	// wamid: what a reaction may target besides accepted messages.
	delivered map[string]chat
	// authors are who sent each of those messages, what and when: what a
	// revoke or an edit may target.
	authors map[string]authored
	// entryPoints are the free entry point conversations click-to-WhatsApp
	// ads opened, by chat.
	entryPoints map[chat]entryPoint
	// optedOut are the customers who stopped marketing messages.
	optedOut map[chat]bool
	// users are the customers of each number, by every id they have.
	users   map[chat]*user
	buckets map[string]*bucket
	// media are the files customers sent and the business uploaded.
	media media
}

// chat is a business number and a customer (the key of their user) or a
// group (its id).
type chat struct {
	phoneNumberID, waID string
}

// New returns a Simulator for cfg.
func New(cfg Config) *Simulator {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Simulator{
		cfg:         cfg,
		mux:         http.NewServeMux(),
		lastWrote:   map[chat]time.Time{},
		delivered:   map[string]chat{},
		authors:     map[string]authored{},
		entryPoints: map[chat]entryPoint{},
		optedOut:    map[chat]bool{},
		users:       map[chat]*user{},
		buckets:     map[string]*bucket{},
	}
	s.routes()
	return s
}

func (s *Simulator) routes() {
	s.mux.HandleFunc("POST /{version}/{phoneNumberID}/messages", s.handleSend)
	s.mux.HandleFunc("GET /messages", s.handleList)
	s.mux.HandleFunc("POST /reply", s.handleReply)
	s.mux.HandleFunc("POST /status", s.handleStatus)
	s.mux.HandleFunc("POST /preferences", s.handlePreferences)
	s.mux.HandleFunc("POST /error", s.handleError)
	s.mediaRoutes()
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

// Flush waits until the webhooks the simulator posts on its own (failed
// statuses after a send it accepted) have been posted.
func (s *Simulator) Flush() {
	s.pending.Wait()
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
	to := r.URL.Query().Get("to")
	list := []Accepted{}
	for _, a := range s.Accepted() {
		if to == "" || a.WaID == waID(to) || a.UserID == to || a.GroupID == to {
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
