package payload_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/payload"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
	"github.com/parleyhq/parley/shared/whatsapp"
)

const (
	waBusiness = "106540352242922"
	waCustomer = "447700900123"
	wamid      = "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMM1"
	waToken    = "local-whatsapp-token"
)

// graph is the WhatsApp simulator behind switches that break it the ways
// Meta can.
type graph struct {
	sim *whatsappsim.Simulator
	// expire answers 404 (an expired URL) to that many downloads.
	expire    atomic.Int32
	downloads atomic.Int32
	resolves  atomic.Int32
}

func (g *graph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/whatsapp_business/"):
		g.downloads.Add(1)
		if g.expire.Add(-1) >= 0 {
			http.Error(w, "URL signature expired", http.StatusNotFound)
			return
		}
	case r.Method == http.MethodGet:
		g.resolves.Add(1)
	}
	g.sim.ServeHTTP(w, r)
}

type mediaHarness struct {
	svc    *payload.Service
	g      *graph
	st     *embedded.Store
	clk    *clock.Manual
	events []message.Event
	decode []queue.Job
}

func (h *mediaHarness) Send(_ context.Context, j queue.Job) error {
	h.decode = append(h.decode, j)
	return nil
}

func (h *mediaHarness) Publish(_ context.Context, evs ...message.Event) error {
	h.events = append(h.events, evs...)
	return nil
}

func newMediaHarness(t *testing.T) *mediaHarness {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	g := &graph{sim: whatsappsim.New(whatsappsim.Config{Token: waToken, Now: clk.Now})}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	st, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &mediaHarness{g: g, st: st, clk: clk}
	h.svc = &payload.Service{Store: st, Blobs: st, Publisher: h, Clock: clk, MaxAttempts: 3, Retry: retry.Policy{Attempts: 1}, Decodes: h,
		Media: &whatsapp.Client{BaseURL: srv.URL + "/v25.0", Token: waToken}}
	return h
}

// pending stores the message of media as ingest does: waiting for its
// file.
func (h *mediaHarness) pending(t *testing.T, media message.Media) {
	t.Helper()
	clk, st := h.clk, h.st
	rec := message.Record{ID: "msg_1", Channel: message.WhatsApp, BusinessID: waBusiness, CustomerID: waCustomer, Direction: message.Inbound,
		PlatformMessageID: wamid, Type: message.BodyMedia, Body: &message.Body{Type: message.BodyMedia, Media: &media},
		Status: message.StatusPayloadPending, CreatedAt: clk.Now(), UpdatedAt: clk.Now(), Version: 1}
	if err := st.Apply(context.Background(), store.PutMessage{Message: rec, ExpiresAt: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

func mediaJob(m message.Media, attempt int) queue.Job {
	ref, _ := json.Marshal(m)
	return queue.Job{Channel: message.WhatsApp, BusinessID: waBusiness, CustomerID: waCustomer, PlatformMessageID: wamid, Attempt: attempt,
		Payload: &message.PayloadRef{Kind: message.PayloadMedia, Ref: ref}}
}

func b64(hexSum string) string {
	b, _ := hex.DecodeString(hexSum)
	return base64.StdEncoding.EncodeToString(b)
}

func TestFetchMedia(t *testing.T) {
	photo := bytes.Repeat([]byte("JPEG"), 40000)
	for _, tc := range []struct {
		name string
		// file is what the customer sent; webhookSHA what the webhook said
		// of it ("" takes the file's, in Base64).
		file        []byte
		generated   int64
		webhookSHA  string
		expire      int32
		wantErr     error
		wantResolve int32
	}{
		{name: "fetched", file: photo, wantResolve: 1},
		{name: "URL expired once, resolved again", file: photo, expire: 1, wantResolve: 2},
		{name: "URL expired twice", file: photo, expire: 2, wantErr: whatsapp.ErrURLExpired, wantResolve: 2},
		{name: "webhook's SHA-256 not the file's", file: photo, webhookSHA: b64(strings.Repeat("ab", 32)), wantErr: payload.ErrMediaDigest, wantResolve: 1},
		{name: "over Meta's largest media", generated: whatsapp.MaxInboundMediaSize + 1, wantErr: payload.ErrMediaLimit, wantResolve: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var h *mediaHarness
			var f whatsappsim.MediaFile
			m := message.Media{Type: "image", MimeType: "image/jpeg", Caption: "Here is the damaged parcel"}
			h = newMediaHarness(t)
			if tc.file != nil {
				f = h.g.sim.PutMedia(waBusiness, "image/jpeg", tc.file)
			} else {
				f = h.g.sim.PutGeneratedMedia(waBusiness, "video/mp4", tc.generated)
			}
			m.ID, m.SHA256 = f.ID, tc.webhookSHA
			if m.SHA256 == "" {
				m.SHA256 = b64(f.SHA256)
			}
			h.pending(t, m)
			h.g.expire.Store(tc.expire)
			err := h.svc.Fetch(ctx, mediaJob(m, 1))
			if got := h.g.resolves.Load(); got != tc.wantResolve {
				t.Errorf("%d resolves of the media id, want %d", got, tc.wantResolve)
			}
			key := payload.RawPrefix + "whatsapp/" + waBusiness + "/" + waCustomer + "/" + wamid + "/media"
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Fetch = %v, want %v", err, tc.wantErr)
				}
				if _, _, err := h.st.GetBlob(ctx, key); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a failed fetch left an object: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rc, info, err := h.st.GetBlob(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, tc.file) || info.ContentType != "image/jpeg" {
				t.Errorf("stored %d bytes of %s, want the %d sent", len(got), info.ContentType, len(tc.file))
			}
			if len(h.decode) != 1 || h.decode[0].Key != key {
				t.Fatalf("decode jobs %+v, want one for %s", h.decode, key)
			}
			// A second delivery finds the file and downloads nothing.
			downloads := h.g.downloads.Load()
			if err := h.svc.Fetch(ctx, mediaJob(m, 2)); err != nil || h.g.downloads.Load() != downloads {
				t.Errorf("redelivered fetch: %v, %d downloads more", err, h.g.downloads.Load()-downloads)
			}
			if err := h.svc.Decode(ctx, key, 1); err != nil {
				t.Fatal(err)
			}
			rec, err := h.st.Message(ctx, "msg_1")
			if err != nil {
				t.Fatal(err)
			}
			want := m
			want.Key, want.Size = key, int64(len(tc.file))
			if rec.Status != message.StatusReceived || rec.Body.Media == nil || *rec.Body.Media != want {
				t.Errorf("record %s %+v, want received with %+v", rec.Status, rec.Body.Media, want)
			}
			if len(h.events) != 1 || h.events[0].Type != message.EventReceived || h.events[0].Body.Media.Key != key {
				t.Fatalf("events %+v", h.events)
			}
		})
	}
}

// A media file that fails on its last delivery fails its message, with a
// message.failed event, as an Apple payload does.
func TestFetchMediaGivesUp(t *testing.T) {
	ctx := context.Background()
	m := message.Media{Type: "document", MimeType: "application/pdf", FileName: "receipt.pdf"}
	h := newMediaHarness(t)
	f := h.g.sim.PutMedia(waBusiness, "application/pdf", []byte("%PDF-1.7 receipt"))
	m.ID, m.SHA256 = f.ID, b64(strings.Repeat("00", 32))
	h.pending(t, m)
	for attempt := 1; attempt <= 3; attempt++ {
		if err := h.svc.Fetch(ctx, mediaJob(m, attempt)); !errors.Is(err, payload.ErrMediaDigest) {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		rec, _ := h.st.Message(ctx, "msg_1")
		if want := map[bool]string{true: message.StatusFailed, false: message.StatusPayloadPending}[attempt == 3]; rec.Status != want {
			t.Fatalf("after attempt %d the message is %s, want %s", attempt, rec.Status, want)
		}
	}
	rec, _ := h.st.Message(ctx, "msg_1")
	if rec.Error == nil || rec.Error.Code != message.CodePayloadFailed {
		t.Errorf("error %+v", rec.Error)
	}
	if len(h.events) != 1 || h.events[0].Type != message.EventFailed {
		t.Errorf("events %+v", h.events)
	}
}
