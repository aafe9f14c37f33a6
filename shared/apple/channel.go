package apple

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/message"
)

// Apple's rules for the use cases (channel.Channel), and its webhook's caps.
const (
	// Retention keeps a conversation's closed state for a year after the
	// customer's last word.
	Retention = 365 * 24 * time.Hour
	// MaxWebhookBody caps a webhook's body as sent. Apple sends interactive
	// data over 10 KB by reference, so its bodies are small, but text has
	// no documented maximum.
	MaxWebhookBody = 4 << 20
	// MaxWebhookBodyInflated caps it once decompressed.
	MaxWebhookBodyInflated = 16 << 20
)

// messagePath is where Apple's gateway posts what customers send.
const messagePath = "/webhooks/apple/message"

func init() { channel.Register(Channel{}) }

// Channel is Apple's answer to what differs between channels.
type Channel struct{}

// native are the types Apple has a form for (docs/ARCHITECTURE.md).
var native = []string{message.TypeText, message.TypeRichLink, message.TypeList, message.TypeButtons,
	message.TypeTimePicker, message.TypeAuth, message.TypeApplePay, message.TypeCustom, message.TypeTyping,
	message.TypeImage, message.TypeVideo, message.TypeAudio, message.TypeDocument, message.TypeSticker}

// Name is "apple".
func (Channel) Name() message.Channel { return message.Apple }

// Native reports whether Apple has a form for messages of type typ.
func (Channel) Native(typ string) bool { return slices.Contains(native, typ) }

// Gate refuses every message into a conversation the customer closed, until
// they write again.
func (Channel) Gate(_ message.SendRequest, conv message.Conversation, known bool, _ time.Time) error {
	if known && conv.Closed {
		closed := conv.ClosedAt.UTC()
		return &message.Error{Code: message.CodeConversationClosed, ClosedAt: &closed,
			Message: fmt.Sprintf("the customer closed the conversation at %s; parley sends nothing more until they write again", closed.Format(time.RFC3339))}
	}
	return nil
}

// Fallback takes a message: what to send when the device cannot show the
// request's.
func (Channel) Fallback(fb *message.Fallback) (string, error) {
	if fb.Template != nil {
		return "", channel.FieldError("fallback.template", "Apple has no templates; fallback.message (any message the device can show) is the Apple form")
	}
	return "fallback.message", nil
}

// MessageID is a new UUID: the sender names each message, and the gateway
// recognises a retry by it.
func (Channel) MessageID() string { return message.NewUUID() }

// Window is 0: Apple has no customer-service window.
func (Channel) Window() time.Duration { return 0 }

// Retention is how long a conversation is kept.
func (Channel) Retention() time.Duration { return Retention }

// CustomerID is to as given: Apple names a customer by one opaque id.
func (Channel) CustomerID(to string) string { return to }

// Aliases is false: Apple names a customer by one opaque id.
func (Channel) Aliases() bool { return false }

// MaxItemAge is 0: Apple's bodies carry no time, so an item's time is when
// parley received it.
func (Channel) MaxItemAge() time.Duration { return 0 }

// FailureCode is platform_rejected: Apple reports no failure that maps to
// one of parley's own codes.
func (Channel) FailureCode(*message.PlatformError) message.Code { return message.CodePlatformRejected }

// Webhook receives what Apple's gateway posts.
type Webhook struct {
	// MSPID is the audience every token must name.
	MSPID string
	// Secret keys the tokens: its value is Base64, as Apple issues it.
	Secret channel.Secret
}

// Routes is the message route: a JWT in Authorization, a gzip body.
func (h Webhook) Routes() []channel.Route {
	return []channel.Route{{Pattern: "POST " + messagePath, Receive: h.receive}}
}

func (h Webhook) receive(r *http.Request, now time.Time, log *slog.Logger) ([]message.InboundItem, error) {
	if err := h.verify(r, now); err != nil {
		if errors.Is(err, ErrNoAuthorization) {
			log.Warn("apple webhook without authorization refused")
			return nil, channel.Refuse(http.StatusUnauthorized, message.CodeUnauthorized, "the Authorization header is missing")
		}
		log.Warn("apple webhook with a bad token refused", "error", err)
		return nil, channel.Refuse(http.StatusForbidden, message.CodeUnauthorized, "the Authorization token is not valid for this MSP")
	}
	body, err := ReadBody(r.Body, r.Header.Get("Content-Encoding"), MaxWebhookBody, MaxWebhookBodyInflated)
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, channel.Refuse(http.StatusRequestEntityTooLarge, message.CodeTooLarge, err.Error())
	case err != nil:
		return nil, channel.Refuse(http.StatusBadRequest, message.CodeInvalidRequest, err.Error())
	}
	item, err := Parse(r.Header, body, now)
	if err != nil {
		log.Warn("apple webhook not understood", "error", err)
		return nil, channel.Refuse(http.StatusBadRequest, message.CodeInvalidRequest, err.Error())
	}
	return []message.InboundItem{item}, nil
}

// verify checks the request's token (see VerifyToken) with the secret's
// value; only a signature that does not match asks the secret for another.
func (h Webhook) verify(r *http.Request, now time.Time) error {
	authorization := r.Header.Get("Authorization")
	if h.Secret == nil {
		return VerifyToken(authorization, nil, h.MSPID, now)
	}
	var err error
	matched := h.Secret(r.Context(), func(secret string) bool {
		key, derr := DecodeSecret(secret)
		if derr != nil {
			err = fmt.Errorf("%w: the MSP secret is not Base64", ErrBadToken)
			return false
		}
		err = VerifyToken(authorization, key, h.MSPID, now)
		return !errors.Is(err, jwt.ErrTokenSignatureInvalid)
	})
	if !matched && err == nil {
		err = fmt.Errorf("%w: the MSP secret is not available", ErrBadToken)
	}
	return err
}
