package apple

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Message types of Apple's wire format.
const (
	typeText        = "text"
	typeTypingStart = "typing_start"
	typeTypingEnd   = "typing_end"
	typeClose       = "close"
)

// inbound is the body of a webhook, after decompression: the keys common to
// every type and the text body. Other keys are ignored.
type inbound struct {
	V             *int            `json:"v"`
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	SourceID      string          `json:"sourceId"`
	DestinationID string          `json:"destinationId"`
	Body          json.RawMessage `json:"body"`
	// Locale, Intent and Group: the customer's locale, and the routing
	// hints of the entry point they used.
	Locale string `json:"locale"`
	Intent string `json:"intent"`
	Group  string `json:"group"`
	// InteractiveData is a reply to an interactive message; a large one
	// comes as InteractiveDataRef instead.
	InteractiveData    json.RawMessage `json:"interactiveData"`
	InteractiveDataRef json.RawMessage `json:"interactiveDataRef"`
	// Attachments are the files of a text message, fetched later.
	// Anything but an array of objects is ignored.
	Attachments json.RawMessage `json:"attachments"`
}

// Parse turns a verified webhook (its headers and its decompressed body) into
// the item it carries. The headers id, source-id and destination-id are
// required; the body's id, sourceId and destinationId may be absent but must
// match the headers when present. A text becomes a message with a text body,
// an interactive reply a message with the body of its kind (see
// parseInteractive) answering the message its requestIdentifier names, a
// reply by interactiveDataRef and a text's attachments a message whose
// Payloads name what is still to be fetched,
// typing_start, typing_end and close become items of those kinds, and every
// other type a message whose body type is "unsupported". Errors wrap ErrMalformedBody and name the field at fault.
// receivedAt is the item's time, since Apple's body carries none.
func Parse(h http.Header, body []byte, receivedAt time.Time) (message.InboundItem, error) {
	var in inbound
	if err := json.Unmarshal(body, &in); err != nil {
		return message.InboundItem{}, fmt.Errorf("%w: body: %s", ErrMalformedBody, describeJSONError(err))
	}
	switch {
	case in.V == nil:
		return message.InboundItem{}, fmt.Errorf("%w: body: v: is required", ErrMalformedBody)
	case *in.V < 1:
		return message.InboundItem{}, fmt.Errorf("%w: body: v: %d is not a version", ErrMalformedBody, *in.V)
	}
	if in.Type == "" {
		return message.InboundItem{}, fmt.Errorf("%w: body: type: is required", ErrMalformedBody)
	}
	id, err := routing(h, "id", in.ID, "id")
	if err != nil {
		return message.InboundItem{}, err
	}
	customer, err := routing(h, "source-id", in.SourceID, "sourceId")
	if err != nil {
		return message.InboundItem{}, err
	}
	business, err := routing(h, "destination-id", in.DestinationID, "destinationId")
	if err != nil {
		return message.InboundItem{}, err
	}
	item := message.InboundItem{
		Channel:           message.Apple,
		BusinessID:        business,
		CustomerID:        customer,
		PlatformMessageID: id,
		At:                receivedAt,
		Capabilities:      capabilities(h),
		Routing: message.Routing{Intent: in.Intent, Group: in.Group, Locale: in.Locale,
			DeviceAgent: strings.TrimSpace(h.Get("device-agent"))},
	}
	switch in.Type {
	case typeText:
		var text string
		if err := json.Unmarshal(in.Body, &text); err != nil || text == "" {
			return message.InboundItem{}, fmt.Errorf("%w: body: body: a text message needs a non-empty string", ErrMalformedBody)
		}
		item.Kind = message.KindMessage
		item.Body = &message.Body{Type: message.TypeText, Text: text}
		var files []json.RawMessage
		json.Unmarshal(in.Attachments, &files)
		for _, a := range files {
			if len(a) == 0 || a[0] != '{' {
				continue
			}
			item.Payloads = append(item.Payloads, message.PayloadRef{Kind: message.PayloadAttachment, Index: len(item.Payloads), Ref: a})
			// What the dictionary says of the file until it is fetched; a
			// dictionary that cannot be read fails when it is.
			b, _ := ParseBlob(a)
			item.Body.Attachments = append(item.Body.Attachments, message.Attachment{Name: b.Name, MimeType: b.MimeType, Size: b.Size})
		}
	case typeTypingStart:
		item.Kind = message.KindTypingStart
	case typeTypingEnd:
		item.Kind = message.KindTypingEnd
	case typeClose:
		item.Kind = message.KindClose
	case typeInteractive:
		item.Kind = message.KindMessage
		item.Body, item.ReplyToPlatformID, err = parseInteractive(in.InteractiveData, in.InteractiveDataRef)
		if err != nil {
			return message.InboundItem{}, err
		}
		if absent(in.InteractiveData) && !absent(in.InteractiveDataRef) {
			item.Payloads = []message.PayloadRef{{Kind: message.PayloadInteractive, Ref: in.InteractiveDataRef}}
		}
	default:
		item.Kind = message.KindMessage
		item.Body = &message.Body{Type: "unsupported"}
	}
	return item, nil
}

// routing returns one of the ids a webhook carries both as a header and as a
// body key: the header is required, and the body key, when present, must say
// the same.
func routing(h http.Header, header, fromBody, key string) (string, error) {
	v := strings.TrimSpace(h.Get(header))
	switch {
	case v == "":
		return "", fmt.Errorf("%w: header %s: is required", ErrMalformedBody, header)
	case fromBody != "" && fromBody != v:
		return "", fmt.Errorf("%w: body: %s: %q differs from header %s %q", ErrMalformedBody, key, fromBody, header, v)
	}
	return v, nil
}

// capabilities returns the capability-list header as upper-case names.
func capabilities(h http.Header) []string {
	var caps []string
	for _, line := range h.Values("capability-list") {
		for c := range strings.SplitSeq(line, ",") {
			if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
				caps = append(caps, c)
			}
		}
	}
	return caps
}

// describeJSONError says where a body failed to decode.
func describeJSONError(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		if typ.Field == "" {
			return fmt.Sprintf("is a JSON %s, want an object", typ.Value)
		}
		return fmt.Sprintf("%s: is a JSON %s, want %s", typ.Field, typ.Value, typ.Type)
	}
	return "is not JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}
