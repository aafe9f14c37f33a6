package whatsappsim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
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
		MessagingProduct string          `json:"messaging_product"`
		Metadata         metadata        `json:"metadata"`
		Contacts         []contact       `json:"contacts,omitempty"`
		Messages         []inbound       `json:"messages,omitempty"`
		Statuses         []statusPayload `json:"statuses,omitempty"`
	}
	metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	contact struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	}
	inbound struct {
		Context   *inboundContext `json:"context,omitempty"`
		From      string          `json:"from"`
		ID        string          `json:"id"`
		Timestamp string          `json:"timestamp"`
		Type      string          `json:"type"`
		Text      struct {
			Body string `json:"body"`
		} `json:"text"`
	}
	inboundContext struct {
		From string `json:"from"`
		ID   string `json:"id"`
	}
	statusPayload struct {
		ID          string         `json:"id"`
		Status      string         `json:"status"`
		Timestamp   string         `json:"timestamp"`
		RecipientID string         `json:"recipient_id"`
		Pricing     *pricing       `json:"pricing,omitempty"`
		Errors      []webhookError `json:"errors,omitempty"`
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
		Href string `json:"href"`
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
	130429: {"Rate limit hit", "Message failed to send because there were too many messages sent from this phone number in a short period of time."},
}

// delivery is the answer to /reply and /status: what parley said to the
// webhook.
type delivery struct {
	WAMID         string `json:"wamid"`
	WebhookStatus int    `json:"webhookStatus"`
	WebhookBody   string `json:"webhookBody"`
}

// replyRequest is the body of POST /reply.
type replyRequest struct {
	BusinessID string `json:"businessId"`
	From       string `json:"from"`
	Name       string `json:"name"`
	Text       string `json:"text"`
	ReplyTo    string `json:"replyTo"`
}

func (s *Simulator) handleReply(w http.ResponseWriter, r *http.Request) {
	var req replyRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "reply: %v", err)
		return
	}
	from := waID(req.From)
	switch {
	case req.BusinessID == "":
		writeError(w, http.StatusBadRequest, "reply: businessId is required")
		return
	case !s.knows(req.BusinessID):
		writeError(w, http.StatusBadRequest, "reply: businessId %q is not one of the simulator's known numbers", req.BusinessID)
		return
	case from == "":
		writeError(w, http.StatusBadRequest, "reply: from is required: the customer's wa_id")
		return
	case req.Text == "":
		writeError(w, http.StatusBadRequest, "reply: text is required")
		return
	}
	msg := inbound{
		From:      from,
		ID:        newWAMID(),
		Timestamp: s.timestamp(),
		Type:      "text",
	}
	msg.Text.Body = req.Text
	if req.ReplyTo != "" {
		msg.Context = &inboundContext{From: displayNumber(req.BusinessID), ID: req.ReplyTo}
	}
	c := contact{WaID: from}
	c.Profile.Name = req.Name
	s.deliver(r.Context(), w, msg.ID, req.BusinessID, value{Contacts: []contact{c}, Messages: []inbound{msg}})
}

// statusRequest is the body of POST /status.
type statusRequest struct {
	WAMID     string `json:"wamid"`
	Status    string `json:"status"`
	ErrorCode int    `json:"errorCode"`
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
	st := statusPayload{ID: a.WAMID, Status: req.Status, Timestamp: s.timestamp(), RecipientID: a.WaID}
	switch req.Status {
	case "sent", "delivered":
		st.Pricing = &pricing{PricingModel: "PMP", Type: "free_customer_service", Category: "service"}
	case "failed":
		e := webhookError{Code: req.ErrorCode, Href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}
		texts, known := errorTexts[req.ErrorCode]
		if !known {
			texts = [2]string{"Error", ""}
		}
		e.Title, e.Message, e.ErrorData.Details = texts[0], texts[0], texts[1]
		st.Errors = []webhookError{e}
	}
	s.deliver(r.Context(), w, a.WAMID, a.PhoneNumberID, value{Statuses: []statusPayload{st}})
}

// deliver wraps v in Meta's envelope for phoneNumberID, posts it signed to
// the webhook URL and answers with what the webhook said.
func (s *Simulator) deliver(ctx context.Context, w http.ResponseWriter, wamid, phoneNumberID string, v value) {
	if s.cfg.WebhookURL == "" {
		writeError(w, http.StatusBadGateway, "no webhook URL is configured")
		return
	}
	v.MessagingProduct = "whatsapp"
	v.Metadata = metadata{DisplayPhoneNumber: displayNumber(phoneNumberID), PhoneNumberID: phoneNumberID}
	body, err := metaJSON(webhook{
		Object: "whatsapp_business_account",
		Entry:  []entry{{ID: wabaID(phoneNumberID), Changes: []change{{Value: v, Field: "messages"}}}},
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encoding the webhook: %v", err)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusBadGateway, "webhook URL %q: %v", s.cfg.WebhookURL, err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facebookexternalua")
	req.Header.Set("X-Hub-Signature-256", sign(body, s.cfg.AppSecret))
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		writeError(w, http.StatusBadGateway, "the webhook could not be reached: %v", err)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookAnswer))
	if err != nil {
		writeError(w, http.StatusBadGateway, "reading the webhook's answer: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, delivery{WAMID: wamid, WebhookStatus: resp.StatusCode, WebhookBody: string(answer)})
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
