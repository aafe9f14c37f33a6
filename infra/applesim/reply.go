package applesim

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parleyhq/parley/shared/message"
)

// Limits of POST /reply.
const (
	maxReplyBody   = 1 << 20  // the request
	maxWebhookBody = 64 << 10 // how much of the webhook's answer is kept
)

// allCapabilities is every value of Apple's capability-list.
var allCapabilities = []string{"QUICK", "LIST", "TIME", "AUTH", "AUTH2", "FORM"}

// ErrBadReply is the error of Reply for a reply that cannot be sent.
var ErrBadReply = errors.New("applesim: bad reply")

// Reply is a customer's message to a business, the body of POST /reply:
// a text, typing indicator or close, or, with an Action, the answer to an
// interactive message the gateway accepted.
type Reply struct {
	// BusinessID and From (the customer's opaque id, urn:mbid:…) are
	// required without an Action; with one they default to the sender and
	// the recipient of the message answered.
	BusinessID string `json:"businessId"`
	From       string `json:"from"`
	// Type is text (the default), typing_start, typing_end or close; an
	// answer is always interactive.
	Type string `json:"type,omitempty"`
	Text string `json:"text,omitempty"`
	// Action answers the interactive message ReplyTo (its Apple message
	// id): select (IDs: list picker items, one time slot, one quick reply
	// item), auth (Token), pay (Result success or failure), shipping (IDs:
	// at most one shipping method), paymentMethod, or custom (URL).
	Action  string   `json:"action,omitempty"`
	ReplyTo string   `json:"replyTo,omitempty"`
	IDs     []string `json:"ids,omitempty"`
	Token   string   `json:"token,omitempty"`
	Result  string   `json:"result,omitempty"`
	URL     string   `json:"url,omitempty"`
	// Capabilities is the device's capability-list: nil means all of
	// QUICK, LIST, TIME, AUTH, AUTH2 and FORM; an empty list sends no
	// header.
	Capabilities []string `json:"capabilities"`
	// Locale is the customer's locale; empty means en_US.
	Locale string `json:"locale,omitempty"`
}

// Delivery is what became of a Reply: the Apple message id it was given and
// the webhook's answer, and for Apple Pay the business endpoint's answer.
// The shipping and paymentMethod actions call the business endpoint only.
type Delivery struct {
	ID            string `json:"id"`
	WebhookStatus int    `json:"webhookStatus"`
	WebhookBody   string `json:"webhookBody"`
	// DataRef is true when the answer was over 10 KB and went as an
	// interactiveDataRef.
	DataRef  bool      `json:"dataRef,omitempty"`
	Callback *Callback `json:"callback,omitempty"`
}

// Callback is a call the simulator made to an Apple Pay endpoint of the
// business and its answer.
type Callback struct {
	URL    string `json:"url"`
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// inboundBody is the body of a webhook, as Apple writes it.
type inboundBody struct {
	V                  int             `json:"v"`
	ID                 string          `json:"id"`
	Type               string          `json:"type"`
	SourceID           string          `json:"sourceId"`
	DestinationID      string          `json:"destinationId"`
	Body               string          `json:"body,omitempty"`
	Locale             string          `json:"locale"`
	InteractiveData    json.RawMessage `json:"interactiveData,omitempty"`
	InteractiveDataRef *dataRef        `json:"interactiveDataRef,omitempty"`
}

// Reply posts rp to the webhook as Apple would. It returns an error wrapping
// ErrBadReply when rp is incomplete or does not fit the message it answers,
// and another error when the webhook or a business endpoint cannot be
// reached; a webhook that answers, whatever its status, is a Delivery.
func (s *Simulator) Reply(ctx context.Context, rp Reply) (Delivery, error) {
	if rp.Action != "" {
		return s.answer(ctx, rp)
	}
	if rp.Type == "" {
		rp.Type = "text"
	}
	switch {
	case rp.BusinessID == "":
		return Delivery{}, fmt.Errorf("%w: businessId is required", ErrBadReply)
	case !strings.HasPrefix(rp.From, "urn:mbid:"):
		return Delivery{}, fmt.Errorf("%w: from must be an opaque id, urn:mbid:…", ErrBadReply)
	case rp.Type != "text" && rp.Type != "typing_start" && rp.Type != "typing_end" && rp.Type != "close":
		return Delivery{}, fmt.Errorf("%w: type %q: want text, typing_start, typing_end or close", ErrBadReply, rp.Type)
	case rp.Type == "text" && rp.Text == "":
		return Delivery{}, fmt.Errorf("%w: text is required for type text", ErrBadReply)
	case rp.Type != "text" && rp.Text != "":
		return Delivery{}, fmt.Errorf("%w: type %s carries no text", ErrBadReply, rp.Type)
	case rp.ReplyTo != "" || rp.IDs != nil || rp.Token != "" || rp.Result != "" || rp.URL != "":
		return Delivery{}, fmt.Errorf("%w: replyTo, ids, token, result and url need an action", ErrBadReply)
	}
	return s.deliver(ctx, rp, inboundBody{Type: rp.Type, Body: rp.Text})
}

// deliver fills in body's envelope from rp and posts it to the webhook.
func (s *Simulator) deliver(ctx context.Context, rp Reply, body inboundBody) (Delivery, error) {
	if rp.Capabilities == nil {
		rp.Capabilities = allCapabilities
	}
	if rp.Locale == "" {
		rp.Locale = "en_US"
	}
	d := Delivery{ID: message.NewUUID(), DataRef: body.InteractiveDataRef != nil}
	if s.cfg.WebhookURL == "" {
		return d, errors.New("applesim: no webhook URL is configured")
	}
	body.V, body.ID, body.SourceID, body.DestinationID, body.Locale = 1, d.ID, rp.From, rp.BusinessID, rp.Locale
	raw, err := json.Marshal(body)
	if err != nil {
		return d, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(raw); err != nil {
		return d, err
	}
	if err := zw.Close(); err != nil {
		return d, err
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"aud": s.cfg.MSPID, "iat": s.cfg.Now().Unix(),
	}).SignedString(s.cfg.Secret)
	if err != nil {
		return d, fmt.Errorf("applesim: sign webhook token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, &gz)
	if err != nil {
		return d, fmt.Errorf("applesim: webhook URL: %w", err)
	}
	// Apple's header names are lower case; they are set as-is.
	for name, value := range map[string]string{
		"authorization":    "Bearer " + token,
		"id":               d.ID,
		"source-id":        rp.From,
		"destination-id":   rp.BusinessID,
		"device-agent":     "iPhone OS",
		"content-encoding": "gzip",
		"content-type":     "application/json",
	} {
		req.Header[name] = []string{value}
	}
	if len(rp.Capabilities) > 0 {
		req.Header["capability-list"] = []string{strings.Join(rp.Capabilities, ",")}
	}
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return d, fmt.Errorf("applesim: webhook: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookBody))
	d.WebhookStatus = resp.StatusCode
	d.WebhookBody = string(answer)
	return d, nil
}

// handleReply is POST /reply: 200 with the Delivery, 400 for a bad reply,
// 502 when the webhook cannot be reached.
func (s *Simulator) handleReply(w http.ResponseWriter, r *http.Request) {
	var rp Reply
	dec := json.NewDecoder(io.LimitReader(r.Body, maxReplyBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rp); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the reply is not valid JSON: " + err.Error()})
		return
	}
	d, err := s.Reply(r.Context(), rp)
	switch {
	case errors.Is(err, ErrBadReply):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusBadGateway, map[string]string{"id": d.ID, "error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, d)
	}
}
