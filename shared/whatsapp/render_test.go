package whatsapp

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/message"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		out  message.Outgoing
		want string
	}{
		{
			name: "text",
			out:  message.Outgoing{BusinessID: "106540352242922", To: "447700900123", Message: text("Your table is booked.")},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"text","text":{"body":"Your table is booked."}}`,
		},
		{
			name: "plus kept",
			out:  message.Outgoing{To: "+447700900123", Message: text("hi")},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"text","text":{"body":"hi"}}`,
		},
		{
			name: "preview url",
			out: message.Outgoing{To: "447700900123", Message: message.Message{
				Type: message.TypeText, Text: "See https://shop.example/r/2291?a=1&b=2", PreviewURL: true}},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"text","text":{"body":"See https://shop.example/r/2291?a=1&b=2","preview_url":true}}`,
		},
		{
			name: "reply",
			out:  message.Outgoing{To: "447700900123", Message: text("Yes"), ReplyToPlatformID: "wamid.HBgM=="},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"text","text":{"body":"Yes"},"context":{"message_id":"wamid.HBgM=="}}`,
		},
		{
			name: "unicode and quotes",
			out:  message.Outgoing{To: "447700900123", Message: text("Café \"<b>\" 👍\nbye")},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"text","text":{"body":"Café \"<b>\" 👍\nbye"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.out)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Render =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name     string
		out      message.Outgoing
		wantCode message.Code
		wantText string
	}{
		{"type not supported", message.Outgoing{To: "1", Message: message.Message{Type: message.TypeList}},
			message.CodeUnsupportedOnChannel, `"list"`},
		{"too long", message.Outgoing{To: "1", Message: text(strings.Repeat("x", 4097))},
			message.CodeInvalidMessage, "message.text: 4097 characters, the limit is 4096"},
		{"no recipient", message.Outgoing{Message: text("hi")},
			message.CodeInvalidRequest, "to: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.out)
			var e *message.Error
			if !errors.As(err, &e) {
				t.Fatalf("Render error = %v, want a *message.Error", err)
			}
			if e.Code != tt.wantCode || !strings.Contains(e.Error(), tt.wantText) {
				t.Errorf("Render error = %q (%s), want code %s mentioning %q", e.Error(), e.Code, tt.wantCode, tt.wantText)
			}
		})
	}
}
