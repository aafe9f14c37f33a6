package apple

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/safefetch"
)

// Image limits. Apple documents 200 kB for a rich link's image; for the
// images of interactive messages (bubbles, list items, an app icon) it
// documents pixel sizes only, so parley caps each at 1 MiB.
const (
	MaxRichLinkImage = 200_000
	MaxImage         = 1 << 20
)

// imageKind is what an image is used for, and so which formats and size
// Apple accepts for it.
type imageKind int

const (
	interactiveImage imageKind = iota // JPEG or PNG, at most MaxImage bytes
	richLinkImage                     // JPEG or PNG, at most MaxRichLinkImage bytes
)

func (k imageKind) limit() int {
	if k == richLinkImage {
		return MaxRichLinkImage
	}
	return MaxImage
}

// imageMIME returns the MIME type of b when it is a format Apple accepts
// (JPEG or PNG, by their magic bytes), or "". Apple's authentication sample
// sends a JPEG in data.images, and its rich link samples JPEG and PNG.
func imageMIME(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "image/jpeg"
	}
	return ""
}

// checkImageBytes records what is wrong with the bytes b of an image.
func checkImageBytes(ps *message.Problems, field string, b []byte, kind imageKind) {
	switch {
	case len(b) == 0:
		ps.Add(field, "is empty")
	case len(b) > kind.limit():
		ps.Add(field, "%d bytes, the limit is %d", len(b), kind.limit())
	case imageMIME(b) == "":
		ps.Add(field, "is not a JPEG or PNG image")
	}
}

// checkImage records what is wrong with an image given by URL or bytes.
func checkImage(ps *message.Problems, field string, img message.Image, kind imageKind) {
	switch {
	case img.URL == "" && len(img.Data) == 0:
		ps.Add(field, "needs a url or data")
	case img.URL != "" && len(img.Data) > 0:
		ps.Add(field, "has both a url and data; give one")
	case img.URL != "":
		checkURL(ps, field+".url", img.URL)
	default:
		checkImageBytes(ps, field+".data", img.Data, kind)
	}
}

// checkURL records a problem when s is not an absolute http or https URL.
func checkURL(ps *message.Problems, field, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		ps.Add(field, "%q is not an absolute http or https URL", s)
	}
}

// fetchImages returns m with the bytes of every image given by URL, fetched
// with f and checked as Validate checks bytes. A refusal of the image's
// server (4xx), a URL parley may not fetch or an image Apple cannot take is
// an invalid_message error naming the field; a failure that may pass (a
// timeout, 5xx) is also retryable.
func fetchImages(ctx context.Context, f *safefetch.Client, m message.Message) (message.Message, error) {
	var ps message.Problems
	retryable := false
	fetch := func(field string, img message.Image, kind imageKind) message.Image {
		if img.URL == "" || len(img.Data) > 0 {
			return img
		}
		b, err := f.ReadAll(ctx, field+".url", img.URL, int64(kind.limit()))
		if err != nil {
			var fe *safefetch.Error
			if !errors.As(err, &fe) {
				fe = &safefetch.Error{Field: field + ".url", Problem: "could not be read"}
			}
			ps.Add(fe.Field, "%s", fe.Problem)
			retryable = retryable || fe.Retryable
			return img
		}
		checkImageBytes(&ps, field+".url", b, kind)
		return message.Image{ID: img.ID, Data: b}
	}
	if m.Image != nil {
		kind := interactiveImage
		if m.Type == message.TypeRichLink {
			kind = richLinkImage
		}
		img := fetch("message.image", *m.Image, kind)
		m.Image = &img
	}
	if len(m.Images) > 0 {
		images := make([]message.Image, len(m.Images))
		for i, img := range m.Images {
			images[i] = fetch(fmt.Sprintf("message.images[%d]", i), img, interactiveImage)
		}
		m.Images = images
	}
	if len(ps) > 0 {
		e := message.Invalid(ps)
		e.Retryable = retryable
		return m, e
	}
	return m, nil
}
