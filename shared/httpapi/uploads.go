package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// UploadTTL is how long the URL of POST /v1/uploads takes the file.
const UploadTTL = 15 * time.Minute

// isUploadID reports whether id is the part of an upload's key after
// message.UploadPrefix: 32 lower-case hexadecimal digits.
func isUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Uploads serves POST /v1/uploads: a key and a URL to PUT a large
// attachment to, which a message then names as its attachment's upload.
// When Blobs can presign (S3) the URL is S3's; otherwise (the embedded
// store) it is PUT /v1/uploads/{id} on this API, which streams the file to
// Blobs.
type Uploads struct {
	Blobs store.Blobs
	// BaseURL is the API's own URL, for the local PUT route; "" means the
	// scheme and host of the request.
	BaseURL string
	// Now is the clock of expiresAt; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
	// pending are the uploads the local PUT route still takes, by key.
	pending map[string]pendingUpload
}

type pendingUpload struct {
	size        int64
	contentType string
	expires     time.Time
}

// UploadRequest is the body of POST /v1/uploads.
type UploadRequest struct {
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
}

// UploadSlot is the answer of POST /v1/uploads: PUT the file's Size bytes
// to URL with the Headers, before ExpiresAt, then send a message whose
// attachment's upload is Upload.
type UploadSlot struct {
	Upload    string            `json:"upload"`
	URL       string            `json:"url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

func (u *Uploads) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}

// check returns what is wrong with req.
func (req UploadRequest) check() message.Problems {
	var ps message.Problems
	ps.Required("name", req.Name)
	ps.MaxLen("name", req.Name, message.MaxUploadName)
	switch t, _, err := mime.ParseMediaType(req.MimeType); {
	case req.MimeType == "":
		ps.Add("mimeType", "is required")
	case err != nil || !strings.Contains(t, "/"):
		ps.Add("mimeType", "%q is not a MIME type (type/subtype)", req.MimeType)
	}
	if req.Size <= 0 || req.Size > message.MaxUploadSize {
		ps.Add("size", "%d bytes, it must be 1 to %d", req.Size, message.MaxUploadSize)
	}
	return ps
}

func (u *Uploads) handleCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req UploadRequest
		if err := decode(w, r, &req); err != nil {
			writeError(w, err)
			return
		}
		if ps := req.check(); len(ps) > 0 {
			writeError(w, &message.Error{Code: message.CodeInvalidRequest, Message: "the upload is not valid: " + ps.Error(), Details: ps})
			return
		}
		id := make([]byte, 16)
		rand.Read(id)
		key := message.UploadPrefix + hex.EncodeToString(id)
		now := u.now()
		slot := UploadSlot{Upload: key, Method: http.MethodPut, Headers: map[string]string{"Content-Type": req.MimeType},
			ExpiresAt: now.Add(UploadTTL).UTC()}
		if p, ok := u.Blobs.(store.PresignPuter); ok {
			var err error
			if slot.URL, err = p.PresignPut(r.Context(), key, req.MimeType, req.Size, UploadTTL); err != nil {
				writeError(w, storeError(r, "presigning an upload", err))
				return
			}
			encode(w, http.StatusCreated, slot)
			return
		}
		base := strings.TrimSuffix(u.BaseURL, "/")
		if base == "" {
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			base = scheme + "://" + r.Host
		}
		slot.URL = base + "/v1/" + key
		u.mu.Lock()
		if u.pending == nil {
			u.pending = map[string]pendingUpload{}
		}
		for k, p := range u.pending {
			if !now.Before(p.expires) {
				delete(u.pending, k)
			}
		}
		u.pending[key] = pendingUpload{size: req.Size, contentType: req.MimeType, expires: now.Add(UploadTTL)}
		u.mu.Unlock()
		encode(w, http.StatusCreated, slot)
	})
}

// handlePut is PUT /v1/uploads/{id}, the upload URL when Blobs cannot
// presign: exactly the size announced, streamed to Blobs, once, before the
// slot expires.
func (u *Uploads) handlePut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		key := message.UploadPrefix + id
		u.mu.Lock()
		p, ok := u.pending[key]
		if ok {
			delete(u.pending, key)
		}
		u.mu.Unlock()
		if !isUploadID(id) || !ok || !u.now().Before(p.expires) {
			writeError(w, message.Errorf(message.CodeNotFound, "no upload %q is waiting: ask POST /v1/uploads for one (a slot takes one PUT within %s)", key, UploadTTL))
			return
		}
		if r.ContentLength >= 0 && r.ContentLength != p.size {
			writeError(w, &message.Error{Code: message.CodeInvalidRequest, Message: fmt.Sprintf("the upload is %d bytes, POST /v1/uploads announced %d", r.ContentLength, p.size),
				Details: message.Problems{{Field: "Content-Length", Problem: fmt.Sprintf("%d bytes, want %d", r.ContentLength, p.size)}}})
			return
		}
		body := &exactReader{r: http.MaxBytesReader(w, r.Body, message.MaxUploadSize), want: p.size}
		if err := u.Blobs.PutBlob(r.Context(), key, body, p.contentType, nil); err != nil {
			if body.err != nil {
				writeError(w, &message.Error{Code: message.CodeInvalidRequest, Message: body.err.Error(),
					Details: message.Problems{{Field: "body", Problem: body.err.Error()}}})
				return
			}
			writeError(w, storeError(r, "storing an upload", err))
			return
		}
		encode(w, http.StatusOK, map[string]any{"upload": key, "size": p.size})
	})
}

// exactReader passes on r and fails unless it holds exactly want bytes.
type exactReader struct {
	r    io.Reader
	n    int64
	want int64
	// err is the failure exactReader itself found.
	err error
}

func (e *exactReader) Read(b []byte) (int, error) {
	n, err := e.r.Read(b)
	e.n += int64(n)
	switch {
	case e.n > e.want:
		e.err = fmt.Errorf("the upload is over the %d bytes announced", e.want)
		return n, e.err
	case errors.Is(err, io.EOF) && e.n < e.want:
		e.err = fmt.Errorf("the upload is %d bytes, POST /v1/uploads announced %d", e.n, e.want)
		return n, e.err
	}
	return n, err
}
