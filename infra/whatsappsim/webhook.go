package whatsappsim

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxWebhookAnswer caps how much of parley's answer to a webhook the
// simulator reads and reports.
const maxWebhookAnswer = 64 << 10

// The webhook's wire types, in Meta's field order.
type (
	webhook struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}
	entry struct {
		ID      string   `json:"id"`
		Changes []change `json:"changes"`
	}
	change struct {
		Value value  `json:"value"`
		Field string `json:"field"`
	}
	value struct {
		MessagingProduct string           `json:"messaging_product"`
		Metadata         metadata         `json:"metadata"`
		Contacts         []contact        `json:"contacts,omitempty"`
		Messages         []inbound        `json:"messages,omitempty"`
		Statuses         []statusPayload  `json:"statuses,omitempty"`
		Errors           []webhookError   `json:"errors,omitempty"`
		UserPreferences  []userPreference `json:"user_preferences,omitempty"`
		// field is the change's field: "messages" when empty.
		field string
	}
	metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	contact struct {
		Profile struct {
			Name     string `json:"name"`
			Username string `json:"username,omitempty"`
		} `json:"profile"`
		WaID            string `json:"wa_id,omitempty"`
		UserID          string `json:"user_id,omitempty"`
		ParentUserID    string `json:"parent_user_id,omitempty"`
		IdentityKeyHash string `json:"identity_key_hash,omitempty"`
	}
	inbound struct {
		Context          *inboundContext   `json:"context,omitempty"`
		From             string            `json:"from,omitempty"`
		FromUserID       string            `json:"from_user_id,omitempty"`
		FromParentUserID string            `json:"from_parent_user_id,omitempty"`
		GroupID          string            `json:"group_id,omitempty"`
		ID               string            `json:"id"`
		Timestamp        string            `json:"timestamp"`
		Type             string            `json:"type"`
		Identity         *identity         `json:"identity,omitempty"`
		Errors           []webhookError    `json:"errors,omitempty"`
		Referral         *referral         `json:"referral,omitempty"`
		Text             *textBody         `json:"text,omitempty"`
		Interactive      *interactiveReply `json:"interactive,omitempty"`
		Button           *buttonTap        `json:"button,omitempty"`
		Location         *location         `json:"location,omitempty"`
		Order            *order            `json:"order,omitempty"`
		Reaction         *reaction         `json:"reaction,omitempty"`
		Contacts         []contactCard     `json:"contacts,omitempty"`
		Revoke           *revoke           `json:"revoke,omitempty"`
		Edit             *edit             `json:"edit,omitempty"`
		System           *system           `json:"system,omitempty"`
		Unsupported      *unsupported      `json:"unsupported,omitempty"`
		inboundMediaObjects
		// changeErrors go with the message in its change's value.errors:
		// how Meta reports a message it could not render.
		changeErrors []webhookError
	}
	inboundContext struct {
		From                string           `json:"from,omitempty"`
		ID                  string           `json:"id,omitempty"`
		Forwarded           bool             `json:"forwarded,omitempty"`
		FrequentlyForwarded bool             `json:"frequently_forwarded,omitempty"`
		ReferredProduct     *referredProduct `json:"referred_product,omitempty"`
	}
	textBody struct {
		Body string `json:"body"`
	}
	interactiveReply struct {
		Type                string               `json:"type"`
		ButtonReply         *choice              `json:"button_reply,omitempty"`
		ListReply           *choice              `json:"list_reply,omitempty"`
		NFMReply            *nfmReply            `json:"nfm_reply,omitempty"`
		CallPermissionReply *callPermissionReply `json:"call_permission_reply,omitempty"`
	}
	choice struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description,omitempty"`
	}
	nfmReply struct {
		Name         string `json:"name"`
		Body         string `json:"body"`
		ResponseJSON string `json:"response_json"`
	}
	buttonTap struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	}
	location struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name,omitempty"`
		Address   string  `json:"address,omitempty"`
		URL       string  `json:"url,omitempty"`
	}
	order struct {
		CatalogID    string        `json:"catalog_id"`
		Text         string        `json:"text,omitempty"`
		ProductItems []productItem `json:"product_items"`
	}
	productItem struct {
		ProductRetailerID string      `json:"product_retailer_id"`
		Quantity          int         `json:"quantity"`
		ItemPrice         json.Number `json:"item_price"`
		Currency          string      `json:"currency"`
	}
	reaction struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji,omitempty"`
	}
	statusPayload struct {
		ID                    string         `json:"id"`
		Status                string         `json:"status"`
		Timestamp             string         `json:"timestamp"`
		RecipientID           string         `json:"recipient_id,omitempty"`
		RecipientUserID       string         `json:"recipient_user_id,omitempty"`
		RecipientParentUserID string         `json:"recipient_parent_user_id,omitempty"`
		RecipientType         string         `json:"recipient_type,omitempty"`
		RecipientParticipant  string         `json:"recipient_participant_id,omitempty"`
		BizOpaqueCallbackData string         `json:"biz_opaque_callback_data,omitempty"`
		Conversation          *conversation  `json:"conversation,omitempty"`
		Pricing               *pricing       `json:"pricing,omitempty"`
		Errors                []webhookError `json:"errors,omitempty"`
	}
	conversation struct {
		ID                  string `json:"id"`
		ExpirationTimestamp string `json:"expiration_timestamp,omitempty"`
		Origin              struct {
			Type string `json:"type"`
		} `json:"origin"`
	}
	pricing struct {
		Billable     bool   `json:"billable"`
		PricingModel string `json:"pricing_model"`
		Type         string `json:"type"`
		Category     string `json:"category"`
	}
	webhookError struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
		Href string `json:"href,omitempty"`
	}
)

// errorTexts are the titles and details Meta gives in failed statuses for
// the codes a test is most likely to play.
var errorTexts = map[int][2]string{
	131047: {"Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
	131026: {"Message undeliverable", "Message Undeliverable."},
	131000: {"Something went wrong", "Message failed to send due to an unknown error."},
	131049: {"This message was not delivered to maintain healthy ecosystem engagement.", "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},
	131050: {"Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business", "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business."},
	130429: {"Rate limit hit", "Message failed to send because there were too many messages sent from this phone number in a short period of time"},
	131009: {"Parameter value is not valid", "The message the reaction refers to is not in this chat, or is itself a reaction."},
	131051: {"Message type unknown", "Message type is currently not supported."},
}

// delivery is the answer to /reply and /status: what parley said to the
// webhook.
type delivery struct {
	WAMID         string `json:"wamid"`
	WebhookStatus int    `json:"webhookStatus"`
	WebhookBody   string `json:"webhookBody"`
}

// statusRequest is the body of POST /status.
type statusRequest struct {
	WAMID     string `json:"wamid"`
	Status    string `json:"status"`
	ErrorCode int    `json:"errorCode"`
	// Participant is, for a message sent to a group, the participant's
	// phone number the status is for.
	Participant string `json:"participant"`
}

func (s *Simulator) handleStatus(w http.ResponseWriter, r *http.Request) {
	var req statusRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "status: %v", err)
		return
	}
	switch req.Status {
	case "sent", "delivered", "read":
		if req.ErrorCode != 0 {
			writeError(w, http.StatusBadRequest, "status: errorCode goes only with status \"failed\"")
			return
		}
	case "failed":
		if req.ErrorCode == 0 {
			writeError(w, http.StatusBadRequest, "status: errorCode is required with status \"failed\", e.g. 131047")
			return
		}
	default:
		writeError(w, http.StatusBadRequest, `status: status must be "sent", "delivered", "read" or "failed", got %q`, req.Status)
		return
	}
	a, ok := s.find(req.WAMID)
	if !ok {
		writeError(w, http.StatusNotFound, "status: the simulator never accepted a message %q", req.WAMID)
		return
	}
	if a.GroupID != "" && req.Participant == "" {
		writeError(w, http.StatusBadRequest, "status: participant is required for a message sent to a group: the phone number the status is for")
		return
	}
	if a.GroupID == "" && req.Participant != "" {
		writeError(w, http.StatusBadRequest, "status: participant goes only with a message sent to a group")
		return
	}
	st := statusPayload{ID: a.WAMID, Status: req.Status, Timestamp: s.timestamp(), BizOpaqueCallbackData: callbackData(a)}
	switch req.Status {
	case "sent", "delivered":
		st.Pricing = s.price(a)
	case "failed":
		st = s.failedStatus(a, req.ErrorCode)
	}
	var contacts []contact
	s.mu.Lock()
	if ep, ok := s.entryPointOf(a); ok && st.Pricing != nil {
		// A message sent in a free entry point conversation: free, and its
		// statuses name the conversation, its expiry only when sent.
		st.Pricing = &pricing{PricingModel: "PMP", Type: "free_entry_point", Category: "referral_conversion"}
		st.Conversation = &conversation{ID: ep.id}
		st.Conversation.Origin.Type = "referral_conversion"
		if req.Status == "sent" {
			st.Conversation.ExpirationTimestamp = strconv.FormatInt(ep.at.Add(entryPointLife).Unix(), 10)
		}
	}
	switch {
	case req.Status == "failed":
		st.RecipientParticipant = waID(req.Participant)
	default:
		s.addressStatus(&st, a, req.Participant)
		if u := s.recipient(a); u != nil && a.GroupID == "" {
			st.RecipientParentUserID = u.parentUserID
			// Meta sends the recipient's contact with every status but a
			// failed one.
			contacts = []contact{u.contact()}
		}
	}
	s.mu.Unlock()
	s.deliver(r.Context(), w, a.WAMID, a.PhoneNumberID, value{Contacts: contacts, Statuses: []statusPayload{st}})
}

// price is the pricing Meta reports for a (per-message pricing): a
// template is billed at its category's rate, but a utility template inside
// the customer service window is free, as is every free-form message (which
// only goes out inside it). A template's category is its KnownTemplates
// entry's, utility when the simulator does not know it.
func (s *Simulator) price(a Accepted) *pricing {
	if a.Type != "template" {
		return &pricing{PricingModel: "PMP", Type: "free_customer_service", Category: "service"}
	}
	var m sent
	json.Unmarshal(a.Request, &m)
	t, _ := s.template(m.Template.Name, m.Template.Language.Code)
	category := cmp.Or(strings.ToLower(t.Category), "utility")
	if category == "utility" && a.inWindow {
		return &pricing{PricingModel: "PMP", Type: "free_customer_service", Category: category}
	}
	return &pricing{Billable: true, PricingModel: "PMP", Type: "regular", Category: category}
}

// recipient is the user a was sent to, when the simulator knows them. The
// caller holds s.mu.
func (s *Simulator) recipient(a Accepted) *user {
	if a.WaID != "" {
		return s.userOf(a.PhoneNumberID, a.WaID)
	}
	return s.userOf(a.PhoneNumberID, a.UserID)
}

// addressStatus names in st who a was for, as Meta does: recipient_id is
// the phone number (when the send used it, or the user shares it),
// recipient_user_id the business-scoped user id; a group's status names
// the group and the participant. The caller holds s.mu.
func (s *Simulator) addressStatus(st *statusPayload, a Accepted, participant string) {
	if a.GroupID != "" {
		st.RecipientType, st.RecipientID, st.RecipientParticipant = "group", a.GroupID, waID(participant)
		return
	}
	st.RecipientID = a.WaID
	st.RecipientUserID = a.UserID
	if u := s.recipient(a); u != nil {
		st.RecipientUserID = u.userID
		if st.RecipientID == "" && !u.hidePhone {
			st.RecipientID = u.phone
		}
	}
}

// failedStatus is the status "failed" with code for a.
func (s *Simulator) failedStatus(a Accepted, code int) statusPayload {
	e := webhookError{Code: code, Href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}
	texts, known := errorTexts[code]
	if !known {
		texts = [2]string{"Error", ""}
	}
	e.Title, e.Message, e.ErrorData.Details = texts[0], texts[0], texts[1]
	st := statusPayload{ID: a.WAMID, Status: "failed", Timestamp: s.timestamp(),
		BizOpaqueCallbackData: callbackData(a), Errors: []webhookError{e}}
	// A failed status for a send to a phone number names only the phone
	// number (Meta leaves recipient_user_id out then).
	st.RecipientID, st.RecipientUserID = a.WaID, a.UserID
	if a.GroupID != "" {
		st.RecipientType, st.RecipientID = "group", a.GroupID
	}
	return st
}

// callbackData is the biz_opaque_callback_data a's request set, which Meta
// echoes in its statuses.
func callbackData(a Accepted) string {
	var req struct {
		Data string `json:"biz_opaque_callback_data"`
	}
	json.Unmarshal(a.Request, &req)
	return req.Data
}

// deliver posts v for phoneNumberID and answers with what the webhook
// said.
func (s *Simulator) deliver(ctx context.Context, w http.ResponseWriter, wamid, phoneNumberID string, v value) {
	status, answer, err := s.post(ctx, phoneNumberID, v)
	if err != nil {
		writeError(w, http.StatusBadGateway, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, delivery{WAMID: wamid, WebhookStatus: status, WebhookBody: string(answer)})
}

// post wraps v in Meta's envelope for phoneNumberID, posts it signed to
// the webhook URL and returns the webhook's answer.
func (s *Simulator) post(ctx context.Context, phoneNumberID string, v value) (status int, answer []byte, err error) {
	if s.cfg.WebhookURL == "" {
		return 0, nil, errors.New("no webhook URL is configured")
	}
	v.MessagingProduct = "whatsapp"
	v.Metadata = metadata{DisplayPhoneNumber: displayNumber(phoneNumberID), PhoneNumberID: phoneNumberID}
	body, err := metaJSON(webhook{
		Object: "whatsapp_business_account",
		Entry:  []entry{{ID: wabaID(phoneNumberID), Changes: []change{{Value: v, Field: cmp.Or(v.field, "messages")}}}},
	})
	if err != nil {
		return 0, nil, fmt.Errorf("encoding the webhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("webhook URL %q: %w", s.cfg.WebhookURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set("X-Hub-Signature-256", sign(body, s.cfg.AppSecret))
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("the webhook could not be reached: %w", err)
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(io.LimitReader(resp.Body, maxWebhookAnswer))
	if err != nil {
		return 0, nil, fmt.Errorf("reading the webhook's answer: %w", err)
	}
	return resp.StatusCode, answer, nil
}

func (s *Simulator) timestamp() string {
	return strconv.FormatInt(s.cfg.Now().Unix(), 10)
}

// sign is Meta's X-Hub-Signature-256 of body.
func sign(body []byte, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// metaJSON encodes v the way Meta writes webhooks: "/" as "\/" and every
// non-ASCII character as a lowercase \u escape (a UTF-16 surrogate pair
// beyond the BMP), so that a receiver that verifies a re-encoded body
// instead of the bytes it got fails here as it would in production.
func metaJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	raw := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	out := make([]byte, 0, len(raw)+len(raw)/8)
	// Outside strings JSON is ASCII without "/", so every rune rewritten
	// here is inside a string.
	for _, r := range string(raw) {
		switch {
		case r == '/':
			out = append(out, '\\', '/')
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out, nil
}

// wabaID and displayNumber make up, for a phone-number-id, the WhatsApp
// Business Account id and display number Meta would send with it: stable,
// and digits like Meta's.
func wabaID(phoneNumberID string) string {
	return fmt.Sprintf("10%013d", hash(phoneNumberID)%1e13)
}

func displayNumber(phoneNumberID string) string {
	return fmt.Sprintf("1555%07d", hash(phoneNumberID)%1e7)
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// decode reads a JSON request body into v, refusing unknown fields so that
// a typo surfaces.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the body is not the JSON expected: %w", err)
	}
	return nil
}
