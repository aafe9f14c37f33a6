package payload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// file is n pseudo-random bytes and their SHA-256 in hex.
func file(n int) ([]byte, string) {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n)})
	r.Read(b)
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// The file comes through whole whichever way it is read — by the store's
// reads of any size or handed over in chunks — and however the network
// cuts it, with the chunks of one download reused by the next.
func TestCheckedMediaReads(t *testing.T) {
	sizes := []int{0, 1, mediaChunk - 1, mediaChunk, mediaChunk + 1, mediaChunks*mediaChunk + 12345, 3 << 20}
	nets := map[string]func(io.Reader) io.Reader{
		"whole":      func(r io.Reader) io.Reader { return r },
		"half reads": iotest.HalfReader,
		"data+EOF":   iotest.DataErrReader,
		"odd sizes":  func(r io.Reader) io.Reader { return &oddReader{r: r} },
	}
	consumers := map[string]func(io.Reader) ([]byte, error){
		"io.Copy (WriteTo)": func(r io.Reader) ([]byte, error) {
			var out bytes.Buffer
			_, err := io.Copy(&out, r)
			return out.Bytes(), err
		},
		"8 KiB reads": func(r io.Reader) ([]byte, error) { return io.ReadAll(io.LimitReader(onlyReader{r}, 1<<40)) },
		"8 MiB parts": func(r io.Reader) ([]byte, error) {
			var out []byte
			part := make([]byte, 8<<20)
			for {
				n, err := io.ReadFull(r, part)
				out = append(out, part[:n]...)
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					return out, nil
				}
				if err != nil {
					return out, err
				}
			}
		},
		"1 byte reads": func(r io.Reader) ([]byte, error) { return io.ReadAll(iotest.OneByteReader(r)) },
	}
	for _, size := range sizes {
		data, sum := file(size)
		for nn, net := range nets {
			for cn, consume := range consumers {
				if cn == "1 byte reads" && size > mediaChunk+1 {
					continue
				}
				c := newCheckedMedia(net(bytes.NewReader(data)), int64(size), 100<<20, sum)
				got, err := consume(c)
				c.close()
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%d bytes, %s, %s: %d bytes back (equal: %v), %v", size, nn, cn, len(got), bytes.Equal(got, data), err)
				}
			}
		}
	}
}

// A file that is too long, too short, over the limit or not what its
// digests say fails before its last bytes are handed out; a network that
// fails is a failure to try again.
func TestCheckedMediaRefuses(t *testing.T) {
	data, sum := file(mediaChunks*mediaChunk + 1000)
	base64Sum := "m8bPBKdFmtsiyD9iiS2l5rPQxD2HQmo5mD3QYa6x6mU="
	broken := errors.New("connection reset by peer")
	for _, tc := range []struct {
		name      string
		src       func() io.Reader
		size      int64
		limit     int64
		want      []string
		err       error
		transient bool
	}{
		{name: "a byte short", src: reader(data[:len(data)-1]), size: int64(len(data)), err: ErrMediaSize},
		{name: "a byte more", src: reader(append(data[:len(data):len(data)], 0)), size: int64(len(data)), err: ErrMediaSize},
		{name: "over the limit, size unknown", src: reader(data), limit: int64(len(data)) - 1, err: ErrMediaLimit},
		{name: "the webhook's digest differs", src: reader(data), want: []string{base64Sum, sum}, err: ErrMediaDigest},
		{name: "the endpoint's digest differs", src: reader(data), want: []string{sum, base64Sum}, err: ErrMediaDigest},
		{name: "the network fails", src: func() io.Reader {
			return io.MultiReader(bytes.NewReader(data[:3*mediaChunk/2]), iotest.ErrReader(broken))
		}, err: broken, transient: true},
	} {
		for _, writeTo := range []bool{false, true} {
			limit := tc.limit
			if limit == 0 {
				limit = 100 << 20
			}
			want := tc.want
			if want == nil {
				want = []string{sum}
			}
			c := newCheckedMedia(tc.src(), tc.size, limit, want...)
			var out bytes.Buffer
			var err error
			if writeTo {
				_, err = c.WriteTo(&out)
			} else {
				_, err = io.Copy(&out, onlyReader{c})
			}
			c.close()
			if !errors.Is(err, tc.err) {
				t.Errorf("%s (WriteTo %v): %v, want %v", tc.name, writeTo, err, tc.err)
			}
			if out.Len() >= len(data) {
				t.Errorf("%s (WriteTo %v): all %d bytes were handed out before the failure", tc.name, writeTo, out.Len())
			}
			if f := c.failed(); (f == nil) != tc.transient {
				t.Errorf("%s: failed() = %v, want it nil only for a transient failure", tc.name, f)
			}
		}
	}
}

func reader(b []byte) func() io.Reader {
	return func() io.Reader { return bytes.NewReader(b) }
}

// onlyReader hides every method but Read.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// oddReader answers reads of 1, 2, 3… up to 9000 bytes in turn, as a
// network may.
type oddReader struct {
	r io.Reader
	n int
}

func (o *oddReader) Read(p []byte) (int, error) {
	o.n = o.n%9000 + 1
	return o.r.Read(p[:min(len(p), o.n)])
}
