package itest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/faultproxy"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/awsenv/adapters"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/payload"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/dynamo"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// TestFetchUnderAWSFaults fetches customers' files, small ones (one
// PutObject) and ones over a part (a multipart upload), while S3 fails a
// share of the uploads' requests before or after acting on them. Each job
// is delivered again after a failure, as SQS does. After every delivery
// the file's raw object is either absent or whole, never partial (its
// presence is what marks the file fetched), and every file ends fetched,
// then decoded into its message.
func TestFetchUnderAWSFaults(t *testing.T) {
	const (
		seed     = 20261205
		deadline = 3 * time.Second
	)
	f := startFaultyAWS(t, seed,
		faultproxy.Rule{Op: "S3.PutObject", Rate: 0.5, Faults: someFaults},
		faultproxy.Rule{Op: "S3.CreateMultipartUpload", Rate: 0.3, Faults: someFaults},
		faultproxy.Rule{Op: "S3.UploadPart", Rate: 0.4, Faults: someFaults},
		faultproxy.Rule{Op: "S3.CompleteMultipartUpload", Rate: 0.6, Faults: someFaults},
		faultproxy.Rule{Op: "S3.HeadObject", Rate: 0.2, Faults: someFaults},
	)
	f.proxy.Delay = deadline + time.Second

	sim := whatsappsim.New(whatsappsim.Config{Token: local.DefaultWhatsAppToken})
	graph := httptest.NewServer(sim)
	defer graph.Close()
	clk := clock.System{}
	st := adapters.Store(f.client, config.AWS{Table: faultTable, Bucket: faultBucket}, clk)
	logs := &logCount{n: map[string]int{}}
	svc := &payload.Service{Store: st, Blobs: st, Publisher: bus.Discard{}, Clock: clk, Log: slog.New(logs), MaxAttempts: 20,
		Retry: retry.Policy{Attempts: 1}, Media: &whatsapp.Client{BaseURL: graph.URL + "/v25.0", Token: local.DefaultWhatsAppToken}}

	rng := rand.New(rand.NewPCG(seed, 3))
	sizes := []int{150 << 10, 150 << 10, 150 << 10, 150 << 10, dynamo.PartSize + 1<<20, dynamo.PartSize + 1<<20, dynamo.PartSize + 3}
	ctx := context.Background()
	deliveries := 0
	for i, size := range sizes {
		file := make([]byte, size)
		for j := range file {
			file[j] = byte(rng.Uint32())
		}
		mf := sim.PutMedia(waBusiness, "video/mp4", file)
		sum, _ := hex.DecodeString(mf.SHA256)
		m := message.Media{Type: "video", MimeType: "video/mp4", ID: mf.ID, SHA256: base64.StdEncoding.EncodeToString(sum)}
		pid := fmt.Sprintf("wamid.FAULTS%02d", i)
		rec := message.Record{ID: fmt.Sprintf("msg_faults%02d", i), Channel: message.WhatsApp, BusinessID: waBusiness, CustomerID: "447700900555",
			Direction: message.Inbound, PlatformMessageID: pid, Type: message.BodyMedia, Body: &message.Body{Type: message.BodyMedia, Media: &m},
			Status: message.StatusPayloadPending, CreatedAt: time.Now(), UpdatedAt: time.Now(), Version: 1}
		if err := f.direct.Apply(ctx, store.PutMessage{Message: rec, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ref, _ := json.Marshal(m)
		job := queue.Job{Channel: message.WhatsApp, BusinessID: waBusiness, CustomerID: "447700900555", PlatformMessageID: pid,
			Payload: &message.PayloadRef{Kind: message.PayloadMedia, Ref: ref}}
		key := payload.MediaKey(job)

		var err error
		for job.Attempt = 1; job.Attempt <= svc.MaxAttempts; job.Attempt++ {
			deliveries++
			jctx, cancel := context.WithTimeout(ctx, deadline)
			err = svc.Fetch(jctx, job)
			cancel()
			if stored := f.object(t, key); stored != nil && !bytes.Equal(stored, file) {
				t.Fatalf("%s: after delivery %d (%v) the object holds %d bytes, not the %d-byte file", key, job.Attempt, err, len(stored), size)
			}
			if err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("%s: not fetched in %d deliveries: %v", key, svc.MaxAttempts, err)
		}
		if stored := f.object(t, key); !bytes.Equal(stored, file) {
			t.Fatalf("%s: fetched, but the object holds %d bytes, not the %d-byte file", key, len(stored), size)
		}
		if err := svc.Decode(ctx, key, 1); err != nil {
			t.Fatalf("%s: decode: %v", key, err)
		}
		got, err := f.direct.Message(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if md := got.Body.Media; got.Status != message.StatusReceived || md == nil || md.Key != key || md.Size != int64(size) {
			t.Fatalf("%s: the message after decoding: %s, %+v", key, got.Status, md)
		}
	}
	t.Logf("%d files, %d deliveries; faults injected:%s", len(sizes), deliveries, summary(injected(f.proxy)))
	t.Logf("logged:%s", summary(logs.counts()))
}

// object reads the object under key straight from moto; nil when there is
// none.
func (f *faultyAWS) object(t *testing.T, key string) []byte {
	t.Helper()
	rc, _, err := f.direct.GetBlob(context.Background(), key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
