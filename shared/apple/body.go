package apple

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Errors of ReadBody and Parse. A webhook answers 413 to ErrTooLarge and 400
// to ErrMalformedBody.
var (
	ErrTooLarge      = errors.New("apple: webhook body too large")
	ErrMalformedBody = errors.New("apple: malformed webhook")
)

// ReadBody reads a webhook body from r. It reads at most maxCompressed bytes
// of r and, when contentEncoding is gzip or the body starts with the gzip
// magic bytes (Apple compresses every webhook body), decompresses at most
// maxDecompressed bytes. A body over either limit is refused with an error
// wrapping ErrTooLarge as soon as the limit is passed, so that a small
// compressed body cannot make it inflate gigabytes; a gzip stream that is
// truncated or corrupt, or an encoding other than gzip, is refused with
// ErrMalformedBody. Both limits must be positive.
func ReadBody(r io.Reader, contentEncoding string, maxCompressed, maxDecompressed int64) ([]byte, error) {
	raw := newCapReader(r, maxCompressed, "body")
	br := bufio.NewReader(raw)
	magic, _ := br.Peek(2)
	gzipped := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	switch enc := strings.ToLower(strings.TrimSpace(contentEncoding)); enc {
	case "gzip", "x-gzip":
		gzipped = true
	case "", "identity":
	default:
		return nil, fmt.Errorf("%w: Content-Encoding %q: only gzip is understood", ErrMalformedBody, enc)
	}
	if !gzipped {
		b, err := io.ReadAll(br)
		if err != nil {
			return nil, raw.explain(err)
		}
		return b, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, raw.explain(err)
	}
	b, err := io.ReadAll(newCapReader(zr, maxDecompressed, "decompressed body"))
	if err != nil {
		return nil, raw.explain(err)
	}
	return b, nil
}

// capReader passes through at most limit bytes of r and fails with
// ErrTooLarge on the first byte beyond them.
type capReader struct {
	r     io.Reader
	left  int64
	limit int64
	what  string
	// err is the error r returned, other than io.EOF, so that a failed read
	// of the request is not mistaken for a corrupt gzip stream.
	err error
}

func newCapReader(r io.Reader, limit int64, what string) *capReader {
	return &capReader{r: r, left: limit, limit: limit, what: what}
}

func (c *capReader) Read(p []byte) (int, error) {
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return 0, fmt.Errorf("%w: %s over the limit of %d bytes", ErrTooLarge, c.what, c.limit)
	}
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// explain classifies an error met while reading through c: too large, a
// failed read of the request, or else a truncated or corrupt gzip stream.
func (c *capReader) explain(err error) error {
	switch {
	case errors.Is(err, ErrTooLarge):
		return err
	case c.err != nil:
		return fmt.Errorf("apple: read webhook body: %w", c.err)
	}
	return fmt.Errorf("%w: gzip: %v", ErrMalformedBody, err)
}
