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

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

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

// failingReader yields n bytes, then fails.
type failingReader struct{ n int }

var errReader = errors.New("the body broke off")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errReader
	}
	n := min(len(p), r.n)
	clear(p[:n])
	r.n -= n
	return n, nil
}

// TestPutBlobMultipart streams bodies larger than a part: one is stored
// whole, with its metadata; one whose reader fails after its first part
// is aborted, leaving neither an object nor an upload behind.
func TestPutBlobMultipart(t *testing.T) {
	t.Parallel()
	b := startBackend(t)
	s := b.newStore(t, clock.NewManual(start))
	ctx := t.Context()

	body := bytes.Repeat([]byte("0123456789abcdef"), (PartSize+PartSize/2)/16)
	if err := s.PutBlob(ctx, "big/two parts ü", iotest.HalfReader(bytes.NewBuffer(body)), "application/octet-stream",
		map[string]string{"Origin": "test"}); err != nil {
		t.Fatal(err)
	}
	rc, info, err := s.GetBlob(ctx, "big/two parts ü")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GetBlob: %d bytes, %v; want the %d put", len(got), err, len(body))
	}
	if info.Size != int64(len(body)) || info.ContentType != "application/octet-stream" || info.Meta["origin"] != "test" {
		t.Errorf("GetBlob's info %+v", info)
	}
	if st, err := s.StatBlob(ctx, "big/two parts ü"); err != nil || st.Size != info.Size || st.Meta["origin"] != "test" {
		t.Errorf("StatBlob = %+v, %v; want %+v", st, err, info)
	}

	err = s.PutBlob(ctx, "big/broken", &failingReader{n: PartSize + 1000}, "application/octet-stream", nil)
	if !errors.Is(err, errReader) {
		t.Fatalf("PutBlob of a failing body: %v, want its error", err)
	}
	if _, _, err := s.GetBlob(ctx, "big/broken"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetBlob after a failed PutBlob: %v, want not found", err)
	}
	if _, err := s.StatBlob(ctx, "big/broken"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StatBlob after a failed PutBlob: %v, want not found", err)
	}
	if n := b.uploads(t, s.bucket); n != 0 {
		t.Errorf("%d multipart uploads left after the failure, want 0 (aborted)", n)
	}
}

// uploads counts the multipart uploads in progress in bucket, as the AWS
// SDK reads them.
func (b backend) uploads(t *testing.T, bucket string) int {
	t.Helper()
	out, err := b.s3.ListMultipartUploads(t.Context(), &s3sdk.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}
