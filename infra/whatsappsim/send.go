package whatsappsim

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// maxRequest caps the body of a send request.
const maxRequest = 1 << 20

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

// codeTitles are the titles Meta gives its codes in error messages.
var codeTitles = map[int]string{
	100:    "Invalid parameter",
	130429: "Rate limit hit",
	131009: "Parameter value is not valid",
	131047: "Re-engagement message",
	131053: "Media upload error",
	132001: "Template name does not exist in the translation",
}

// refuse answers a send Meta would refuse for err, a *fault: with Meta's
// envelope, the code's title and the details naming the parameter.
func refuse(w http.ResponseWriter, err error) {
	var f *fault
	if !errors.As(err, &f) {
		f = &fault{http.StatusInternalServerError, 1, err.Error()}
	}
	writeGraphError(w, f.status, graphError{
		Message:   fmt.Sprintf("(#%d) %s", f.code, codeTitles[f.code]),
		Type:      "OAuthException",
		Code:      f.code,
		ErrorData: &errorData{MessagingProduct: "whatsapp", Details: f.details},
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
			refuse(w, badParam("The request body is larger than %d bytes.", maxRequest))
			return
		}
		refuse(w, badParam("The request body could not be read."))
		return
	}
	c, err := check(body)
	if err == nil {
		err = s.checkKnownTemplate(c, body)
	}
	if err == nil {
		err = s.checkMediaID(c, phoneNumberID)
	}
	if err != nil {
		refuse(w, err)
		return
	}
	a := Accepted{
		WAMID:         newWAMID(),
		PhoneNumberID: phoneNumberID,
		To:            c.to,
		Type:          c.typ,
		Interactive:   c.interactive,
		Request:       json.RawMessage(body),
		At:            s.cfg.Now().UTC(),
	}
	contact := map[string]string{"input": a.To}
	sentMessage := map[string]string{"id": a.WAMID}
	switch {
	case c.group:
		a.GroupID = c.to
		sentMessage["group_id"] = c.to
	case c.recipient:
		a.UserID = c.to
		contact["user_id"] = c.to
	default:
		a.WaID = waID(c.to)
		contact["wa_id"] = a.WaID
	}
	a, err = s.admit(a, c)
	if err != nil {
		refuse(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{contact},
		"messages":          []map[string]string{sentMessage},
	})
	if a.FailedWith != 0 {
		// The failure follows the answer, as Meta's does.
		http.NewResponseController(w).Flush()
		s.pending.Add(1)
		go func() {
			defer s.pending.Done()
			s.deliverUntilAccepted(a.PhoneNumberID, value{Statuses: []statusPayload{s.failedStatus(a, a.FailedWith)}})
		}()
	}
}

// admit applies the number's throughput and the customer service window to
// a valid send: it refuses it (130429; 131047 with WindowErrorsSync) or
// records it, with the code it is to fail with when it will fail later.
func (s *Simulator) admit(a Accepted, c checked) (Accepted, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.take(a.PhoneNumberID, a.At) {
		return a, &fault{http.StatusBadRequest, 130429, errorTexts[130429][1]}
	}
	ch := s.chatOf(a)
	a.inWindow = s.open(ch, a.At)
	switch {
	case c.typ == "template" || s.open(ch, a.At):
		if c.typ == "reaction" && !s.inChat(ch, c.reactTo) {
			a.FailedWith = 131009
		}
		if t, _ := s.template(c.template, c.language); c.typ == "template" && t.Category == "MARKETING" && s.optedOut[ch] {
			a.FailedWith = 131050
		}
	case s.cfg.WindowErrorsSync:
		return a, &fault{http.StatusBadRequest, 131047, errorTexts[131047][1]}
	default:
		a.FailedWith = 131047
	}
	s.accepted = append(s.accepted, a)
	return a, nil
}

// checkKnownTemplate refuses a template that is not one of
// Config.KnownTemplates, when there are some, and what Meta refuses of an
// authentication template, which only the template's category tells.
func (s *Simulator) checkKnownTemplate(c checked, body []byte) error {
	if c.typ != "template" || len(s.cfg.KnownTemplates) == 0 {
		return nil
	}
	t, ok := s.template(c.template, c.language)
	if !ok {
		return &fault{http.StatusNotFound, 132001, fmt.Sprintf("template name (%s) does not exist in %s", c.template, c.language)}
	}
	if strings.EqualFold(t.Category, "AUTHENTICATION") {
		return checkAuthTemplate(c, body)
	}
	return nil
}

// authCodeLimit is the longest one-time password an authentication
// template carries (Meta's authentication template send pages).
const authCodeLimit = 15

// checkAuthTemplate refuses an authentication template sent to a group
// (groups take no auth messages) or carrying a text parameter over 15
// characters: the code, in the body and the button's URL.
func checkAuthTemplate(c checked, body []byte) error {
	if c.group {
		return badValue("Authentication templates cannot be sent to a group.")
	}
	var req struct {
		Template struct {
			Components []struct {
				Parameters []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	json.Unmarshal(body, &req)
	for _, comp := range req.Template.Components {
		for i, p := range comp.Parameters {
			if strings.EqualFold(p.Type, "text") && utf8.RuneCountInString(p.Text) > authCodeLimit {
				return badValue("template parameter at index %d exceeds the maximum length in the AUTHENTICATION category (%d characters).", i, authCodeLimit)
			}
		}
	}
	return nil
}

// template returns the known template name in language.
func (s *Simulator) template(name, language string) (Template, bool) {
	for _, t := range s.cfg.KnownTemplates {
		if t.Name == name && t.Language == language {
			return t, true
		}
	}
	return Template{}, false
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

// deliverUntilAccepted posts a webhook the simulator sends on its own, trying again
// while the receiver does not answer 200, as Meta does (at once, then less
// and less often; here within a few seconds).
func (s *Simulator) deliverUntilAccepted(phoneNumberID string, v value) {
	wait := 20 * time.Millisecond
	for range 8 {
		status, _, err := s.post(context.Background(), phoneNumberID, v)
		if err == nil && status == http.StatusOK {
			return
		}
		time.Sleep(wait)
		wait *= 2
	}
}
