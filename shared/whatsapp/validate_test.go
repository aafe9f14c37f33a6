package whatsapp

import (
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/message"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		msg  message.Message
		want message.Problems
	}{
		{"ascii at the limit", text(strings.Repeat("a", 4096)), nil},
		{"ascii one over", text(strings.Repeat("a", 4097)),
			message.Problems{{Field: "message.text", Problem: "4097 characters, the limit is 4096"}}},
		{"two-byte at the limit", text(strings.Repeat("é", 4096)), nil},
		{"two-byte one over", text(strings.Repeat("é", 4097)),
			message.Problems{{Field: "message.text", Problem: "4097 characters, the limit is 4096"}}},
		{"emoji at the limit", text(strings.Repeat("👍", 4096)), nil},
		{"emoji one over", text(strings.Repeat("👍", 4097)),
			message.Problems{{Field: "message.text", Problem: "4097 characters, the limit is 4096"}}},
		{"emoji with skin tone counts two", text(strings.Repeat("a", 4095) + "👍🏽"),
			message.Problems{{Field: "message.text", Problem: "4097 characters, the limit is 4096"}}},
		{"empty text", text(""),
			message.Problems{{Field: "message.text", Problem: "is required"}}},
		{"type not rendered here", message.Message{Type: message.TypeList}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Validate(tt.msg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSupports(t *testing.T) {
	for typ, want := range map[string]bool{
		message.TypeText:    true,
		message.TypeList:    false,
		message.TypeButtons: false,
		"":                  false,
	} {
		if got := Supports(typ); got != want {
			t.Errorf("Supports(%q) = %v, want %v", typ, got, want)
		}
	}
}

func text(s string) message.Message {
	return message.Message{Type: message.TypeText, Text: s}
}
