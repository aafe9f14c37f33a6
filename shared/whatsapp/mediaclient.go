package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// ErrURLExpired is returned, wrapped, by Download when Meta no longer
// serves a media URL: it lives about five minutes, and GET /{media-id}
// gives a fresh one.
var ErrURLExpired = errors.New("whatsapp: the media URL has expired")

// mediaHTTP carries media downloads and uploads when a Client has no
// MediaHTTP: no overall timeout, since a 100 MB file takes what it takes,
// but a bound on the wait for an answer.
var mediaHTTP = sync.OnceValue(func() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}}
})

func (c *Client) mediaClient() *http.Client {
	if c.MediaHTTP != nil {
		return c.MediaHTTP
	}
	return mediaHTTP()
}

func (c *Client) graphClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

// MediaInfo is Meta's answer to GET /{media-id}: where to download the
// file (for about five minutes), its MIME type, SHA-256 and size.
type MediaInfo struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	FileSize int64  `json:"file_size"`
}

// UnmarshalJSON reads file_size as Meta writes it, a string, or as a
// number.
func (mi *MediaInfo) UnmarshalJSON(b []byte) error {
	type plain MediaInfo
	var p struct {
		plain
		FileSize json.RawMessage `json:"file_size"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*mi = MediaInfo(p.plain)
	s := strings.Trim(string(p.FileSize), `"`)
	if s == "" || s == "null" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("file_size %s is not a number of bytes", p.FileSize)
	}
	mi.FileSize = n
	return nil
}

// Media resolves a media id: GET {BaseURL}/{id} with the access token.
// Errors are *message.Error, Retryable when trying again may help.
func (c *Client) Media(ctx context.Context, id string) (MediaInfo, error) {
	if c.Token == "" {
		return MediaInfo{}, message.Errorf(message.CodeUnauthorized, "whatsapp: no access token is configured; this is a configuration problem")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.BaseURL, "/")+"/"+url.PathEscape(id), nil)
	if err != nil {
		return MediaInfo{}, message.Errorf(message.CodeInternal, "whatsapp: building the request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	raw, status, err := c.roundTrip(c.graphClient(), req)
	if err != nil {
		return MediaInfo{}, err
	}
	if status/100 != 2 {
		return MediaInfo{}, mediaError("media "+id, status, raw)
	}
	// UnmarshalJSON validates and decodes in one pass; json.Unmarshal
	// would scan the answer once more before calling it.
	var mi MediaInfo
	if err := mi.UnmarshalJSON(raw); err != nil || mi.URL == "" {
		return MediaInfo{}, &message.Error{Code: message.CodePlatformRejected,
			Message:  fmt.Sprintf("whatsapp: media %s: the answer holds no url", id),
			Platform: &message.PlatformError{HTTPStatus: status, Details: snippet(raw)}}
	}
	return mi, nil
}

// Download opens the file at a media URL Media returned, sending the
// access token as Meta requires. The caller closes the body. An expired
// URL is ErrURLExpired (wrapped); other errors are *message.Error.
func (c *Client) Download(ctx context.Context, mediaURL string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mediaURL, nil)
	if err != nil {
		return nil, message.Errorf(message.CodeInternal, "whatsapp: the media URL: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.mediaClient().Do(req)
	if err != nil {
		return nil, repeatableError(err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.Body, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusGone, http.StatusForbidden:
		return nil, fmt.Errorf("%w (HTTP %d)", ErrURLExpired, resp.StatusCode)
	}
	return nil, mediaError("downloading media", resp.StatusCode, raw)
}

// UploadMedia streams r, a file of MIME type mimeType, to Meta for the
// business number businessID (POST {BaseURL}/{businessID}/media, multipart
// as Meta documents it) and returns its media id. Nothing is retried: the
// stream cannot be read twice.
func (c *Client) UploadMedia(ctx context.Context, businessID, mimeType, filename string, r io.Reader) (string, error) {
	if c.Token == "" {
		return "", message.Errorf(message.CodeUnauthorized, "whatsapp: no access token is configured; this is a configuration problem")
	}
	if filename == "" {
		filename = "file"
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := writeUpload(mw, mimeType, filename, r)
		pw.CloseWithError(err)
	}()
	endpoint := strings.TrimRight(c.BaseURL, "/") + "/" + url.PathEscape(businessID) + "/media"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, pr)
	if err != nil {
		pr.Close()
		return "", message.Errorf(message.CodeInternal, "whatsapp: building the request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	raw, status, err := c.roundTrip(c.mediaClient(), req)
	pr.Close()
	if err != nil {
		var src *sourceError
		if errors.As(err, &src) {
			return "", src.err
		}
		return "", err
	}
	if status/100 != 2 {
		return "", mediaError("uploading media", status, raw)
	}
	var ok struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &ok); err != nil || ok.ID == "" {
		return "", &message.Error{Code: message.CodePlatformRejected, Message: "whatsapp: uploading media: the answer holds no id",
			Platform: &message.PlatformError{HTTPStatus: status, Details: snippet(raw)}}
	}
	return ok.ID, nil
}

// sourceError is a failure to read the file being uploaded, kept apart
// from the transport's.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

func writeUpload(mw *multipart.Writer, mimeType, filename string, r io.Reader) error {
	if err := mw.WriteField("messaging_product", "whatsapp"); err != nil {
		return err
	}
	if err := mw.WriteField("type", mimeType); err != nil {
		return err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	h.Set("Content-Type", mimeType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, r); err != nil {
		return &sourceError{err}
	}
	return mw.Close()
}

// roundTrip sends req and reads up to maxResponse of the answer.
func (c *Client) roundTrip(hc *http.Client, req *http.Request) ([]byte, int, error) {
	resp, err := hc.Do(req)
	if err != nil {
		var src *sourceError
		if errors.As(err, &src) {
			return nil, 0, src
		}
		return nil, 0, repeatableError(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, 0, repeatableError(err)
	}
	return raw, resp.StatusCode, nil
}

// mediaError classifies a refused media call as the send endpoint's
// refusals are, with what was being done in the message.
func mediaError(doing string, status int, raw []byte) *message.Error {
	e := responseError(status, raw, "")
	e.Message = strings.Replace(e.Message, "whatsapp: ", "whatsapp: "+doing+": ", 1)
	return e
}
