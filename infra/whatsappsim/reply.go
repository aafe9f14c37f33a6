package whatsappsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// actions are the customer's actions /reply plays.
var actions = []string{"text", "select", "location", "order", "react", "unreact", "flow",
	"contacts", "revoke", "edit", "system", "callPermission", "unsupported", "unrendered"}

// answering are the actions that answer a message the business sent.
var answering = []string{"select", "order", "react", "unreact", "flow"}

// replyRequest is the body of POST /reply.
type replyRequest struct {
	Action     string `json:"action"`
	BusinessID string `json:"businessId"`
	// From is the customer's phone number; UserID their business-scoped
	// user id (made up from From when not given); Username the username
	// they adopted. HidePhone plays a customer who keeps their phone
	// number from the business: Meta then sends no from and no wa_id.
	From         string `json:"from"`
	UserID       string `json:"userId"`
	ParentUserID string `json:"parentUserId"`
	Username     string `json:"username"`
	HidePhone    bool   `json:"hidePhone"`
	// Group is the group the customer writes in; the window it opens is
	// the group's.
	Group string `json:"group"`
	// Name is the customer's profile name, or the place's for a location.
	Name      string          `json:"name"`
	Text      string          `json:"text"`
	ReplyTo   string          `json:"replyTo"`
	ID        string          `json:"id"`
	Latitude  *float64        `json:"latitude"`
	Longitude *float64        `json:"longitude"`
	Address   string          `json:"address"`
	Items     []orderItem     `json:"items"`
	Emoji     string          `json:"emoji"`
	Response  json.RawMessage `json:"response"`
	// URL is a shared location's link.
	URL      string        `json:"url"`
	Contacts []contactCard `json:"contacts"`
	// Referral, ReferredProduct and Forwarded say where a text came
	// from: an ad or post, a product's "Message business" button, a
	// forward ("once" or "frequently").
	Referral        *referralRequest `json:"referral"`
	ReferredProduct *productRequest  `json:"referredProduct"`
	Forwarded       string           `json:"forwarded"`
	// Change is what a system message says changed: "number" (to
	// NewPhone), "userId" (to NewUserID) or "identity" (IdentityHash, made
	// up when empty).
	Change       string `json:"change"`
	NewPhone     string `json:"newPhone"`
	NewUserID    string `json:"newUserId"`
	IdentityHash string `json:"identityHash"`
	// Answer is the answer to a call permission request: accept, reject.
	Answer string `json:"answer"`
	// Unsupported is the type of a message the Cloud API does not
	// support, e.g. "poll".
	Unsupported string `json:"unsupported"`
}

type orderItem struct {
	ProductID string      `json:"productId"`
	Quantity  int         `json:"quantity"`
	Price     json.Number `json:"price"`
	Currency  string      `json:"currency"`
}

// replyError is a /reply the simulator cannot play.
type replyError struct {
	status int
	msg    string
}

func (e *replyError) Error() string { return e.msg }

func refused(status int, format string, args ...any) *replyError {
	return &replyError{status, "reply: " + fmt.Sprintf(format, args...)}
}

// sent is what the simulator reads back from a message it accepted.
type sent struct {
	Interactive struct {
		Type   string `json:"type"`
		Action struct {
			Buttons []struct {
				Reply choice `json:"reply"`
			} `json:"buttons"`
			Sections []struct {
				Rows         []choice `json:"rows"`
				ProductItems []struct {
					ProductRetailerID string `json:"product_retailer_id"`
				} `json:"product_items"`
			} `json:"sections"`
			CatalogID         string `json:"catalog_id"`
			ProductRetailerID string `json:"product_retailer_id"`
			Parameters        struct {
				FlowToken string `json:"flow_token"`
			} `json:"parameters"`
		} `json:"action"`
	} `json:"interactive"`
	Template struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string          `json:"type"`
			SubType    string          `json:"sub_type"`
			Index      json.RawMessage `json:"index"`
			Parameters []struct {
				Type    string `json:"type"`
				Payload string `json:"payload"`
			} `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
}

func (s *Simulator) handleReply(w http.ResponseWriter, r *http.Request) {
	var req replyRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "reply: %v", err)
		return
	}
	if req.Action == "" {
		req.Action = "text"
	}
	if !slices.Contains(actions, req.Action) {
		writeError(w, http.StatusBadRequest, "reply: action must be one of %q, got %q", actions, req.Action)
		return
	}
	msg, c, u, err := s.compose(req)
	if err != nil {
		writeJSON(w, err.status, map[string]string{"error": "whatsappsim: " + err.msg})
		return
	}
	msg.ID = newWAMID()
	msg.Timestamp = s.timestamp()
	s.mu.Lock()
	v := s.address(msg, c, u)
	s.mu.Unlock()
	s.deliver(r.Context(), w, msg.ID, c.phoneNumberID, v)
}

// address names who wrote msg, as Meta does, records it in c, applies what
// a system message changes, and returns the change's value. A system
// message of a new number names the old one in from; one of a new
// business-scoped id names nobody; neither has contacts. The caller holds
// s.mu.
func (s *Simulator) address(msg inbound, c chat, u *user) value {
	now := s.cfg.Now()
	target := msg.ID
	switch msg.Type {
	case "reaction", "revoke", "edit", "system":
		// Not a message another can react to, revoke or edit.
		target = ""
	}
	s.wrote(c, now, target)
	if target != "" {
		s.authors[msg.ID] = authored{u, msg.Type, now}
	}
	if c.waID != u.key {
		msg.GroupID = c.waID
	}
	if r := msg.Referral; r != nil && r.SourceType == "ad" {
		s.entryPoints[c] = entryPoint{id: conversationID(), at: now}
	}
	if sys := msg.System; sys != nil {
		switch sys.Type {
		case "user_changed_number":
			msg.From = u.phone
			s.renumber(c.phoneNumberID, u, sys.WaID)
			return value{Messages: []inbound{msg}}
		case "user_changed_user_id":
			s.reidentify(c.phoneNumberID, u, sys.UserID)
			return value{Messages: []inbound{msg}}
		}
	}
	if msg.Identity != nil {
		u.identityHash = msg.Identity.Hash
	}
	msg.FromUserID = u.userID
	msg.FromParentUserID = u.parentUserID
	if !u.hidePhone {
		msg.From = u.phone
	}
	return value{Contacts: []contact{u.contact()}, Messages: []inbound{msg}, Errors: msg.changeErrors}
}

// who finds the customer of a /reply: the one it names, or the one the
// message it answers was sent to; it refuses a customer who is not that
// one. It records the profile the request gives.
func (s *Simulator) who(req replyRequest, a Accepted, known bool, phoneNumberID string) (*user, *replyError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	phone := waID(req.From)
	if req.UserID != "" && !isBSUID(req.UserID) {
		return nil, refused(http.StatusBadRequest, "userId %q is not a business-scoped user id such as US.13491208655302741918", req.UserID)
	}
	var sentTo *user
	if known && a.GroupID == "" {
		sentTo = s.recipient(a)
		if sentTo == nil {
			// A send to someone who never wrote: they answer as the id
			// it named.
			sentTo = s.identify(phoneNumberID, a.WaID, a.UserID)
		}
	}
	var u *user
	switch {
	case phone != "" || req.UserID != "":
		u = s.identify(phoneNumberID, phone, req.UserID)
		if sentTo != nil && u != sentTo {
			return nil, refused(http.StatusBadRequest, "from %q is not the customer %s was sent to (%s)", req.From+req.UserID, a.WAMID, a.To)
		}
	case sentTo != nil:
		u = sentTo
	default:
		return nil, refused(http.StatusBadRequest, "from is required: the customer's wa_id (or userId, their business-scoped user id)")
	}
	if req.Name != "" && req.Action != "location" {
		u.name = req.Name
	}
	if req.Username != "" {
		u.username = req.Username
	}
	if req.ParentUserID != "" {
		if !isParentBSUID(req.ParentUserID) || !isBSUID(req.ParentUserID) {
			return nil, refused(http.StatusBadRequest, "parentUserId %q is not a parent business-scoped user id such as US.ENT.11815799212886844830", req.ParentUserID)
		}
		u.parentUserID = req.ParentUserID
		s.users[chat{phoneNumberID, req.ParentUserID}] = u
	}
	u.hidePhone = req.HidePhone && u.username != ""
	if req.HidePhone && u.username == "" {
		return nil, refused(http.StatusBadRequest, "hidePhone needs a username: only a customer who adopted one can keep their number from the business")
	}
	return u, nil
}

// compose makes the customer message req asks for, in its chat, with the
// profile name it gives.
func (s *Simulator) compose(req replyRequest) (inbound, chat, *user, *replyError) {
	if req.Action == "revoke" || req.Action == "edit" {
		return s.amend(req)
	}
	var a Accepted
	known := false
	needsMessage := slices.Contains(answering, req.Action)
	if req.ReplyTo == Latest || req.ReplyTo == "" && needsMessage {
		who := waID(req.From)
		if who == "" {
			who = req.UserID
		}
		wamid, ok := s.latest(req.BusinessID, who, req.Action)
		if !ok {
			return inbound{}, chat{}, nil, refused(http.StatusNotFound, "replyTo %q: the simulator accepted no message this action can answer%s", Latest, forWhom(req))
		}
		req.ReplyTo = wamid
	}
	if req.ReplyTo != "" {
		a, known = s.find(req.ReplyTo)
	}
	switch {
	case needsMessage && req.ReplyTo == "":
		return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "replyTo is required for action %q: the wamid of the message answered", req.Action)
	case needsMessage && !known, req.Action == "location" && req.ReplyTo != "" && !known:
		return inbound{}, chat{}, nil, refused(http.StatusNotFound, "the simulator never accepted a message %q", req.ReplyTo)
	}
	c := chat{phoneNumberID: req.BusinessID}
	if known {
		switch {
		case c.phoneNumberID == "":
			c.phoneNumberID = a.PhoneNumberID
		case c.phoneNumberID != a.PhoneNumberID:
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "businessId %q is not the number %s was sent from (%s)", c.phoneNumberID, a.WAMID, a.PhoneNumberID)
		}
		switch {
		case req.Group == "" && a.GroupID != "":
			req.Group = a.GroupID
		case req.Group != a.GroupID:
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "group %q is not where %s was sent (%q)", req.Group, a.WAMID, a.GroupID)
		}
	}
	switch {
	case c.phoneNumberID == "":
		return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "businessId is required")
	case !s.knows(c.phoneNumberID):
		return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "businessId %q is not one of the simulator's known numbers", c.phoneNumberID)
	}
	u, rerr := s.who(req, a, known, c.phoneNumberID)
	if rerr != nil {
		return inbound{}, chat{}, nil, rerr
	}
	c.waID = u.key
	if req.Group != "" {
		c.waID = req.Group
	}
	var m sent
	json.Unmarshal(a.Request, &m)
	msg := inbound{Type: req.Action}
	var err *replyError
	switch req.Action {
	case "text":
		if req.Text == "" {
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "text is required")
		}
		msg.Text = &textBody{Body: req.Text}
	case "select":
		err = s.selectReply(req, a, m, &msg)
	case "location":
		err = locationReply(req, a, known, &msg)
	case "order":
		err = orderReply(req, a, m, &msg)
	case "react", "unreact":
		if req.Action == "react" && !isEmoji(req.Emoji) {
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "emoji is required: one emoji, e.g. \"👍\"; got %q", req.Emoji)
		}
		if req.Action == "unreact" && req.Emoji != "" {
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "unreact takes no emoji")
		}
		msg.Type = "reaction"
		msg.Reaction = &reaction{MessageID: a.WAMID, Emoji: req.Emoji}
	case "flow":
		err = flowReply(req, a, m, &msg)
	case "contacts":
		err = contactsMessage(req, &msg)
	case "system":
		if req.ReplyTo != "" || req.Group != "" {
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "a system message answers nothing and is not written in a group: no replyTo, no group")
		}
		err = s.systemMessage(req, c.phoneNumberID, u, &msg)
	case "callPermission":
		err = callPermissionAnswer(req, s.cfg.Now(), &msg)
	case "unsupported":
		err = unsupportedMessage(req, &msg)
	case "unrendered":
		unrenderedMessage(&msg)
	}
	if err != nil {
		return inbound{}, chat{}, nil, err
	}
	if req.ReplyTo != "" && msg.Type != "reaction" {
		msg.Context = &inboundContext{From: displayNumber(c.phoneNumberID), ID: req.ReplyTo}
	}
	if err := extras(req, c.phoneNumberID, &msg); err != nil {
		return inbound{}, chat{}, nil, err
	}
	return msg, c, u, nil
}

// Latest, as a replyTo, names the newest message the business sent the
// customer that the action can answer: any message for react and unreact,
// else an interactive message or a template. A replyTo left out means the
// same for every action that needs a message.
const Latest = "latest"

// latest finds the wamid Latest names; businessID and waID narrow the search
// when set. Messages the simulator failed on its own never reached the
// customer and are passed over.
func (s *Simulator) latest(businessID, waID, action string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.accepted) - 1; i >= 0; i-- {
		a := s.accepted[i]
		switch {
		case businessID != "" && a.PhoneNumberID != businessID, waID != "" && a.WaID != waID && a.UserID != waID, a.FailedWith != 0:
		case action == "react" || action == "unreact":
			if a.Type != "reaction" {
				return a.WAMID, true
			}
		case a.Type == "interactive" || a.Type == "template":
			return a.WAMID, true
		}
	}
	return "", false
}

func forWhom(req replyRequest) string {
	switch {
	case req.BusinessID != "" && req.From != "":
		return " from " + req.BusinessID + " to " + req.From
	case req.BusinessID != "":
		return " from " + req.BusinessID
	case req.From != "":
		return " to " + req.From
	}
	return ""
}

func (s *Simulator) selectReply(req replyRequest, a Accepted, m sent, msg *inbound) *replyError {
	if req.ID == "" {
		return refused(http.StatusBadRequest, "id is required: the row or button id, or the quick-reply payload")
	}
	switch {
	case a.Interactive == "button":
		for _, b := range m.Interactive.Action.Buttons {
			if b.Reply.ID == req.ID {
				msg.Type = "interactive"
				msg.Interactive = &interactiveReply{Type: "button_reply", ButtonReply: &choice{ID: b.Reply.ID, Title: b.Reply.Title}}
				return nil
			}
		}
	case a.Interactive == "list":
		for _, sec := range m.Interactive.Action.Sections {
			for _, row := range sec.Rows {
				if row.ID == req.ID {
					msg.Type = "interactive"
					msg.Interactive = &interactiveReply{Type: "list_reply", ListReply: &row}
					return nil
				}
			}
		}
	case a.Type == "template":
		if tap, ok := s.quickReply(m, req.ID); ok {
			msg.Type = "button"
			msg.Button = &tap
			return nil
		}
	default:
		return refused(http.StatusBadRequest, "select answers a list, reply buttons or a template; %s is %s", a.WAMID, describeSent(a))
	}
	return refused(http.StatusNotFound, "%s (%s) offers no choice with id %q", a.WAMID, describeSent(a), req.ID)
}

// quickReply is the tap on the quick-reply button of the template m whose
// payload is id, or, for a known template's button sent without a payload,
// whose label is id.
func (s *Simulator) quickReply(m sent, id string) (buttonTap, bool) {
	t, known := s.template(m.Template.Name, m.Template.Language.Code)
	label := func(index int) string {
		if index >= 0 && index < len(t.QuickReplies) {
			return t.QuickReplies[index]
		}
		return ""
	}
	withPayload := map[int]bool{}
	for _, c := range m.Template.Components {
		if c.Type != "button" || c.SubType != "quick_reply" {
			continue
		}
		var digits string
		if json.Unmarshal(c.Index, &digits) != nil {
			digits = string(c.Index)
		}
		index, _ := strconv.Atoi(digits)
		for _, p := range c.Parameters {
			if p.Type != "payload" {
				continue
			}
			withPayload[index] = true
			if p.Payload == id {
				text := label(index)
				if text == "" {
					text = p.Payload
				}
				return buttonTap{Payload: p.Payload, Text: text}, true
			}
		}
	}
	if known {
		for i, l := range t.QuickReplies {
			if l == id && !withPayload[i] {
				return buttonTap{Payload: l, Text: l}, true
			}
		}
	}
	return buttonTap{}, false
}

func locationReply(req replyRequest, a Accepted, known bool, msg *inbound) *replyError {
	if known && a.Interactive != "location_request_message" {
		return refused(http.StatusBadRequest, "a location answers a location request; %s is %s", a.WAMID, describeSent(a))
	}
	switch {
	case req.Latitude == nil || req.Longitude == nil:
		return refused(http.StatusBadRequest, "latitude and longitude are required")
	case *req.Latitude < -90 || *req.Latitude > 90:
		return refused(http.StatusBadRequest, "latitude must be from -90 to 90, got %v", *req.Latitude)
	case *req.Longitude < -180 || *req.Longitude > 180:
		return refused(http.StatusBadRequest, "longitude must be from -180 to 180, got %v", *req.Longitude)
	}
	if req.URL != "" && !isWebURL(req.URL) {
		return refused(http.StatusBadRequest, "url must be an http(s) URL, got %q", req.URL)
	}
	msg.Location = &location{Latitude: *req.Latitude, Longitude: *req.Longitude, Name: req.Name, Address: req.Address, URL: req.URL}
	return nil
}

func orderReply(req replyRequest, a Accepted, m sent, msg *inbound) *replyError {
	var offered []string
	switch a.Interactive {
	case "product":
		offered = []string{m.Interactive.Action.ProductRetailerID}
	case "product_list":
		for _, sec := range m.Interactive.Action.Sections {
			for _, p := range sec.ProductItems {
				offered = append(offered, p.ProductRetailerID)
			}
		}
	default:
		return refused(http.StatusBadRequest, "an order answers a product or product_list message; %s is %s", a.WAMID, describeSent(a))
	}
	if len(req.Items) == 0 {
		return refused(http.StatusBadRequest, "items is required: at least one product")
	}
	o := &order{CatalogID: m.Interactive.Action.CatalogID, Text: req.Text}
	for i, it := range req.Items {
		price, err := it.Price.Float64()
		switch {
		case !slices.Contains(offered, it.ProductID):
			return refused(http.StatusNotFound, "items[%d]: %s did not offer product %q; it offered %q", i, a.WAMID, it.ProductID, offered)
		case it.Quantity < 1:
			return refused(http.StatusBadRequest, "items[%d].quantity must be at least 1, got %d", i, it.Quantity)
		case err != nil || price < 0:
			return refused(http.StatusBadRequest, "items[%d].price must be a decimal like \"7.99\", got %q", i, it.Price)
		case len(it.Currency) != 3:
			return refused(http.StatusBadRequest, "items[%d].currency must be an ISO 4217 code like \"GBP\", got %q", i, it.Currency)
		}
		o.ProductItems = append(o.ProductItems, productItem{ProductRetailerID: it.ProductID, Quantity: it.Quantity, ItemPrice: it.Price, Currency: it.Currency})
	}
	msg.Order = o
	return nil
}

func flowReply(req replyRequest, a Accepted, m sent, msg *inbound) *replyError {
	if a.Interactive != "flow" && a.Type != "template" {
		return refused(http.StatusBadRequest, "a flow response answers a flow message or a template; %s is %s", a.WAMID, describeSent(a))
	}
	var response map[string]json.RawMessage
	if json.Unmarshal(req.Response, &response) != nil || response == nil {
		return refused(http.StatusBadRequest, "response is required: a JSON object, the flow's answers")
	}
	if _, ok := response["flow_token"]; !ok && m.Interactive.Action.Parameters.FlowToken != "" {
		token, _ := json.Marshal(m.Interactive.Action.Parameters.FlowToken)
		response["flow_token"] = token
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(response)
	msg.Type = "interactive"
	msg.Interactive = &interactiveReply{Type: "nfm_reply",
		NFMReply: &nfmReply{Name: "flow", Body: "Sent", ResponseJSON: string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))}}
	return nil
}

// describeSent names the kind of message a is, e.g. "an interactive list".
func describeSent(a Accepted) string {
	if a.Interactive != "" {
		return "an interactive " + a.Interactive
	}
	return "a " + a.Type
}
