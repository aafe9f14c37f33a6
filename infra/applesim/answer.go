package applesim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/shared/message"
)

// maxInlineReply is the size over which Apple sends an interactive answer
// by reference.
const maxInlineReply = 10 << 10

// request is an accepted interactive message being answered.
type request struct {
	msg   Message
	idata object
	// data is the data of a built-in message, nil for a custom one.
	data object
}

// answer delivers rp, the customer's answer to an interactive message.
func (s *Simulator) answer(ctx context.Context, rp Reply) (Delivery, error) {
	q, err := s.request(&rp)
	if err != nil {
		return Delivery{}, err
	}
	var (
		dict map[string]any
		cb   *Callback
	)
	if rp.Address != nil && rp.Action != "shippingContact" {
		return Delivery{}, fmt.Errorf("%w: address is for action shippingContact, not %s", ErrBadReply, rp.Action)
	}
	switch rp.Action {
	case "select":
		dict, err = s.selection(q, rp.IDs, rp.Locale)
	case "auth":
		dict, err = s.authentication(q, rp.Token)
	case "pay":
		dict, cb, err = s.payment(ctx, q, rp.Result)
	case "shipping", "paymentMethod", "shippingContact":
		cb, err = s.paymentUpdate(ctx, q, rp.Action, rp.IDs, rp.Address)
		if err != nil {
			return Delivery{}, err
		}
		return Delivery{Callback: cb}, nil
	case "custom":
		dict, err = s.customAnswer(q, rp.URL)
	default:
		return Delivery{}, fmt.Errorf("%w: action %q: want select, auth, pay, shipping, paymentMethod, shippingContact or custom", ErrBadReply, rp.Action)
	}
	if err != nil {
		return Delivery{Callback: cb}, err
	}
	raw, err := json.Marshal(dict)
	if err != nil {
		return Delivery{}, err
	}
	body := inboundBody{Type: "interactive"}
	if len(raw) > maxInlineReply {
		received, _ := q.idata.obj("receivedMessage")
		ref := s.storePayload(q.idata.str("bid"), received.str("title"), raw)
		body.InteractiveDataRef = &ref
	} else {
		body.InteractiveData = raw
	}
	d, err := s.deliver(ctx, rp, body)
	d.Callback = cb
	return d, err
}

// Latest, as a replyTo, names the newest interactive message the business
// sent the customer (both narrowed by businessId and from when set); a
// replyTo left out means the same.
const Latest = "latest"

// answerable tells whether m is an interactive message an answer to rp
// could name as Latest.
func answerable(m Message, rp *Reply) bool {
	return m.Interactive != "" && m.Interactive != KindDataRef &&
		(rp.BusinessID == "" || rp.BusinessID == m.Source) && (rp.From == "" || rp.From == m.Destination)
}

func forWhom(rp *Reply) string {
	switch {
	case rp.BusinessID != "" && rp.From != "":
		return " from " + rp.BusinessID + " to " + rp.From
	case rp.BusinessID != "":
		return " from " + rp.BusinessID
	case rp.From != "":
		return " to " + rp.From
	}
	return ""
}

// request finds the message rp answers and fills in rp's business and
// customer.
func (s *Simulator) request(rp *Reply) (request, error) {
	if rp.ReplyTo == "" {
		rp.ReplyTo = Latest
	}
	if rp.Type != "" && rp.Type != "interactive" {
		return request{}, fmt.Errorf("%w: an action is an interactive message, not %s", ErrBadReply, rp.Type)
	}
	if rp.Text != "" {
		return request{}, fmt.Errorf("%w: an action carries no text", ErrBadReply)
	}
	var (
		m     Message
		found bool
	)
	s.mu.Lock()
	for _, sent := range s.sent {
		if sent.ID == rp.ReplyTo || rp.ReplyTo == Latest && answerable(sent, rp) {
			m, found = sent, true
		}
	}
	s.mu.Unlock()
	switch {
	case !found && rp.ReplyTo == Latest:
		return request{}, fmt.Errorf("%w: replyTo %q: the gateway accepted no interactive message%s", ErrBadReply, Latest, forWhom(rp))
	case !found:
		return request{}, fmt.Errorf("%w: replyTo %q: the gateway accepted no message with this id", ErrBadReply, rp.ReplyTo)
	case m.Interactive == "" || m.Interactive == KindDataRef:
		return request{}, fmt.Errorf("%w: replyTo %q: not an interactive message whose content the gateway saw", ErrBadReply, rp.ReplyTo)
	case rp.BusinessID != "" && rp.BusinessID != m.Source:
		return request{}, fmt.Errorf("%w: businessId %s did not send message %s", ErrBadReply, rp.BusinessID, m.ID)
	case rp.From != "" && rp.From != m.Destination:
		return request{}, fmt.Errorf("%w: message %s was not sent to %s", ErrBadReply, m.ID, rp.From)
	}
	rp.BusinessID, rp.From, rp.ReplyTo = m.Source, m.Destination, m.ID
	var body struct {
		InteractiveData json.RawMessage `json:"interactiveData"`
	}
	json.Unmarshal(m.Body, &body)
	q := request{msg: m}
	q.idata, _ = decodeObject(body.InteractiveData)
	q.data, _ = q.idata.obj("data")
	return q, nil
}

// wrongKind is the error of an action that does not answer q.
func wrongKind(q request, action, want string) error {
	return fmt.Errorf("%w: action %s answers %s; message %s is %s", ErrBadReply, action, want, q.msg.ID, q.msg.Interactive)
}

// session returns the sessionIdentifier of q: the business's, else the one
// the gateway gave it.
func (s *Simulator) session(q request) string {
	if id := q.idata.str("sessionIdentifier"); id != "" {
		return id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.sessions[q.msg.ID]
	if !ok {
		id = message.NewUUID()
		s.sessions[q.msg.ID] = id
	}
	return id
}

// builtIn returns the answer to a built-in message: its bid, bubbles and
// session, and data with the common keys, the echoed images, the reply
// bubble (whose subtitle, or title, is summary when not empty) and the
// feature's answer.
func (s *Simulator) builtIn(q request, feature string, answer any, summary string) map[string]any {
	dict := map[string]any{"bid": q.idata["bid"], "sessionIdentifier": s.session(q)}
	for _, k := range []string{"receivedMessage", "replyMessage"} {
		if v, ok := q.idata[k]; ok {
			dict[k] = v
		}
	}
	data := map[string]any{feature: answer}
	for _, k := range []string{"version", "mspVersion", "requestIdentifier", "images"} {
		if v, ok := q.data[k]; ok {
			data[k] = v
		}
	}
	bubble := map[string]any{}
	if rm, ok := q.idata.obj("replyMessage"); ok {
		for k, v := range rm {
			bubble[k] = v
		}
	}
	if summary != "" {
		if _, titled := bubble["title"]; titled {
			bubble["subtitle"] = summary
		} else {
			bubble["title"] = summary
		}
	}
	if len(bubble) > 0 {
		data["replyMessage"] = bubble
	}
	dict["data"] = data
	return dict
}

// with returns a copy of o with key set to v.
func (o object) with(key string, v any) map[string]any {
	out := make(map[string]any, len(o)+1)
	for k, e := range o {
		out[k] = e
	}
	out[key] = v
	return out
}

// selection answers a list picker, time picker or quick reply with the
// items ids.
func (s *Simulator) selection(q request, ids []string, locale string) (map[string]any, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: action select needs ids", ErrBadReply)
	}
	switch q.msg.Interactive {
	case KindListPicker:
		return s.listSelection(q, ids, locale)
	case KindTimePicker, KindQuickReply:
		if len(ids) != 1 {
			return nil, fmt.Errorf("%w: ids: %d ids; a %s takes one", ErrBadReply, len(ids), q.msg.Interactive)
		}
		if q.msg.Interactive == KindTimePicker {
			return s.slotSelection(q, ids[0])
		}
		return s.quickSelection(q, ids[0])
	}
	return nil, wrongKind(q, "select", "a list picker, time picker or quick reply")
}

// listSelection answers a list picker as Apple's device does: the whole
// list comes back in two sections, the chosen items first (in the order
// the customer chose them, ids' order) under "You Selected", then the items
// left under "Others", with the titles in the customer's language; every
// key of an item is kept. "Others" is left out when nothing is left. A
// section without multipleSelection takes one item.
func (s *Simulator) listSelection(q request, ids []string, locale string) (map[string]any, error) {
	picker, _ := q.data.obj("listPicker")
	sections, _ := picker.objects("sections")
	type found struct {
		item    object
		section int
	}
	byID := map[string]found{}
	var all []object
	multiple := false
	for i, sec := range sections {
		items, _ := sec.objects("items")
		var m bool
		json.Unmarshal(sec["multipleSelection"], &m)
		multiple = multiple || m
		for _, it := range items {
			byID[it.str("identifier")] = found{it, i}
			all = append(all, it)
		}
	}
	chosen := map[string]bool{}
	perSection := map[int]int{}
	picked := make([]object, 0, len(ids))
	titles := make([]string, 0, len(ids))
	for _, id := range ids {
		f, ok := byID[id]
		switch {
		case chosen[id]:
			return nil, fmt.Errorf("%w: ids: %q is selected twice", ErrBadReply, id)
		case !ok:
			return nil, fmt.Errorf("%w: ids: %q is not an item of the list picker", ErrBadReply, id)
		}
		chosen[id] = true
		perSection[f.section]++
		var m bool
		json.Unmarshal(sections[f.section]["multipleSelection"], &m)
		if perSection[f.section] > 1 && !m {
			return nil, fmt.Errorf("%w: ids: %d items of sections[%d] %q, which allows one selection", ErrBadReply,
				perSection[f.section], f.section, sections[f.section].str("title"))
		}
		picked = append(picked, f.item)
		titles = append(titles, f.item.str("title"))
	}
	var others []object
	for _, it := range all {
		if !chosen[it.str("identifier")] {
			others = append(others, it)
		}
	}
	selectedTitle, othersTitle := listTitles(locale)
	out := []map[string]any{{"title": selectedTitle, "order": 0, "multipleSelection": multiple, "items": picked}}
	if len(others) > 0 {
		out = append(out, map[string]any{"title": othersTitle, "order": 1, "multipleSelection": multiple, "items": others})
	}
	return s.builtIn(q, "listPicker", picker.with("sections", out), strings.Join(titles, ", ")), nil
}

// listTitles returns the titles of the two sections of a list picker's
// answer in the language of locale (Apple's device localises them);
// English for a language the simulator does not know.
func listTitles(locale string) (selected, others string) {
	lang, _, _ := strings.Cut(strings.ReplaceAll(locale, "-", "_"), "_")
	switch strings.ToLower(lang) {
	case "fr":
		return "Votre sélection", "Autres"
	case "de":
		return "Ihre Auswahl", "Weitere"
	case "es":
		return "Tu selección", "Otros"
	case "ja":
		return "選択済み", "その他"
	}
	return "You Selected", "Others"
}

func (s *Simulator) slotSelection(q request, id string) (map[string]any, error) {
	event, _ := q.data.obj("event")
	slots, _ := event.objects("timeslots")
	for _, slot := range slots {
		if slot.str("identifier") == id {
			return s.builtIn(q, "event", event.with("timeslots", []object{slot}), slot.str("startTime")), nil
		}
	}
	return nil, fmt.Errorf("%w: ids: %q is not a time slot of the event", ErrBadReply, id)
}

func (s *Simulator) quickSelection(q request, id string) (map[string]any, error) {
	qr, _ := q.data.obj("quick-reply")
	items, _ := qr.objects("items")
	for i, it := range items {
		if it.str("identifier") == id {
			answer := qr.with("items", []object{it})
			answer["selectedIdentifier"] = id
			answer["selectedIndex"] = i
			return s.builtIn(q, "quick-reply", answer, it.str("title")), nil
		}
	}
	return nil, fmt.Errorf("%w: ids: %q is not a quick reply item", ErrBadReply, id)
}

// authentication answers an authentication request with token, encrypted
// for the request's responseEncryptionKey.
func (s *Simulator) authentication(q request, token string) (map[string]any, error) {
	if q.msg.Interactive != KindAuth {
		return nil, wrongKind(q, "auth", "an authentication request")
	}
	if token == "" {
		return nil, fmt.Errorf("%w: action auth needs token, the OAuth token", ErrBadReply)
	}
	auth, _ := q.data.obj("authenticate")
	oauth, _ := auth.obj("oauth2")
	pub, err := responseKey(oauth)
	if err != nil {
		return nil, err
	}
	sealed, err := encryptToken(pub, []byte(token))
	if err != nil {
		return nil, err
	}
	answer := map[string]string{"status": "authenticated", "token": base64.StdEncoding.EncodeToString(sealed)}
	return s.builtIn(q, "authenticate", answer, ""), nil
}

// customAnswer answers an iMessage app message with the extension's URL.
func (s *Simulator) customAnswer(q request, u string) (map[string]any, error) {
	switch {
	case q.msg.Interactive != KindCustom:
		return nil, wrongKind(q, "custom", "an iMessage app message")
	case u == "":
		return nil, fmt.Errorf("%w: action custom needs url, the extension's URL", ErrBadReply)
	case len(u) > maxCustomURL:
		return nil, fmt.Errorf("%w: url: %d bytes, the limit is %d", ErrBadReply, len(u), maxCustomURL)
	}
	dict := map[string]any{"URL": u, "sessionIdentifier": s.session(q)}
	for _, k := range []string{"bid", "appId", "appName", "receivedMessage", "replyMessage", "useLiveLayout"} {
		if v, ok := q.idata[k]; ok {
			dict[k] = v
		}
	}
	return dict, nil
}
