package applesim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/message"
)

func TestReplyWithAttachments(t *testing.T) {
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 5000)
	pdf := []byte("%PDF-1.7 a receipt")
	tests := []struct {
		name     string
		text     string
		files    []File
		wantBody string
	}{
		{"a photo with text", "Here is my photo", []File{{Name: "IMG_0001.JPG", MimeType: "image/jpeg", Data: photo}}, "Here is my photo \uFFFC"},
		{"two files alone", "", []File{{Name: "IMG_0001.JPG", MimeType: "image/jpeg", Data: photo}, {Name: "receipt 1.pdf", MimeType: "application/pdf", Data: pdf}}, "\uFFFC\uFFFC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wh := &webhook{}
			hook := httptest.NewServer(wh)
			defer hook.Close()
			base := mount(t, New(Config{MSPID: mspID, Secret: secret, WebhookURL: hook.URL, Now: func() time.Time { return now }}))
			req, _ := json.Marshal(Reply{BusinessID: business, From: customer, Text: tt.text, Attachments: tt.files})
			if status, answer := postJSON(t, base+"/reply", string(req)); status != http.StatusOK || !strings.Contains(string(answer), `"webhookStatus":200`) {
				t.Fatalf("POST /reply = %d %s", status, answer)
			}
			wh.mu.Lock()
			defer wh.mu.Unlock()
			if len(wh.items) != 1 {
				t.Fatalf("the webhook parsed %d items, want 1", len(wh.items))
			}
			item := wh.items[0]
			if item.Body == nil || item.Body.Text != tt.wantBody || len(item.Payloads) != len(tt.files) {
				t.Fatalf("parsed %+v body %+v; want body %q and %d payloads", item, item.Body, tt.wantBody, len(tt.files))
			}

			raw, err := apple.ReadBody(bytes.NewReader(wh.raw[0]), "gzip", 1<<20, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Attachments []map[string]any `json:"attachments"`
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
			mmcs := &apple.MMCS{Client: newClient(base, secret)}
			for i, f := range tt.files {
				dict := body.Attachments[i]
				var keys []string
				for k := range dict {
					keys = append(keys, k)
				}
				if want := []string{"key", "mimeType", "name", "owner", "signature", "size", "url"}; !sameSet(keys, want) {
					t.Errorf("attachments[%d] has keys %v, want %v", i, keys, want)
				}
				if _, isNumber := dict["size"].(float64); !isNumber {
					t.Errorf("attachments[%d].size = %#v, want a number", i, dict["size"])
				}
				p := item.Payloads[i]
				if p.Kind != message.PayloadAttachment || p.Index != i {
					t.Errorf("payload %d = %s #%d, want attachment #%d", i, p.Kind, p.Index, i)
				}
				want := message.Attachment{Name: f.Name, MimeType: f.MimeType, Size: int64(len(f.Data))}
				if got := item.Body.Attachments[i]; !reflect.DeepEqual(got, want) {
					t.Errorf("body attachment %d = %+v, want %+v", i, got, want)
				}
				b, err := apple.ParseBlob(p.Ref)
				if err != nil {
					t.Fatalf("attachments[%d]: %v", i, err)
				}
				u, err := mmcs.PreDownload(t.Context(), business, b)
				if err != nil {
					t.Fatalf("attachments[%d]: preDownload: %v", i, err)
				}
				rc, err := mmcs.Download(t.Context(), u)
				if err != nil {
					t.Fatalf("attachments[%d]: download: %v", i, err)
				}
				sealed, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(sealed, f.Data) {
					t.Errorf("attachments[%d] is stored in the clear", i)
				}
				if plain := ctrDecrypt(t, b.Key, sealed); !bytes.Equal(plain, f.Data) {
					t.Errorf("attachments[%d] decrypts to %d bytes that are not the file's %d", i, len(plain), len(f.Data))
				}
			}
			if len(tt.files) == 2 && body.Attachments[0]["key"] == body.Attachments[1]["key"] {
				t.Error("two attachments share a key; each needs a fresh one")
			}
		})
	}
}

func TestReplyWithAttachmentsRefused(t *testing.T) {
	jpeg := `{"name":"IMG_0001.JPG","mimeType":"image/jpeg","data":"/9j/4A=="}`
	who := `"businessId":"` + business + `","from":"` + customer + `"`
	tests := []struct {
		name   string
		reply  string
		wantIn string
	}{
		{"no name", `{` + who + `,"attachments":[{"mimeType":"image/jpeg","data":"/9j/4A=="}]}`, "attachments[0].name: is required"},
		{"no MIME type", `{` + who + `,"attachments":[` + jpeg + `,{"name":"a.png","data":"iVBORw=="}]}`, "attachments[1].mimeType: is required"},
		{"no data", `{` + who + `,"attachments":[{"name":"a.png","mimeType":"image/png"}]}`, "attachments[0].data: is empty"},
		{"data not Base64", `{` + who + `,"attachments":[{"name":"a.png","mimeType":"image/png","data":"not base64!"}]}`, "not valid JSON"},
		{"on typing", `{` + who + `,"type":"typing_start","attachments":[` + jpeg + `]}`, "no text and no attachments"},
		{"on an answer", `{"action":"select","replyTo":"x","ids":["sku-1"],"attachments":[` + jpeg + `]}`, "an action carries no attachments"},
		{"neither text nor attachments", `{` + who + `,"attachments":[]}`, "text or attachments is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := mount(t, New(Config{MSPID: mspID, Secret: secret, WebhookURL: "http://127.0.0.1:1/unused"}))
			status, answer := postJSON(t, base+"/reply", tt.reply)
			if status != http.StatusBadRequest || !strings.Contains(string(answer), tt.wantIn) {
				t.Errorf("POST /reply = %d %s; want 400 mentioning %s", status, answer, tt.wantIn)
			}
		})
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
		if seen[s] < 0 {
			return false
		}
	}
	return true
}
