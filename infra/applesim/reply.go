package applesim

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
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
	maxReplyBody   = 32 << 20 // the request, its attachments included
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
	// Attachments are the files of a text message: each is encrypted and
	// kept behind the simulated MMCS, and the body gets one U+FFFC per
	// file after Text, which may then be empty.
	Attachments []File `json:"attachments,omitempty"`
	// Action answers the interactive message ReplyTo (its Apple message
	// id, or Latest, the default): select (IDs: list picker items, one time slot, one quick reply
	// item), auth (Token), pay (Result success or failure), shipping (IDs:
	// at most one shipping method), paymentMethod, shippingContact
	// (Address), or custom (URL).
	Action  string   `json:"action,omitempty"`
	ReplyTo string   `json:"replyTo,omitempty"`
	IDs     []string `json:"ids,omitempty"`
	Token   string   `json:"token,omitempty"`
	Result  string   `json:"result,omitempty"`
	URL     string   `json:"url,omitempty"`
	// Address is the shipping address the customer picks (action
	// shippingContact); nil means DefaultAddress.
	Address *Address `json:"address,omitempty"`
	// Capabilities is the device's capability-list: nil means all of
	// QUICK, LIST, TIME, AUTH, AUTH2 and FORM; an empty list sends no
	// header.
	Capabilities []string `json:"capabilities"`
	// Locale is the customer's locale; empty means en_US. A list picker's
	// answer has its section titles in its language.
	Locale string `json:"locale,omitempty"`
	// Intent and Group are the routing hints of the entry point the
	// customer used (biz-intent-id, biz-group-id); sent when not empty.
	Intent string `json:"intent,omitempty"`
	Group  string `json:"group,omitempty"`
	// DeviceAgent is the device-agent header; empty means iPhone OS.
	DeviceAgent string `json:"deviceAgent,omitempty"`
}

// File is a file a customer sends: its name, MIME type and content
// (Base64 in JSON).
type File struct {
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	Data     []byte `json:"data"`
}

// attachment is an attachment dictionary of an inbound message, with the
// current key names: size (the encrypted length) as a number and the
// signature in hex.
type attachment struct {
	Name      string `json:"name"`
	MimeType  string `json:"mimeType"`
	Size      int    `json:"size"`
	URL       string `json:"url"`
	Owner     string `json:"owner"`
	Key       string `json:"key"`
	Signature string `json:"signature"`
}

// objectReplacement is U+FFFC, which stands for an attachment in the body
// of a text message.
const objectReplacement = "\uFFFC"

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
	// Refused says why the payment sheet does not take the answer to an
	// update (it shows an error and keeps what it showed); empty when it
	// takes it, and for a payment.
	Refused string `json:"refused,omitempty"`
}

// inboundBody is the body of a webhook, as Apple writes it.
type inboundBody struct {
	V                  int             `json:"v"`
	ID                 string          `json:"id"`
	Type               string          `json:"type"`
	SourceID           string          `json:"sourceId"`
	DestinationID      string          `json:"destinationId"`
	Body               string          `json:"body,omitempty"`
	Attachments        []attachment    `json:"attachments,omitempty"`
	Locale             string          `json:"locale"`
	Intent             string          `json:"intent,omitempty"`
	Group              string          `json:"group,omitempty"`
	InteractiveData    json.RawMessage `json:"interactiveData,omitempty"`
	InteractiveDataRef *dataRef        `json:"interactiveDataRef,omitempty"`
}

// Reply posts rp to the webhook as Apple would. It returns an error wrapping
// ErrBadReply when rp is incomplete or does not fit the message it answers,
// and another error when the webhook or a business endpoint cannot be
// reached; a webhook that answers, whatever its status, is a Delivery.
func (s *Simulator) Reply(ctx context.Context, rp Reply) (Delivery, error) {
	if rp.Action != "" {
		if len(rp.Attachments) > 0 {
			return Delivery{}, fmt.Errorf("%w: an action carries no attachments", ErrBadReply)
		}
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
	case rp.Type == "text" && rp.Text == "" && len(rp.Attachments) == 0:
		return Delivery{}, fmt.Errorf("%w: text or attachments is required for type text", ErrBadReply)
	case rp.Type != "text" && (rp.Text != "" || len(rp.Attachments) > 0):
		return Delivery{}, fmt.Errorf("%w: type %s carries no text and no attachments", ErrBadReply, rp.Type)
	case rp.ReplyTo != "" || rp.IDs != nil || rp.Token != "" || rp.Result != "" || rp.URL != "" || rp.Address != nil:
		return Delivery{}, fmt.Errorf("%w: replyTo, ids, token, result, url and address need an action", ErrBadReply)
	}
	body := inboundBody{Type: rp.Type, Body: rp.Text}
	if len(rp.Attachments) > 0 {
		atts, err := s.storeAttachments(rp.Attachments)
		if err != nil {
			return Delivery{}, err
		}
		if body.Body != "" {
			body.Body += " "
		}
		body.Body += strings.Repeat(objectReplacement, len(atts))
		body.Attachments = atts
	}
	return s.deliver(ctx, rp, body)
}

// storeAttachments encrypts each file under a fresh key, keeps it behind
// the simulated MMCS and returns its attachment dictionary.
func (s *Simulator) storeAttachments(files []File) ([]attachment, error) {
	for i, f := range files {
		switch {
		case f.Name == "":
			return nil, fmt.Errorf("%w: attachments[%d].name: is required", ErrBadReply, i)
		case f.MimeType == "":
			return nil, fmt.Errorf("%w: attachments[%d].mimeType: is required", ErrBadReply, i)
		case len(f.Data) == 0:
			return nil, fmt.Errorf("%w: attachments[%d].data: is empty", ErrBadReply, i)
		case len(f.Data) > maxBlob:
			return nil, fmt.Errorf("%w: attachments[%d].data: %d bytes, the limit is %d", ErrBadReply, i, len(f.Data), maxBlob)
		}
	}
	atts := make([]attachment, len(files))
	for i, f := range files {
		key, sealed := encryptBlob(f.Data)
		b := s.storeBlob(sealed)
		atts[i] = attachment{Name: f.Name, MimeType: f.MimeType, Size: len(sealed), URL: b.url, Owner: b.owner,
			Key: key, Signature: hex.EncodeToString(b.signature)}
	}
	return atts, nil
}

// deliver fills in body's envelope from rp and posts it to the webhook.
func (s *Simulator) deliver(ctx context.Context, rp Reply, body inboundBody) (Delivery, error) {
	if rp.Capabilities == nil {
		rp.Capabilities = allCapabilities
	}
	if rp.Locale == "" {
		rp.Locale = "en_US"
	}
	if rp.DeviceAgent == "" {
		rp.DeviceAgent = "iPhone OS"
	}
	d := Delivery{ID: message.NewUUID(), DataRef: body.InteractiveDataRef != nil}
	if s.cfg.WebhookURL == "" {
		return d, errors.New("applesim: no webhook URL is configured")
	}
	body.V, body.ID, body.SourceID, body.DestinationID, body.Locale = 1, d.ID, rp.From, rp.BusinessID, rp.Locale
	body.Intent, body.Group = rp.Intent, rp.Group
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
		"device-agent":     rp.DeviceAgent,
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
