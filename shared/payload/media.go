package payload

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// MediaSource resolves and downloads files by their platform media id:
// WhatsApp's Graph API (*whatsapp.Client).
type MediaSource interface {
	// Media answers where the file of id can be downloaded, for a few
	// minutes, and its type, hash and size.
	Media(ctx context.Context, id string) (whatsapp.MediaInfo, error)
	// Download opens that URL; whatsapp.ErrURLExpired (wrapped) when it
	// has expired.
	Download(ctx context.Context, url string) (io.ReadCloser, error)
}

// Errors of a media file that does not match what the platform said.
var (
	ErrMediaSize   = errors.New("payload: the media file's size is not what the platform said")
	ErrMediaDigest = errors.New("payload: the media file's SHA-256 is not what the platform said")
	ErrMediaLimit  = errors.New("payload: the media file is over the limit")
)

// netRead is the size of the reads of a media download.
const netRead = 256 << 10

// MediaKey is the raw object of a customer's media file: under the
// conversation's key, one per message, so that a job delivered again finds
// the work done.
func MediaKey(j queue.Job) string {
	return RawPrefix + string(j.Channel) + "/" + ingest.KeySegment(j.BusinessID) + "/" + ingest.KeySegment(j.CustomerID) + "/" +
		ingest.KeySegment(j.PlatformMessageID) + "/media"
}

// fetchMedia resolves the media id of j, downloads the file (resolving the
// id again when its URL has expired) and streams it into its raw object,
// checking its size against the platform's answer and the limit and its
// SHA-256 against both the webhook's and the platform's. A file that fails
// a check leaves no object.
func (s *Service) fetchMedia(ctx context.Context, j queue.Job) error {
	if s.Media == nil {
		return fmt.Errorf("payload: no media source is configured for %s", j.Channel)
	}
	var md message.Media
	if err := json.Unmarshal(j.Payload.Ref, &md); err != nil || md.ID == "" {
		return fmt.Errorf("payload: the job's media reference names no media id")
	}
	key := MediaKey(j)
	if rc, _, err := s.Blobs.GetBlob(ctx, key); err == nil {
		rc.Close()
		s.log().Info("media already fetched", "key", key)
		return s.decodeNext(ctx, key)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var size int64
	err := s.Retry.Do(ctx, func(ctx context.Context, _ int) error {
		info, body, err := s.openMedia(ctx, md.ID)
		if err != nil {
			return err
		}
		defer body.Close()
		mimeType := info.MimeType
		if mimeType == "" {
			mimeType = md.MimeType
		}
		if mimeType == "" {
			mimeType = "application/octet-stream"
		}
		meta := map[string]string{
			metaKind: message.PayloadMedia, metaChannel: string(j.Channel), metaBusiness: j.BusinessID, metaCustomer: j.CustomerID,
			metaPlatformID: j.PlatformMessageID, metaMimeType: mimeType,
		}
		if md.FileName != "" {
			meta[metaName] = url.PathEscape(md.FileName)
		}
		// Large reads from the network: fewer system calls than the store's
		// own reads would make, whatever their size.
		c := &checkedMedia{r: bufio.NewReaderSize(body, netRead), size: info.FileSize, limit: whatsapp.MaxInboundMediaSize, sum: newHasher(),
			want: []string{md.SHA256, info.SHA256}}
		defer c.sum.close()
		if err := s.Blobs.PutBlob(ctx, key, c, mimeType, meta); err != nil {
			if c.failed != nil {
				return c.failed
			}
			return transient{err}
		}
		size = c.n
		return nil
	})
	if err != nil {
		return fmt.Errorf("payload: fetching %s: %w", key, err)
	}
	s.log().Info("media fetched", "key", key, "bytes", size)
	return s.decodeNext(ctx, key)
}

// openMedia resolves id and opens its file; a file Meta says is over the
// limit is refused before it is downloaded, and a URL that expired before
// it was read is resolved once more.
func (s *Service) openMedia(ctx context.Context, id string) (whatsapp.MediaInfo, io.ReadCloser, error) {
	for try := 1; ; try++ {
		info, err := s.Media.Media(ctx, id)
		if err != nil {
			return whatsapp.MediaInfo{}, nil, err
		}
		if info.FileSize > whatsapp.MaxInboundMediaSize {
			return info, nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrMediaLimit, info.FileSize, whatsapp.MaxInboundMediaSize)
		}
		body, err := s.Media.Download(ctx, info.URL)
		if errors.Is(err, whatsapp.ErrURLExpired) && try == 1 {
			s.log().Info("the media URL expired; resolving the media id again")
			continue
		}
		return info, body, err
	}
}

// checkedMedia reads a media file, failing instead of ending when it is
// larger than limit, is not size bytes long (when size is known) or does
// not hash to every digest of want that is given.
type checkedMedia struct {
	r      io.Reader
	size   int64
	limit  int64
	n      int64
	sum    *hasher
	want   []string
	failed error
}

func (c *checkedMedia) Read(p []byte) (int, error) {
	if c.failed != nil {
		return 0, c.failed
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.sum.Write(p[:n])
	switch {
	case c.n > c.limit:
		c.failed = fmt.Errorf("%w: more than %d bytes", ErrMediaLimit, c.limit)
	case c.size > 0 && c.n > c.size:
		c.failed = fmt.Errorf("%w: more than %d bytes came", ErrMediaSize, c.size)
	case err == io.EOF:
		c.failed = c.check()
	case err != nil:
		return n, transient{fmt.Errorf("payload: reading the media file: %w", err)}
	}
	if c.failed != nil {
		return n, c.failed
	}
	return n, err
}

func (c *checkedMedia) check() error {
	if c.size > 0 && c.n != c.size {
		return fmt.Errorf("%w: %d bytes short", ErrMediaSize, c.size-c.n)
	}
	sum := c.sum.sum()
	for _, w := range c.want {
		if w != "" && !sameDigest(w, sum) {
			return fmt.Errorf("%w: %s was given, the file hashes to %s", ErrMediaDigest, w, hex.EncodeToString(sum))
		}
	}
	return nil
}

// hasher computes a SHA-256 beside the copy, in a goroutine of its own,
// so that hashing a file costs its download little time: bytes written are
// copied into one of a few chunks the goroutine hashes while the next
// ones fill.
type hasher struct {
	h      hash.Hash
	cur    []byte
	full   chan []byte
	free   chan []byte
	done   chan struct{}
	closed bool
}

const (
	hashChunk  = 256 << 10
	hashChunks = 4
)

func newHasher() *hasher {
	hs := &hasher{h: sha256.New(), full: make(chan []byte, hashChunks), free: make(chan []byte, hashChunks), done: make(chan struct{})}
	for range hashChunks - 1 {
		hs.free <- make([]byte, 0, hashChunk)
	}
	hs.cur = make([]byte, 0, hashChunk)
	go func() {
		defer close(hs.done)
		for b := range hs.full {
			hs.h.Write(b)
			hs.free <- b[:0]
		}
	}()
	return hs
}

func (hs *hasher) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := copy(hs.cur[len(hs.cur):cap(hs.cur)], p)
		hs.cur, p = hs.cur[:len(hs.cur)+k], p[k:]
		if len(hs.cur) == cap(hs.cur) {
			hs.full <- hs.cur
			hs.cur = <-hs.free
		}
	}
	return n, nil
}

// sum waits for the goroutine and returns the digest of all written.
func (hs *hasher) sum() []byte {
	if len(hs.cur) > 0 {
		hs.full <- hs.cur
		hs.cur = hs.cur[len(hs.cur):]
	}
	hs.close()
	return hs.h.Sum(nil)
}

// close ends the goroutine; the digest is then final.
func (hs *hasher) close() {
	if !hs.closed {
		hs.closed = true
		close(hs.full)
		<-hs.done
	}
}

// sameDigest reports whether given, a SHA-256 written in hex (as Meta's
// media endpoint writes it) or Base64 (as its webhooks have), is sum.
func sameDigest(given string, sum []byte) bool {
	given = strings.TrimSpace(given)
	if b, err := hex.DecodeString(given); err == nil && len(b) == len(sum) {
		return string(b) == string(sum)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(given); err == nil && len(b) == len(sum) {
			return string(b) == string(sum)
		}
	}
	return false
}

// completeMedia records where the file of a media message is and makes the
// message received, with its event.
func (s *Service) completeMedia(ctx context.Context, key, pid string, ch message.Channel, info store.BlobInfo) error {
	return s.complete(ctx, key, pid, ch, func(rec *message.Record) (bool, string) {
		if rec.Body == nil || rec.Body.Media == nil {
			rec.Body = &message.Body{Type: message.BodyMedia, Media: &message.Media{}}
		}
		m := *rec.Body.Media
		m.Key, m.Size = key, info.Size
		if m.MimeType == "" {
			m.MimeType = info.Meta[metaMimeType]
		}
		rec.Body.Media = &m
		return true, ""
	})
}
