package local

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/httpapi"
	"github.com/parleyhq/parley/shared/message"
)

// TestCustomerMedia: a WhatsApp customer sends each kind of media; the
// local stack resolves, downloads and stores each file in-process, and the
// message.received event carries a media body with a URL of the local
// stack that serves the very bytes, until it expires.
func TestCustomerMedia(t *testing.T) {
	clk := clock.NewManual(start)
	st := startStack(t, "embedded", clk)
	for _, tc := range []struct {
		req  map[string]any
		want message.Media
	}{
		{map[string]any{"type": "image", "caption": "Here is the damaged parcel", "data": bytes.Repeat([]byte("JPEG"), 5000)},
			message.Media{Type: "image", Caption: "Here is the damaged parcel", MimeType: "image/jpeg", Size: 20000}},
		{map[string]any{"type": "audio", "voice": true, "size": 30000},
			message.Media{Type: "audio", MimeType: "audio/ogg; codecs=opus", Voice: true, Size: 30000}},
		{map[string]any{"type": "video", "caption": "It rattles", "size": 400000},
			message.Media{Type: "video", Caption: "It rattles", MimeType: "video/mp4", Size: 400000}},
		{map[string]any{"type": "document", "filename": "receipt 2291.pdf", "caption": "My receipt", "data": []byte("%PDF-1.7 receipt")},
			message.Media{Type: "document", Caption: "My receipt", FileName: "receipt 2291.pdf", MimeType: "application/pdf", Size: 16}},
		{map[string]any{"type": "sticker", "animated": true, "size": 90000},
			message.Media{Type: "sticker", MimeType: "image/webp", Animated: true, Size: 90000}},
	} {
		t.Run(tc.want.Type, func(t *testing.T) {
			tc.req["businessId"], tc.req["from"] = waBusiness, waCustomer
			var d struct {
				WAMID         string `json:"wamid"`
				WebhookStatus int    `json:"webhookStatus"`
			}
			if code := call(t, "POST", st.URL+"/sim/whatsapp/reply/media", tc.req, &d); code != http.StatusOK || d.WebhookStatus != http.StatusOK {
				t.Fatalf("reply/media: %d, webhook %d", code, d.WebhookStatus)
			}
			st.Service.PayloadJobs.Wait()
			ev := lastEvent(t, st, message.EventReceived)
			if ev.PlatformMessageID != d.WAMID || ev.Body == nil || ev.Body.Type != message.BodyMedia || ev.Body.Media == nil {
				t.Fatalf("event %+v; want the media message %s", ev, d.WAMID)
			}
			m := *ev.Body.Media
			f, ok := st.WhatsApp.MediaFile(m.ID)
			if !ok {
				t.Fatalf("the event's media id %q is not the simulator's", m.ID)
			}
			if m.SHA256 == "" || !strings.HasPrefix(m.Key, "raw/whatsapp/"+waBusiness+"/"+ev.CustomerID+"/") || m.URL == "" || m.URLExpiresAt.IsZero() {
				t.Errorf("media %+v; want the sha256, the key under the conversation and a URL", m)
			}
			want := tc.want
			want.ID, want.SHA256, want.Key, want.URL, want.URLExpiresAt = m.ID, m.SHA256, m.Key, m.URL, m.URLExpiresAt
			if m != want {
				t.Errorf("media\n got %+v\nwant %+v", m, want)
			}
			wantBytes, _ := io.ReadAll(f.Open())
			if got := get(t, m.URL, http.StatusOK); !bytes.Equal(got, wantBytes) {
				t.Errorf("the URL served %d bytes, not the %d the customer sent", len(got), len(wantBytes))
			}

			// A fresh URL on demand; a tampered or expired one is refused.
			var mm httpapi.MessageMedia
			if code := call(t, "GET", st.URL+"/v1/messages/"+ev.MessageID+"/media", nil, &mm); code != http.StatusOK || len(mm.Files) != 1 || mm.Files[0].Key != m.Key {
				t.Fatalf("GET media: %d %+v", code, mm)
			}
			if got := get(t, mm.Files[0].URL, http.StatusOK); !bytes.Equal(got, wantBytes) {
				t.Errorf("the fresh URL served %d bytes", len(got))
			}
			get(t, strings.Replace(m.URL, "signature=", "signature=x", 1), http.StatusForbidden)
			get(t, strings.Replace(m.URL, "/media?", "/medix?", 1), http.StatusForbidden)
			clk.Advance(25 * time.Hour)
			get(t, m.URL, http.StatusForbidden)
		})
	}
}

func get(t *testing.T, url string, want int) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Errorf("GET %s: %d %s, want %d", url, resp.StatusCode, b, want)
	}
	return b
}
