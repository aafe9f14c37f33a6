package payload_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/payload"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/store"
)

// discard is a blob store that reads and drops what it is given.
type discard struct{}

func (discard) PutBlob(_ context.Context, _ string, r io.Reader, _ string, _ map[string]string) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func (discard) GetBlob(context.Context, string) (io.ReadCloser, store.BlobInfo, error) {
	return nil, store.BlobInfo{}, store.ErrNotFound
}

// BenchmarkFetch is Fetch of an attachment from the simulator (preDownload,
// download over loopback HTTP, size check, AES-256-CTR) into a store that
// drops it; BenchmarkFetchFloor is AES-256-CTR and io.Copy over the same
// bytes from memory.
func BenchmarkFetch(b *testing.B) {
	for _, size := range []int{1 << 20, 50 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			secret := []byte("parley-local-apple-msp-secret-32")
			srv := httptest.NewServer(applesim.New(applesim.Config{MSPID: mspID, Secret: secret}))
			defer srv.Close()
			mmcs := &apple.MMCS{Client: &apple.Client{BaseURL: srv.URL + "/v1", MSPID: mspID, Secret: secret}}
			file := bytes.Repeat([]byte{7}, size)
			att, err := mmcs.UploadAttachment(context.Background(), business, "f", "application/octet-stream", bytes.NewReader(file), int64(size))
			if err != nil {
				b.Fatal(err)
			}
			ref, _ := json.Marshal(att)
			file = nil
			svc := &payload.Service{Blobs: discard{}, MMCS: mmcs, Retry: retry.Policy{Attempts: 1}, Log: slog.New(slog.DiscardHandler)}
			j := queue.Job{Channel: message.Apple, BusinessID: business, PlatformMessageID: pid, Attempt: 1,
				Payload: &message.PayloadRef{Kind: message.PayloadAttachment, Ref: ref}}
			runtime.GC()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for b.Loop() {
				if err := svc.Fetch(context.Background(), j); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(peakHeapMiB(func() {
				if err := svc.Fetch(context.Background(), j); err != nil {
					b.Fatal(err)
				}
			}), "peak-heap-MiB")
		})
	}
}

func BenchmarkFetchFloor(b *testing.B) {
	for _, size := range []int{1 << 20, 50 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			file := bytes.Repeat([]byte{7}, size)
			key, _ := apple.NewKey()
			runtime.GC()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for b.Loop() {
				r, _ := apple.CTR(key, bytes.NewReader(file))
				io.Copy(io.Discard, r)
			}
			b.StopTimer()
			b.ReportMetric(peakHeapMiB(func() {
				r, _ := apple.CTR(key, bytes.NewReader(file))
				io.Copy(io.Discard, r)
			}), "peak-heap-MiB")
		})
	}
}

// peakHeapMiB runs fn once and returns how far the heap in use rose above
// where it stood before (sampled every millisecond), in MiB: the memory
// the work itself needed, whatever the payload's size.
func peakHeapMiB(fn func()) float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapInuse, m.HeapInuse
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var s runtime.MemStats
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&s)
			peak = max(peak, s.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	return float64(peak-base) / (1 << 20)
}
