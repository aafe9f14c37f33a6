package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/message"
)

func mediaMsg(wamid string, sec int64, m message.Media, replyTo string) message.InboundItem {
	it := msg(wamid, unix(sec), &message.Body{Type: message.BodyMedia, Media: &m}, replyTo)
	ref, _ := json.Marshal(m)
	it.Payloads = []message.PayloadRef{{Kind: message.PayloadMedia, Ref: ref}}
	return it
}

// mediaCases are the media webhooks of testdata/media and what Parse must
// make of them: a media body, and the file to fetch by its media id.
var mediaCases = []struct {
	file    string
	items   []message.InboundItem
	skipped []Skipped
}{
	{"image.json", []message.InboundItem{mediaMsg("wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMM1", 1760001001, message.Media{Type: "image",
		Caption: "Here is the damaged parcel", MimeType: "image/jpeg", SHA256: "m8bPBKdFmtsiyD9iiS2l5rPQxD2HQmo5mD3QYa6x6mU=", ID: "1093847561029384"}, "")}, nil},
	{"audio_voice.json", []message.InboundItem{mediaMsg("wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMM2", 1760001002, message.Media{Type: "audio",
		MimeType: "audio/ogg; codecs=opus", SHA256: "1l3wI1dRkfv7Bsc8S4z7S3Y8sfmj7QJW6t8qxrGhqzc=", ID: "1184756302918475", Voice: true}, "")}, nil},
	{"audio_file.json", []message.InboundItem{mediaMsg("wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMM3", 1760001003, message.Media{Type: "audio",
		MimeType: "audio/mpeg", SHA256: "9f3c2b1a0e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b", ID: "1275647382910293"}, "")}, nil},
	{"video.json", []message.InboundItem{mediaMsg("wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMM4", 1760001004, message.Media{Type: "video",
		Caption: "It rattles when I shake it", MimeType: "video/mp4", SHA256: "Vb0R0cn1Y5gqg6dQ0mP0N2sLk1a8cQdI5X1g7GwJm3k=", ID: "1366538473829104"}, "")}, nil},
	{"document.json", []message.InboundItem{mediaMsg("wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMM5", 1760001005, message.Media{Type: "document",
		Caption: "My receipt", FileName: "receipt-2291.pdf", MimeType: "application/pdf", SHA256: "3n2Yb8s0ZlVqYt5b1Xr2cJ9pA0k7W4eQm6uH8gD1fCo=", ID: "1457429564738201"},
		"wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSOUE4QjdDNkQ1RTRGM0EyQjFDAA==")}, nil},
	{"sticker_animated.json", []message.InboundItem{mediaMsg("wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMM6", 1760001006, message.Media{Type: "sticker",
		MimeType: "image/webp", SHA256: "aG9wZWZ1bGx5IGEgdmFsaWQgc2hhMjU2IGRpZ2VzdCE=", ID: "1548310655647382", Animated: true}, "")}, nil},
	{"sticker_static.json", []message.InboundItem{mediaMsg("wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMM7", 1760001007, message.Media{Type: "sticker",
		MimeType: "image/webp", SHA256: "c3RhdGljIHN0aWNrZXIgZGlnZXN0IGluIGJhc2U2NCE=", ID: "1639201746556473"}, "")}, nil},
	{"media_broken.json", []message.InboundItem{mediaMsg("wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMM1", 1760001001, message.Media{Type: "document",
		FileName: "notes.txt", MimeType: "text/plain", SHA256: "dGV4dA==", ID: "1720192837465564"}, "")},
		[]Skipped{{Path: "entry[0].changes[0].value.messages[0]", Reason: "image.id is missing"}, {Path: "entry[0].changes[0].value.messages[1]", Reason: "video is missing"}}},
}

func TestParseMedia(t *testing.T) {
	for _, tc := range mediaCases {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "media", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(body, received)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Items, tc.items) {
				t.Errorf("items:\n got %+v\nwant %+v", got.Items, tc.items)
			}
			if !reflect.DeepEqual(got.Skipped, tc.skipped) {
				t.Errorf("skipped:\n got %+v\nwant %+v", got.Skipped, tc.skipped)
			}
			// The file's reference is the body's media, read back whole.
			for _, it := range got.Items {
				var m message.Media
				if err := json.Unmarshal(it.Payloads[0].Ref, &m); err != nil || !reflect.DeepEqual(&m, it.Body.Media) {
					t.Errorf("payload ref %s does not read back as the body's media", it.Payloads[0].Ref)
				}
			}
		})
	}
}

func TestMediaInfoAnswers(t *testing.T) {
	for _, tc := range []struct {
		file string
		want MediaInfo
	}{
		{"media_info.json", MediaInfo{ID: "1093847561029384", URL: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1093847561029384&ext=1760001300&hash=ATsQ2Kx7bYw1nV4pLm9",
			MimeType: "image/jpeg", SHA256: "9bc6cf04a7459adb22c83f62892da5e6b3d0c43d87426a39983dd061aeb1ea65", FileSize: 303833}},
		{"media_info_number.json", MediaInfo{ID: "1366538473829104", URL: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1366538473829104&ext=1760001300&hash=ATt9wQ",
			MimeType: "video/mp4", SHA256: "55bd11d1c9f5639a2a83a750d263f4376b0b935af07107423d5f5883b1a26f79", FileSize: 52428800}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "media", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer tok" || r.URL.Path != "/v25.0/"+tc.want.ID {
					http.Error(w, "no", http.StatusUnauthorized)
					return
				}
				w.Write(body)
			}))
			defer srv.Close()
			c := &Client{BaseURL: srv.URL + "/v25.0", Token: "tok"}
			got, err := c.Media(context.Background(), tc.want.ID)
			if err != nil || got != tc.want {
				t.Errorf("Media = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestDownload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer tok":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`))
		case r.URL.Query().Get("ext") == "old":
			http.Error(w, "URL signature expired", http.StatusNotFound)
		case r.URL.Query().Get("ext") == "busy":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.Write([]byte("the file"))
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name, token, ext string
		want             string
		expired          bool
		code             message.Code
		retryable        bool
	}{
		{"served", "tok", "now", "the file", false, "", false},
		{"expired", "tok", "old", "", true, "", false},
		{"no token", "", "now", "", false, message.CodeUnauthorized, false},
		{"server trouble", "tok", "busy", "", false, message.CodePlatformUnavailable, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{BaseURL: srv.URL, Token: tc.token}
			rc, err := c.Download(context.Background(), srv.URL+"/whatsapp_business/attachments/?mid=1&ext="+tc.ext)
			if tc.want != "" {
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				if string(b) != tc.want {
					t.Errorf("body %q", b)
				}
				return
			}
			if errors.Is(err, ErrURLExpired) != tc.expired {
				t.Errorf("err = %v, expired %v", err, tc.expired)
			}
			var me *message.Error
			if tc.code != "" && (!errors.As(err, &me) || me.Code != tc.code || me.Retryable != tc.retryable) {
				t.Errorf("err = %#v, want %s retryable %v", err, tc.code, tc.retryable)
			}
		})
	}
}

func TestUploadMedia(t *testing.T) {
	answer, err := os.ReadFile(filepath.Join("testdata", "media", "upload_answer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v25.0/"+business+"/media" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusBadRequest)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f, h, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(f)
		got = map[string]string{"messaging_product": r.FormValue("messaging_product"), "type": r.FormValue("type"),
			"filename": h.Filename, "content-type": h.Header.Get("Content-Type"), "file": string(b)}
		w.Write(answer)
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL + "/v25.0", Token: "tok"}
	id, err := c.UploadMedia(context.Background(), business, "application/pdf", "invoice.pdf", strings.NewReader("%PDF-1.7 invoice"))
	if err != nil || id != "1810293847566475" {
		t.Fatalf("UploadMedia = %q, %v", id, err)
	}
	want := map[string]string{"messaging_product": "whatsapp", "type": "application/pdf", "filename": "invoice.pdf",
		"content-type": "application/pdf", "file": "%PDF-1.7 invoice"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Meta received %v, want %v", got, want)
	}
}

// mediaSends are media messages of the send API and the request Meta must
// receive for each (once the file is on Meta), or the problems that keep
// them from leaving.
var mediaSends = []struct {
	name     string
	m        message.Message
	want     string
	problems message.Problems
}{
	{"image by id with a caption", message.Message{Type: "image", MediaID: "1810293847566475", Caption: "Your parcel"},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"image","image":{"id":"1810293847566475","caption":"Your parcel"}}`, nil},
	{"document with filename and caption", message.Message{Type: "document", MediaID: "1810293847566476", Filename: "invoice-2291.pdf", Caption: "Your invoice"},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"document","document":{"id":"1810293847566476","caption":"Your invoice","filename":"invoice-2291.pdf"}}`, nil},
	{"audio by link", message.Message{Type: "audio", URL: "https://shop.example/hello.mp3"},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"audio","audio":{"link":"https://shop.example/hello.mp3"}}`, nil},
	{"video as a reply", message.Message{Type: "video", MediaID: "1810293847566477", Caption: "How to open it", ReplyTo: "wamid.X"},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"video","video":{"id":"1810293847566477","caption":"How to open it"},"context":{"message_id":"wamid.X"}}`, nil},
	{"sticker", message.Message{Type: "sticker", MediaID: "1810293847566478"},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"sticker","sticker":{"id":"1810293847566478"}}`, nil},
	{"caption at the limit", message.Message{Type: "image", MediaID: "1", Caption: strings.Repeat("👍", CaptionLimit)},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"image","image":{"id":"1","caption":"` + strings.Repeat("👍", CaptionLimit) + `"}}`, nil},
	{"caption over the limit", message.Message{Type: "image", MediaID: "1", Caption: strings.Repeat("é", CaptionLimit+1)}, "",
		message.Problems{{Field: "message.caption", Problem: "1025 characters, the limit is 1024"}}},
	{"no source", message.Message{Type: "image"}, "",
		message.Problems{{Field: "message", Problem: "a image message needs one of url, mediaId and upload"}}},
	{"two sources", message.Message{Type: "document", MediaID: "1", Upload: "uploads/a"}, "",
		message.Problems{{Field: "message", Problem: "gives mediaId and upload: exactly one of url, mediaId and upload is allowed"}}},
	{"not an upload key", message.Message{Type: "document", Upload: "raw/x"}, "",
		message.Problems{{Field: "message.upload", Problem: `"raw/x" is not a key POST /v1/uploads returned`}}},
	{"a GIF", message.Message{Type: "image", MediaID: "1", MimeType: "image/gif"}, "",
		message.Problems{{Field: "message.mimeType", Problem: `"image/gif" is not taken for image messages: WhatsApp takes image/jpeg, image/png`}}},
	{"Ogg with codecs", message.Message{Type: "audio", MediaID: "1", MimeType: "audio/ogg; codecs=opus"},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"audio","audio":{"id":"1"}}`, nil},
	{"caption on a sticker", message.Message{Type: "sticker", MediaID: "1", Caption: "Hi"}, "",
		message.Problems{{Field: "message.caption", Problem: "not used by sticker messages"}}},
	{"filename on an image", message.Message{Type: "image", MediaID: "1", Filename: "a.jpg"}, "",
		message.Problems{{Field: "message.filename", Problem: "not used by image messages"}}},
	{"link not http", message.Message{Type: "video", URL: "ftp://shop.example/v.mp4"}, "",
		message.Problems{{Field: "message.url", Problem: "must be an http or https URL"}}},
}

func TestMediaSends(t *testing.T) {
	for _, tc := range mediaSends {
		t.Run(tc.name, func(t *testing.T) {
			if ps := Validate(tc.m); !reflect.DeepEqual(ps, tc.problems) {
				t.Errorf("Validate = %v, want %v", ps, tc.problems)
			}
			if tc.want == "" {
				return
			}
			o := message.Outgoing{BusinessID: business, To: customer, Message: tc.m, ReplyToPlatformID: tc.m.ReplyTo}
			got, err := Render(o)
			if err != nil || string(got) != tc.want {
				t.Errorf("Render =\n %s, %v\nwant\n %s", got, err, tc.want)
			}
		})
	}
}

func TestWebPAnimated(t *testing.T) {
	vp8x := func(flags byte) []byte {
		return append([]byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00"), flags, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	for _, tc := range []struct {
		name string
		head []byte
		want bool
	}{
		{"animated", vp8x(0x02), true},
		{"extended, still", vp8x(0x10), false},
		{"simple", []byte("RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00\x00\x00\x00\x00\x00"), false},
		{"not WebP", []byte("GIF89a"), false},
	} {
		if got := webpAnimated(tc.head); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// With adapt, a caption or filename WhatsApp does not show is left out,
// and the answer says so; without it they are refused.
func TestAdaptMedia(t *testing.T) {
	for _, tc := range []struct {
		in, want message.Message
		reason   string
	}{
		{message.Message{Type: "audio", MediaID: "1", Caption: "Listen"}, message.Message{Type: "audio", MediaID: "1"},
			"WhatsApp shows no caption on audio messages; it was left out"},
		{message.Message{Type: "image", MediaID: "1", Caption: "Parcel", Filename: "p.jpg"}, message.Message{Type: "image", MediaID: "1", Caption: "Parcel"},
			"WhatsApp takes a filename only on documents; it was left out"},
		{message.Message{Type: "document", MediaID: "1", Caption: "Invoice", Filename: "i.pdf"}, message.Message{Type: "document", MediaID: "1", Caption: "Invoice", Filename: "i.pdf"}, ""},
	} {
		got, ad, err := Adapt(tc.in, message.Conversation{}, true)
		if err != nil || !reflect.DeepEqual(got, tc.want) || (tc.reason == "") != (ad == nil) || (ad != nil && ad.Reason != tc.reason) {
			t.Errorf("Adapt(%+v) = %+v, %+v, %v; want %+v, %q", tc.in, got, ad, err, tc.want, tc.reason)
		}
		if len(Validate(got)) != 0 {
			t.Errorf("the adapted message is not valid: %v", Validate(got))
		}
	}
}
