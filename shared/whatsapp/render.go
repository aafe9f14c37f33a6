package whatsapp

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/parleyhq/parley/shared/message"
)

// request is the body of POST /{phone-number-id}/messages.
type request struct {
	MessagingProduct string       `json:"messaging_product"`
	RecipientType    string       `json:"recipient_type"`
	To               string       `json:"to"`
	Type             string       `json:"type"`
	Text             *textObject  `json:"text,omitempty"`
	Context          *contextInfo `json:"context,omitempty"`
}

type textObject struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url,omitempty"`
}

type contextInfo struct {
	MessageID string `json:"message_id"`
}

// Render returns the Graph API request body that sends o. It refuses a type
// this package does not support (unsupported_on_channel), a message
// Validate finds fault with (invalid_message) and one without a recipient
// (invalid_request).
//
// o.To is the customer's wa_id; it is sent with a leading "+", because
// without one Meta prepends the business number's country code. A "+"
// already there is kept.
func Render(o message.Outgoing) ([]byte, error) {
	if !Supports(o.Message.Type) {
		return nil, message.Errorf(message.CodeUnsupportedOnChannel,
			"whatsapp: message type %q is not supported on this channel", o.Message.Type)
	}
	if o.To == "" {
		return nil, requestError("to")
	}
	if ps := Validate(o.Message); len(ps) > 0 {
		return nil, message.Invalid(ps)
	}
	req := request{
		MessagingProduct: "whatsapp",
		RecipientType:    "individual",
		To:               recipient(o.To),
		Type:             "text",
		Text:             &textObject{Body: o.Message.Text, PreviewURL: o.Message.PreviewURL},
	}
	if o.ReplyToPlatformID != "" {
		req.Context = &contextInfo{MessageID: o.ReplyToPlatformID}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Meta reads "<", ">" and "&" as they are; escaping them only makes
	// the request harder to read in logs and tests.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(req); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// requestError is the invalid_request error for a missing request field.
func requestError(field string) *message.Error {
	ps := message.Problems{{Field: field, Problem: "is required"}}
	return &message.Error{Code: message.CodeInvalidRequest, Message: "whatsapp: " + ps.Error(), Details: ps}
}

func recipient(to string) string {
	if strings.HasPrefix(to, "+") {
		return to
	}
	return "+" + to
}
