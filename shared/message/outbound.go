package message

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Message types of the public send API. The foundation renders TypeText on
// both channels; the other names are reserved so that a request using one
// gets a clear answer instead of "unknown type".
const (
	TypeText            = "text"
	TypeRichLink        = "richLink"
	TypeList            = "list"
	TypeButtons         = "buttons"
	TypeTimePicker      = "timePicker"
	TypeReaction        = "reaction"
	TypeProduct         = "product"
	TypeProductList     = "productList"
	TypeLocationRequest = "locationRequest"
	TypeCTAURL          = "ctaUrl"
	TypeTemplate        = "template"
	TypeAuth            = "auth"
	TypeApplePay        = "applePay"
	TypeCustom          = "custom"
	// TypeTyping is a typing indicator (state start or end): a signal, not
	// a message; parley keeps no record of it.
	TypeTyping = "typing"
)

// Typing indicator states.
const (
	TypingStart = "start"
	TypingEnd   = "end"
)

// KnownType reports whether t is a message type of the public contract.
func KnownType(t string) bool {
	switch t {
	case TypeText, TypeRichLink, TypeList, TypeButtons, TypeTimePicker, TypeReaction,
		TypeProduct, TypeProductList, TypeLocationRequest, TypeCTAURL, TypeTemplate,
		TypeAuth, TypeApplePay, TypeCustom, TypeTyping:
		return true
	}
	return MediaType(t)
}

// Message is the "message" object of the send API: one vocabulary for both
// channels (docs/ARCHITECTURE.md, "The public API's messages and errors").
// Each type uses its own fields; the rest stay empty. Where the platforms
// name a thing differently parley uses one name: "items" (WhatsApp rows,
// Apple items), "description" (Apple subtitle).
type Message struct {
	Type string `json:"type"`

	// text
	Text       string `json:"text,omitempty"`
	PreviewURL bool   `json:"previewUrl,omitempty"`
	// Attachments are files sent with a text (Apple).
	Attachments []OutgoingAttachment `json:"attachments,omitempty"`

	// richLink, ctaUrl, custom
	URL   string `json:"url,omitempty"`
	Title string `json:"title,omitempty"`
	// Image is a richLink's image (by URL or bytes), or a custom message's
	// app icon.
	Image *Image `json:"image,omitempty"`
	// VideoURL is a richLink's video (Apple).
	VideoURL string `json:"videoUrl,omitempty"`

	// list, buttons, ctaUrl, product, productList, locationRequest
	Header *Header `json:"header,omitempty"`
	Body   string  `json:"body,omitempty"`
	Footer string  `json:"footer,omitempty"`
	// Button is the label of a list's or a ctaUrl's button.
	Button   string    `json:"button,omitempty"`
	Sections []Section `json:"sections,omitempty"`
	// MultipleSelection lets the customer choose several items of every
	// section of an Apple list that does not say otherwise itself.
	MultipleSelection bool     `json:"multipleSelection,omitempty"`
	Buttons           []Option `json:"buttons,omitempty"`

	// timePicker
	TimezoneOffset *int           `json:"timezoneOffset,omitempty"`
	Location       *EventLocation `json:"location,omitempty"`
	Slots          []Slot         `json:"slots,omitempty"`

	// reaction: MessageID is a parley id or the platform's; Emoji "" removes.
	MessageID string  `json:"messageId,omitempty"`
	Emoji     *string `json:"emoji,omitempty"`

	// product, productList
	CatalogID string `json:"catalogId,omitempty"`
	ProductID string `json:"productId,omitempty"`

	// template (WhatsApp's own component JSON is passed through)
	Name       string          `json:"name,omitempty"`
	Language   string          `json:"language,omitempty"`
	Components json.RawMessage `json:"components,omitempty"`

	// auth
	OAuth *OAuth `json:"oauth,omitempty"`

	// applePay: Apple's paymentRequest fields, passed through; Endpoints
	// overrides parley's own callback URLs.
	Payment   json.RawMessage   `json:"payment,omitempty"`
	Endpoints map[string]string `json:"endpoints,omitempty"`

	// custom (iMessage app)
	TeamID     string          `json:"teamId,omitempty"`
	BundleID   string          `json:"bundleId,omitempty"`
	LiveLayout *bool           `json:"liveLayout,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	// AppID and AppName are the App Store id and name of a custom
	// message's iMessage app (Apple shows them when it is not installed).
	AppID   int64  `json:"appId,omitempty"`
	AppName string `json:"appName,omitempty"`

	// image, video, audio, document, sticker: exactly one source of URL
	// (above; a public link), MediaID (a file already on the platform) and
	// Upload (a key POST /v1/uploads returned); MimeType when the source
	// does not tell it; Caption (image, video, document) and Filename
	// (document).
	MediaID  string `json:"mediaId,omitempty"`
	Upload   string `json:"upload,omitempty"`
	MimeType string `json:"mimeType,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`

	// typing: start or end.
	State string `json:"state,omitempty"`

	// Apple, every type: the locale of the message (body locale, e.g.
	// en_US); Automated marks a bot's answer (Apple's auto-reply header);
	// Agent names the agent or system sending it (Apple's msp-agent
	// header).
	Locale    string `json:"locale,omitempty"`
	Automated bool   `json:"automated,omitempty"`
	Agent     string `json:"agent,omitempty"`
	// SessionIdentifier is the Apple session of an interactive message;
	// Apple makes one when it is not given, and the customer's answer
	// carries it back.
	SessionIdentifier string `json:"sessionIdentifier,omitempty"`

	// Common: the message this one answers (a parley id or the platform's;
	// WhatsApp context.message_id), Apple's images and bubbles.
	ReplyTo     string  `json:"replyTo,omitempty"`
	Images      []Image `json:"images,omitempty"`
	Bubble      *Bubble `json:"bubble,omitempty"`
	ReplyBubble *Bubble `json:"replyBubble,omitempty"`
}

// Header is the header of an interactive message: text, or media by link
// or by the platform's media id. A bare JSON string is a text header.
type Header struct {
	Type     string `json:"type"` // text, image, video, document
	Text     string `json:"text,omitempty"`
	URL      string `json:"url,omitempty"`
	ID       string `json:"id,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// UnmarshalJSON accepts a header object or a bare string (a text header).
func (h *Header) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*h = Header{Type: "text", Text: s}
		return nil
	}
	type plain Header
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*h = Header(p)
	return nil
}

// Section is a titled group of a list's items or a productList's products.
type Section struct {
	Title      string   `json:"title,omitempty"`
	Items      []Option `json:"items,omitempty"`
	ProductIDs []string `json:"productIds,omitempty"`
	// MultipleSelection, when set, says whether the customer may choose
	// several items of this section of an Apple list; unset, the message's
	// MultipleSelection holds.
	MultipleSelection *bool `json:"multipleSelection,omitempty"`
}

// Multiple reports whether the customer may choose several items of
// m.Sections[i]: the section's own multipleSelection, else the message's.
func (m *Message) Multiple(i int) bool {
	if s := m.Sections[i].MultipleSelection; s != nil {
		return *s
	}
	return m.MultipleSelection
}

// AnyMultiple reports whether some section of m lets the customer choose
// several items.
func (m *Message) AnyMultiple() bool {
	for i := range m.Sections {
		if m.Multiple(i) {
			return true
		}
	}
	return m.MultipleSelection
}

// Option is a list item or a button.
type Option struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	ImageID     string `json:"imageId,omitempty"`
}

// Slot is a time picker's slot.
type Slot struct {
	ID       string    `json:"id"`
	Start    time.Time `json:"start"`
	Duration int       `json:"duration"` // seconds
}

// EventLocation is where a time picker's event takes place.
type EventLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Radius    float64 `json:"radius,omitempty"`
	Title     string  `json:"title,omitempty"`
}

// Image is an image given by URL or by bytes (Base64 in JSON).
type Image struct {
	ID   string `json:"id,omitempty"`
	URL  string `json:"url,omitempty"`
	Data []byte `json:"data,omitempty"`
}

// OutgoingAttachment is a file sent with a message, from exactly one source: a URL
// fetched at send time, bytes (Base64 in JSON), or Upload, the key of a file
// uploaded through POST /v1/uploads.
type OutgoingAttachment struct {
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	URL      string `json:"url,omitempty"`
	Data     []byte `json:"data,omitempty"`
	Upload   string `json:"upload,omitempty"`
}

// Bubble is how Apple shows an interactive message (receivedMessage) or the
// customer's answer (replyMessage).
type Bubble struct {
	Title    string `json:"title,omitempty"`
	Subtitle string `json:"subtitle,omitempty"`
	ImageID  string `json:"imageId,omitempty"`
	Style    string `json:"style,omitempty"` // icon, small, large
}

// OAuth is an Apple authentication request.
type OAuth struct {
	ResponseType string   `json:"responseType"`
	Scope        []string `json:"scope"`
	State        string   `json:"state"`
	ClientSecret string   `json:"clientSecret,omitempty"`
}

// Interactive reports whether messages of type t ask the customer to act,
// so that their replies are correlated and an older one can be stale.
func Interactive(t string) bool {
	switch t {
	case TypeText, TypeRichLink, TypeReaction, TypeTyping:
		return false
	}
	return KnownType(t) && !MediaType(t)
}

// SendRequest is the body of POST /v1/messages.
type SendRequest struct {
	Channel        Channel         `json:"channel"`
	BusinessID     string          `json:"businessId"`
	To             string          `json:"to"`
	Message        Message         `json:"message"`
	Adapt          bool            `json:"adapt,omitempty"`
	Fallback       json.RawMessage `json:"fallback,omitempty"`
	SendAt         *time.Time      `json:"sendAt,omitempty"`
	IdempotencyKey string          `json:"idempotencyKey,omitempty"`
}

// Validate checks what every channel requires of a request. Channel
// packages check their own limits when they render.
func (r SendRequest) Validate() Problems {
	var ps Problems
	switch {
	case r.Channel == "":
		ps.Add("channel", `is required: "whatsapp" or "apple"`)
	case !r.Channel.Valid():
		ps.Add("channel", `%q is not a channel parley knows: "whatsapp" or "apple"`, string(r.Channel))
	}
	ps.Required("businessId", r.BusinessID)
	ps.Required("to", r.To)
	// Ids are bounded and free of control characters whatever the channel:
	// a platform id is at most a few dozen characters (a WhatsApp phone
	// number id, an Apple business UUID) and a customer id a few hundred
	// (an Apple opaque id, a WhatsApp business-scoped user id).
	ps.MaxLen("businessId", r.BusinessID, MaxBusinessID)
	ps.MaxLen("to", r.To, MaxCustomerID)
	ps.MaxLen("idempotencyKey", r.IdempotencyKey, 256)
	for _, f := range []struct{ field, v string }{{"businessId", r.BusinessID}, {"to", r.To}, {"idempotencyKey", r.IdempotencyKey}} {
		if i := strings.IndexFunc(f.v, unicode.IsControl); i >= 0 {
			c, _ := utf8.DecodeRuneInString(f.v[i:])
			ps.Add(f.field, "holds the control character %U at byte %d; ids take none", c, i)
		}
	}
	if r.Message.Type == TypeTyping {
		// A typing indicator is a signal of the moment: never stored, never
		// scheduled, and harmless to repeat.
		if r.IdempotencyKey != "" {
			ps.Add("idempotencyKey", "not used by typing indicators: parley keeps no record of them, and sending one twice is harmless")
		}
		if r.SendAt != nil {
			ps.Add("sendAt", "not used by typing indicators: they are sent now or not at all")
		}
		if len(r.Fallback) > 0 {
			ps.Add("fallback", "not used by typing indicators")
		}
	}
	switch {
	case r.Message.Type == "":
		ps.Add("message.type", "is required")
	case !KnownType(r.Message.Type):
		ps.Add("message.type", "%q is not a message type parley knows", r.Message.Type)
	}
	return ps
}

// Bounds of the ids of a send request.
const (
	MaxBusinessID = 64
	MaxCustomerID = 512
)

// SendResult is the answer to a successful POST /v1/messages.
type SendResult struct {
	ID                string  `json:"id,omitempty"`
	Status            string  `json:"status"`
	Channel           Channel `json:"channel"`
	PlatformMessageID string  `json:"platformMessageId,omitempty"`
	// Adapted says what was sent instead of the requested type, when the
	// request allowed adapting it.
	Adapted *Adaptation `json:"adapted,omitempty"`
	// SendAt is when a scheduled message will be sent.
	SendAt *time.Time `json:"sendAt,omitempty"`
	// Notice says what parley did differently from what was asked, e.g.
	// sent now a message whose sendAt had passed.
	Notice string `json:"notice,omitempty"`
}

// Adaptation is a message sent in another form than the one requested.
type Adaptation struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// Statuses of a message record.
const (
	StatusAccepted  = "accepted"  // the platform took it (WhatsApp: not yet sent)
	StatusSent      = "sent"      // sent to the customer's device
	StatusDelivered = "delivered" // on the device
	StatusRead      = "read"      // seen by the customer
	StatusFailed    = "failed"    // will not arrive
	// StatusUnknown is a send whose outcome parley could not learn (see
	// CodeDeliveryUnknown): it may or may not arrive.
	StatusUnknown   = "unknown"
	StatusReceived  = "received"  // an inbound message
	StatusScheduled = "scheduled" // waiting for its sendAt
	StatusCancelled = "cancelled" // a scheduled send cancelled before its time
	// StatusPayloadPending is an inbound message whose large payload or
	// attachments are still being fetched; it becomes received, or failed.
	StatusPayloadPending = "payload_pending"
)

// Fallback is what parley sends instead of a message that cannot go as it
// is: a WhatsApp template when the window is closed, or on Apple another
// message when the customer's device cannot show the type.
type Fallback struct {
	Template *Message `json:"template,omitempty"`
	Message  *Message `json:"message,omitempty"`
}

// Outgoing is a validated message on its way to a platform.
type Outgoing struct {
	// MessageID is parley's id of the message.
	MessageID  string
	BusinessID string
	To         string
	Message    Message
	// ReplyToPlatformID is the platform id of the message this one answers.
	ReplyToPlatformID string
	// PlatformMessageID is set before sending on platforms where the sender
	// chooses the id (Apple: a UUID, kept across retries of one message).
	PlatformMessageID string
}
