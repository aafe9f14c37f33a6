package apple

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/safefetch"
)

// Limits of outbound attachments. Apple documents 100 MB per file (MaxBlob)
// and no count; the count and the name length are parley's rules.
const (
	MaxAttachments    = 10
	MaxAttachmentName = 255
	// UploadPrefix starts the key of every file uploaded through the send
	// API's POST /v1/uploads.
	UploadPrefix = message.UploadPrefix
	// placeholder is the character that stands for one attachment in a
	// text's body, in order.
	placeholder = "\uFFFC"
)

// ErrNoUpload is what Client.Attachment returns, wrapped, when no file was
// uploaded under a key.
var ErrNoUpload = errors.New("apple: no file was uploaded under this key")

// validateAttachments checks the attachments of m: only a text carries
// them, each with a name, a MIME type and exactly one source.
func validateAttachments(ps *message.Problems, m message.Message) {
	if len(m.Attachments) == 0 {
		return
	}
	if m.Type != message.TypeText {
		ps.Add("message.attachments", "not used by %s messages: only text messages carry attachments", m.Type)
		return
	}
	if len(m.Attachments) > MaxAttachments {
		ps.Add("message.attachments", "%d attachments, the limit is %d", len(m.Attachments), MaxAttachments)
	}
	for i, a := range m.Attachments {
		field := fmt.Sprintf("message.attachments[%d]", i)
		ps.Required(field+".name", a.Name)
		ps.MaxLen(field+".name", a.Name, MaxAttachmentName)
		switch t, _, err := mime.ParseMediaType(a.MimeType); {
		case a.MimeType == "":
			ps.Add(field+".mimeType", "is required")
		case err != nil || !strings.Contains(t, "/"):
			ps.Add(field+".mimeType", "%q is not a MIME type (type/subtype)", a.MimeType)
		}
		var sources []string
		if a.URL != "" {
			sources = append(sources, "url")
			checkURL(ps, field+".url", a.URL)
		}
		if len(a.Data) > 0 {
			sources = append(sources, "data")
			if len(a.Data) > MaxBlob {
				ps.Add(field+".data", "%d bytes, the limit is %d", len(a.Data), MaxBlob)
			}
		}
		if a.Upload != "" {
			sources = append(sources, "upload")
			if !strings.HasPrefix(a.Upload, UploadPrefix) {
				ps.Add(field+".upload", "%q is not a key POST /v1/uploads returned", a.Upload)
			}
		}
		switch len(sources) {
		case 0:
			ps.Add(field, "needs one of url, data and upload")
		case 1:
		default:
			ps.Add(field, "gives %s: exactly one of url, data and upload is allowed", strings.Join(sources, " and "))
		}
	}
}

// uploadAttachments reads every attachment of m from its source and
// uploads it, encrypted, through MMCS; it returns the dictionaries to send,
// in order. A source that cannot be read is invalid_message naming its
// field (retryable when its server failed); an MMCS failure is
// platform_unavailable (retryable) or platform_rejected.
func (c *Client) uploadAttachments(ctx context.Context, businessID string, m message.Message) ([]Attachment, error) {
	mm := &MMCS{Client: c, HTTP: c.BlobHTTP}
	out := make([]Attachment, 0, len(m.Attachments))
	for i, a := range m.Attachments {
		field := fmt.Sprintf("message.attachments[%d]", i)
		r, size, err := c.openAttachment(ctx, field, a)
		if err != nil {
			return nil, err
		}
		d, err := mm.UploadAttachment(ctx, businessID, a.Name, a.MimeType, r, size)
		r.Close()
		if err != nil {
			return nil, uploadError(field, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// openAttachment opens the source of a and returns its size.
func (c *Client) openAttachment(ctx context.Context, field string, a message.OutgoingAttachment) (io.ReadCloser, int64, error) {
	invalid := func(sub string, retryable bool, format string, args ...any) error {
		e := message.Invalid(message.Problems{{Field: field + sub, Problem: fmt.Sprintf(format, args...)}})
		e.Retryable = retryable
		return e
	}
	switch {
	case len(a.Data) > 0:
		return io.NopCloser(bytes.NewReader(a.Data)), int64(len(a.Data)), nil
	case a.Upload != "":
		if c.Attachment == nil {
			return nil, 0, message.Errorf(message.CodeUnsupportedOnChannel, "this parley has no store for uploaded attachments")
		}
		r, size, err := c.Attachment(ctx, a.Upload)
		if errors.Is(err, ErrNoUpload) {
			return nil, 0, invalid(".upload", false, "no file was uploaded under %q (uploads are kept one day)", a.Upload)
		}
		if err != nil {
			return nil, 0, hookError("reading an uploaded attachment", err)
		}
		if size <= 0 || size > MaxBlob {
			r.Close()
			return nil, 0, invalid(".upload", false, "%d bytes, it must be 1 to %d", size, MaxBlob)
		}
		return r, size, nil
	}
	resp, err := c.fetcher().Get(ctx, field+".url", a.URL, MaxBlob)
	if err != nil {
		return nil, 0, fetchError(field+".url", err)
	}
	switch n := resp.Size; {
	case n == 0:
		resp.Body.Close()
		return nil, 0, invalid(".url", false, "is empty")
	case n > 0:
		return resp.Body, n, nil
	}
	// No length announced: keep the file in a temporary file to learn it,
	// since preUpload needs the size first.
	defer resp.Body.Close()
	f, err := os.CreateTemp("", "parley-attachment-*")
	if err != nil {
		return nil, 0, fmt.Errorf("apple: send: keeping an attachment: %w", err)
	}
	tmp := &tempFile{f}
	n, err := io.Copy(f, resp.Body)
	switch {
	case err != nil:
		tmp.Close()
		return nil, 0, fetchError(field+".url", err)
	case n == 0:
		tmp.Close()
		return nil, 0, invalid(".url", false, "is empty")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		return nil, 0, fmt.Errorf("apple: send: keeping an attachment: %w", err)
	}
	return tmp, n, nil
}

// fetchError is the invalid_message error of a caller's URL that could not
// be fetched (a *safefetch.Error names the field and what went wrong).
func fetchError(field string, err error) error {
	var fe *safefetch.Error
	if !errors.As(err, &fe) {
		fe = &safefetch.Error{Field: field, Problem: "could not be read"}
	}
	e := message.Invalid(message.Problems{{Field: fe.Field, Problem: fe.Problem}})
	e.Retryable = fe.Retryable
	return e
}

// tempFile is a temporary file removed when closed.
type tempFile struct{ *os.File }

func (t *tempFile) Close() error {
	err := t.File.Close()
	os.Remove(t.Name())
	return err
}

// uploadError maps a failed upload to the public error codes.
func uploadError(field string, err error) error {
	var me *MMCSError
	if !errors.As(err, &me) {
		return fmt.Errorf("apple: send: %s: %w", field, err)
	}
	e := &message.Error{Platform: &message.PlatformError{HTTPStatus: me.Status, Details: me.Detail}}
	switch {
	case me.Status == http.StatusUnauthorized || me.Status == http.StatusForbidden:
		e.Code = message.CodeUnauthorized
		e.Message = fmt.Sprintf("apple: %s: the MSP gateway refused the credentials (HTTP %d)", me.Op, me.Status)
	case me.Retryable():
		e.Code = message.CodePlatformUnavailable
		e.Message = fmt.Sprintf("apple: uploading %s failed: %v", field, me)
		e.Retryable = true
	default:
		e.Code = message.CodePlatformRejected
		e.Message = fmt.Sprintf("apple: uploading %s was refused: %v", field, me)
	}
	return e
}
