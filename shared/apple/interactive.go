package apple

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// replyEnvelope is what Parse reads of a reply's interactiveData.
type replyEnvelope struct {
	BID               string          `json:"bid"`
	Data              json.RawMessage `json:"data"`
	SessionIdentifier string          `json:"sessionIdentifier"`
	ReplyMessage      json.RawMessage `json:"replyMessage"`
}

// listReply is the answer to a list picker. Apple's device sends the whole
// list back, regrouped: the first section holds what the customer chose
// ("You Selected", localised), a second one the items left ("Others",
// localised). Section titles depend on the customer's language; the
// position does not, so only the first section is read as the choice (see
// CHANNEL.md).
type listReply struct {
	Sections []struct {
		Title string `json:"title"`
		Items []struct {
			Identifier string `json:"identifier"`
			Title      string `json:"title"`
			Subtitle   string `json:"subtitle"`
		} `json:"items"`
	} `json:"sections"`
}

// replyBubble is the bubble of an answer (replyMessage).
type replyBubble struct {
	Title          string `json:"title"`
	Subtitle       string `json:"subtitle"`
	AlternateTitle string `json:"alternateTitle"`
}

type eventReply struct {
	Timeslots []struct {
		Identifier string  `json:"identifier"`
		StartTime  string  `json:"startTime"`
		Duration   flexInt `json:"duration"`
	} `json:"timeslots"`
}

type quickReplyReply struct {
	SummaryText        string   `json:"summaryText"`
	SelectedIdentifier *string  `json:"selectedIdentifier"`
	SelectedIndex      *flexInt `json:"selectedIndex"`
	Items              []struct {
		Identifier string `json:"identifier"`
		Title      string `json:"title"`
	} `json:"items"`
}

type authReply struct {
	Status string `json:"status"`
	Token  string `json:"token"`
}

type paymentReply struct {
	Status string `json:"status"`
}

// flexInt is a number Apple may write as a JSON number or a string.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if s == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f != float64(int64(f)) {
		return fmt.Errorf("%s is not a whole number", b)
	}
	*n = flexInt(f)
	return nil
}

// startLayouts are the forms of a timeslot's startTime Parse understands:
// Apple's, with seconds, and RFC 3339.
var startLayouts = []string{TimeLayout, "2006-01-02T15:04:05-0700", time.RFC3339}

// absent reports whether a JSON value is missing or null.
func absent(b json.RawMessage) bool {
	return len(b) == 0 || string(bytes.TrimSpace(b)) == "null"
}

// parseInteractive reads the reply to an interactive message and returns
// its body and the requestIdentifier it answers:
//
//   - a list picker's chosen items (one or several, the first section of
//     Apple's answer, in Apple's order): a selection body;
//   - a time picker's chosen slot: a timeslot body;
//   - a quick reply's chosen item (selectedIdentifier or selectedIndex): a
//     selection body;
//   - an authentication's outcome: an auth body with the still encrypted
//     token in EncryptedToken;
//   - an Apple Pay outcome: a payment body with its status and, as detail,
//     data.payment;
//   - a reply of an iMessage app (another bid than Apple's extension): a
//     custom body holding its data, or the whole interactiveData when it has
//     none.
//
// Every body of a reply also carries the reply bubble (data.replyMessage,
// else interactiveData.replyMessage) and the sessionIdentifier. A reply sent
// as interactiveDataRef (over 10 KB) and a reply of another kind (forms
// among them) are bodies of type unsupported naming what came.
// Errors wrap ErrMalformedBody: a key parley reads has the wrong JSON type.
func parseInteractive(raw, ref json.RawMessage) (*message.Body, string, error) {
	unsupported := func(what string) *message.Body {
		return &message.Body{Type: message.BodyUnsupported, Unsupported: what}
	}
	if absent(raw) {
		if !absent(ref) {
			return unsupported("interactiveDataRef"), "", nil
		}
		return unsupported(typeInteractive), "", nil
	}
	var env replyEnvelope
	if err := decode(raw, "interactiveData", &env); err != nil {
		return nil, "", err
	}
	var data map[string]json.RawMessage
	if !absent(env.Data) {
		if err := decode(env.Data, "interactiveData.data", &data); err != nil {
			return nil, "", err
		}
	}
	var requestID string
	if r, ok := data["requestIdentifier"]; ok && !absent(r) {
		if err := decode(r, "interactiveData.data.requestIdentifier", &requestID); err != nil {
			return nil, "", err
		}
	}
	bubble, err := answerBubble(data["replyMessage"], env.ReplyMessage)
	if err != nil {
		return nil, "", err
	}
	var body *message.Body
	if env.BID != "" && env.BID != BuiltInBID {
		custom := raw
		if !absent(env.Data) {
			custom = env.Data
		}
		body = &message.Body{Type: message.BodyCustom, Custom: compact(custom)}
	} else {
		if body, err = builtInReply(data); err != nil {
			return nil, "", err
		}
		if body == nil {
			body = unsupported(typeInteractive)
		}
	}
	body.ReplyBubble, body.SessionIdentifier = bubble, env.SessionIdentifier
	return body, requestID, nil
}

// answerBubble reads the bubble of an answer: the device's
// (data.replyMessage), else the envelope's; nil when neither has text.
func answerBubble(inData, inEnvelope json.RawMessage) (*message.ReplyBubble, error) {
	raw, field := inData, "interactiveData.data.replyMessage"
	if absent(raw) {
		raw, field = inEnvelope, "interactiveData.replyMessage"
	}
	if absent(raw) {
		return nil, nil
	}
	var b replyBubble
	if err := decode(raw, field, &b); err != nil {
		return nil, err
	}
	if b == (replyBubble{}) {
		return nil, nil
	}
	return &message.ReplyBubble{Title: b.Title, Subtitle: b.Subtitle, AlternateTitle: b.AlternateTitle}, nil
}

// builtInReply reads the reply of Apple's own extension; nil when data has
// no feature parley reads.
func builtInReply(data map[string]json.RawMessage) (*message.Body, error) {
	if raw, ok := data["listPicker"]; ok {
		var lp listReply
		if err := decode(raw, "interactiveData.data.listPicker", &lp); err != nil {
			return nil, err
		}
		if len(lp.Sections) == 0 || len(lp.Sections[0].Items) == 0 {
			return &message.Body{Type: message.BodyUnsupported, Unsupported: "listPicker"}, nil
		}
		b := &message.Body{Type: message.BodySelection}
		for _, it := range lp.Sections[0].Items {
			b.Selections = append(b.Selections, message.Selection{ID: it.Identifier, Title: it.Title, Description: it.Subtitle})
		}
		return b, nil
	}
	if raw, ok := data["event"]; ok {
		var ev eventReply
		if err := decode(raw, "interactiveData.data.event", &ev); err != nil {
			return nil, err
		}
		if len(ev.Timeslots) == 0 {
			return &message.Body{Type: message.BodyUnsupported, Unsupported: "event"}, nil
		}
		s := ev.Timeslots[0]
		ts := &message.Timeslot{ID: s.Identifier, Duration: int(s.Duration)}
		for _, layout := range startLayouts {
			if t, err := time.Parse(layout, s.StartTime); err == nil {
				ts.Start = t.UTC()
				break
			}
		}
		return &message.Body{Type: message.BodyTimeslot, Timeslot: ts}, nil
	}
	if raw, ok := data["quick-reply"]; ok {
		var qr quickReplyReply
		if err := decode(raw, `interactiveData.data["quick-reply"]`, &qr); err != nil {
			return nil, err
		}
		sel, ok := quickReplySelection(qr)
		if !ok {
			return &message.Body{Type: message.BodyUnsupported, Unsupported: "quick-reply", SummaryText: qr.SummaryText}, nil
		}
		return &message.Body{Type: message.BodySelection, Selections: []message.Selection{sel}, SummaryText: qr.SummaryText}, nil
	}
	if raw, ok := data["authenticate"]; ok {
		var a authReply
		if err := decode(raw, "interactiveData.data.authenticate", &a); err != nil {
			return nil, err
		}
		return &message.Body{Type: message.BodyAuth, Auth: &message.AuthReply{Status: a.Status, EncryptedToken: a.Token}}, nil
	}
	if raw, ok := data["payment"]; ok {
		var p paymentReply
		if err := decode(raw, "interactiveData.data.payment", &p); err != nil {
			return nil, err
		}
		return &message.Body{Type: message.BodyPayment, Payment: &message.PaymentReply{Status: p.Status, Detail: compact(raw)}}, nil
	}
	if _, ok := data["dynamic"]; ok {
		return &message.Body{Type: message.BodyUnsupported, Unsupported: "dynamic"}, nil
	}
	return nil, nil
}

// quickReplySelection finds the chosen item of a quick reply: by
// selectedIdentifier, else by selectedIndex, else the only item left.
func quickReplySelection(qr quickReplyReply) (message.Selection, bool) {
	switch {
	case qr.SelectedIdentifier != nil && *qr.SelectedIdentifier != "":
		sel := message.Selection{ID: *qr.SelectedIdentifier}
		for _, it := range qr.Items {
			if it.Identifier == sel.ID {
				sel.Title = it.Title
				break
			}
		}
		return sel, true
	case qr.SelectedIndex != nil:
		i := int(*qr.SelectedIndex)
		if i < 0 || i >= len(qr.Items) || qr.Items[i].Identifier == "" {
			return message.Selection{}, false
		}
		return message.Selection{ID: qr.Items[i].Identifier, Title: qr.Items[i].Title}, true
	case len(qr.Items) == 1 && qr.Items[0].Identifier != "":
		return message.Selection{ID: qr.Items[0].Identifier, Title: qr.Items[0].Title}, true
	}
	return message.Selection{}, false
}

// decode unmarshals raw into v; an error names field and wraps
// ErrMalformedBody.
func decode(raw json.RawMessage, field string, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: body: %s: %s", ErrMalformedBody, field, describeJSONError(err))
	}
	return nil
}

// compact returns raw without insignificant space; raw is valid JSON.
func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}
