package apple

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/message"
)

func TestAdapt(t *testing.T) {
	conv := func(caps ...string) message.Conversation {
		return message.Conversation{Channel: message.Apple, Capabilities: caps}
	}
	mac := conv("QUICK", "LIST", "TIME", "AUTH", "AUTH2")
	bigList := with(fruitList, func(m *message.Message) {
		m.Sections = []message.Section{{Title: "Many", Items: options(6)}}
		m.Bubble, m.ReplyBubble, m.Images = nil, nil, nil
	})
	slotList := []message.Option{
		{ID: "slot-1", Title: "Thu 10 Jul 10:00–11:00 UTC-07:00"},
		{ID: "slot-2", Title: "Thu 10 Jul 11:00–11:30 UTC-07:00"},
	}
	ctaImage := message.Message{Type: message.TypeCTAURL, Header: &message.Header{Type: "image", URL: "https://img.example/h.jpg"},
		Body: "See the cabinet", Button: "Open", URL: "https://example.com/p/123"}
	ctaText := message.Message{Type: message.TypeCTAURL, Header: &message.Header{Type: "text", Text: "New in"},
		Body: "See the cabinet", Footer: "Example Shop", Button: "Open", URL: "https://example.com/p/123", ReplyTo: "msg_9"}

	tests := []struct {
		name  string
		m     message.Message
		conv  message.Conversation
		adapt bool
		want  message.Message
		// wantTo is the adaptation's To; "" means none.
		wantTo string
		// wantCode is the error's code; wantText what it must say.
		wantCode message.Code
		wantText string
	}{
		{"unknown device shows a list", fruitList, conv(), false, fruitList, "", "", ""},
		{"device with LIST", fruitList, conv("list"), false, fruitList, "", "", ""},
		{"device without LIST", fruitList, conv("QUICK", "TIME"), false, message.Message{}, "", message.CodeUnsupportedOnDevice, "lacks LIST"},
		{"list to quick reply", with(fruitList, func(m *message.Message) { m.ReplyTo = "msg_1" }), conv("QUICK"), true,
			message.Message{Type: message.TypeButtons, Body: "Pick your produce", ReplyTo: "msg_1", Buttons: []message.Option{
				{ID: "sku-1", Title: "Apple"}, {ID: "sku-2", Title: "Orange"}, {ID: "sku-3", Title: "Lettuce"}}},
			message.TypeButtons, "", ""},
		{"list to numbered text", fruitList, conv("TIME"), true,
			message.Message{Type: message.TypeText, Text: "Pick your produce\n1. Apple\n2. Orange\n3. Lettuce"}, message.TypeText, "", ""},
		{"list of 6 to numbered text despite QUICK", bigList, conv("QUICK"), true,
			message.Message{Type: message.TypeText, Text: "Pick your produce\n1. Option\n2. Option\n3. Option\n4. Option\n5. Option\n6. Option"}, message.TypeText, "", ""},
		{"time picker without TIME", fitting, conv("QUICK", "LIST"), false, message.Message{}, "", message.CodeUnsupportedOnDevice, "lacks TIME"},
		{"time picker to list picker", fitting, conv("LIST", "QUICK"), true,
			message.Message{Type: message.TypeList, Body: "Book a fitting", Bubble: fitting.Bubble,
				Sections: []message.Section{{Title: "Book a fitting", Items: slotList}}}, message.TypeList, "", ""},
		{"untitled time picker to quick reply, asking the bubble's question", with(fitting, func(m *message.Message) {
			m.Title = ""
			m.Bubble = &message.Bubble{Title: "Please pick a time"}
		}), conv("QUICK"), true,
			message.Message{Type: message.TypeButtons, Body: "Please pick a time", Buttons: slotList}, message.TypeButtons, "", ""},
		{"time picker to quick reply", fitting, conv("QUICK"), true,
			message.Message{Type: message.TypeButtons, Body: "Book a fitting", Buttons: slotList}, message.TypeButtons, "", ""},
		{"time picker to numbered text in UTC", with(fitting, func(m *message.Message) { m.TimezoneOffset = nil }), conv("AUTH"), true,
			message.Message{Type: message.TypeText, Text: "Book a fitting\n1. Thu 10 Jul 17:00–18:00 UTC\n2. Thu 10 Jul 18:00–18:30 UTC"}, message.TypeText, "", ""},
		{"buttons without QUICK", quickReplyMessage, conv("LIST"), false, message.Message{}, "", message.CodeUnsupportedOnDevice, "lacks QUICK"},
		{"buttons to numbered text", quickReplyMessage, conv("LIST"), true,
			message.Message{Type: message.TypeText, Text: "What can I help you with?\n1. Track order\n2. Talk to an agent"}, message.TypeText, "", ""},
		{"auth with AUTH only", signIn, conv("AUTH"), false, signIn, "", "", ""},
		{"auth with AUTH2 only", signIn, conv("AUTH2"), false, signIn, "", "", ""},
		{"auth without either", signIn, conv("QUICK"), false, message.Message{}, "", message.CodeUnsupportedOnDevice, "lacks AUTH2 or AUTH"},
		{"auth has no closer form", signIn, conv("QUICK"), true, message.Message{}, "", message.CodeUnsupportedOnDevice, "no closer form"},
		{"custom on a device without FORM", shopApp, mac, false, message.Message{}, "", message.CodeUnsupportedOnDevice, "lacks FORM"},
		{"custom on an iPhone", shopApp, conv("QUICK", "FORM"), false, shopApp, "", "", ""},
		{"rich link needs nothing", cabinet, conv("QUICK"), false, cabinet, "", "", ""},
		{"Apple Pay needs nothing", applePay, conv("QUICK"), false, applePay, "", "", ""},
		{"invalid list with adapt", with(fruitList, func(m *message.Message) { m.Sections = nil }), conv(), true,
			message.Message{}, "", message.CodeInvalidMessage, "message.sections"},
		{"ctaUrl with an image header to rich link", ctaImage, conv(), true,
			message.Message{Type: message.TypeRichLink, URL: "https://example.com/p/123", Title: "See the cabinet", Image: &message.Image{URL: "https://img.example/h.jpg"}},
			message.TypeRichLink, "", ""},
		{"ctaUrl to text", ctaText, conv(), true,
			message.Message{Type: message.TypeText, Text: "New in\nSee the cabinet\nhttps://example.com/p/123\nExample Shop", ReplyTo: "msg_9"}, message.TypeText, "", ""},
		{"ctaUrl without adapt is left to the sender", ctaText, conv(), false, ctaText, "", "", ""},
		{"locationRequest to text", message.Message{Type: message.TypeLocationRequest, Body: "Where should we deliver?"}, conv("QUICK"), true,
			message.Message{Type: message.TypeText, Text: "Where should we deliver?"}, message.TypeText, "", ""},
		{"reaction", message.Message{Type: message.TypeReaction, MessageID: "x"}, conv(), true, message.Message{}, "", message.CodeUnsupportedOnChannel, "reaction"},
		{"template", message.Message{Type: message.TypeTemplate, Name: "t"}, conv(), true, message.Message{}, "", message.CodeUnsupportedOnChannel, "template"},
		{"product", message.Message{Type: message.TypeProduct}, conv(), true, message.Message{}, "", message.CodeUnsupportedOnChannel, "product"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, adapted, err := Adapt(tt.m, tt.conv, tt.adapt)
			if tt.wantCode != "" {
				var e *message.Error
				if !errors.As(err, &e) || e.Code != tt.wantCode || !strings.Contains(e.Error(), tt.wantText) {
					t.Fatalf("Adapt = %v, want %s saying %q", err, tt.wantCode, tt.wantText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Adapt: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Adapt =\n%+v\nwant\n%+v", got, tt.want)
			}
			switch {
			case tt.wantTo == "" && adapted != nil:
				t.Errorf("adapted = %+v, want none", adapted)
			case tt.wantTo != "" && (adapted == nil || adapted.From != tt.m.Type || adapted.To != tt.wantTo || adapted.Reason == ""):
				t.Errorf("adapted = %+v, want %s → %s with a reason", adapted, tt.m.Type, tt.wantTo)
			}
			if ps := Validate(got); tt.wantTo != "" && len(ps) > 0 {
				t.Errorf("the adapted message is not valid: %v", ps)
			}
		})
	}
}
