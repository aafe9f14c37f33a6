package payload_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/payload"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
)

const (
	mspID    = "7d4e2a10-5c3b-4f8e-9a61-0c2b3d4e5f60"
	business = "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70"
	customer = "urn:mbid:AQAAY1x/Wq+Lr0c="
	pid      = "5c6d7e8f-9a0b-4c1d-9e2f-4a5b6c7d8e9f"
)

var dict = `{"bid":"` + apple.BuiltInBID + `","data":{"version":"1.0","requestIdentifier":"req-1","listPicker":{"sections":[{"items":[{"identifier":"sku-1","title":"Apple"}]}]}}}`

// gateway is the simulator behind switches that break it the ways Apple
// can.
type gateway struct {
	sim          *applesim.Simulator
	refuseDecode bool
	// expireDownloads answers 403 to that many downloads.
	expireDownloads atomic.Int32
	downloads       atomic.Int32
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case g.refuseDecode && r.URL.Path == "/v1/decodePayload":
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	case strings.HasPrefix(r.URL.Path, "/mmcs/download/"):
		g.downloads.Add(1)
		if g.expireDownloads.Add(-1) >= 0 {
			http.Error(w, "Forbidden: the download URL has expired", http.StatusForbidden)
			return
		}
	}
	g.sim.ServeHTTP(w, r)
}

type harness struct {
	svc   *payload.Service
	gw    *gateway
	st    *embedded.Store
	mmcs  *apple.MMCS
	clk   *clock.Manual
	sends []queue.Job
}

func (h *harness) Send(_ context.Context, j queue.Job) error {
	h.sends = append(h.sends, j)
	return nil
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	secret := []byte("parley-local-apple-msp-secret-32")
	gw := &gateway{sim: applesim.New(applesim.Config{MSPID: mspID, Secret: secret})}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	st, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mmcs := &apple.MMCS{Client: &apple.Client{BaseURL: srv.URL + "/v1", MSPID: mspID, Secret: secret}}
	h := &harness{gw: gw, st: st, mmcs: mmcs, clk: clk}
	h.svc = &payload.Service{Store: st, Blobs: st, MMCS: mmcs, Publisher: bus.Discard{}, Clock: clk, MaxAttempts: 3,
		Retry: retry.Policy{Attempts: 1}, Decodes: h}
	rec := message.Record{ID: "msg_1", Channel: message.Apple, BusinessID: business, CustomerID: customer, Direction: message.Inbound,
		PlatformMessageID: pid, Type: message.BodyUnsupported, Body: &message.Body{Type: message.BodyUnsupported, Unsupported: "interactiveDataRef"},
		Status: message.StatusPayloadPending, CreatedAt: clk.Now(), UpdatedAt: clk.Now(), Version: 1}
	if err := st.Apply(context.Background(), store.PutMessage{Message: rec, ExpiresAt: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) job(ref []byte, attempt int) queue.Job {
	return queue.Job{Channel: message.Apple, BusinessID: business, CustomerID: customer, PlatformMessageID: pid, Attempt: attempt,
		Payload: &message.PayloadRef{Kind: message.PayloadInteractive, Ref: ref}}
}

// localRef uploads plain as an interactiveDataRef the simulator's
// decodePayload cannot read (only the local decoder can).
func (h *harness) localRef(t *testing.T, plain []byte) []byte {
	t.Helper()
	att, err := h.mmcs.UploadAttachment(context.Background(), business, "", "", bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	b, _ := json.Marshal(att)
	json.Unmarshal(b, &m)
	m["bid"] = apple.BuiltInBID
	b, _ = json.Marshal(m)
	return b
}

func (h *harness) record(t *testing.T) message.Record {
	t.Helper()
	rec, err := h.st.MessageByPlatformID(context.Background(), message.Apple, pid)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func (h *harness) events(t *testing.T) []message.Event {
	t.Helper()
	evs, err := h.st.Events(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func gzipped(s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.Bytes()
}

func TestFetchAndDecode(t *testing.T) {
	tests := []struct {
		name            string
		ref             func(h *harness) []byte
		refuseDecode    bool
		expireDownloads int32
		wantBy          string
		wantDownloads   int32
	}{
		{"decodePayload", func(h *harness) []byte { return h.gw.sim.PayloadRef(apple.BuiltInBID, "Pick", []byte(dict)) }, false, 0, message.DecodedByPlatform, 1},
		{"an expired download URL is asked for again", func(h *harness) []byte { return h.gw.sim.PayloadRef(apple.BuiltInBID, "Pick", []byte(dict)) }, false, 1, message.DecodedByPlatform, 2},
		{"decodePayload refuses: gzip of JSON decoded locally", func(h *harness) []byte { return h.localRef(t, gzipped(dict)) }, true, 0, message.DecodedByGzipJSON, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t)
			ref := tt.ref(h)
			h.gw.refuseDecode = tt.refuseDecode
			h.gw.expireDownloads.Store(tt.expireDownloads)
			if err := h.svc.Fetch(ctx, h.job(ref, 1)); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(h.sends) != 1 || h.sends[0].Key != "raw/apple/"+pid+"/interactive" {
				t.Fatalf("decode jobs %+v, want one for the raw object", h.sends)
			}
			if err := h.svc.Decode(ctx, h.sends[0].Key, 1); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			// Both delivered again: no work is done twice.
			if err := h.svc.Fetch(ctx, h.job(ref, 2)); err != nil {
				t.Fatalf("Fetch again: %v", err)
			}
			if err := h.svc.Decode(ctx, h.sends[0].Key, 2); err != nil {
				t.Fatalf("Decode again: %v", err)
			}
			if got := h.gw.downloads.Load(); got != tt.wantDownloads {
				t.Errorf("%d downloads, want %d", got, tt.wantDownloads)
			}
			rec := h.record(t)
			if rec.Status != message.StatusReceived || rec.Type != message.BodySelection || rec.Body.DecodedBy != tt.wantBy {
				t.Errorf("record %s %s decoded by %q, want received selection by %q", rec.Status, rec.Type, rec.Body.DecodedBy, tt.wantBy)
			}
			evs := h.events(t)
			if len(evs) != 1 || evs[0].Type != message.EventReceived || evs[0].Body.Selections[0].ID != "sku-1" || !evs[0].Unmatched {
				t.Fatalf("events %+v, want one message.received with the selection (unmatched: no req-1 was sent)", evs)
			}
			rc, _, err := h.st.GetBlob(ctx, "decoded/apple/"+pid+"/interactive.json")
			if err != nil {
				t.Fatalf("the decoded object: %v", err)
			}
			rc.Close()
		})
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name string
		// ref is the job's reference; decode runs when fetch succeeds.
		ref          func(t *testing.T, h *harness) []byte
		refuseDecode bool
		want         string
	}{
		{"size larger than the blob", func(t *testing.T, h *harness) []byte {
			return edit(h.gw.sim.PayloadRef(apple.BuiltInBID, "", []byte(dict)), "size", 1)
		}, false, "not the size announced"},
		{"unknown blob (preDownload 404)", func(t *testing.T, h *harness) []byte {
			return []byte(`{"bid":"b","url":"https://mmcs.applesim.invalid/Mx","owner":"o","key":"00` + strings.Repeat("ab", 32) + `","size":10,"signature":"81aa"}`)
		}, false, "HTTP 404"},
		{"wrong key: decodePayload refuses the garbage", func(t *testing.T, h *harness) []byte {
			ref := h.gw.sim.PayloadRef(apple.BuiltInBID, "", []byte(dict))
			var m map[string]any
			json.Unmarshal(ref, &m)
			m["key"] = "00" + strings.Repeat("ab", 32)
			b, _ := json.Marshal(m)
			return b
		}, false, "HTTP 400"},
		{"wrong key, decodePayload 403: local decode finds garbage", func(t *testing.T, h *harness) []byte {
			ref := h.gw.sim.PayloadRef(apple.BuiltInBID, "", []byte(dict))
			var m map[string]any
			json.Unmarshal(ref, &m)
			m["key"] = "00" + strings.Repeat("ab", 32)
			b, _ := json.Marshal(m)
			return b
		}, true, "wrong key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t)
			h.gw.refuseDecode = tt.refuseDecode
			ref := tt.ref(t, h)
			var err error
			for attempt := 1; attempt <= 3; attempt++ {
				h.sends = nil
				if err = h.svc.Fetch(ctx, h.job(ref, attempt)); err == nil {
					err = h.svc.Decode(ctx, h.sends[0].Key, attempt)
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("attempt %d: %v, want an error saying %q", attempt, err, tt.want)
				}
				if rec := h.record(t); (rec.Status == message.StatusFailed) != (attempt == 3) {
					t.Fatalf("attempt %d: status %s", attempt, rec.Status)
				}
			}
			rec := h.record(t)
			if rec.Error == nil || rec.Error.Code != message.CodePayloadFailed {
				t.Errorf("record error %+v, want payload_failed", rec.Error)
			}
			evs := h.events(t)
			if len(evs) != 1 || evs[0].Type != message.EventFailed || evs[0].Error.Code != message.CodePayloadFailed {
				t.Errorf("events %+v, want one message.failed", evs)
			}
			rc, _, err := h.st.GetBlob(ctx, "decoded/apple/"+pid+"/interactive.json")
			if err == nil {
				rc.Close()
			}
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a decoded object was written: %v", err)
			}
		})
	}
}

// edit adds delta to a number of a JSON object.
func edit(raw []byte, key string, delta float64) []byte {
	var m map[string]any
	json.Unmarshal(raw, &m)
	m[key] = m[key].(float64) + delta
	b, _ := json.Marshal(m)
	return b
}
