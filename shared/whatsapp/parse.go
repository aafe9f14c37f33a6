package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Parsed is what a webhook carried: the items parley keeps, and the parts
// it could not use, each with where it was and why.
type Parsed struct {
	Items   []message.InboundItem
	Skipped []Skipped
}

// Skipped is one part of a webhook that Parse left out.
type Skipped struct {
	// Path locates the part, e.g. "entry[0].changes[1].value.messages[2]".
	Path   string
	Reason string
}

// webhookObject is the "object" of every WhatsApp webhook.
const webhookObject = "whatsapp_business_account"

type envelope struct {
	Object *string           `json:"object"`
	Entry  []json.RawMessage `json:"entry"`
}

type entry struct {
	ID      string            `json:"id"`
	Changes []json.RawMessage `json:"changes"`
}

type change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type changeValue struct {
	Metadata struct {
		PhoneNumberID string `json:"phone_number_id"`
	} `json:"metadata"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []json.RawMessage `json:"statuses"`
	Errors   []json.RawMessage `json:"errors"`
}

type inboundMessage struct {
	From      string   `json:"from"`
	ID        string   `json:"id"`
	Timestamp unixTime `json:"timestamp"`
	Type      string   `json:"type"`
	Text      *struct {
		Body *string `json:"body"`
	} `json:"text"`
	Context *struct {
		ID string `json:"id"`
	} `json:"context"`
}

type status struct {
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Timestamp   unixTime          `json:"timestamp"`
	RecipientID string            `json:"recipient_id"`
	Errors      []json.RawMessage `json:"errors"`
}

// webhookError is an error object of a webhook (statuses[].errors[],
// value.errors[]): not the Graph envelope of the send endpoint.
type webhookError struct {
	Code      int       `json:"code"`
	Title     string    `json:"title"`
	Message   string    `json:"message"`
	ErrorData errorData `json:"error_data"`
}

// unixTime is a webhook timestamp: Unix seconds as a JSON string (a bare
// number is accepted too). Absent, it is zero.
type unixTime struct {
	time.Time
}

func (t *unixTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b)
	}
	if s == "" || s == "null" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q is not Unix seconds", s)
	}
	t.Time = time.Unix(n, 0).UTC()
	return nil
}

// Parse reads a webhook body Meta posted (after ValidSignature accepted it).
// It fails only when body is not a WhatsApp webhook at all: not JSON, or
// another "object". Inside a valid envelope each entry, change, message and
// status that cannot be read is skipped with its reason and the rest is
// kept, so one malformed part never loses its neighbours. Unknown fields
// are ignored.
//
// Text messages become message items with a text Body; every other message
// type becomes a message item with Body type "unsupported". Statuses become
// status items. At is Meta's timestamp, or receivedAt when there is none.
func Parse(body []byte, receivedAt time.Time) (Parsed, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Parsed{}, fmt.Errorf("whatsapp: webhook: %s", describe(err))
	}
	switch {
	case env.Object == nil:
		return Parsed{}, errors.New("whatsapp: webhook: object is missing")
	case *env.Object != webhookObject:
		return Parsed{}, fmt.Errorf("whatsapp: webhook: object is %q, not %q", *env.Object, webhookObject)
	}
	p := parser{receivedAt: receivedAt}
	for i, raw := range env.Entry {
		p.entry(fmt.Sprintf("entry[%d]", i), raw)
	}
	return p.out, nil
}

type parser struct {
	receivedAt time.Time
	out        Parsed
}

func (p *parser) skip(path, format string, args ...any) {
	p.out.Skipped = append(p.out.Skipped, Skipped{Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (p *parser) entry(path string, raw json.RawMessage) {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		p.skip(path, "%s", describe(err))
		return
	}
	for i, raw := range e.Changes {
		p.change(fmt.Sprintf("%s.changes[%d]", path, i), raw)
	}
}

func (p *parser) change(path string, raw json.RawMessage) {
	var c change
	if err := json.Unmarshal(raw, &c); err != nil {
		p.skip(path, "%s", describe(err))
		return
	}
	if c.Field != "messages" {
		p.skip(path, "field %q is not handled", c.Field)
		return
	}
	var v changeValue
	if err := json.Unmarshal(c.Value, &v); err != nil {
		p.skip(path, "value: %s", describe(err))
		return
	}
	business := v.Metadata.PhoneNumberID
	if business == "" {
		p.skip(path, "value.metadata.phone_number_id is missing")
		return
	}
	for i, raw := range v.Messages {
		p.message(fmt.Sprintf("%s.value.messages[%d]", path, i), business, raw)
	}
	for i, raw := range v.Statuses {
		p.status(fmt.Sprintf("%s.value.statuses[%d]", path, i), business, raw)
	}
	for i, raw := range v.Errors {
		// Errors not tied to a message (e.g. a rate limit) carry nothing to
		// store; they are reported so that the caller can log them.
		path := fmt.Sprintf("%s.value.errors[%d]", path, i)
		var we webhookError
		if err := json.Unmarshal(raw, &we); err != nil {
			p.skip(path, "%s", describe(err))
			continue
		}
		p.skip(path, "error %d for the whole change: %s", we.Code, we.text())
	}
}

func (p *parser) message(path, business string, raw json.RawMessage) {
	var m inboundMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		p.skip(path, "%s", describe(err))
		return
	}
	switch {
	case m.ID == "":
		p.skip(path, "id is missing")
		return
	case m.From == "":
		p.skip(path, "from is missing")
		return
	}
	item := message.InboundItem{
		Kind:              message.KindMessage,
		Channel:           message.WhatsApp,
		BusinessID:        business,
		CustomerID:        m.From,
		PlatformMessageID: m.ID,
		At:                p.at(m.Timestamp),
	}
	if m.Context != nil {
		item.ReplyToPlatformID = m.Context.ID
	}
	switch m.Type {
	case "text":
		if m.Text == nil || m.Text.Body == nil {
			p.skip(path, "text.body is missing")
			return
		}
		item.Body = &message.Body{Type: message.TypeText, Text: *m.Text.Body}
	default:
		item.Body = &message.Body{Type: "unsupported"}
	}
	p.out.Items = append(p.out.Items, item)
}

func (p *parser) status(path, business string, raw json.RawMessage) {
	var s status
	if err := json.Unmarshal(raw, &s); err != nil {
		p.skip(path, "%s", describe(err))
		return
	}
	switch {
	case s.ID == "":
		p.skip(path, "id is missing")
		return
	case s.Status == "":
		p.skip(path, "status is missing")
		return
	case s.RecipientID == "":
		p.skip(path, "recipient_id is missing")
		return
	}
	item := message.InboundItem{
		Kind:              message.KindStatus,
		Channel:           message.WhatsApp,
		BusinessID:        business,
		CustomerID:        s.RecipientID,
		PlatformMessageID: s.ID,
		At:                p.at(s.Timestamp),
		Status:            s.Status,
	}
	if len(s.Errors) > 0 {
		var we webhookError
		if err := json.Unmarshal(s.Errors[0], &we); err != nil {
			p.skip(path+".errors[0]", "%s", describe(err))
		} else {
			item.StatusError = &message.PlatformError{Code: we.Code, Message: we.text(), Details: we.ErrorData.Details}
		}
	}
	p.out.Items = append(p.out.Items, item)
}

func (p *parser) at(t unixTime) time.Time {
	if t.IsZero() {
		return p.receivedAt
	}
	return t.Time
}

// text is the error's message, or its title when it has none (Meta sends
// both, equal).
func (e webhookError) text() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Title
}

// describe turns a decoding error into a reason a person can act on,
// without Go's type names.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Sprintf("a JSON %s where an object was expected", te.Value)
		}
		return fmt.Sprintf("%s: unexpected JSON %s", te.Field, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	return err.Error()
}
