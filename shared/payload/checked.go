package payload

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
)

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
