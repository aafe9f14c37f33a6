package local

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/httpapi"
)

// TestSendAttachments sends an Apple text with a small attachment given by
// bytes and a large one uploaded through POST /v1/uploads and its URL, on
// both stores (embedded: parley's own PUT route; aws: a presigned S3 URL),
// and checks what the Apple simulator accepted: one U+FFFC per attachment,
// the current dictionary keys, and blobs that its MMCS serves back,
// encrypted, to the bytes sent.
func TestSendAttachments(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewManual(start)
			st := startStack(t, kind, clk)
			reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "my invoice please"})

			note := []byte("Thank you for your order.\n")
			invoice := bytes.Repeat([]byte("%PDF-1.7 a large invoice "), 80000) // 2 MB, over the API's 1 MiB body cap
			var slot httpapi.UploadSlot
			if code := call(t, "POST", st.URL+"/v1/uploads", map[string]any{"name": "invoice.pdf", "mimeType": "application/pdf", "size": len(invoice)}, &slot); code != http.StatusCreated {
				t.Fatalf("POST /v1/uploads: %d", code)
			}
			req, err := http.NewRequest(slot.Method, slot.URL, bytes.NewReader(invoice))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range slot.Headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("PUT %s: %d", slot.URL, resp.StatusCode)
			}

			res := sendApple(t, st, map[string]any{"type": "text", "text": "Your invoice", "attachments": []any{
				map[string]any{"name": "note.txt", "mimeType": "text/plain", "data": note},
				map[string]any{"name": "invoice.pdf", "mimeType": "application/pdf", "upload": slot.Upload},
			}})

			var sent *json.RawMessage
			for _, m := range st.Apple.Messages(appleCustomer) {
				if m.ID == res.PlatformMessageID {
					sent = &m.Body
				}
			}
			if sent == nil {
				t.Fatalf("the simulator did not accept message %s", res.PlatformMessageID)
			}
			var body struct {
				Type        string            `json:"type"`
				Body        string            `json:"body"`
				Attachments []json.RawMessage `json:"attachments"`
			}
			if err := json.Unmarshal(*sent, &body); err != nil {
				t.Fatal(err)
			}
			if body.Type != "text" || strings.Count(body.Body, "\uFFFC") != 2 || body.Body != "Your invoice\uFFFC\uFFFC" {
				t.Fatalf("sent %s %q, want a text with two U+FFFC", body.Type, body.Body)
			}
			mmcs := &apple.MMCS{Client: &apple.Client{BaseURL: st.URL + "/sim/apple/v1", MSPID: st.Service.Config.Send.Apple.MSPID,
				Secret: st.Service.Config.Send.Apple.Secret, Now: clk.Now}}
			want := [][]byte{note, invoice}
			if len(body.Attachments) != len(want) {
				t.Fatalf("%d attachments, want %d", len(body.Attachments), len(want))
			}
			for i, raw := range body.Attachments {
				var keys map[string]string
				if err := json.Unmarshal(raw, &keys); err != nil {
					t.Fatalf("attachment %d is not a dictionary of strings: %s", i, raw)
				}
				for _, k := range []string{"name", "mimeType", "size", "signature-base64", "url", "owner", "key"} {
					if keys[k] == "" {
						t.Errorf("attachment %d lacks %s: %s", i, k, raw)
					}
				}
				b, err := apple.ParseBlob(raw)
				if err != nil {
					t.Fatal(err)
				}
				if got := download(t, mmcs, b); !bytes.Equal(got, want[i]) {
					t.Errorf("attachment %d (%s) decrypts to %d bytes that are not the %d sent", i, b.Name, len(got), len(want[i]))
				}
			}
		})
	}
}

// download fetches b from the simulator's MMCS and decrypts it.
func download(t *testing.T, m *apple.MMCS, b apple.Blob) []byte {
	t.Helper()
	ctx := context.Background()
	u, err := m.PreDownload(ctx, appleBusiness, b)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := m.Download(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	key, err := apple.ParseKey(b.Key)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := apple.CTR(key, rc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(plain)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
