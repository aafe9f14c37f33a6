package whatsapp

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/message"
)

// WhatsApp's rules for the use cases (channel.Channel).
const (
	// Window is the customer-service window a customer's message opens:
	// until it closes, any message may be sent; after, only a template.
	Window = 24 * time.Hour
	// Retention keeps a conversation's window and ids for a month after
	// the customer's last word.
	Retention = 30 * 24 * time.Hour
	// MaxItemAge is how old an item may be, by its own timestamp, when it
	// arrives. Meta retries a webhook for up to 7 days and ingest keeps
	// its dedupe claims for 8 days (ingest.DedupeRetention): every item
	// younger than MaxItemAge is still recognised if it comes again, and
	// an older one — a signed body replayed after the dedupe window — is
	// refused.
	MaxItemAge = 7*24*time.Hour + 12*time.Hour
	// MaxBody caps a webhook's body: Meta documents payloads of up to
	// 3 MB.
	MaxBody = 4 << 20
	// codeWindowClosed is Meta's error code for a message sent, or failed
	// later, outside the customer-service window.
	codeWindowClosed = 131047
)

// webhookPath is where Meta posts the webhooks and sends its handshake.
const webhookPath = "/webhooks/whatsapp"

func init() { channel.Register(Channel{}) }

// Channel is WhatsApp's answer to what differs between channels.
type Channel struct{}

// native are the types WhatsApp has a form for (docs/ARCHITECTURE.md).
var native = []string{message.TypeText, message.TypeRichLink, message.TypeList, message.TypeButtons,
	message.TypeReaction, message.TypeProduct, message.TypeProductList, message.TypeLocationRequest,
	message.TypeCTAURL, message.TypeTemplate, message.TypeImage, message.TypeVideo, message.TypeAudio,
	message.TypeDocument, message.TypeSticker}

// Name is "whatsapp".
func (Channel) Name() message.Channel { return message.WhatsApp }

// Native reports whether WhatsApp has a form for messages of type typ.
func (Channel) Native(typ string) bool { return slices.Contains(native, typ) }

// Gate refuses anything but a template once the window is closed.
func (Channel) Gate(req message.SendRequest, conv message.Conversation, known bool, now time.Time) error {
	if req.Message.Type == message.TypeTemplate || now.Before(conv.WindowClosesAt) {
		return nil
	}
	e := &message.Error{Code: message.CodeWindowClosed}
	if known && !conv.LastInboundAt.IsZero() {
		closed := conv.LastInboundAt.Add(Window).UTC()
		e.ClosedAt = &closed
		e.Message = fmt.Sprintf("the 24-hour customer service window with %s closed at %s; only a template can be sent until the customer writes again",
			req.To, closed.Format(time.RFC3339))
	} else {
		e.Message = fmt.Sprintf("%s has not written to %s in the last 24 hours, so the customer service window is closed; only a template can be sent",
			req.To, req.BusinessID)
	}
	return e
}

// Fallback takes a template: what reaches a customer whose window is
// closed.
func (Channel) Fallback(fb *message.Fallback) (string, error) {
	if fb.Message != nil {
		return "", channel.FieldError("fallback.message", "WhatsApp's fallback is a template: use fallback.template")
	}
	t := *fb.Template
	if t.Type == "" {
		t.Type = message.TypeTemplate
	}
	if t.Type != message.TypeTemplate {
		return "", channel.FieldError("fallback.template.type", fmt.Sprintf("%q: the fallback must be a template", t.Type))
	}
	fb.Template = &t
	return "fallback.template", nil
}

// MessageID is "": Meta names each message in its answer (a wamid).
func (Channel) MessageID() string { return "" }

// Window is the customer-service window.
func (Channel) Window() time.Duration { return Window }

// Retention is how long a conversation is kept.
func (Channel) Retention() time.Duration { return Retention }

// CustomerID writes a phone number as Meta's webhooks write a wa_id: its
// digits alone, without the "+", spaces, hyphens and parentheses Meta
// accepts in a send's "to" (+44 7700 900123 → 447700900123). Any other id —
// a business-scoped user id, a group id — is returned as given.
func (Channel) CustomerID(to string) string {
	if !phoneText(to) {
		return to
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, to)
}

// phoneText reports whether s is a phone number as Meta takes it in "to":
// digits, an optional leading "+", and spaces, hyphens and parentheses.
func phoneText(s string) bool {
	s = strings.TrimPrefix(strings.TrimLeft(s, " "), "+")
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			n++
		case c == ' ', c == '-', c == '(', c == ')':
		default:
			return false
		}
	}
	return n > 0
}

// Aliases is true: a customer may be known by phone number, business-scoped
// user id (BSUID), parent BSUID, or several of them (Meta leaves the phone
// number out for customers with a username, and sends a BSUID with every
// message since 2026).
func (Channel) Aliases() bool { return true }

// MaxItemAge is MaxItemAge.
func (Channel) MaxItemAge() time.Duration { return MaxItemAge }

// FailureCode is window_closed for a message that failed because the window
// had closed, platform_rejected otherwise.
func (Channel) FailureCode(pe *message.PlatformError) message.Code {
	if pe.Code == codeWindowClosed {
		return message.CodeWindowClosed
	}
	return message.CodePlatformRejected
}

// Webhook receives Meta's webhooks.
type Webhook struct {
	// AppSecret keys the X-Hub-Signature-256 of every delivery.
	AppSecret channel.Secret
	// VerifyToken is what Meta's handshake must present.
	VerifyToken channel.Secret
}

// Routes are the handshake (GET) and the deliveries (POST, with
// X-Hub-Signature-256 over the raw body).
func (h Webhook) Routes() []channel.Route {
	return []channel.Route{
		{Pattern: "GET " + webhookPath, Handshake: h.handshake},
		{Pattern: "POST " + webhookPath, MaxBody: MaxBody, Receive: h.receive},
	}
}

func (h Webhook) handshake(r *http.Request, log *slog.Logger) (string, bool) {
	// A check that is no subscription asks nothing of the secret.
	var challenge string
	ok := h.VerifyToken != nil && r.URL.Query().Get("hub.mode") == "subscribe" && h.VerifyToken(r.Context(), func(token string) bool {
		var ok bool
		challenge, ok = VerifyChallenge(r.URL.Query(), token)
		return ok
	})
	if !ok {
		log.Warn("whatsapp verification refused", "mode", r.URL.Query().Get("hub.mode"))
	}
	return challenge, ok
}

func (h Webhook) receive(r *http.Request, now time.Time, log *slog.Logger) ([]message.InboundItem, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, channel.Refuse(http.StatusRequestEntityTooLarge, message.CodeTooLarge, "the body is over the limit of 4 MiB")
		}
		return nil, channel.Refuse(http.StatusBadRequest, message.CodeInvalidRequest, "the body could not be read")
	}
	// A delivery without a signature asks nothing of the secret.
	signature := r.Header.Get("X-Hub-Signature-256")
	if h.AppSecret == nil || signature == "" || !h.AppSecret(r.Context(), func(secret string) bool { return ValidSignature(body, signature, secret) }) {
		log.Warn("whatsapp webhook with a bad or missing signature refused", "bytes", len(body))
		return nil, channel.Refuse(http.StatusUnauthorized, message.CodeUnauthorized, "X-Hub-Signature-256 is missing or does not match the body")
	}
	parsed, err := Parse(body, now)
	if err != nil {
		log.Warn("whatsapp webhook not understood", "error", err)
		return nil, channel.Refuse(http.StatusBadRequest, message.CodeInvalidRequest, err.Error())
	}
	for _, s := range parsed.Skipped {
		log.Warn("whatsapp webhook entry skipped", "path", s.Path, "reason", s.Reason)
	}
	return parsed.Items, nil
}
