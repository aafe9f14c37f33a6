package whatsappsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The wire types of the customer's other messages, in Meta's field order.
type (
	identity struct {
		Acknowledged     bool   `json:"acknowledged"`
		CreatedTimestamp string `json:"created_timestamp"`
		Hash             string `json:"hash"`
	}
	referral struct {
		SourceURL      string          `json:"source_url"`
		SourceID       string          `json:"source_id,omitempty"`
		SourceType     string          `json:"source_type"`
		Headline       string          `json:"headline,omitempty"`
		Body           string          `json:"body,omitempty"`
		MediaType      string          `json:"media_type,omitempty"`
		ImageURL       string          `json:"image_url,omitempty"`
		VideoURL       string          `json:"video_url,omitempty"`
		ThumbnailURL   string          `json:"thumbnail_url,omitempty"`
		CtwaClid       string          `json:"ctwa_clid,omitempty"`
		WelcomeMessage *welcomeMessage `json:"welcome_message,omitempty"`
	}
	welcomeMessage struct {
		Text string `json:"text"`
	}
	referredProduct struct {
		CatalogID         string `json:"catalog_id"`
		ProductRetailerID string `json:"product_retailer_id"`
	}
	// contactCard is a shared contact, as Meta writes it and as /reply
	// takes it.
	contactCard struct {
		Name      cardName      `json:"name"`
		Birthday  string        `json:"birthday,omitempty"`
		Phones    []cardPhone   `json:"phones,omitempty"`
		Emails    []cardEmail   `json:"emails,omitempty"`
		Addresses []cardAddress `json:"addresses,omitempty"`
		Org       *cardOrg      `json:"org,omitempty"`
		URLs      []cardURL     `json:"urls,omitempty"`
	}
	cardName struct {
		FormattedName string `json:"formatted_name"`
		FirstName     string `json:"first_name,omitempty"`
		LastName      string `json:"last_name,omitempty"`
		MiddleName    string `json:"middle_name,omitempty"`
		Suffix        string `json:"suffix,omitempty"`
		Prefix        string `json:"prefix,omitempty"`
	}
	cardPhone struct {
		Phone string `json:"phone"`
		WaID  string `json:"wa_id,omitempty"`
		Type  string `json:"type,omitempty"`
	}
	cardEmail struct {
		Email string `json:"email"`
		Type  string `json:"type,omitempty"`
	}
	cardAddress struct {
		Street      string `json:"street,omitempty"`
		City        string `json:"city,omitempty"`
		State       string `json:"state,omitempty"`
		Zip         string `json:"zip,omitempty"`
		Country     string `json:"country,omitempty"`
		CountryCode string `json:"country_code,omitempty"`
		Type        string `json:"type,omitempty"`
	}
	cardOrg struct {
		Company    string `json:"company,omitempty"`
		Department string `json:"department,omitempty"`
		Title      string `json:"title,omitempty"`
	}
	cardURL struct {
		URL  string `json:"url"`
		Type string `json:"type,omitempty"`
	}
	revoke struct {
		OriginalMessageID string `json:"original_message_id"`
	}
	edit struct {
		OriginalMessageID string        `json:"original_message_id"`
		Message           editedMessage `json:"message"`
	}
	editedMessage struct {
		Type string    `json:"type"`
		Text *textBody `json:"text,omitempty"`
	}
	system struct {
		Body           string `json:"body"`
		WaID           string `json:"wa_id,omitempty"`
		UserID         string `json:"user_id,omitempty"`
		PreviousUserID string `json:"previous_user_id,omitempty"`
		Type           string `json:"type"`
	}
	unsupported struct {
		Type string `json:"type"`
	}
	callPermissionReply struct {
		Response            string `json:"response"`
		ExpirationTimestamp int64  `json:"expiration_timestamp,omitempty"`
		ResponseSource      string `json:"response_source"`
	}
	userPreference struct {
		WaID      string `json:"wa_id,omitempty"`
		UserID    string `json:"user_id,omitempty"`
		Detail    string `json:"detail"`
		Category  string `json:"category"`
		Value     string `json:"value"`
		Timestamp int64  `json:"timestamp"`
	}
)

// referralRequest is the click-to-WhatsApp ad or post a /reply came from.
type referralRequest struct {
	SourceURL      string `json:"sourceUrl"`
	SourceID       string `json:"sourceId"`
	SourceType     string `json:"sourceType"`
	Headline       string `json:"headline"`
	Body           string `json:"body"`
	MediaType      string `json:"mediaType"`
	ImageURL       string `json:"imageUrl"`
	VideoURL       string `json:"videoUrl"`
	ThumbnailURL   string `json:"thumbnailUrl"`
	CtwaClid       string `json:"ctwaClid"`
	WelcomeMessage string `json:"welcomeMessage"`
}

// productRequest is the product a /reply asks about.
type productRequest struct {
	CatalogID string `json:"catalogId"`
	ProductID string `json:"productId"`
}

// How long a customer may edit, or delete for everyone, a message they
// sent (WhatsApp's help pages: 15 minutes; about two days).
const (
	editLimit   = 15 * time.Minute
	revokeLimit = 60 * time.Hour
)

// callPermissionLife is how long a customer's "accept" to a call permission
// request lasts.
const callPermissionLife = 7 * 24 * time.Hour

// entryPointLife is how long the free entry point conversation that a
// click-to-WhatsApp ad opens lasts.
const entryPointLife = 72 * time.Hour

// authored is a message a customer sent through /reply: who, of which
// type, when.
type authored struct {
	u   *user
	typ string
	at  time.Time
}

// amend makes a customer's revoke or edit of their own message req.ReplyTo.
func (s *Simulator) amend(req replyRequest) (inbound, chat, *user, *replyError) {
	if req.ReplyTo == "" || req.ReplyTo == Latest {
		return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "replyTo is required for action %q: the wamid of the customer's own message", req.Action)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, delivered := s.delivered[req.ReplyTo]
	a, ok := s.authors[req.ReplyTo]
	switch {
	case !delivered || !ok:
		return inbound{}, chat{}, nil, refused(http.StatusNotFound, "the simulator delivered no customer message %q", req.ReplyTo)
	case req.BusinessID != "" && req.BusinessID != c.phoneNumberID:
		return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "businessId %q is not the number %s was sent to (%s)", req.BusinessID, req.ReplyTo, c.phoneNumberID)
	}
	for _, id := range []string{waID(req.From), req.UserID} {
		if id != "" && s.userOf(c.phoneNumberID, id) != a.u {
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "%s did not write %s: a customer revokes or edits only their own messages", id, req.ReplyTo)
		}
	}
	age := s.cfg.Now().Sub(a.at)
	msg := inbound{Type: req.Action}
	switch req.Action {
	case "revoke":
		if age > revokeLimit {
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "%s was sent %s ago: a message can be deleted for everyone for %s", req.ReplyTo, age.Round(time.Minute), revokeLimit)
		}
		msg.Revoke = &revoke{OriginalMessageID: req.ReplyTo}
	case "edit":
		switch {
		case a.typ != "text":
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "edit changes a text; %s is a %s", req.ReplyTo, a.typ)
		case req.Text == "":
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "text is required: the message's new text")
		case age > editLimit:
			return inbound{}, chat{}, nil, refused(http.StatusBadRequest, "%s was sent %s ago: a message can be edited for %s", req.ReplyTo, age.Round(time.Second), editLimit)
		}
		msg.Edit = &edit{OriginalMessageID: req.ReplyTo, Message: editedMessage{Type: "text", Text: &textBody{Body: req.Text}}}
	}
	return msg, c, a.u, nil
}

// systemMessage makes the system message of a change to u: a new phone
// number, a new business-scoped user id, or a new identity (security code).
func (s *Simulator) systemMessage(req replyRequest, phoneNumberID string, u *user, msg *inbound) *replyError {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.Change {
	case "number":
		phone := waID(req.NewPhone)
		switch {
		case u.phone == "" || u.hidePhone:
			return refused(http.StatusBadRequest, "change \"number\" is for a customer whose phone number the business knows")
		case !isPhone(phone):
			return refused(http.StatusBadRequest, "newPhone is required: the customer's new phone number, digits, e.g. 447700900777; got %q", req.NewPhone)
		case phone == u.phone:
			return refused(http.StatusBadRequest, "newPhone %s is the customer's number already", phone)
		case s.userOf(phoneNumberID, phone) != nil:
			return refused(http.StatusBadRequest, "newPhone %s is another customer's number", phone)
		}
		msg.System = &system{Body: changedText(u.name, u.phone, phone), WaID: phone, Type: "user_changed_number"}
	case "userId":
		switch {
		case !isBSUID(req.NewUserID) || isParentBSUID(req.NewUserID):
			return refused(http.StatusBadRequest, "newUserId is required: the customer's new business-scoped user id, e.g. GB.88812345678901234567; got %q", req.NewUserID)
		case req.NewUserID == u.userID:
			return refused(http.StatusBadRequest, "newUserId %s is the customer's id already", req.NewUserID)
		case s.userOf(phoneNumberID, req.NewUserID) != nil:
			return refused(http.StatusBadRequest, "newUserId %s is another customer's id", req.NewUserID)
		}
		msg.System = &system{Body: changedText("", u.userID, req.NewUserID), UserID: req.NewUserID, PreviousUserID: u.userID, Type: "user_changed_user_id"}
	case "identity":
		hash := req.IdentityHash
		if hash == "" {
			hash = base64.StdEncoding.EncodeToString(random(8))
		}
		msg.Identity = &identity{Acknowledged: true, CreatedTimestamp: s.timestamp(), Hash: hash}
		msg.System = &system{Body: "User identity changed", Type: "customer_identity_changed"}
	default:
		return refused(http.StatusBadRequest, `change must be "number", "userId" or "identity", got %q`, req.Change)
	}
	return nil
}

// changedText is Meta's body of a change from one id to another.
func changedText(name, from, to string) string {
	if name == "" {
		return fmt.Sprintf("User changed from %s to %s", from, to)
	}
	return fmt.Sprintf("User %s changed from %s to %s", name, from, to)
}

// renumber gives u, a user of phoneNumberID, the phone number phone. The
// caller holds s.mu.
func (s *Simulator) renumber(phoneNumberID string, u *user, phone string) {
	delete(s.users, chat{phoneNumberID, u.phone})
	u.phone = phone
	s.users[chat{phoneNumberID, phone}] = u
}

// reidentify gives u, a user of phoneNumberID, the business-scoped user id
// userID. The caller holds s.mu.
func (s *Simulator) reidentify(phoneNumberID string, u *user, userID string) {
	delete(s.users, chat{phoneNumberID, u.userID})
	u.userID = userID
	s.users[chat{phoneNumberID, userID}] = u
}

// contactsMessage is the customer sharing contact cards.
func contactsMessage(req replyRequest, msg *inbound) *replyError {
	if len(req.Contacts) == 0 {
		return refused(http.StatusBadRequest, "contacts is required: at least one card, e.g. {\"name\":{\"formatted_name\":\"Dana Okafor\"},\"phones\":[{\"phone\":\"+44 7700 900456\"}]}")
	}
	for i, c := range req.Contacts {
		if c.Name.FormattedName == "" {
			return refused(http.StatusBadRequest, "contacts[%d].name.formatted_name is required", i)
		}
	}
	msg.Contacts = req.Contacts
	return nil
}

// callPermissionAnswer is the customer's answer to a call permission
// request: an accept lasts seven days.
func callPermissionAnswer(req replyRequest, now time.Time, msg *inbound) *replyError {
	cp := &callPermissionReply{Response: req.Answer, ResponseSource: "user_action"}
	switch req.Answer {
	case "accept":
		cp.ExpirationTimestamp = now.Add(callPermissionLife).Unix()
	case "reject":
	default:
		return refused(http.StatusBadRequest, `answer must be "accept" or "reject", got %q`, req.Answer)
	}
	msg.Type = "interactive"
	msg.Interactive = &interactiveReply{Type: "call_permission_reply", CallPermissionReply: cp}
	return nil
}

// unsupportedMessage is a message of a type the Cloud API does not
// support (a poll, a view-once message…): Meta says so with 131051.
func unsupportedMessage(req replyRequest, msg *inbound) *replyError {
	if req.Unsupported == "" {
		return refused(http.StatusBadRequest, "unsupported is required: the customer's message type, e.g. \"poll\"")
	}
	e := metaError(131051)
	e.Href = ""
	msg.Errors = []webhookError{e}
	msg.Unsupported = &unsupported{Type: req.Unsupported}
	return nil
}

// unrenderedMessage is an interactive message Meta could not render: the
// item without a body, the change with error 131000.
func unrenderedMessage(msg *inbound) {
	msg.Type = "interactive"
	e := metaError(131000)
	e.Message, e.ErrorData.Details, e.Href = e.Title, "Unsupported webhook payload", ""
	msg.changeErrors = []webhookError{e}
}

// metaError is the error object Meta writes for code.
func metaError(code int) webhookError {
	texts, known := errorTexts[code]
	if !known {
		texts = [2]string{"Error", ""}
	}
	e := webhookError{Code: code, Title: texts[0], Message: texts[0], Href: errorCodesPage}
	e.ErrorData.Details = texts[1]
	return e
}

// errorCodesPage is the href of Meta's webhook errors.
const errorCodesPage = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

// extras adds to msg where it came from: an ad or post (referral), a
// product (referred_product), a forward.
func extras(req replyRequest, business string, msg *inbound) *replyError {
	if r := req.Referral; r != nil {
		if req.Action != "text" {
			return refused(http.StatusBadRequest, "referral goes with action \"text\": the first message from an ad or post")
		}
		switch {
		case r.SourceType != "ad" && r.SourceType != "post":
			return refused(http.StatusBadRequest, `referral.sourceType must be "ad" or "post", got %q`, r.SourceType)
		case !isWebURL(r.SourceURL):
			return refused(http.StatusBadRequest, "referral.sourceUrl is required: the ad's or post's http(s) URL; got %q", r.SourceURL)
		case r.MediaType != "" && r.MediaType != "image" && r.MediaType != "video":
			return refused(http.StatusBadRequest, `referral.mediaType must be "image" or "video", got %q`, r.MediaType)
		}
		ref := &referral{SourceURL: r.SourceURL, SourceID: r.SourceID, SourceType: r.SourceType, Headline: r.Headline, Body: r.Body,
			MediaType: r.MediaType, ImageURL: r.ImageURL, VideoURL: r.VideoURL, ThumbnailURL: r.ThumbnailURL, CtwaClid: r.CtwaClid}
		if ref.CtwaClid == "" && r.SourceType == "ad" {
			// Meta gives every click on a click-to-WhatsApp ad an id.
			ref.CtwaClid = "ARA" + base64.RawURLEncoding.EncodeToString(random(12))
		}
		if r.WelcomeMessage != "" {
			ref.WelcomeMessage = &welcomeMessage{Text: r.WelcomeMessage}
		}
		msg.Referral = ref
	}
	if p := req.ReferredProduct; p != nil {
		switch {
		case req.Action != "text":
			return refused(http.StatusBadRequest, "referredProduct goes with action \"text\": the customer writes about a product")
		case p.CatalogID == "" || p.ProductID == "":
			return refused(http.StatusBadRequest, "referredProduct needs catalogId and productId")
		}
		if msg.Context == nil {
			msg.Context = &inboundContext{From: displayNumber(business)}
		}
		msg.Context.ReferredProduct = &referredProduct{CatalogID: p.CatalogID, ProductRetailerID: p.ProductID}
	}
	switch req.Forwarded {
	case "":
	case "once", "frequently":
		switch req.Action {
		case "text", "location", "contacts":
		default:
			return refused(http.StatusBadRequest, "forwarded goes with a text, a location or contacts")
		}
		if req.ReplyTo != "" {
			return refused(http.StatusBadRequest, "forwarded takes no replyTo: a forwarded message answers nothing")
		}
		msg.Context = &inboundContext{Forwarded: req.Forwarded == "once", FrequentlyForwarded: req.Forwarded == "frequently"}
	default:
		return refused(http.StatusBadRequest, `forwarded must be "once" or "frequently", got %q`, req.Forwarded)
	}
	return nil
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func isPhone(s string) bool {
	if len(s) < 6 || len(s) > 15 {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

func isParentBSUID(id string) bool {
	return len(id) > 7 && id[3:7] == "ENT."
}

// preferencesRequest is the body of POST /preferences.
type preferencesRequest struct {
	BusinessID string `json:"businessId"`
	From       string `json:"from"`
	UserID     string `json:"userId"`
	// Name is the customer's profile name, remembered as /reply's is.
	Name string `json:"name"`
	// Value is "stop" (the customer opts out of marketing messages) or
	// "resume".
	Value  string `json:"value"`
	Detail string `json:"detail"`
}

// handlePreferences posts a user_preferences change: a customer stopped
// or resumed marketing messages.
func (s *Simulator) handlePreferences(w http.ResponseWriter, r *http.Request) {
	var req preferencesRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "preferences: %v", err)
		return
	}
	detail := req.Detail
	switch {
	case req.Value != "stop" && req.Value != "resume":
		writeError(w, http.StatusBadRequest, `preferences: value must be "stop" or "resume", got %q`, req.Value)
		return
	case detail == "" && req.Value == "stop":
		detail = "User requested to stop marketing messages"
	case detail == "":
		detail = "User requested to resume marketing messages"
	}
	if werr := s.checkBusiness(req.BusinessID); werr != nil {
		writeError(w, werr.status, "preferences: %s", werr.msg)
		return
	}
	phone := waID(req.From)
	if phone == "" && req.UserID == "" {
		writeError(w, http.StatusBadRequest, "preferences: from or userId is required: the customer")
		return
	}
	if req.UserID != "" && !isBSUID(req.UserID) {
		writeError(w, http.StatusBadRequest, "preferences: userId %q is not a business-scoped user id such as US.13491208655302741918", req.UserID)
		return
	}
	s.mu.Lock()
	u := s.identify(req.BusinessID, phone, req.UserID)
	if req.Name != "" {
		u.name = req.Name
	}
	s.optedOut[chat{req.BusinessID, u.key}] = req.Value == "stop"
	ct := u.contact()
	up := userPreference{WaID: ct.WaID, UserID: u.userID, Detail: detail, Category: "marketing_messages", Value: req.Value, Timestamp: s.cfg.Now().Unix()}
	s.mu.Unlock()
	s.deliver(r.Context(), w, "", req.BusinessID, value{Contacts: []contact{ct}, UserPreferences: []userPreference{up}, field: "user_preferences"})
}

// errorRequest is the body of POST /error.
type errorRequest struct {
	BusinessID string `json:"businessId"`
	Code       int    `json:"code"`
}

// handleError posts an error for a whole change (value.errors): Meta's
// way of reporting a problem tied to no message, e.g. 130429.
func (s *Simulator) handleError(w http.ResponseWriter, r *http.Request) {
	var req errorRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "error: %v", err)
		return
	}
	if req.Code <= 0 {
		writeError(w, http.StatusBadRequest, "error: code is required: Meta's error code, e.g. 130429")
		return
	}
	if werr := s.checkBusiness(req.BusinessID); werr != nil {
		writeError(w, werr.status, "error: %s", werr.msg)
		return
	}
	e := metaError(req.Code)
	// Meta's example of a change's error links the error codes page
	// relative to its developer site.
	e.Href = "/documentation/business-messaging/whatsapp/support/error-codes"
	s.deliver(r.Context(), w, "", req.BusinessID, value{Errors: []webhookError{e}})
}

// checkBusiness refuses a business number the simulator does not know.
func (s *Simulator) checkBusiness(phoneNumberID string) *replyError {
	switch {
	case phoneNumberID == "":
		return &replyError{http.StatusBadRequest, "businessId is required"}
	case !s.knows(phoneNumberID):
		return &replyError{http.StatusBadRequest, fmt.Sprintf("businessId %q is not one of the simulator's known numbers", phoneNumberID)}
	}
	return nil
}

// entryPoint is a free entry point conversation: a click-to-WhatsApp ad
// opened it at at; the business's messages of the next 72 hours are free,
// and their statuses name it.
type entryPoint struct {
	id string
	at time.Time
}

// entryPointOf is the free entry point conversation a was sent in, if
// any. The caller holds s.mu.
func (s *Simulator) entryPointOf(a Accepted) (entryPoint, bool) {
	ep, ok := s.entryPoints[s.chatOf(a)]
	return ep, ok && !a.At.Before(ep.at) && a.At.Before(ep.at.Add(entryPointLife))
}

// conversationID makes up a conversation id as Meta's look: 32 hex digits.
func conversationID() string {
	return fmt.Sprintf("%x", random(16))
}
