package whatsappsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Media, as the Cloud API serves it:
//
//	GET  /{version}/{media-id}                  the file's URL, MIME type, SHA-256 (hex) and size
//	GET  /whatsapp_business/attachments/?mid=…  the file, with the bearer token, for MediaURLTTL
//	POST /{version}/{phone-number-id}/media     a business upload (multipart: messaging_product, type, file)
//	POST /reply/media                           the customer sends a photo, voice note, video, document or sticker
//
// The media URL carries its expiry and an HMAC of the media id and the
// expiry: an expired or altered URL is answered 404, a request without the
// token 401. Uploads are checked against Meta's supported types and sizes
// (131053). A send naming a media id the number did not upload or receive is
// refused (100).

// MediaURLTTL is how long a media URL serves its file: Meta's are good for
// five minutes.
const MediaURLTTL = 5 * time.Minute

// Meta's media limits, by message type.
var (
	mediaMimeTypes = map[string][]string{
		"image": {"image/jpeg", "image/png"},
		"video": {"video/mp4", "video/3gpp"},
		"audio": {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"},
		"document": {"text/plain", "application/pdf", "application/msword",
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.ms-excel",
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-powerpoint",
			"application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		"sticker": {"image/webp"},
	}
	mediaMaxSizes = map[string]int64{"image": 5 << 20, "video": 16 << 20, "audio": 16 << 20, "document": 100 << 20, "sticker": 500 << 10}
)

// maxCustomerMedia is the largest file a customer sends through the Cloud
// API.
const maxCustomerMedia = 100 << 20

// MediaFile is a file the simulator holds.
type MediaFile struct {
	ID            string `json:"id"`
	PhoneNumberID string `json:"phoneNumberId"`
	MimeType      string `json:"mimeType"`
	Size          int64  `json:"size"`
	// SHA256 is the file's digest, hex.
	SHA256 string `json:"sha256"`
	// Uploaded is set on a file the business uploaded.
	Uploaded bool   `json:"uploaded"`
	Filename string `json:"filename,omitempty"`
	data     []byte
	seed     uint64
}

// Open reads the file.
func (f MediaFile) Open() io.Reader {
	if f.data != nil {
		return bytes.NewReader(f.data)
	}
	return generated(f.seed, f.Size)
}

// generated is size pseudo-random bytes from seed: a large customer file
// without holding it in memory.
func generated(seed uint64, size int64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return io.LimitReader(rand.NewChaCha8(key), size)
}

// media holds the simulator's files; its zero value is ready.
type media struct {
	mu    sync.Mutex
	files map[string]MediaFile
	key   []byte
}

func (m *media) put(f MediaFile) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string]MediaFile{}
	}
	m.files[f.ID] = f
}

func (m *media) get(id string) (MediaFile, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[id]
	return f, ok
}

// sign is the hash of a media URL: an HMAC of the id and the expiry.
func (m *media) sign(id, ext string) string {
	m.mu.Lock()
	if m.key == nil {
		m.key = random(32)
	}
	mac := hmac.New(sha256.New, m.key)
	m.mu.Unlock()
	mac.Write([]byte(id + "\x00" + ext))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// MediaFile returns the file under a media id.
func (s *Simulator) MediaFile(id string) (MediaFile, bool) { return s.media.get(id) }

func (s *Simulator) mediaRoutes() {
	s.mux.HandleFunc("GET /{version}/{mediaID}", s.handleMediaInfo)
	s.mux.HandleFunc("GET /whatsapp_business/attachments/{$}", s.handleMediaDownload)
	s.mux.HandleFunc("POST /{version}/{phoneNumberID}/media", s.handleUpload)
	s.mux.HandleFunc("POST /reply/media", s.handleMediaReply)
}

func (s *Simulator) unauthorized(w http.ResponseWriter) {
	const msg = "Invalid OAuth access token - Cannot parse access token"
	w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+msg+`"`)
	writeGraphError(w, http.StatusUnauthorized, graphError{Message: msg, Type: "OAuthException", Code: 190})
}

func noObject(w http.ResponseWriter, verb, id string) {
	writeGraphError(w, http.StatusBadRequest, graphError{
		Message:      fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", verb, id),
		Type:         "GraphMethodException",
		Code:         100,
		ErrorSubcode: 33,
	})
}

// handleMediaInfo is GET /{version}/{media-id}.
func (s *Simulator) handleMediaInfo(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		s.unauthorized(w)
		return
	}
	id := r.PathValue("mediaID")
	f, ok := s.media.get(id)
	if !ok {
		noObject(w, "get", id)
		return
	}
	ext := strconv.FormatInt(s.cfg.Now().Add(MediaURLTTL).Unix(), 10)
	u := "http://" + r.Host + mountedAt(r) + "/whatsapp_business/attachments/?mid=" + id + "&ext=" + ext + "&hash=" + s.media.sign(id, ext)
	writeJSON(w, http.StatusOK, map[string]string{
		"messaging_product": "whatsapp", "url": u, "mime_type": f.MimeType, "sha256": f.SHA256,
		"file_size": strconv.FormatInt(f.Size, 10), "id": id,
	})
}

// mountedAt is the prefix the simulator is mounted under (stripped from
// r.URL.Path, still in the request URI).
func mountedAt(r *http.Request) string {
	path, _, _ := strings.Cut(r.RequestURI, "?")
	return strings.TrimSuffix(path, r.URL.Path)
}

// handleMediaDownload serves a media URL: the token, then the URL's hash
// and expiry.
func (s *Simulator) handleMediaDownload(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		s.unauthorized(w)
		return
	}
	q := r.URL.Query()
	id, ext := q.Get("mid"), q.Get("ext")
	exp, err := strconv.ParseInt(ext, 10, 64)
	f, ok := s.media.get(id)
	if err != nil || !ok || !hmac.Equal([]byte(q.Get("hash")), []byte(s.media.sign(id, ext))) || s.cfg.Now().Unix() > exp {
		http.Error(w, "URL signature expired", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", f.MimeType)
	w.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
	w.Header().Set("Content-Disposition", "attachment")
	io.Copy(w, f.Open())
}

// uploadFault is a refused upload: 131053 with details.
func uploadFault(format string, args ...any) *fault {
	return &fault{http.StatusBadRequest, 131053, fmt.Sprintf(format, args...)}
}

// mediaKind is the message type a file of MIME type mt can go in; a WebP
// file is a sticker.
func mediaKind(mt string) string {
	for _, k := range []string{"image", "video", "audio", "document", "sticker"} {
		if slices.Contains(mediaMimeTypes[k], mt) {
			return k
		}
	}
	return ""
}

// handleUpload is POST /{version}/{phone-number-id}/media: the file is
// read as it streams in, hashed and checked.
func (s *Simulator) handleUpload(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		s.unauthorized(w)
		return
	}
	phoneNumberID := r.PathValue("phoneNumberID")
	if !s.knows(phoneNumberID) {
		noObject(w, "post", phoneNumberID)
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		refuse(w, badParam("The request must be multipart/form-data with the fields messaging_product, type and file."))
		return
	}
	fields := map[string]string{}
	var f *MediaFile
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			refuse(w, badParam("The multipart body could not be read: %v.", err))
			return
		}
		if part.FormName() != "file" {
			b, _ := io.ReadAll(io.LimitReader(part, 1024))
			fields[part.FormName()] = string(b)
			continue
		}
		mt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		data, err := io.ReadAll(io.LimitReader(part, maxCustomerMedia+1))
		if err != nil {
			refuse(w, badParam("The file could not be read: %v.", err))
			return
		}
		sum := sha256.Sum256(data)
		f = &MediaFile{PhoneNumberID: phoneNumberID, MimeType: mt, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
			Uploaded: true, Filename: part.FileName(), data: data}
	}
	switch {
	case fields["messaging_product"] != "whatsapp":
		refuse(w, missing("messaging_product"))
		return
	case fields["type"] == "":
		refuse(w, missing("type"))
		return
	case f == nil:
		refuse(w, missing("file"))
		return
	}
	typ, _, _ := mime.ParseMediaType(fields["type"])
	if f.MimeType == "" {
		f.MimeType = typ
	}
	kind := mediaKind(typ)
	switch {
	case kind == "":
		refuse(w, uploadFault("Param file must be a file with one of the following types: %s. Received file of type '%s'.", strings.Join(allMediaTypes(), ", "), typ))
		return
	case f.MimeType != typ:
		refuse(w, uploadFault("Param type %q is not the file's type %q.", typ, f.MimeType))
		return
	case f.Size == 0:
		refuse(w, uploadFault("Param file is empty."))
		return
	case f.Size > mediaMaxSizes[kind]:
		refuse(w, uploadFault("Param file is %d bytes; %s files must be at most %d bytes.", f.Size, kind, mediaMaxSizes[kind]))
		return
	}
	f.ID = newMediaID()
	s.media.put(*f)
	writeJSON(w, http.StatusOK, map[string]string{"id": f.ID})
}

func allMediaTypes() []string {
	var out []string
	for _, k := range []string{"audio", "document", "image", "sticker", "video"} {
		out = append(out, mediaMimeTypes[k]...)
	}
	return out
}

// newMediaID returns a media id shaped like Meta's: 16 digits.
func newMediaID() string {
	return fmt.Sprintf("1%015d", binary.BigEndian.Uint64(random(8))%1e15)
}

// inboundMedia is the media object of a customer's message, as Meta writes
// it: voice only on audio, animated only on stickers.
type inboundMedia struct {
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	ID       string `json:"id"`
	Voice    *bool  `json:"voice,omitempty"`
	Animated *bool  `json:"animated,omitempty"`
}

// inboundMediaObjects are the media objects of inbound, one per type.
type inboundMediaObjects struct {
	Image    *inboundMedia `json:"image,omitempty"`
	Audio    *inboundMedia `json:"audio,omitempty"`
	Video    *inboundMedia `json:"video,omitempty"`
	Document *inboundMedia `json:"document,omitempty"`
	Sticker  *inboundMedia `json:"sticker,omitempty"`
}

// mediaReplyRequest is the body of POST /reply/media: the file is data
// (Base64) or, for a large one, size generated bytes.
type mediaReplyRequest struct {
	BusinessID string `json:"businessId"`
	From       string `json:"from"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	MimeType   string `json:"mimeType"`
	Data       []byte `json:"data"`
	Size       int64  `json:"size"`
	Caption    string `json:"caption"`
	Filename   string `json:"filename"`
	Voice      bool   `json:"voice"`
	Animated   bool   `json:"animated"`
	ReplyTo    string `json:"replyTo"`
}

// defaultMimeTypes are what a customer's phone sends by default.
var defaultMimeTypes = map[string]string{"image": "image/jpeg", "video": "video/mp4", "audio": "audio/ogg; codecs=opus",
	"document": "application/pdf", "sticker": "image/webp"}

// handleMediaReply plays a customer sending a file: it is kept under a new
// media id and announced by a signed webhook, its SHA-256 in Base64 as
// Meta's webhooks write it.
func (s *Simulator) handleMediaReply(w http.ResponseWriter, r *http.Request) {
	var req mediaReplyRequest
	dec := jsonDecoder(r, maxCustomerMedia/3*4+4096)
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "reply/media: the body is not the JSON expected: %v", err)
		return
	}
	if err := req.check(); err != nil {
		writeError(w, http.StatusBadRequest, "reply/media: %v", err)
		return
	}
	c := chat{phoneNumberID: req.BusinessID}
	var a Accepted
	if req.ReplyTo != "" {
		var ok bool
		if a, ok = s.find(req.ReplyTo); !ok {
			writeError(w, http.StatusNotFound, "reply/media: the simulator never accepted a message %q", req.ReplyTo)
			return
		}
		c.phoneNumberID = a.PhoneNumberID
	}
	u, rerr := s.who(replyRequest{Action: "text", From: req.From, Name: req.Name}, a, req.ReplyTo != "", c.phoneNumberID)
	if rerr != nil {
		writeError(w, rerr.status, "reply/media: %s", rerr.msg)
		return
	}
	c.waID = u.key
	if req.MimeType == "" {
		req.MimeType = defaultMimeTypes[req.Type]
	}
	f := MediaFile{ID: newMediaID(), PhoneNumberID: c.phoneNumberID, MimeType: req.MimeType, Filename: req.Filename}
	if req.Data != nil {
		f.data, f.Size = req.Data, int64(len(req.Data))
	} else {
		f.seed, f.Size = binary.BigEndian.Uint64(random(8)), req.Size
	}
	h := sha256.New()
	io.Copy(h, f.Open())
	sum := h.Sum(nil)
	f.SHA256 = hex.EncodeToString(sum)
	s.media.put(f)

	o := &inboundMedia{Caption: req.Caption, Filename: req.Filename, MimeType: req.MimeType, SHA256: base64.StdEncoding.EncodeToString(sum), ID: f.ID}
	msg := inbound{ID: newWAMID(), Timestamp: s.timestamp(), Type: req.Type}
	switch req.Type {
	case "image":
		msg.Image = o
	case "video":
		msg.Video = o
	case "audio":
		o.Voice = &req.Voice
		msg.Audio = o
	case "document":
		msg.Document = o
	case "sticker":
		o.Animated = &req.Animated
		msg.Sticker = o
	}
	if req.ReplyTo != "" {
		msg.Context = &inboundContext{From: displayNumber(c.phoneNumberID), ID: req.ReplyTo}
	}
	s.mu.Lock()
	v := s.address(msg, c, u)
	s.mu.Unlock()
	s.deliver(r.Context(), w, msg.ID, c.phoneNumberID, v)
}

func (req mediaReplyRequest) check() error {
	if _, ok := mediaMaxSizes[req.Type]; !ok {
		return fmt.Errorf("type must be image, video, audio, document or sticker, got %q", req.Type)
	}
	switch {
	case req.ReplyTo == "" && (req.BusinessID == "" || req.From == ""):
		return errors.New("businessId and from are required (or replyTo)")
	case req.Data != nil && req.Size != 0:
		return errors.New("give data or size, not both")
	case req.Data == nil && (req.Size <= 0 || req.Size > maxCustomerMedia):
		return fmt.Errorf("size must be 1 to %d bytes (or give data)", maxCustomerMedia)
	case req.Caption != "" && req.Type != "image" && req.Type != "video" && req.Type != "document":
		return fmt.Errorf("a %s has no caption", req.Type)
	case req.Filename != "" && req.Type != "document":
		return errors.New("only a document has a filename")
	case req.Voice && req.Type != "audio":
		return errors.New("voice goes only with audio")
	case req.Animated && req.Type != "sticker":
		return errors.New("animated goes only with a sticker")
	}
	return nil
}

// checkMediaMessage checks the media object of a media send: an id or a
// link, a caption only where Meta shows one, a filename only on a
// document.
func checkMediaMessage(req params, typ string) (string, error) {
	allowed := []string{"id", "link"}
	switch typ {
	case "image", "video":
		allowed = append(allowed, "caption")
	case "document":
		allowed = append(allowed, "caption", "filename")
	case "audio":
		allowed = append(allowed, "voice")
	}
	o, _, err := req.obj(typ, true, allowed...)
	if err != nil {
		return "", err
	}
	if err := checkMedia(o); err != nil {
		return "", err
	}
	if o.has("caption") {
		caption, err := o.str("caption", false)
		if err != nil {
			return "", err
		}
		if err := length("Caption", caption, 0, 1024); err != nil {
			return "", err
		}
	}
	id, _ := o.str("id", false)
	return id, nil
}

// checkMediaID refuses a send naming a media id the number never uploaded
// nor received.
func (s *Simulator) checkMediaID(c checked, phoneNumberID string) error {
	if c.mediaID == "" {
		return nil
	}
	if f, ok := s.media.get(c.mediaID); !ok || f.PhoneNumberID != phoneNumberID {
		return badParam("Param %s['id'] is not a valid media id for this phone number: %s.", c.typ, c.mediaID)
	}
	return nil
}

// jsonDecoder reads a JSON request body of at most limit bytes, refusing
// unknown fields.
func jsonDecoder(r *http.Request, limit int64) *json.Decoder {
	dec := json.NewDecoder(io.LimitReader(r.Body, limit))
	dec.DisallowUnknownFields()
	return dec
}

// PutMedia keeps data as a file a customer of phoneNumberID sent, as
// /reply/media does without the webhook, and returns it.
func (s *Simulator) PutMedia(phoneNumberID, mimeType string, data []byte) MediaFile {
	sum := sha256.Sum256(data)
	f := MediaFile{ID: newMediaID(), PhoneNumberID: phoneNumberID, MimeType: mimeType, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), data: data}
	s.media.put(f)
	return f
}

// PutGeneratedMedia keeps size pseudo-random bytes, made as they are read,
// as a file a customer of phoneNumberID sent, and returns it.
func (s *Simulator) PutGeneratedMedia(phoneNumberID, mimeType string, size int64) MediaFile {
	f := MediaFile{ID: newMediaID(), PhoneNumberID: phoneNumberID, MimeType: mimeType, Size: size, seed: binary.BigEndian.Uint64(random(8))}
	h := sha256.New()
	io.Copy(h, f.Open())
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	s.media.put(f)
	return f
}
