package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/access"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// MediaURLTTL is how long a URL of GET /v1/messages/{id}/media reads its
// file.
const MediaURLTTL = time.Hour

// Presigner makes read URLs of stored files: S3's presigned URLs, or Files
// on the local stack.
type Presigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// MessageFile is one file of a message, with a fresh URL.
type MessageFile struct {
	Key       string    `json:"key"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
	MimeType  string    `json:"mimeType,omitempty"`
	Name      string    `json:"name,omitempty"`
	Size      int64     `json:"size,omitempty"`
}

// MessageMedia is the answer of GET /v1/messages/{id}/media.
type MessageMedia struct {
	MessageID string        `json:"messageId"`
	Files     []MessageFile `json:"files"`
}

// Media returns the handler of the routes that read stored files:
//
//	GET /v1/messages/{id}/media   fresh URLs of the files a customer sent with a message
//	GET /v1/files/{key...}        a file, at a URL files signed (only when files is not nil)
//
// p makes the URLs (files itself on the local stack).
func Media(st store.Store, p Presigner, files *Files, now func() time.Time, log *slog.Logger, scopes access.Scopes) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/messages/{id}/media", handleMessageMedia(st, p, now, scopes))
	if files != nil {
		mux.Handle("GET /v1/files/{key...}", files.handleGet())
	}
	return logRequests(log, mux)
}

func handleMessageMedia(st store.Store, p Presigner, now func() time.Time, scopes access.Scopes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		rec, err := st.Message(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, message.Errorf(message.CodeNotFound, "no message %q", id))
			return
		}
		if err != nil {
			writeError(w, storeError(r, "reading a message", err))
			return
		}
		if err := scopes.Check(access.Caller(r.Context()), rec.BusinessID, "read"); err != nil {
			writeError(w, err)
			return
		}
		if rec.Status == message.StatusPayloadPending {
			writeError(w, message.Errorf(message.CodeConflict, "the files of message %s are still being fetched; its message.received event says when they are in", id))
			return
		}
		var files []MessageFile
		if b := rec.Body; b != nil {
			if m := b.Media; m != nil && m.Key != "" {
				files = append(files, MessageFile{Key: m.Key, MimeType: m.MimeType, Name: m.FileName, Size: m.Size})
			}
			for _, a := range b.Attachments {
				if a.Key != "" {
					files = append(files, MessageFile{Key: a.Key, MimeType: a.MimeType, Name: a.Name, Size: a.Size})
				}
			}
		}
		if len(files) == 0 {
			writeError(w, message.Errorf(message.CodeNotFound, "message %s has no stored files", id))
			return
		}
		if p == nil {
			writeError(w, message.Errorf(message.CodeInternal, "this parley cannot make URLs of stored files"))
			return
		}
		exp := now().Add(MediaURLTTL)
		for i := range files {
			u, err := p.PresignGet(r.Context(), files[i].Key, MediaURLTTL)
			if err != nil {
				writeError(w, storeError(r, "making a file's URL", err))
				return
			}
			files[i].URL, files[i].ExpiresAt = u, exp
		}
		encode(w, http.StatusOK, MessageMedia{MessageID: rec.ID, Files: files})
	})
}

// Files serves stored files at URLs of the API itself that expire: an
// HMAC-SHA256 over the key and the expiry, checked before the store is
// read. It is the local stack's stand-in for S3's presigned URLs.
type Files struct {
	Blobs store.Blobs
	// Secret keys the signatures.
	Secret []byte
	// BaseURL is the API's own URL.
	BaseURL string
	Now     func() time.Time
}

// PresignGet returns a URL that reads key until ttl has passed.
func (f *Files) PresignGet(_ context.Context, key string, ttl time.Duration) (string, error) {
	if len(f.Secret) == 0 {
		return "", errors.New("httpapi: files: no secret to sign URLs with")
	}
	exp := strconv.FormatInt(f.Now().Add(ttl).Unix(), 10)
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.TrimRight(f.BaseURL, "/") + "/v1/files/" + strings.Join(segs, "/") + "?expires=" + exp + "&signature=" + f.sign(key, exp), nil
}

func (f *Files) sign(key, expires string) string {
	mac := hmac.New(sha256.New, f.Secret)
	mac.Write([]byte(key + "\n" + expires))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// handleGet serves a file once its URL's signature and expiry hold; a URL
// that does not is answered 403 without reading the store, as S3 does.
func (f *Files) handleGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		q := r.URL.Query()
		exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
		switch {
		case len(f.Secret) == 0 || err != nil || !hmac.Equal([]byte(q.Get("signature")), []byte(f.sign(key, q.Get("expires")))):
			encode(w, http.StatusForbidden, errorBody{Error: message.Errorf(message.CodeUnauthorized, "the URL's signature does not hold")})
			return
		case f.Now().Unix() > exp:
			encode(w, http.StatusForbidden, errorBody{Error: message.Errorf(message.CodeUnauthorized, "the URL expired at %s; GET /v1/messages/{id}/media gives a fresh one",
				time.Unix(exp, 0).UTC().Format(time.RFC3339))})
			return
		}
		rc, info, err := f.Blobs.GetBlob(r.Context(), key)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, message.Errorf(message.CodeNotFound, "no file %q", key))
			return
		}
		if err != nil {
			writeError(w, storeError(r, "reading a file", err))
			return
		}
		defer rc.Close()
		if info.ContentType != "" {
			w.Header().Set("Content-Type", info.ContentType)
		}
		w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
		w.Header().Set("Cache-Control", "private, max-age=300")
		io.Copy(w, rc)
	})
}
