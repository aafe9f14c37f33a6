package whatsapp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
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

// The envelope read in one pass: every level typed.
type (
	typedEnvelope struct {
		Object *string      `json:"object"`
		Entry  []typedEntry `json:"entry"`
	}
	typedEntry struct {
		ID      string        `json:"id"`
		Changes []typedChange `json:"changes"`
	}
	typedChange struct {
		Field string     `json:"field"`
		Value typedValue `json:"value"`
	}
	typedValue struct {
		Metadata metadata         `json:"metadata"`
		Contacts []contact        `json:"contacts"`
		Messages []inboundMessage `json:"messages"`
		Statuses []status         `json:"statuses"`
		Errors   []webhookError   `json:"errors"`
		Prefs    []userPreference `json:"user_preferences"`
	}
)

// The envelope read level by level, so that a part that cannot be read is
// skipped without losing its neighbours.
type (
	envelope struct {
		Object *string           `json:"object"`
		Entry  []json.RawMessage `json:"entry"`
	}
	entry struct {
		ID      string            `json:"id"`
		Changes []json.RawMessage `json:"changes"`
	}
	change struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	}
	changeValue struct {
		Metadata metadata          `json:"metadata"`
		Contacts []json.RawMessage `json:"contacts"`
		Messages []json.RawMessage `json:"messages"`
		Statuses []json.RawMessage `json:"statuses"`
		Errors   []json.RawMessage `json:"errors"`
		Prefs    []userPreference  `json:"user_preferences"`
	}
)

type metadata struct {
	PhoneNumberID string `json:"phone_number_id"`
}

// contact is an element of value.contacts: who a message is from (or a
// status for), by every id Meta shares, with their profile.
type contact struct {
	Profile struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"profile"`
	WaID         string `json:"wa_id"`
	UserID       string `json:"user_id"`
	ParentUserID string `json:"parent_user_id"`
	// IdentityKeyHash comes when the business checks identity changes.
	IdentityKeyHash string `json:"identity_key_hash"`
}

// customer turns a contact into a Customer.
func (c *contact) customer() *message.Customer {
	return &message.Customer{WaID: c.WaID, UserID: c.UserID, ParentUserID: c.ParentUserID, Username: c.Profile.Username, Name: c.Profile.Name}
}

// contactFor finds the contact of the customer with the given ids: the
// one that shares an id, or the only one.
func contactFor(contacts []contact, ids ...string) *contact {
	for i := range contacts {
		c := &contacts[i]
		for _, id := range ids {
			if id != "" && (id == c.WaID || id == c.UserID || id == c.ParentUserID) {
				return c
			}
		}
	}
	if len(contacts) == 1 {
		return &contacts[0]
	}
	return nil
}

// inboundMessage is an element of value.messages, with the bodies parley
// reads.
type inboundMessage struct {
	From             string `json:"from"`
	FromUserID       string `json:"from_user_id"`
	FromParentUserID string `json:"from_parent_user_id"`
	// GroupID is set on a message written in a group; From is then the
	// participant.
	GroupID   string   `json:"group_id"`
	ID        string   `json:"id"`
	Timestamp unixTime `json:"timestamp"`
	Type      string   `json:"type"`
	Context   *struct {
		ID                  string `json:"id"`
		Forwarded           bool   `json:"forwarded"`
		FrequentlyForwarded bool   `json:"frequently_forwarded"`
		ReferredProduct     *struct {
			CatalogID         string `json:"catalog_id"`
			ProductRetailerID string `json:"product_retailer_id"`
		} `json:"referred_product"`
	} `json:"context"`
	Referral *struct {
		SourceURL      string `json:"source_url"`
		SourceID       string `json:"source_id"`
		SourceType     string `json:"source_type"`
		Headline       string `json:"headline"`
		Body           string `json:"body"`
		MediaType      string `json:"media_type"`
		ImageURL       string `json:"image_url"`
		VideoURL       string `json:"video_url"`
		ThumbnailURL   string `json:"thumbnail_url"`
		CtwaClid       string `json:"ctwa_clid"`
		WelcomeMessage *struct {
			Text string `json:"text"`
		} `json:"welcome_message"`
	} `json:"referral"`
	Contacts []message.ContactCard `json:"contacts"`
	Revoke   *struct {
		OriginalMessageID string `json:"original_message_id"`
	} `json:"revoke"`
	Edit *struct {
		OriginalMessageID string          `json:"original_message_id"`
		Message           json.RawMessage `json:"message"`
	} `json:"edit"`
	System *struct {
		Body           string `json:"body"`
		Type           string `json:"type"`
		WaID           string `json:"wa_id"`
		NewWaID        string `json:"new_wa_id"`
		UserID         string `json:"user_id"`
		PreviousUserID string `json:"previous_user_id"`
		Identity       string `json:"identity"`
	} `json:"system"`
	Identity *struct {
		Acknowledged     bool     `json:"acknowledged"`
		CreatedTimestamp unixTime `json:"created_timestamp"`
		Hash             string   `json:"hash"`
	} `json:"identity"`
	Errors []webhookError `json:"errors"`
	Text   *struct {
		Body *string `json:"body"`
	} `json:"text"`
	Interactive *struct {
		Type        string `json:"type"`
		ListReply   *reply `json:"list_reply"`
		ButtonReply *reply `json:"button_reply"`
		NFMReply    *struct {
			Name         string          `json:"name"`
			Body         string          `json:"body"`
			ResponseJSON json.RawMessage `json:"response_json"`
		} `json:"nfm_reply"`
		CallPermissionReply *struct {
			Response            string   `json:"response"`
			ExpirationTimestamp unixTime `json:"expiration_timestamp"`
			ResponseSource      string   `json:"response_source"`
		} `json:"call_permission_reply"`
	} `json:"interactive"`
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Location *struct {
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
		Name      string   `json:"name"`
		Address   string   `json:"address"`
		URL       string   `json:"url"`
	} `json:"location"`
	Order *struct {
		CatalogID    string `json:"catalog_id"`
		Text         string `json:"text"`
		ProductItems []struct {
			ProductRetailerID string      `json:"product_retailer_id"`
			Quantity          json.Number `json:"quantity"`
			ItemPrice         json.Number `json:"item_price"`
			Currency          string      `json:"currency"`
		} `json:"product_items"`
	} `json:"order"`
	Reaction *struct {
		MessageID string  `json:"message_id"`
		Emoji     *string `json:"emoji"`
	} `json:"reaction"`
	Unsupported *struct {
		Type string `json:"type"`
	} `json:"unsupported"`
	inboundMedia
}

// reply is a list_reply or a button_reply.
type reply struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

type status struct {
	ID                     string   `json:"id"`
	Status                 string   `json:"status"`
	Timestamp              unixTime `json:"timestamp"`
	RecipientID            string   `json:"recipient_id"`
	RecipientUserID        string   `json:"recipient_user_id"`
	RecipientParentUserID  string   `json:"recipient_parent_user_id"`
	RecipientType          string   `json:"recipient_type"`
	RecipientParticipantID string   `json:"recipient_participant_id"`
	BizOpaqueCallbackData  string   `json:"biz_opaque_callback_data"`
	Conversation           *struct {
		ID                  string   `json:"id"`
		ExpirationTimestamp unixTime `json:"expiration_timestamp"`
		Origin              struct {
			Type string `json:"type"`
		} `json:"origin"`
	} `json:"conversation"`
	Pricing *struct {
		Billable     *bool  `json:"billable"`
		PricingModel string `json:"pricing_model"`
		Type         string `json:"type"`
		Category     string `json:"category"`
	} `json:"pricing"`
	Errors statusErrors `json:"errors"`
}

// statusErrors is a status's errors[], of which parley keeps the first.
// A first error that cannot be read does not lose the status: why is kept
// instead, to be reported.
type statusErrors struct {
	first *webhookError
	why   string
}

func (s *statusErrors) UnmarshalJSON(b []byte) error {
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	if len(list) == 0 {
		return nil
	}
	var we webhookError
	if err := json.Unmarshal(list[0], &we); err != nil {
		s.why = describe(err)
		return nil
	}
	s.first = &we
	return nil
}

// webhookError is an error object of a webhook (statuses[].errors[],
// value.errors[]): not the Graph envelope of the send endpoint.
type webhookError struct {
	Code      int       `json:"code"`
	Title     string    `json:"title"`
	Message   string    `json:"message"`
	ErrorData errorData `json:"error_data"`
	Href      string    `json:"href"`
}

// platformError is the error as parley keeps it.
func (we *webhookError) platformError() *message.PlatformError {
	return &message.PlatformError{Code: we.Code, Message: we.text(), Details: we.ErrorData.Details, Title: we.Title, Href: we.Href}
}

// unixTime is a webhook timestamp: Unix seconds as a JSON string (a bare
// number is accepted too). Absent, it is zero.
type unixTime struct {
	time.Time
}

func (t *unixTime) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		s = s[1 : len(s)-1]
		if strings.IndexByte(s, '\\') >= 0 {
			if err := json.Unmarshal(b, &s); err != nil {
				return err
			}
		}
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
// Messages become message items with a typed Body: text, a selection (a
// list or button reply, a template's quick reply), a location, an order, a
// reaction, a flow's completion; any other type is a Body of type
// unsupported naming it. ReplyToPlatformID is the wamid the customer
// answered (context.id), except on reactions, whose Body names the message
// reacted to. Statuses become status items. At is Meta's timestamp, or
// receivedAt when there is none.
//
// A well-formed webhook is read in one pass; only when that fails is it
// read again part by part, which gives the same items.
func Parse(body []byte, receivedAt time.Time) (Parsed, error) {
	p := parser{receivedAt: receivedAt}
	var env typedEnvelope
	if json.Unmarshal(body, &env) == nil {
		if err := checkObject(env.Object); err != nil {
			return Parsed{}, err
		}
		for i := range env.Entry {
			for j := range env.Entry[i].Changes {
				c := &env.Entry[i].Changes[j]
				v := &c.Value
				business, ok := p.route(i, j, c.Field, v.Metadata)
				if !ok {
					continue
				}
				for k := range v.Messages {
					p.message(place{i, j, "messages", k}, business, v.Contacts, &v.Messages[k], nil, v.Errors)
				}
				for k := range v.Statuses {
					p.status(place{i, j, "statuses", k}, business, v.Contacts, &v.Statuses[k])
				}
				for k := range v.Errors {
					p.changeError(place{i, j, "errors", k}, business, &v.Errors[k])
				}
				p.preferences(place{i, j, "user_preferences", 0}, business, v.Contacts, v.Prefs)
			}
		}
		p.fillRaw(body)
		return p.out, nil
	}
	return parseEach(body, receivedAt)
}

// parseEach reads a webhook level by level, skipping what cannot be read.
func parseEach(body []byte, receivedAt time.Time) (Parsed, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Parsed{}, fmt.Errorf("whatsapp: webhook: %s", describe(err))
	}
	if err := checkObject(env.Object); err != nil {
		return Parsed{}, err
	}
	p := parser{receivedAt: receivedAt}
	for i, raw := range env.Entry {
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil {
			p.skip(fmt.Sprintf("entry[%d]", i), "%s", describe(err))
			continue
		}
		for j, raw := range e.Changes {
			p.change(i, j, raw)
		}
	}
	return p.out, nil
}

func checkObject(object *string) error {
	switch {
	case object == nil:
		return errors.New("whatsapp: webhook: object is missing")
	case *object != webhookObject:
		return fmt.Errorf("whatsapp: webhook: object is %q, not %q", *object, webhookObject)
	}
	return nil
}

// place locates an element of a change's value.
type place struct {
	entry, change int
	list          string
	index         int
}

func (p place) String() string {
	return fmt.Sprintf("entry[%d].changes[%d].value.%s[%d]", p.entry, p.change, p.list, p.index)
}

type parser struct {
	receivedAt time.Time
	out        Parsed
	wantRaw    []rawWanted
}

func (p *parser) skip(path, format string, args ...any) {
	p.out.Skipped = append(p.out.Skipped, Skipped{Path: path, Reason: fmt.Sprintf(format, args...)})
}

func (p *parser) change(i, j int, raw json.RawMessage) {
	var c change
	if err := json.Unmarshal(raw, &c); err != nil {
		p.skip(fmt.Sprintf("entry[%d].changes[%d]", i, j), "%s", describe(err))
		return
	}
	if c.Field != "messages" && c.Field != "user_preferences" {
		p.route(i, j, c.Field, metadata{})
		return
	}
	// A change without a value reads as one with an empty value.
	var v changeValue
	if len(c.Value) > 0 {
		if err := json.Unmarshal(c.Value, &v); err != nil {
			p.skip(fmt.Sprintf("entry[%d].changes[%d]", i, j), "value: %s", describe(err))
			return
		}
	}
	business, ok := p.route(i, j, c.Field, v.Metadata)
	if !ok {
		return
	}
	var contacts []contact
	for k, raw := range v.Contacts {
		var ct contact
		if err := json.Unmarshal(raw, &ct); err != nil {
			p.skip(place{i, j, "contacts", k}.String(), "%s", describe(err))
			continue
		}
		contacts = append(contacts, ct)
	}
	var changeErrs []webhookError
	for _, raw := range v.Errors {
		var we webhookError
		if json.Unmarshal(raw, &we) == nil {
			changeErrs = append(changeErrs, we)
		}
	}
	for k, raw := range v.Messages {
		var m inboundMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			p.skip(place{i, j, "messages", k}.String(), "%s", describe(err))
			continue
		}
		p.message(place{i, j, "messages", k}, business, contacts, &m, append(json.RawMessage(nil), raw...), changeErrs)
	}
	for k, raw := range v.Statuses {
		var s status
		if err := json.Unmarshal(raw, &s); err != nil {
			p.skip(place{i, j, "statuses", k}.String(), "%s", describe(err))
			continue
		}
		p.status(place{i, j, "statuses", k}, business, contacts, &s)
	}
	for k, raw := range v.Errors {
		var we webhookError
		if err := json.Unmarshal(raw, &we); err != nil {
			p.skip(place{i, j, "errors", k}.String(), "%s", describe(err))
			continue
		}
		p.changeError(place{i, j, "errors", k}, business, &we)
	}
	p.preferences(place{i, j, "user_preferences", 0}, business, contacts, v.Prefs)
}

// route returns the business a change is for, or skips the change.
func (p *parser) route(i, j int, field string, md metadata) (string, bool) {
	switch {
	case field != "messages" && field != "user_preferences":
		p.skip(fmt.Sprintf("entry[%d].changes[%d]", i, j), "field %q is not handled", field)
		return "", false
	case md.PhoneNumberID == "":
		p.skip(fmt.Sprintf("entry[%d].changes[%d]", i, j), "value.metadata.phone_number_id is missing")
		return "", false
	}
	return md.PhoneNumberID, true
}

// changeError turns an error not tied to a message (a rate limit, a
// payload Meta could not deliver) into a platform.error notice for the
// business. Its id is made from the error itself, so that a webhook
// delivered again is recognised.
func (p *parser) changeError(at place, business string, we *webhookError) {
	pe := we.platformError()
	key, _ := json.Marshal(pe)
	p.out.Items = append(p.out.Items, message.InboundItem{
		Kind: message.KindNotice, EventType: message.EventPlatformError, Channel: message.WhatsApp,
		BusinessID: business, CustomerID: business, PlatformMessageID: noticeID("error", business, string(key)),
		At: p.receivedAt, StatusError: pe, Body: &message.Body{Type: message.BodyError, Errors: []message.PlatformError{*pe}},
	})
}

// noticeID is a stable id for a notice Meta gives none.
func noticeID(kind string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return kind + "." + hex.EncodeToString(h[:16])
}

// preferences turns a user_preferences change into notices, one a
// preference: marketing opt-outs and opt-ins the app must honour.
func (p *parser) preferences(at place, business string, contacts []contact, prefs []userPreference) {
	for k, up := range prefs {
		cust := &message.Customer{WaID: up.WaID, UserID: up.UserID}
		if ct := contactFor(contacts, up.WaID, up.UserID); ct != nil {
			cust.Merge(ct.customer())
		}
		if cust.IsZero() || up.Category == "" || up.Value == "" {
			p.skip(fmt.Sprintf("entry[%d].changes[%d].value.user_preferences[%d]", at.entry, at.change, k), "wa_id, category or value is missing")
			continue
		}
		t := up.Timestamp.Time
		p.out.Items = append(p.out.Items, message.InboundItem{
			Kind: message.KindNotice, EventType: message.EventPreferences, Channel: message.WhatsApp,
			BusinessID: business, CustomerID: conversationKey(cust), Customer: cust, At: p.at(up.Timestamp), PlatformTime: t,
			PlatformMessageID: noticeID("preference", business, cust.ID(), up.Category, up.Value, t.String()),
			Body:              &message.Body{Type: message.BodyPreferences, Preferences: []message.Preference{{Category: up.Category, Value: up.Value, Detail: up.Detail, At: t}}},
		})
	}
}

// conversationKey is the key of c's conversation, as ingest keeps it: the
// business-scoped user id when Meta sent one. A notice is not ingested as
// a message, so it names that key itself.
func conversationKey(c *message.Customer) string {
	if c.UserID != "" {
		return c.UserID
	}
	return c.ID()
}

// userPreference is an element of value.user_preferences.
type userPreference struct {
	WaID      string   `json:"wa_id"`
	UserID    string   `json:"user_id"`
	Detail    string   `json:"detail"`
	Category  string   `json:"category"`
	Value     string   `json:"value"`
	Timestamp unixTime `json:"timestamp"`
}

func (p *parser) message(at place, business string, contacts []contact, m *inboundMessage, raw json.RawMessage, changeErrs []webhookError) {
	cust := sender(contacts, m)
	if cust.IsZero() && m.System != nil && m.System.PreviousUserID != "" {
		// A changed business-scoped id comes without from: the message
		// belongs to the customer's previous id.
		cust = &message.Customer{UserID: m.System.PreviousUserID}
	}
	switch {
	case m.ID == "":
		p.skip(at.String(), "id is missing")
		return
	case cust.IsZero():
		p.skip(at.String(), "from and from_user_id are missing")
		return
	case m.Type == "":
		p.skip(at.String(), "type is missing")
		return
	}
	body, why := readBody(m)
	var eventType string
	errs := m.Errors
	if len(errs) == 0 && body == nil {
		errs = changeErrs
	}
	switch {
	case body == nil && len(errs) == 0:
		p.skip(at.String(), "%s", why)
		return
	case body == nil:
		// Meta could not render what the customer sent and says so: the
		// message is kept, as a failed one, with Meta's errors and the
		// item as it came.
		body = unsupported(m.Type)
		eventType = message.EventFailed
	}
	for i := range errs {
		body.Errors = append(body.Errors, *errs[i].platformError())
	}
	if sc := body.System; sc != nil && sc.Change == message.ChangeIdentity && sc.Identity == nil {
		// Without an identity of its own, the message's is its sender's
		// contact's key hash.
		if ct := contactFor(contacts, m.From, m.FromUserID); ct != nil && ct.IdentityKeyHash != "" {
			sc.Identity = &message.IdentityChange{Hash: ct.IdentityKeyHash}
		}
	}
	if r := m.Referral; r != nil {
		body.Referral = &message.Referral{SourceURL: r.SourceURL, SourceID: r.SourceID, SourceType: r.SourceType, Headline: r.Headline,
			Body: r.Body, MediaType: r.MediaType, ImageURL: r.ImageURL, VideoURL: r.VideoURL, ThumbnailURL: r.ThumbnailURL, CtwaClid: r.CtwaClid}
		if r.WelcomeMessage != nil {
			body.Referral.WelcomeMessage = r.WelcomeMessage.Text
		}
	}
	if c := m.Context; c != nil {
		if rp := c.ReferredProduct; rp != nil {
			body.ReferredProduct = &message.ReferredProduct{CatalogID: rp.CatalogID, ProductID: rp.ProductRetailerID}
		}
		switch {
		case c.FrequentlyForwarded:
			body.Forwarded = "frequently"
		case c.Forwarded:
			body.Forwarded = "once"
		}
	}
	item := message.InboundItem{
		Kind:              message.KindMessage,
		Channel:           message.WhatsApp,
		BusinessID:        business,
		CustomerID:        cust.ID(),
		Customer:          cust,
		PlatformMessageID: m.ID,
		At:                p.at(m.Timestamp),
		PlatformTime:      m.Timestamp.Time,
		Body:              body,
		EventType:         eventType,
		Payloads:          MediaPayloads(body),
	}
	if eventType != "" && len(body.Errors) > 0 {
		item.StatusError = &body.Errors[0]
	}
	if m.GroupID != "" {
		// A group's message opens the group's window: the conversation is
		// the group's, and Customer is the participant who wrote.
		item.GroupID = m.GroupID
		item.CustomerID = m.GroupID
	}
	if m.Context != nil && m.Context.ID != "" && body.Type != message.BodyReaction {
		item.ReplyToPlatformID = m.Context.ID
	}
	if body.Type == message.BodyUnsupported {
		body.Raw = raw
		if raw == nil {
			p.wantRaw = append(p.wantRaw, rawWanted{len(p.out.Items), at})
		}
	}
	p.out.Items = append(p.out.Items, item)
}

// rawWanted is an item whose body needs the platform's item as it came.
type rawWanted struct {
	item int
	at   place
}

// fillRaw gives the items of p.wantRaw their raw message, read from body
// (which decoded in one pass, so reads again).
func (p *parser) fillRaw(body []byte) {
	if len(p.wantRaw) == 0 {
		return
	}
	var env struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Messages []json.RawMessage `json:"messages"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &env) != nil {
		return
	}
	for _, w := range p.wantRaw {
		raw := env.Entry[w.at.entry].Changes[w.at.change].Value.Messages[w.at.index]
		p.out.Items[w.item].Body.Raw = append(json.RawMessage(nil), raw...)
	}
}

// sender is who wrote m: its from / from_user_id, completed by its contact
// (profile name, username, the ids from leaves out). A customer who uses a
// username comes without from, by business-scoped user id only.
func sender(contacts []contact, m *inboundMessage) *message.Customer {
	c := &message.Customer{WaID: m.From, UserID: m.FromUserID, ParentUserID: m.FromParentUserID}
	if ct := contactFor(contacts, m.From, m.FromUserID, m.FromParentUserID); ct != nil {
		c.Merge(ct.customer())
		if m.From != "" {
			// from wins over a contact's wa_id: Meta says they may differ,
			// and from is the number the message came from.
			c.WaID = m.From
		}
	}
	return c
}

// readBody returns the Body of m, or nil and why it cannot be read.
func readBody(m *inboundMessage) (body *message.Body, why string) {
	switch m.Type {
	case "text":
		if m.Text == nil || m.Text.Body == nil {
			return nil, "text.body is missing"
		}
		return &message.Body{Type: message.BodyText, Text: *m.Text.Body}, ""
	case "interactive":
		return interactiveBody(m)
	case "button":
		b := m.Button
		if b == nil || (b.Payload == "" && b.Text == "") {
			return nil, "button.payload is missing"
		}
		// A quick reply sent without a payload comes back with its label.
		id := b.Payload
		if id == "" {
			id = b.Text
		}
		return &message.Body{Type: message.BodySelection, Selections: []message.Selection{{ID: id, Title: b.Text}}}, ""
	case "location":
		l := m.Location
		switch {
		case l == nil:
			return nil, "location is missing"
		case l.Latitude == nil:
			return nil, "location.latitude is missing"
		case l.Longitude == nil:
			return nil, "location.longitude is missing"
		}
		return &message.Body{Type: message.BodyLocation, Location: &message.SharedLocation{
			Latitude: *l.Latitude, Longitude: *l.Longitude, Name: l.Name, Address: l.Address, URL: l.URL}}, ""
	case "order":
		return orderBody(m)
	case "reaction":
		r := m.Reaction
		switch {
		case r == nil:
			return nil, "reaction is missing"
		case r.MessageID == "":
			return nil, "reaction.message_id is missing"
		}
		rb := &message.ReactionBody{PlatformMessageID: r.MessageID}
		if r.Emoji == nil || *r.Emoji == "" {
			rb.Removed = true
		} else {
			rb.Emoji = *r.Emoji
		}
		return &message.Body{Type: message.BodyReaction, Reaction: rb}, ""
	case "image", "audio", "video", "document", "sticker":
		return mediaBody(m)
	case "contacts":
		if len(m.Contacts) == 0 {
			return nil, "contacts is missing"
		}
		for i := range m.Contacts {
			c := &m.Contacts[i]
			for _, f := range []*json.RawMessage{&c.Name, &c.Phones, &c.Emails, &c.Addresses, &c.Org, &c.URLs} {
				*f = compact(*f)
			}
		}
		return &message.Body{Type: message.BodyContacts, Contacts: m.Contacts}, ""
	case "revoke":
		if m.Revoke == nil || m.Revoke.OriginalMessageID == "" {
			return nil, "revoke.original_message_id is missing"
		}
		return &message.Body{Type: message.BodyRevoke, OriginalID: m.Revoke.OriginalMessageID}, ""
	case "edit":
		if m.Edit == nil || m.Edit.OriginalMessageID == "" {
			return nil, "edit.original_message_id is missing"
		}
		b := &message.Body{Type: message.BodyEdit, OriginalID: m.Edit.OriginalMessageID}
		var inner inboundMessage
		if json.Unmarshal(m.Edit.Message, &inner) == nil && inner.Type != "" {
			if eb, _ := readBody(&inner); eb != nil {
				b.Edited = eb
			}
		}
		return b, ""
	case "system":
		sys := m.System
		if sys == nil || sys.Type == "" {
			return nil, "system.type is missing"
		}
		return &message.Body{Type: message.BodySystem, System: systemChange(m)}, ""
	case "unsupported":
		if m.Unsupported != nil && m.Unsupported.Type != "" {
			return unsupported("unsupported." + m.Unsupported.Type), ""
		}
	}
	return unsupported(m.Type), ""
}

// systemChanges are the system types Meta has used, by what they change:
// the Cloud API's user_ names and the older customer_ ones.
var systemChanges = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"user_changed_number":       message.ChangeNumber,
		"customer_changed_number":   message.ChangeNumber,
		"user_changed_user_id":      message.ChangeUserID,
		"user_identity_changed":     message.ChangeIdentity,
		"customer_identity_changed": message.ChangeIdentity,
	}
})

// systemChange reads a system message. An identity change names the new
// identity by the message's identity object (the Cloud API's) or by the
// system's identity hash (the older form).
func systemChange(m *inboundMessage) *message.SystemChange {
	sys := m.System
	sc := &message.SystemChange{Type: sys.Type, Change: systemChanges()[sys.Type], Text: sys.Body,
		WaID: sys.WaID, UserID: sys.UserID, PreviousUserID: sys.PreviousUserID}
	if sc.WaID == "" {
		sc.WaID = sys.NewWaID
	}
	switch id := m.Identity; {
	case id != nil:
		sc.Identity = &message.IdentityChange{Hash: id.Hash, Acknowledged: id.Acknowledged, CreatedAt: id.CreatedTimestamp.Time}
	case sys.Identity != "":
		sc.Identity = &message.IdentityChange{Hash: sys.Identity}
	}
	return sc
}

// compact is raw without insignificant spaces.
func compact(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

func unsupported(typ string) *message.Body {
	return &message.Body{Type: message.BodyUnsupported, Unsupported: typ}
}

func interactiveBody(m *inboundMessage) (*message.Body, string) {
	in := m.Interactive
	if in == nil || in.Type == "" {
		return nil, "interactive.type is missing"
	}
	var r *reply
	switch in.Type {
	case "list_reply":
		r = in.ListReply
	case "button_reply":
		r = in.ButtonReply
	case "nfm_reply":
		return flowBody(m)
	case "call_permission_reply":
		c := in.CallPermissionReply
		if c == nil || c.Response == "" {
			return nil, "interactive.call_permission_reply.response is missing"
		}
		return &message.Body{Type: message.BodyCallPermission, CallPermission: &message.CallPermission{
			Response: c.Response, Source: c.ResponseSource, ExpiresAt: c.ExpirationTimestamp.Time}}, ""
	default:
		return unsupported("interactive." + in.Type), ""
	}
	switch {
	case r == nil:
		return nil, "interactive." + in.Type + " is missing"
	case r.ID == "":
		return nil, "interactive." + in.Type + ".id is missing"
	}
	return &message.Body{Type: message.BodySelection, Selections: []message.Selection{{ID: r.ID, Title: r.Title, Description: r.Description}}}, ""
}

// flowBody reads a flow's completion. Its response_json is JSON written
// into a string; one that does not hold JSON is kept as it came, in Text.
func flowBody(m *inboundMessage) (*message.Body, string) {
	nfm := m.Interactive.NFMReply
	if nfm == nil {
		return nil, "interactive.nfm_reply is missing"
	}
	b := &message.Body{Type: message.BodyFlow, Flow: &message.FlowReply{Name: nfm.Name, Body: nfm.Body}}
	raw := nfm.ResponseJSON
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case json.Valid(raw):
		b.Flow.Response = raw
	default:
		b.Text = s
	}
	return b, ""
}

func orderBody(m *inboundMessage) (*message.Body, string) {
	o := m.Order
	if o == nil {
		return nil, "order is missing"
	}
	out := &message.Order{CatalogID: o.CatalogID, Text: o.Text, Items: make([]message.OrderItem, len(o.ProductItems))}
	for i, it := range o.ProductItems {
		q, err := strconv.Atoi(it.Quantity.String())
		if err != nil && it.Quantity != "" {
			return nil, fmt.Sprintf("order.product_items[%d].quantity: %q is not a whole number", i, it.Quantity.String())
		}
		out.Items[i] = message.OrderItem{ProductID: it.ProductRetailerID, Quantity: q, Price: it.ItemPrice, Currency: it.Currency}
	}
	return &message.Body{Type: message.BodyOrder, Order: out}, ""
}

func (p *parser) status(at place, business string, contacts []contact, s *status) {
	switch {
	case s.ID == "":
		p.skip(at.String(), "id is missing")
		return
	case s.Status == "":
		p.skip(at.String(), "status is missing")
		return
	}
	item := message.InboundItem{
		Kind:              message.KindStatus,
		Channel:           message.WhatsApp,
		BusinessID:        business,
		PlatformMessageID: s.ID,
		At:                p.at(s.Timestamp),
		PlatformTime:      s.Timestamp.Time,
		Status:            s.Status,
	}
	cust := &message.Customer{WaID: s.RecipientID, UserID: s.RecipientUserID, ParentUserID: s.RecipientParentUserID}
	if s.RecipientType == "group" {
		// A group's status names the group, and the participant it is for.
		item.GroupID = s.RecipientID
		cust.WaID = s.RecipientParticipantID
	}
	if ct := contactFor(contacts, cust.WaID, cust.UserID, cust.ParentUserID); ct != nil {
		cust.Merge(ct.customer())
	}
	if !cust.IsZero() {
		item.Customer = cust
	}
	item.CustomerID = cust.ID()
	if item.GroupID != "" {
		item.CustomerID = item.GroupID
	}
	if item.CustomerID == "" {
		// A status names the message it is for; who received it is
		// information, and a status without it is kept all the same.
		item.CustomerID = "unknown"
	}
	if we := s.Errors.first; we != nil {
		item.StatusError = we.platformError()
	}
	if s.Errors.why != "" {
		p.skip(at.String()+".errors[0]", "%s", s.Errors.why)
	}
	if d := s.detail(); d != nil {
		item.StatusDetail = d
	}
	p.out.Items = append(p.out.Items, item)
}

// detail is the pricing, conversation and callback data of s, or nil.
func (s *status) detail() *message.StatusDetail {
	d := &message.StatusDetail{CallbackData: s.BizOpaqueCallbackData}
	if pr := s.Pricing; pr != nil {
		d.Pricing = &message.Pricing{Billable: pr.Billable, Model: pr.PricingModel, Type: pr.Type, Category: pr.Category}
	}
	if c := s.Conversation; c != nil {
		d.Conversation = &message.PlatformConversation{ID: c.ID, Origin: c.Origin.Type, ExpiresAt: c.ExpirationTimestamp.Time}
	}
	if d.Pricing == nil && d.Conversation == nil && d.CallbackData == "" {
		return nil
	}
	return d
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
