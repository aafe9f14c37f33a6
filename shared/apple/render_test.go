package apple

import (
	"errors"
	"reflect"
	"testing"

	"github.com/parleyhq/parley/shared/message"
)

func TestSupports(t *testing.T) {
	for _, tt := range []struct {
		typ  string
		want bool
	}{
		{message.TypeText, true},
		{message.TypeList, false},
		{message.TypeRichLink, false},
		{message.TypeTemplate, false},
		{"", false},
	} {
		if got := Supports(tt.typ); got != tt.want {
			t.Errorf("Supports(%q) = %v, want %v", tt.typ, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	long := make([]rune, 20000)
	for i := range long {
		long[i] = 'é'
	}
	tests := []struct {
		name string
		m    message.Message
		want message.Problems
	}{
		{"text", message.Message{Type: "text", Text: "Hello 👋"}, nil},
		{"long text has no limit", message.Message{Type: "text", Text: string(long)}, nil},
		{"text without text", message.Message{Type: "text"}, message.Problems{{Field: "message.text", Problem: "is required"}}},
		{"list", message.Message{Type: "list"}, message.Problems{{Field: "message.type", Problem: `"list" cannot be sent on the apple channel`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Validate(tt.m); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	out := func(text string) message.Outgoing {
		return message.Outgoing{
			MessageID:         "msg_1",
			BusinessID:        testBusiness,
			To:                testCustomer,
			Message:           message.Message{Type: "text", Text: text},
			PlatformMessageID: "0f6d1d8e-4a1b-4a2e-9c7d-5b1e2f3a4c5d",
		}
	}
	tests := []struct {
		name string
		o    message.Outgoing
		want string
	}{
		{"text", out("Your order ships today <b>&</b> 📦"),
			`{"v":1,"id":"0f6d1d8e-4a1b-4a2e-9c7d-5b1e2f3a4c5d","type":"text","sourceId":"` + testBusiness +
				`","destinationId":"` + testCustomer + `","body":"Your order ships today \u003cb\u003e\u0026\u003c/b\u003e 📦"}`},
		{"empty text leaves body out", out(""),
			`{"v":1,"id":"0f6d1d8e-4a1b-4a2e-9c7d-5b1e2f3a4c5d","type":"text","sourceId":"` + testBusiness +
				`","destinationId":"` + testCustomer + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.o)
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
	_, err := Render(message.Outgoing{BusinessID: testBusiness, To: testCustomer, PlatformMessageID: "x", Message: message.Message{Type: "list"}})
	var e *message.Error
	if !errors.As(err, &e) || e.Code != message.CodeUnsupportedOnChannel {
		t.Errorf("Render of a list = %v, want unsupported_on_channel", err)
	}
	if _, err := Render(message.Outgoing{BusinessID: testBusiness, To: testCustomer, Message: message.Message{Type: "text", Text: "hi"}}); err == nil {
		t.Error("Render without an Apple message id succeeded")
	}
}
