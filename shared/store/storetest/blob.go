package storetest

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/store"
)

// getBlob reads the whole blob under key.
func (h *harness) getBlob(t *testing.T, key string) ([]byte, store.BlobInfo) {
	t.Helper()
	rc, info, err := h.blobs.GetBlob(h.ctx, key)
	if err != nil {
		t.Fatalf("GetBlob(%s): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("GetBlob(%s): read: %v", key, err)
	}
	return b, info
}

func testBlobRoundTrip(t *testing.T, h *harness) {
	large := bytes.Repeat([]byte("0123456789abcdef"), 40<<10) // 640 KiB, more than an item holds
	tests := []struct {
		name        string
		key         string
		body        []byte
		contentType string
		meta        map[string]string
	}{
		{"json with metadata", h.key("bodies/in"), []byte(`{"type":"text","text":"héllo 👋"}`), "application/json",
			map[string]string{"channel": "whatsapp", "message-id": "msg_1"}},
		{"large", h.key("bodies/large"), large, "application/octet-stream", map[string]string{"size": "large"}},
		{"empty without metadata", h.key("bodies/empty"), nil, "text/plain", nil},
		{"nested key", h.key("raw/whatsapp/2031/03/14") + "/wamid.X", []byte("raw webhook"), "application/json", map[string]string{"source": "webhook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.blobs.PutBlob(h.ctx, tt.key, bytes.NewReader(tt.body), tt.contentType, tt.meta); err != nil {
				t.Fatalf("PutBlob: %v", err)
			}
			got, info := h.getBlob(t, tt.key)
			sameBytes(t, "GetBlob body", got, tt.body)
			want := store.BlobInfo{Size: int64(len(tt.body)), ContentType: tt.contentType, Meta: tt.meta}
			info.Meta = normMeta(info.Meta)
			same(t, "GetBlob info", info, want)
			// StatBlob describes it alike, without reading it.
			stat, err := store.StatBlob(h.ctx, h.blobs, tt.key)
			if err != nil {
				t.Fatalf("StatBlob: %v", err)
			}
			stat.Meta = normMeta(stat.Meta)
			same(t, "StatBlob info", stat, want)
		})
	}
}

func testBlobNotFound(t *testing.T, h *harness) {
	for _, key := range []string{h.key("missing"), h.key("bodies/missing")} {
		rc, _, err := h.blobs.GetBlob(h.ctx, key)
		if err == nil {
			rc.Close()
		}
		wantNotFound(t, "GetBlob of a missing key", err)
		_, err = store.StatBlob(h.ctx, h.blobs, key)
		wantNotFound(t, "StatBlob of a missing key", err)
	}
}

func testBlobOverwrite(t *testing.T, h *harness) {
	key := h.key("bodies/out")
	if err := h.blobs.PutBlob(h.ctx, key, strings.NewReader("first version, longer than the second"), "text/plain",
		map[string]string{"version": "1", "only-first": "yes"}); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	second := []byte(`{"v":2}`)
	meta := map[string]string{"version": "2"}
	if err := h.blobs.PutBlob(h.ctx, key, bytes.NewReader(second), "application/json", meta); err != nil {
		t.Fatalf("PutBlob again: %v", err)
	}
	got, info := h.getBlob(t, key)
	sameBytes(t, "GetBlob body", got, second)
	same(t, "GetBlob info", info, store.BlobInfo{Size: int64(len(second)), ContentType: "application/json", Meta: meta})
}

// stream is a body that cannot seek: size bytes of a repeating pattern,
// then err (io.EOF for a body that ends well).
type stream struct {
	left int
	err  error
	pos  byte
}

func (s *stream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, s.err
	}
	n := min(len(p), s.left)
	for i := range p[:n] {
		p[i] = 'a' + s.pos%26
		s.pos++
	}
	s.left -= n
	return n, nil
}

// testBlobStream: bodies that cannot seek are stored whole, whatever their
// size (the AWS adapter streams them in parts of 8 MiB).
func testBlobStream(t *testing.T, h *harness) {
	for _, size := range []int{0, 1, 8 << 20, 17<<20 + 3} {
		key := h.key("raw/stream") + "/" + strconv.Itoa(size)
		if err := h.blobs.PutBlob(h.ctx, key, &stream{left: size, err: io.EOF}, "application/octet-stream", map[string]string{"kind": "attachment"}); err != nil {
			t.Fatalf("PutBlob of %d streamed bytes: %v", size, err)
		}
		got, info := h.getBlob(t, key)
		want, _ := io.ReadAll(&stream{left: size, err: io.EOF})
		sameBytes(t, "GetBlob body", got, want)
		if info.Size != int64(size) || info.ContentType != "application/octet-stream" || normMeta(info.Meta)["kind"] != "attachment" {
			t.Errorf("GetBlob info %+v, want %d bytes, the content type and the metadata", info, size)
		}
	}
}

// testBlobFailedStream: a body that fails part-way stores nothing, and
// leaves what was stored under the key before.
func testBlobFailedStream(t *testing.T, h *harness) {
	broken := errors.New("the download broke")
	for _, size := range []int{10, 9 << 20} {
		key := h.key("raw/broken") + "/" + strconv.Itoa(size)
		err := h.blobs.PutBlob(h.ctx, key, &stream{left: size, err: broken}, "application/octet-stream", nil)
		if !errors.Is(err, broken) {
			t.Errorf("PutBlob of a failing body = %v, want its error", err)
		}
		rc, _, err := h.blobs.GetBlob(h.ctx, key)
		if err == nil {
			rc.Close()
		}
		wantNotFound(t, "GetBlob after a failed PutBlob", err)
	}
	key := h.key("raw/kept")
	if err := h.blobs.PutBlob(h.ctx, key, strings.NewReader("whole"), "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	if err := h.blobs.PutBlob(h.ctx, key, &stream{left: 3, err: broken}, "text/plain", nil); err == nil {
		t.Error("PutBlob of a failing body succeeded")
	}
	got, _ := h.getBlob(t, key)
	sameBytes(t, "GetBlob after a failed overwrite", got, []byte("whole"))
}
