package apple

import (
	"reflect"
	"testing"

	"github.com/parleyhq/parley/shared/message"
)

// Media messages go on Apple as a text with the file attached.
func TestMediaText(t *testing.T) {
	for _, tc := range []struct {
		name     string
		m        message.Message
		want     message.OutgoingAttachment
		problems message.Problems
	}{
		{"image by url", message.Message{Type: "image", URL: "https://shop.example/p/parcel.png", Caption: "Your parcel"},
			message.OutgoingAttachment{Name: "parcel.png", MimeType: "image/png", URL: "https://shop.example/p/parcel.png"}, nil},
		{"document by upload", message.Message{Type: "document", Upload: "uploads/9f1c", Filename: "invoice.pdf"},
			message.OutgoingAttachment{Name: "invoice.pdf", MimeType: "application/pdf", Upload: "uploads/9f1c"}, nil},
		{"audio with a MIME type", message.Message{Type: "audio", Upload: "uploads/a1", MimeType: "audio/mp4"},
			message.OutgoingAttachment{Name: "audio", MimeType: "audio/mp4", Upload: "uploads/a1"}, nil},
		{"sticker", message.Message{Type: "sticker", Upload: "uploads/s1"},
			message.OutgoingAttachment{Name: "sticker", MimeType: "image/webp", Upload: "uploads/s1"}, nil},
		{"a WhatsApp media id", message.Message{Type: "video", MediaID: "1810293847566475"}, message.OutgoingAttachment{},
			message.Problems{{Field: "message.mediaId", Problem: "is a WhatsApp media id, which Apple cannot read: give url or upload"}}},
		{"no source", message.Message{Type: "image"}, message.OutgoingAttachment{Name: "image", MimeType: "image/jpeg"},
			message.Problems{{Field: "message", Problem: "needs one of url, data and upload"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ps := Validate(tc.m); !reflect.DeepEqual(ps, tc.problems) {
				t.Errorf("Validate = %v, want %v", ps, tc.problems)
			}
			if tc.m.MediaID != "" {
				return
			}
			got := MediaText(tc.m)
			if got.Type != message.TypeText || got.Text != tc.m.Caption || len(got.Attachments) != 1 || !reflect.DeepEqual(got.Attachments[0], tc.want) {
				t.Errorf("MediaText = %+v, want a text %q with %+v", got, tc.m.Caption, tc.want)
			}
		})
	}
}
