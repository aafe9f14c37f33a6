package dynamo

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/store"
)

// hugeSeeker claims to hold more than a blob may.
type hugeSeeker struct{ io.Reader }

func (hugeSeeker) Seek(offset int64, whence int) (int64, error) {
	if whence == io.SeekEnd {
		return MaxBlobSize + 1 + offset, nil
	}
	return offset, nil
}

func TestPutBlobBodies(t *testing.T) {
	t.Parallel()
	s := startBackend(t).newStore(t, clock.NewManual(start))
	ctx := t.Context()
	body := strings.Repeat("a body that is not a seeker ", 1000)
	partlyRead := strings.NewReader("skipped|kept")
	if _, err := partlyRead.Read(make([]byte, len("skipped|"))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    io.Reader
		want string
	}{
		{"reader that cannot seek", iotest.OneByteReader(strings.NewReader(body)), body},
		{"seeker not at its start", partlyRead, "kept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.PutBlob(ctx, "bodies/"+tt.name, tt.r, "text/plain", nil); err != nil {
				t.Fatal(err)
			}
			rc, info, err := s.GetBlob(ctx, "bodies/"+tt.name)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want || info.Size != int64(len(tt.want)) {
				t.Errorf("GetBlob: %d bytes (Size %d), want %d", len(got), info.Size, len(tt.want))
			}
		})
	}

	t.Run("too large", func(t *testing.T) {
		err := s.PutBlob(ctx, "bodies/huge", hugeSeeker{bytes.NewReader(nil)}, "text/plain", nil)
		if err == nil || !strings.Contains(err.Error(), "the limit is 134217728") {
			t.Fatalf("PutBlob of a huge body: %v, want an error naming the limit", err)
		}
		rc, _, err := s.GetBlob(ctx, "bodies/huge")
		if err == nil {
			rc.Close()
			t.Fatal("the huge blob was stored")
		}
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetBlob after a refused PutBlob: %v, want not found", err)
		}
	})
}

// TestPresignPut writes a blob through a presigned URL, without
// credentials, and reads it back.
func TestPresignPut(t *testing.T) {
	t.Parallel()
	s := startBackend(t).newStore(t, clock.NewManual(start))
	ctx := t.Context()
	body := "a file uploaded by a browser"
	u, err := s.PresignPut(ctx, "uploads/presigned", "text/plain", int64(len(body)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT to the presigned URL: HTTP %d", resp.StatusCode)
	}
	rc, info, err := s.GetBlob(ctx, "uploads/presigned")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if string(got) != body || info.ContentType != "text/plain" {
		t.Errorf("GetBlob = %q (%s), want %q (text/plain)", got, info.ContentType, body)
	}
}
