package apple

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
)

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadBody(t *testing.T) {
	const max = 1 << 10
	plain := []byte(`{"v":1,"id":"9b2f5c1a-3d4e-4f60-8a7b-1c2d3e4f5a6b","type":"typing_start"}`)
	gz := gzipped(t, plain)
	corrupt := bytes.Clone(gz)
	corrupt[len(corrupt)-5] ^= 0xff // inside the CRC-32 trailer
	atCap := bytes.Repeat([]byte("a"), max)
	overCap := bytes.Repeat([]byte("a"), max+1)
	incompressible := make([]byte, 2*max)
	for i := range incompressible {
		incompressible[i] = byte(i*7919 + i/13)
	}

	tests := []struct {
		name     string
		body     []byte
		encoding string
		want     []byte
		wantErr  error
	}{
		{"plain JSON", plain, "", plain, nil},
		{"plain JSON, identity", plain, "identity", plain, nil},
		{"gzip with Content-Encoding", gz, "gzip", plain, nil},
		{"gzip with Content-Encoding in capitals", gz, " GZIP", plain, nil},
		{"gzip without Content-Encoding", gz, "", plain, nil},
		{"not gzip and no magic", []byte("\x00\x01garbage\xff"), "", []byte("\x00\x01garbage\xff"), nil},
		{"plain body at the cap", atCap, "", atCap, nil},
		{"gzip inflating to the cap", gzipped(t, atCap), "gzip", atCap, nil},
		{"empty body", nil, "", []byte{}, nil},

		{"plain body over the cap", overCap, "", nil, ErrTooLarge},
		{"compressed body over the cap", gzipped(t, incompressible), "gzip", nil, ErrTooLarge},
		{"gzip inflating over the cap", gzipped(t, overCap), "", nil, ErrTooLarge},
		{"truncated gzip", gz[:len(gz)/2], "gzip", nil, ErrMalformedBody},
		{"truncated gzip header", gz[:5], "", nil, ErrMalformedBody},
		{"corrupt gzip", corrupt, "gzip", nil, ErrMalformedBody},
		{"gzip trailing garbage", append(bytes.Clone(gz), "junk"...), "gzip", nil, ErrMalformedBody},
		{"Content-Encoding gzip on a plain body", plain, "gzip", nil, ErrMalformedBody},
		{"Content-Encoding gzip on an empty body", nil, "gzip", nil, ErrMalformedBody},
		{"Content-Encoding br", plain, "br", nil, ErrMalformedBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadBody(bytes.NewReader(tt.body), tt.encoding, max, max)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReadBody = %q, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadBody: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("ReadBody = %q, want %q", got, tt.want)
			}
		})
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadBodyStopsAGzipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 50 {
		if _, err := zw.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bomb := buf.Bytes()

	src := &countingReader{r: bytes.NewReader(bomb)}
	_, err = ReadBody(src, "gzip", 1<<20, 1<<20)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadBody of 50 MB of zeros in %d gzip bytes = %v, want ErrTooLarge", len(bomb), err)
	}
	if !strings.Contains(err.Error(), "decompressed body") {
		t.Errorf("error %q does not say the decompressed body is too large", err)
	}
	if src.n >= len(bomb)/2 {
		t.Errorf("ReadBody read %d of the %d compressed bytes; it should stop soon after the 1 MiB cap", src.n, len(bomb))
	}
}

func TestReadBodyReportsReadErrors(t *testing.T) {
	broken := errors.New("connection reset")
	for _, tt := range []struct {
		name string
		r    io.Reader
		enc  string
	}{
		{"plain", io.MultiReader(strings.NewReader(`{"v":`), errReader{broken}), ""},
		{"gzip", io.MultiReader(bytes.NewReader(gzipped(t, []byte(`{"v":1}`))[:12]), errReader{broken}), "gzip"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadBody(tt.r, tt.enc, 1<<10, 1<<10)
			if !errors.Is(err, broken) || errors.Is(err, ErrMalformedBody) || errors.Is(err, ErrTooLarge) {
				t.Fatalf("ReadBody = %v, want the read error, neither malformed nor too large", err)
			}
		})
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
