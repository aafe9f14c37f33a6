// Package channel is the port between parley's use cases and the messaging
// platforms. What differs from one channel to another — which message types
// are native, what gates a send, how a conversation refreshes on an inbound
// item, what a platform's failure code means, how a webhook is verified and
// read — is asked of a Channel or a Webhook, never decided by naming a
// channel (docs/ARCHITECTURE.md, "The channel port").
//
// Each channel package registers its Channel when it is linked
// (shared/whatsapp, shared/apple), so a binary knows exactly the channels it
// links; a Webhook is built by the wiring with the channel's secrets.
package channel

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Channel answers the questions whose answers differ between channels. Its
// methods are pure: they read no network, store or clock.
type Channel interface {
	// Name is the channel's name in the API.
	Name() message.Channel

	// Native reports whether the channel has a native form for messages
	// of type typ; a type outside them is unsupported_on_channel unless
	// the request allows adaptation.
	Native(typ string) bool
	// Gate refuses req when conv does not take it now (a closed
	// customer-service window, a conversation the customer closed).
	// known tells whether parley has a record of conv. Errors are
	// *message.Error.
	Gate(req message.SendRequest, conv message.Conversation, known bool, now time.Time) error
	// Fallback checks the form of a send's fallback, which holds exactly
	// one of a template and a message, and may normalise it in place. It
	// returns the field of the message to send instead, so that its
	// problems can be named there. Errors are *message.Error naming the
	// field.
	Fallback(fb *message.Fallback) (field string, err error)
	// MessageID returns the id a sent message is given by parley when the
	// sender names it (so that a retry is recognised), or "" when the
	// platform names it in its answer.
	MessageID() string

	// Window is how long a customer's message lets the business write
	// freely; 0 when the channel has no such window.
	Window() time.Duration
	// Retention is how long a conversation's state is kept after its
	// latest item.
	Retention() time.Duration
	// CustomerID is the id a send's "to" names the customer by, in the
	// form the platform's webhooks write it, so that a send and the
	// customer's own messages meet in one conversation. A "to" the
	// channel does not recognise is returned as given, for CheckIDs-style
	// validation to refuse.
	CustomerID(to string) string
	// Aliases reports whether a customer may be named by several ids,
	// kept as aliases of one conversation (store.ResolveConversation).
	Aliases() bool
	// MaxItemAge is how old an inbound item may be, by its own time, when
	// it arrives: an older one is a replay past the platform's redelivery
	// horizon. 0 means the channel's items carry no time of their own to
	// judge by.
	MaxItemAge() time.Duration
	// FailureCode is the API error code of a platform error reported in a
	// failed status.
	FailureCode(pe *message.PlatformError) message.Code
}

var (
	mu       sync.RWMutex
	channels = map[message.Channel]Channel{}
)

// Register makes c known by its name. It panics when a channel of that
// name is already registered, as a second registration is a programming
// error.
func Register(c Channel) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := channels[c.Name()]; dup {
		panic(fmt.Sprintf("channel: %s registered twice", c.Name()))
	}
	channels[c.Name()] = c
}

// Lookup returns the registered channel named name.
func Lookup(name message.Channel) (Channel, bool) {
	mu.RLock()
	defer mu.RUnlock()
	c, ok := channels[name]
	return c, ok
}

// Names lists the registered channels, sorted.
func Names() []message.Channel {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]message.Channel, 0, len(channels))
	for n := range channels {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Webhook is the receiving side of a channel, holding what it verifies
// requests with.
type Webhook interface {
	// Routes lists the routes the platform calls.
	Routes() []Route
}

// Secret is a webhook's verification secret: it reports whether match
// accepts its value — whether what a request presents was made with it.
// A secret that follows a rotation asks match again of a newly read value
// before refusing (see secrets.Cache.Check).
type Secret func(ctx context.Context, match func(value string) bool) bool

// Fixed is the Secret of a value that does not change.
func Fixed(value string) Secret {
	return func(_ context.Context, match func(string) bool) bool { return match(value) }
}

// Route is one route of a channel's webhook. Exactly one of Receive and
// Handshake is set.
type Route struct {
	// Pattern is the route's method and path, as http.ServeMux takes it.
	Pattern string
	// MaxBody, when positive, caps the body before Receive reads it;
	// reading past it fails with *http.MaxBytesError.
	MaxBody int64
	// Receive verifies r before parsing anything of its body, then reads
	// the items it delivers. Errors are *Refusal. It logs on log what it
	// skipped and why it refused.
	Receive func(r *http.Request, now time.Time, log *slog.Logger) ([]message.InboundItem, error)
	// Handshake answers a subscription check: the text to answer, or
	// false to refuse it (403).
	Handshake func(r *http.Request, log *slog.Logger) (string, bool)
}

// Refusal is a webhook request refused: the answer's status, code and
// text.
type Refusal struct {
	Status  int
	Code    message.Code
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Refuse returns a refusal.
func Refuse(status int, code message.Code, text string) *Refusal {
	return &Refusal{Status: status, Code: code, Message: text}
}

// FieldError is the invalid_request error of one field of a request.
func FieldError(field, problem string) *message.Error {
	return &message.Error{Code: message.CodeInvalidRequest, Message: field + ": " + problem,
		Details: message.Problems{{Field: field, Problem: problem}}}
}
