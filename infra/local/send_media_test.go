package local

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/httpapi"
	"github.com/parleyhq/parley/shared/message"
)

// upload puts data through POST /v1/uploads and its URL and returns the
// upload's key.
func upload(t *testing.T, st *Stack, name, mimeType string, data []byte) string {
	t.Helper()
	var slot httpapi.UploadSlot
	if code := call(t, "POST", st.URL+"/v1/uploads", map[string]any{"name": name, "mimeType": mimeType, "size": len(data)}, &slot); code != http.StatusCreated {
		t.Fatalf("POST /v1/uploads: %d", code)
	}
	req, err := http.NewRequest(slot.Method, slot.URL, bytes.NewReader(data))
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
	return slot.Upload
}

// TestSendMedia sends WhatsApp media messages by URL and by upload: parley
// fetches or reads the file, uploads it to the simulated Graph API and
// sends its media id; the simulator holds the very bytes. Files Meta would
// refuse are refused before anything leaves, naming the field.
func TestSendMedia(t *testing.T) {
	st := startStack(t, "embedded", clock.NewManual(start))
	reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "Can I see it?"})

	photo := append([]byte{0xff, 0xd8, 0xff}, bytes.Repeat([]byte("photo"), 2000)...)
	gif := []byte("GIF89a")
	big := make([]byte, 5<<20+1)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/parcel.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(photo)
		case "/parcel.gif":
			w.Header().Set("Content-Type", "image/gif")
			w.Write(gif)
		case "/huge.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(big)
		default:
			http.NotFound(w, r)
		}
	}))
	defer files.Close()
	invoice := bytes.Repeat([]byte("%PDF-1.7 invoice "), 3000)
	key := upload(t, st, "invoice.pdf", "application/pdf", invoice)

	for _, tc := range []struct {
		name    string
		msg     map[string]any
		want    []byte
		wantReq string
	}{
		{"image by url", map[string]any{"type": "image", "url": files.URL + "/parcel.jpg", "caption": "Your parcel"}, photo,
			`{"caption":"Your parcel"}`},
		{"document by upload", map[string]any{"type": "document", "upload": key, "filename": "invoice-2291.pdf", "caption": "Your invoice"}, invoice,
			`{"caption":"Your invoice","filename":"invoice-2291.pdf"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res message.SendResult
			if code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer, "message": tc.msg}, &res); code != http.StatusAccepted {
				t.Fatalf("send: %d %+v", code, res)
			}
			var sent json.RawMessage
			for _, a := range st.WhatsApp.Accepted() {
				if a.WAMID == res.PlatformMessageID {
					sent = a.Request
				}
			}
			var req map[string]json.RawMessage
			json.Unmarshal(sent, &req)
			var media map[string]any
			json.Unmarshal(req[tc.msg["type"].(string)], &media)
			id, _ := media["id"].(string)
			f, ok := st.WhatsApp.MediaFile(id)
			if !ok || !f.Uploaded {
				t.Fatalf("sent %s: its media id is not an upload the simulator holds", sent)
			}
			got, _ := io.ReadAll(f.Open())
			if !bytes.Equal(got, tc.want) {
				t.Errorf("Meta holds %d bytes, not the %d sent", len(got), len(tc.want))
			}
			delete(media, "id")
			if b, _ := json.Marshal(media); string(b) != tc.wantReq {
				t.Errorf("media object %s, want %s besides the id", b, tc.wantReq)
			}
		})
	}

	for _, tc := range []struct {
		name  string
		msg   map[string]any
		field string
	}{
		{"a GIF", map[string]any{"type": "image", "url": files.URL + "/parcel.gif"}, "message.url"},
		{"a GIF named so", map[string]any{"type": "image", "url": files.URL + "/parcel.jpg", "mimeType": "image/gif"}, "message.mimeType"},
		{"over 5 MB", map[string]any{"type": "image", "url": files.URL + "/huge.jpg"}, "message.url"},
		{"missing upload", map[string]any{"type": "document", "upload": "uploads/none"}, "message.upload"},
		{"two sources", map[string]any{"type": "document", "upload": key, "mediaId": "1"}, "message"},
		{"caption on audio", map[string]any{"type": "audio", "mediaId": "1", "caption": "Hi"}, "message.caption"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(st.WhatsApp.Accepted())
			var e apiError
			code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer, "message": tc.msg}, &e)
			if code != http.StatusBadRequest || e.Error.Code != string(message.CodeInvalidMessage) || len(e.Error.Details) == 0 || e.Error.Details[0].Field != tc.field {
				t.Errorf("%d %+v; want invalid_message naming %s", code, e.Error, tc.field)
			}
			if len(st.WhatsApp.Accepted()) != before {
				t.Error("the simulator accepted a message")
			}
		})
	}

	// The same request on Apple sends the file as an attachment.
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "and the invoice?"})
	res := sendApple(t, st, map[string]any{"type": "document", "upload": key, "filename": "invoice-2291.pdf", "caption": "Your invoice"})
	for _, m := range st.Apple.Messages(appleCustomer) {
		if m.ID != res.PlatformMessageID {
			continue
		}
		var body struct {
			Body        string `json:"body"`
			Attachments []struct {
				Name     string `json:"name"`
				MimeType string `json:"mimeType"`
				Size     string `json:"size"`
			} `json:"attachments"`
		}
		json.Unmarshal(m.Body, &body)
		if body.Body != "Your invoice\uFFFC" || len(body.Attachments) != 1 || body.Attachments[0].Name != "invoice-2291.pdf" || body.Attachments[0].MimeType != "application/pdf" {
			t.Errorf("Apple got %s", m.Body)
		}
		return
	}
	t.Errorf("the Apple simulator has no message %s", res.PlatformMessageID)
}
