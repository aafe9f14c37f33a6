package whatsapp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/safefetch"
)

// ErrNoUpload is what Client.Uploaded returns, wrapped, when no file was
// uploaded under a key.
var ErrNoUpload = errors.New("whatsapp: no file was uploaded under this key")

// prepareMedia uploads the file of a media message given by url or upload
// to Meta (POST /{phone-number-id}/media) and returns the message naming it
// by its media id. The file's MIME type (the request's mimeType, else what
// the source says) and its size are checked against Meta's limits for the
// type before anything leaves, each problem naming its field. A message
// already naming a media id, and other types, are returned as they are.
func (c *Client) prepareMedia(ctx context.Context, o message.Outgoing) (message.Message, error) {
	m := o.Message
	if !message.MediaType(m.Type) || m.MediaID != "" {
		return m, nil
	}
	field, name := "message.url", m.Filename
	var (
		body     io.ReadCloser
		size     int64
		srcType  string
		maxBytes = MaxMediaSize(m.Type, true)
	)
	switch {
	case m.Upload != "":
		field = "message.upload"
		if c.Uploaded == nil {
			return m, message.Errorf(message.CodeUnsupportedOnChannel, "this parley has no store for uploaded files")
		}
		rc, n, ct, err := c.Uploaded(ctx, m.Upload)
		if errors.Is(err, ErrNoUpload) {
			return m, invalidField(field, false, "no file was uploaded under %q (uploads are kept one day)", m.Upload)
		}
		if err != nil {
			return m, message.Errorf(message.CodeInternal, "whatsapp: reading an uploaded file failed")
		}
		body, size, srcType = rc, n, ct
	case c.Fetch == nil:
		// Without a guarded fetcher Meta fetches the link itself.
		return m, nil
	default:
		resp, err := c.Fetch.Get(ctx, field, m.URL, maxBytes)
		if err != nil {
			return m, fetchError(field, err)
		}
		body, size, srcType = resp.Body, resp.Size, resp.ContentType
		if name == "" {
			if u, err := url.Parse(m.URL); err == nil && path.Base(u.Path) != "/" && path.Base(u.Path) != "." {
				name = path.Base(u.Path)
			}
		}
	}
	defer body.Close()

	mt, mtField := m.MimeType, "message.mimeType"
	if mt == "" {
		mt, mtField = srcType, field
	}
	if mt == "" {
		return m, invalidField(field, false, "does not say what type of file it is: give message.mimeType")
	}
	if why := checkMimeType(m.Type, mt); why != "" {
		if mtField == field {
			why = "the file's type: " + why
		}
		return m, invalidField(mtField, false, "%s", why)
	}
	base, _, _ := mime.ParseMediaType(mt)
	br := bufio.NewReader(body)
	animated := false
	if m.Type == message.TypeSticker {
		head, _ := br.Peek(32)
		animated = webpAnimated(head)
	}
	limit := MaxMediaSize(m.Type, animated)
	switch {
	case size == 0:
		return m, invalidField(field, false, "is empty")
	case size > limit:
		return m, invalidField(field, false, "%d bytes, the limit for %s is %d", size, what(m.Type, animated), limit)
	}
	cr := &capped{r: br, left: limit}
	id, err := c.UploadMedia(ctx, o.BusinessID, base, name, cr)
	if cr.over {
		return m, invalidField(field, false, "over the limit for %s, %d bytes", what(m.Type, animated), limit)
	}
	if err != nil {
		var fe *safefetch.Error
		if errors.As(err, &fe) {
			return m, fetchError(field, err)
		}
		return m, err
	}
	m.MediaID, m.URL, m.Upload, m.MimeType = id, "", "", ""
	return m, nil
}

func what(typ string, animated bool) string {
	if typ == message.TypeSticker {
		if animated {
			return "animated stickers"
		}
		return "static stickers"
	}
	return typ + " messages"
}

// webpAnimated reports whether head, the start of a WebP file, declares an
// animation (the extended format's VP8X chunk with its animation flag).
func webpAnimated(head []byte) bool {
	return len(head) >= 21 && bytes.Equal(head[0:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")) &&
		bytes.Equal(head[12:16], []byte("VP8X")) && head[20]&0x02 != 0
}

// capped reads r, failing once more than left bytes came.
type capped struct {
	r    io.Reader
	left int64
	n    int64
	over bool
}

var errOverLimit = errors.New("whatsapp: the file is over the limit")

func (c *capped) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.left -= int64(n)
	if c.left < 0 {
		c.over = true
		return n, errOverLimit
	}
	return n, err
}

func invalidField(field string, retryable bool, format string, args ...any) *message.Error {
	e := message.Invalid(message.Problems{{Field: field, Problem: fmt.Sprintf(format, args...)}})
	e.Retryable = retryable
	return e
}

// fetchError is a caller's URL that could not be fetched, as
// invalid_message naming the field (retryable when its server failed).
func fetchError(field string, err error) error {
	var fe *safefetch.Error
	if !errors.As(err, &fe) {
		fe = &safefetch.Error{Field: field, Problem: "could not be read"}
	}
	return invalidField(fe.Field, fe.Retryable, "%s", fe.Problem)
}
