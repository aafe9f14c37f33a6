package storetest

import (
	"bytes"
	"io"
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
