package applesim

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// maxMessageBody is the largest POST /v1/message body the gateway reads.
const maxMessageBody = 16 << 20

// maxLoggedAgent is how many characters of msp-agent Apple logs.
const maxLoggedAgent = 64

// outboundTypes are the types an MSP may send; close is receive-only.
var outboundTypes = map[string]bool{
	"text": true, "interactive": true, "richLink": true, "typing_start": true, "typing_end": true,
}

// sentBody is what the gateway reads of a POST /v1/message body.
type sentBody struct {
	V                  *int              `json:"v"`
	ID                 string            `json:"id"`
	Type               string            `json:"type"`
	Body               *string           `json:"body"`
	InteractiveData    json.RawMessage   `json:"interactiveData"`
	InteractiveDataRef json.RawMessage   `json:"interactiveDataRef"`
	RichLinkData       json.RawMessage   `json:"richLinkData"`
	Attachments        []json.RawMessage `json:"attachments"`
}

// handleMessage is POST /v1/message: 401 without Authorization, 403 for a
// token that fails, 400 for a malformed request, 404 for a destination that
// is not an Apple opaque id, else 200 with an empty body.
func (s *Simulator) handleMessage(w http.ResponseWriter, r *http.Request) {
	s.accept(w, r, false)
}

// handleAuthenticate is POST /v1/authenticate, the legacy endpoint of the
// authentication message: POST /v1/message's checks, and the message must be
// an interactive authentication request.
func (s *Simulator) handleAuthenticate(w http.ResponseWriter, r *http.Request) {
	s.accept(w, r, true)
}

// accept checks and keeps a message sent to the gateway; authOnly limits it
// to the authentication message.
func (s *Simulator) accept(w http.ResponseWriter, r *http.Request, authOnly bool) {
	if !s.authorized(w, r) {
		return
	}
	id, source, dest := r.Header.Get("id"), r.Header.Get("Source-Id"), r.Header.Get("Destination-Id")
	for _, h := range []struct{ name, value string }{{"id", id}, {"Source-Id", source}, {"Destination-Id", dest}} {
		if h.value == "" {
			http.Error(w, "Bad Request: missing header "+h.name, http.StatusBadRequest)
			return
		}
	}
	var autoReply bool
	switch v := strings.ToLower(strings.TrimSpace(r.Header.Get("auto-reply"))); v {
	case "", "false":
	case "true":
		autoReply = true
	default:
		http.Error(w, "Bad Request: auto-reply must be true or false", http.StatusBadRequest)
		return
	}
	agent := []rune(r.Header.Get("msp-agent"))
	if len(agent) > maxLoggedAgent {
		agent = agent[:maxLoggedAgent]
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxMessageBody+1))
	if err != nil {
		http.Error(w, "Bad Request: unreadable body", http.StatusBadRequest)
		return
	}
	if len(raw) > maxMessageBody {
		http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return
	}
	var b sentBody
	if err := json.Unmarshal(raw, &b); err != nil {
		http.Error(w, "Bad Request: body is not valid JSON", http.StatusBadRequest)
		return
	}
	kind, problem := b.check(id)
	if problem == "" && authOnly && kind != KindAuth {
		problem = "/v1/authenticate takes an interactive authentication message"
	}
	switch {
	case problem == thirdPartyData:
		http.Error(w, problem, http.StatusBadRequest)
		return
	case problem != "":
		http.Error(w, "Bad Request: "+problem, http.StatusBadRequest)
		return
	}
	if problem := s.checkAttachments(b); problem != "" {
		http.Error(w, "Bad Request: "+problem, http.StatusBadRequest)
		return
	}
	if !strings.HasPrefix(dest, "urn:mbid:") {
		http.Error(w, "Not Found: destination-id not recognised", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	s.sent = append(s.sent, Message{ID: id, Type: b.Type, Interactive: kind, Source: source, Destination: dest, Body: raw, Time: s.cfg.Now(),
		AutoReply: autoReply, Agent: string(agent)})
	s.mu.Unlock()
	// The headers of Apple's empty 200 answer.
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.Header().Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// authorized checks the Authorization header of a gateway call and answers
// 401 or 403 when it fails.
func (s *Simulator) authorized(w http.ResponseWriter, r *http.Request) bool {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if auth == "" {
		http.Error(w, "Unauthorized: no Authorization header", http.StatusUnauthorized)
		return false
	}
	if err := s.checkToken(auth); err != nil {
		http.Error(w, "Forbidden: "+err.Error(), http.StatusForbidden)
		return false
	}
	return true
}

// checkToken checks a bearer JWT the way the gateway does: HS256 with the
// secret, iss = the MSP id, iat present.
func (s *Simulator) checkToken(auth string) error {
	scheme, token, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New("not a bearer token")
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(strings.TrimSpace(token), claims,
		func(*jwt.Token) (any, error) { return s.cfg.Secret, nil },
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithIssuer(s.cfg.MSPID),
		jwt.WithTimeFunc(s.cfg.Now),
	)
	if err != nil {
		return err
	}
	if iat, err := claims.GetIssuedAt(); err != nil || iat == nil {
		return errors.New("token has no iat")
	}
	return nil
}

// check returns the interactive kind of b, or what makes it a bad request.
func (b sentBody) check(headerID string) (kind, problem string) {
	switch {
	case b.V == nil || *b.V != 1:
		return "", "v must be 1"
	case b.ID != headerID:
		return "", "body id does not match header id"
	case b.Type == "close":
		return "", "type close cannot be sent by an MSP"
	case !outboundTypes[b.Type]:
		return "", fmt.Sprintf("unknown type %q", b.Type)
	case (b.Type == "typing_start" || b.Type == "typing_end") && (b.Body != nil || len(b.InteractiveData) > 0 || len(b.RichLinkData) > 0 || len(b.Attachments) > 0):
		return "", "type " + b.Type + " carries no body"
	case b.Type == "text" && (b.Body == nil || *b.Body == ""):
		return "", "body is required for type text"
	case b.Type == "richLink" && len(b.RichLinkData) == 0:
		return "", "richLinkData is required for type richLink"
	case b.Type == "richLink":
		return "", checkRichLink(b.RichLinkData)
	case b.Type != "interactive":
		return "", ""
	case len(b.InteractiveData) > 0 && len(b.InteractiveDataRef) > 0:
		return "", "interactiveData and interactiveDataRef exclude each other"
	case len(b.InteractiveDataRef) > 0:
		if p := checkDataRef(b.InteractiveDataRef); p != "" {
			return "", p
		}
		return KindDataRef, ""
	case len(b.InteractiveData) == 0:
		return "", "interactiveData is required for type interactive"
	}
	return checkInteractive(b.InteractiveData)
}

// checkAttachments checks the attachment dictionaries of a text message as
// the gateway would: only text carries them; each names a blob uploaded to
// MMCS, by either generation of key names, with its owner, size, checksum
// and a "00"+hex AES-256 key; the body holds a U+FFFC per attachment.
func (s *Simulator) checkAttachments(b sentBody) string {
	if len(b.Attachments) == 0 {
		return ""
	}
	if b.Type != "text" {
		return "attachments are carried by text messages only"
	}
	if b.Body == nil || strings.Count(*b.Body, "\uFFFC") < len(b.Attachments) {
		return "body must hold one U+FFFC per attachment"
	}
	for i, raw := range b.Attachments {
		var a map[string]any
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Sprintf("attachments[%d] is not an object", i)
		}
		get := func(names ...string) string {
			for _, n := range names {
				if v, ok := a[n].(string); ok && v != "" {
					return v
				}
			}
			return ""
		}
		name, mime := get("name"), get("mimeType", "mime-type")
		url, owner, key := get("url", "mmcs-url"), get("owner", "mmcs-owner"), get("key", "decryption-key")
		size, sig := get("size", "file-size"), get("signature-base64")
		for field, v := range map[string]string{"name": name, "mimeType": mime, "url": url, "owner": owner, "key": key, "size": size, "signature-base64": sig} {
			if v == "" {
				return fmt.Sprintf("attachments[%d].%s is required (a string)", i, field)
			}
		}
		if len(key) != 66 || !strings.HasPrefix(key, "00") || !isHex(key[2:]) {
			return fmt.Sprintf("attachments[%d].key must be \"00\" and 64 hex digits", i)
		}
		s.mu.Lock()
		bl := s.blobs[url]
		s.mu.Unlock()
		switch {
		case bl == nil:
			return fmt.Sprintf("attachments[%d].url names no uploaded file", i)
		case bl.owner != owner:
			return fmt.Sprintf("attachments[%d].owner does not match the upload", i)
		case size != strconv.Itoa(len(bl.data)):
			return fmt.Sprintf("attachments[%d].size %s is not the uploaded size %d", i, size, len(bl.data))
		case sig != base64.StdEncoding.EncodeToString(bl.signature):
			return fmt.Sprintf("attachments[%d].signature-base64 does not match the upload", i)
		}
	}
	return ""
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}
