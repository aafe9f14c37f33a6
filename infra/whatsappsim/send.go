package whatsappsim

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	// maxRequest caps the body of a send request.
	maxRequest = 1 << 20
	// textBodyLimit is Meta's limit on text.body, in characters.
	textBodyLimit = 4096
)

// messageTypes are the top-level types Meta knows on the send endpoint.
var messageTypes = []string{"audio", "contacts", "document", "image", "interactive", "location",
	"reaction", "sticker", "template", "text", "video"}

// graphError is the "error" object of Meta's error envelope.
type graphError struct {
	Message      string     `json:"message"`
	Type         string     `json:"type"`
	Code         int        `json:"code"`
	ErrorSubcode int        `json:"error_subcode,omitempty"`
	ErrorData    *errorData `json:"error_data,omitempty"`
	FBTraceID    string     `json:"fbtrace_id"`
}

type errorData struct {
	MessagingProduct string `json:"messaging_product"`
	Details          string `json:"details"`
}

func writeGraphError(w http.ResponseWriter, status int, e graphError) {
	e.FBTraceID = "A" + base64.RawURLEncoding.EncodeToString(random(16))
	writeJSON(w, status, map[string]graphError{"error": e})
}

// invalid answers a request Meta would refuse for its content: code 100
// (a parameter missing, unknown or too long) or 131009 (a parameter's
// value not valid), with details naming the parameter.
func invalid(w http.ResponseWriter, code int, details string) {
	title := "Invalid parameter"
	if code == 131009 {
		title = "Parameter value is not valid"
	}
	writeGraphError(w, http.StatusBadRequest, graphError{
		Message:   fmt.Sprintf("(#%d) %s", code, title),
		Type:      "OAuthException",
		Code:      code,
		ErrorData: &errorData{MessagingProduct: "whatsapp", Details: details},
	})
}

func (s *Simulator) handleSend(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		const msg = "Invalid OAuth access token - Cannot parse access token"
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+msg+`"`)
		writeGraphError(w, http.StatusUnauthorized, graphError{Message: msg, Type: "OAuthException", Code: 190})
		return
	}
	phoneNumberID := r.PathValue("phoneNumberID")
	if !s.knows(phoneNumberID) {
		writeGraphError(w, http.StatusBadRequest, graphError{
			Message:      fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", phoneNumberID),
			Type:         "GraphMethodException",
			Code:         100,
			ErrorSubcode: 33,
		})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			invalid(w, 100, fmt.Sprintf("The request body is larger than %d bytes.", maxRequest))
			return
		}
		invalid(w, 100, "The request body could not be read.")
		return
	}
	to, code, details := checkText(body)
	if code != 0 {
		invalid(w, code, details)
		return
	}
	a := Accepted{
		WAMID:         newWAMID(),
		PhoneNumberID: phoneNumberID,
		To:            to,
		WaID:          waID(to),
		Request:       json.RawMessage(body),
		At:            s.cfg.Now().UTC(),
	}
	s.record(a)
	writeJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": a.To, "wa_id": a.WaID}},
		"messages":          []map[string]string{{"id": a.WAMID}},
	})
}

// authorized reports whether r carries the configured token, as a bearer
// token or, as Graph also allows, an access_token parameter.
func (s *Simulator) authorized(r *http.Request) bool {
	token := r.URL.Query().Get("access_token")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, t, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		token = strings.TrimSpace(t)
	}
	return s.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.Token)) == 1
}

// checkText checks a send request the way Meta does for a text message. It
// returns the recipient, or Meta's error code and the details naming the
// parameter at fault.
func checkText(body []byte) (to string, code int, details string) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return "", 100, "The request body is not a JSON object."
	}
	product, present, ok := stringParam(req, "messaging_product")
	switch {
	case !present:
		return "", 100, "The parameter messaging_product is required."
	case !ok || product != "whatsapp":
		return "", 131009, fmt.Sprintf("Param messaging_product must be \"whatsapp\", got %s.", req["messaging_product"])
	}
	if rt, present, ok := stringParam(req, "recipient_type"); present && (!ok || (rt != "individual" && rt != "group")) {
		return "", 131009, fmt.Sprintf("Param recipient_type must be \"individual\" or \"group\", got %s.", req["recipient_type"])
	}
	to, present, ok = stringParam(req, "to")
	switch {
	case !present || (ok && strings.TrimSpace(to) == ""):
		return "", 100, "The parameter to is required."
	case !ok:
		return "", 100, "Param to must be a string."
	}
	typ, present, ok := stringParam(req, "type")
	switch {
	case !present:
		typ = "text" // Meta's default
	case !ok || !slices.Contains(messageTypes, typ):
		return "", 100, fmt.Sprintf("Param type must be one of {%s}, got %s.", strings.ToUpper(strings.Join(messageTypes, ", ")), req["type"])
	case typ != "text":
		return "", 100, fmt.Sprintf("The WhatsApp simulator does not simulate messages of type %q.", typ)
	}
	if raw, present := req["context"]; present {
		var c struct {
			MessageID *string `json:"message_id"`
		}
		if json.Unmarshal(raw, &c) != nil || c.MessageID == nil || *c.MessageID == "" {
			return "", 100, "The parameter context['message_id'] is required."
		}
	}
	raw, present := req["text"]
	if !present {
		return "", 100, "The parameter text is required."
	}
	var text map[string]json.RawMessage
	if json.Unmarshal(raw, &text) != nil || text == nil {
		return "", 100, "Param text must be a JSON object."
	}
	b, present, ok := stringParam(text, "body")
	switch {
	case !present || (ok && b == ""):
		return "", 100, "The parameter text['body'] is required."
	case !ok:
		return "", 100, "Param text['body'] must be a string."
	case utf8.RuneCountInString(b) > textBodyLimit:
		return "", 100, fmt.Sprintf("Param text['body'] must be at most %d characters long.", textBodyLimit)
	}
	if raw, present := text["preview_url"]; present {
		var p bool
		if json.Unmarshal(raw, &p) != nil {
			return "", 100, "Param text['preview_url'] must be a boolean."
		}
	}
	return to, 0, ""
}

// stringParam reads req[name]: present says it is there (and not null), ok
// that it is a JSON string.
func stringParam(req map[string]json.RawMessage, name string) (v string, present, ok bool) {
	raw, present := req[name]
	if !present || string(raw) == "null" {
		return "", false, false
	}
	ok = json.Unmarshal(raw, &v) == nil
	return v, true, ok
}

// waID is a recipient as Meta reports it back: without the "+", spaces,
// dashes and parentheses Meta accepts in "to".
func waID(to string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '+', ' ', '-', '(', ')':
			return -1
		}
		return r
	}, to)
}
