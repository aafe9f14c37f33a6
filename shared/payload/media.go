package payload

import (
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
	"sync"

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
	if _, err := store.StatBlob(ctx, s.Blobs, key); err == nil {
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
		c := newCheckedMedia(body, info.FileSize, whatsapp.MaxInboundMediaSize, md.SHA256, info.SHA256)
		defer c.close()
		if err := s.Blobs.PutBlob(ctx, key, c, mimeType, meta); err != nil {
			if f := c.failed(); f != nil {
				return f
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
// not hash to every digest of want that is given. The file is read from the
// network in large chunks, each handed whole to the reader's consumer and to
// a goroutine that hashes it meanwhile: one copy out of the socket, none for
// the hash, and a digest ready soon after the last byte.
type checkedMedia struct {
	src   io.Reader
	size  int64
	limit int64
	n     int64
	want  []string

	// read is the size of the next read: small at first, so that the
	// hash starts early, then doubling up to a chunk (and halving again
	// near the end of a file of known size).
	read int
	slab *[mediaChunks * mediaChunk]byte
	cur  []byte // the chunk being handed out
	off  int    // how much of cur is handed out
	h    hash.Hash
	full chan piece  // what to hash
	free chan []byte // chunks hashed
	done chan struct{}
	// end is what follows the last chunk: io.EOF once the file checked
	// out, or why it did not.
	end error
}

// piece is a read to hash, or a chunk whose reads are all queued.
type piece struct{ b, release []byte }

const (
	// mediaChunk is the size of the reads of a media download and of the
	// pieces hashed.
	mediaChunk = 256 << 10
	// firstRead is the size of a download's first read.
	firstRead = 32 << 10
	// mediaChunks is how many chunks a download holds: the network may
	// run that far ahead of the hash.
	mediaChunks = 4
)

// slabs keeps the chunks of finished downloads for the next ones.
var slabs = sync.Pool{New: func() any { return new([mediaChunks * mediaChunk]byte) }}

func newCheckedMedia(src io.Reader, size, limit int64, want ...string) *checkedMedia {
	c := &checkedMedia{src: src, size: size, limit: limit, want: want, read: firstRead, slab: slabs.Get().(*[mediaChunks * mediaChunk]byte),
		h: sha256.New(), full: make(chan piece, 64), free: make(chan []byte, mediaChunks), done: make(chan struct{})}
	for i := range mediaChunks {
		c.free <- c.slab[i*mediaChunk : (i+1)*mediaChunk]
	}
	go func() {
		defer close(c.done)
		for p := range c.full {
			if p.release != nil {
				c.free <- p.release
				continue
			}
			c.h.Write(p.b)
		}
	}()
	return c
}

func (c *checkedMedia) Read(p []byte) (int, error) {
	if c.off == len(c.cur) {
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.cur[c.off:])
	c.off += n
	return n, nil
}

// WriteTo hands each chunk to w as it is: io.Copy and the stores that copy
// with it need no buffer of their own.
func (c *checkedMedia) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if c.off < len(c.cur) {
			n, err := w.Write(c.cur[c.off:])
			c.off += n
			total += int64(n)
			if err != nil {
				return total, err
			}
			continue
		}
		if err := c.next(); err == io.EOF {
			return total, nil
		} else if err != nil {
			return total, err
		}
	}
}

// next reads the next chunk into cur, queueing each read for the hash as it
// comes. At the end of the file it waits for the digest and checks the file
// before the last chunk is handed out, so that a consumer never sees the
// whole of a file that fails.
func (c *checkedMedia) next() error {
	if c.end != nil {
		return c.end
	}
	b := <-c.free
	k := 0
	var err error
	for k < len(b) && err == nil {
		var n int
		want := c.read
		if left := c.size - c.n; c.size > 0 && left < 2*int64(want) {
			// Near the end, reads halve what is left: the last piece, the
			// one hashed after the download, is small.
			want = max(firstRead, int(left/2))
		}
		n, err = c.src.Read(b[k:min(len(b), k+want)])
		c.read = min(2*c.read, mediaChunk)
		c.n += int64(n)
		switch {
		case c.n > c.limit:
			err = fmt.Errorf("%w: more than %d bytes", ErrMediaLimit, c.limit)
		case c.size > 0 && c.n > c.size:
			err = fmt.Errorf("%w: more than %d bytes came", ErrMediaSize, c.size)
		case err != nil && err != io.EOF:
			err = transient{fmt.Errorf("payload: reading the media file: %w", err)}
		case n > 0:
			c.full <- piece{b[k : k+n], nil}
		}
		k += n
	}
	// The hash gives the chunk back once it has hashed all of it.
	c.full <- piece{nil, b}
	switch {
	case err == io.EOF:
		c.end = io.EOF
		if cerr := c.check(); cerr != nil {
			c.end = cerr
			return cerr
		}
	case err != nil:
		c.end = err
		return err
	}
	if k == 0 {
		return c.end
	}
	c.cur, c.off = b[:k], 0
	return nil
}

// failed is why the file was refused, if it was.
func (c *checkedMedia) failed() error {
	if c.end == io.EOF {
		return nil
	}
	if _, ok := c.end.(transient); ok {
		return nil
	}
	return c.end
}

// check waits for the digest and compares the file with what the platform
// said.
func (c *checkedMedia) check() error {
	if c.size > 0 && c.n != c.size {
		return fmt.Errorf("%w: %d bytes short", ErrMediaSize, c.size-c.n)
	}
	c.stop()
	sum := c.h.Sum(nil)
	for _, w := range c.want {
		if w != "" && !sameDigest(w, sum) {
			return fmt.Errorf("%w: %s was given, the file hashes to %s", ErrMediaDigest, w, hex.EncodeToString(sum))
		}
	}
	return nil
}

// stop ends the hashing goroutine.
func (c *checkedMedia) stop() {
	if c.full != nil {
		close(c.full)
		<-c.done
		c.full = nil
	}
}

// close ends the goroutine and gives the chunks back; the checkedMedia is
// then done with.
func (c *checkedMedia) close() {
	c.stop()
	c.cur = nil
	if c.slab != nil {
		slabs.Put(c.slab)
		c.slab = nil
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
