package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/message"
)

var update = flag.Bool("update", false, "rewrite testdata/out/*.json from Render")

func out(m message.Message) message.Outgoing {
	return message.Outgoing{MessageID: "msg_1", BusinessID: business, To: customer, Message: m}
}

func replying(o message.Outgoing, wamid string) message.Outgoing {
	o.ReplyToPlatformID = wamid
	return o
}

// renderCases are outbound messages and, in testdata/out/<name>.json, the
// exact request body WhatsApp must receive.
var renderCases = []struct {
	name string
	out  message.Outgoing
}{
	{"text", out(text("Your table is booked."))},
	{"text_plus_kept", message.Outgoing{To: "+447700900123", Message: text("hi")}},
	{"text_preview", out(message.Message{Type: message.TypeText, Text: "See https://shop.example/r/2291?a=1&b=2", PreviewURL: true})},
	{"text_reply", replying(out(text("Yes")), "wamid.HBgM==")},
	{"text_unicode", out(text("Café \"<b>\" 👍\nbye"))},
	{"rich_link", out(message.Message{Type: message.TypeRichLink, Title: "Receipt R-2291", URL: "https://shop.example/r/2291?t=abc&x=1"})},
	{"list", out(validList())},
	{"list_reply", replying(out(message.Message{Type: message.TypeList, Body: "Which one?", Button: "Choose",
		Sections: []message.Section{{Title: "Options", Items: rows(0, 2)}}}), "wamid.INBOUND")},
	{"buttons", out(validButtons())},
	{"buttons_text_header", out(message.Message{Type: message.TypeButtons, Header: &message.Header{Type: "text", Text: "Booking 8812"},
		Body: "Keep it?", Buttons: []message.Option{item("yes", "Yes"), item("no", "No")}})},
	{"buttons_video_link", out(message.Message{Type: message.TypeButtons, Header: &message.Header{Type: "video", URL: "https://shop.example/tour.mp4"},
		Body: "Like the room?", Buttons: []message.Option{item("book", "Book it")}})},
	{"buttons_document", out(message.Message{Type: message.TypeButtons,
		Header: &message.Header{Type: "document", URL: "https://shop.example/menu.pdf", Filename: "menu.pdf"},
		Body:   "Tonight's menu", Buttons: []message.Option{item("order", "Order now")}})},
	{"reaction", out(message.Message{Type: message.TypeReaction, MessageID: "wamid.HBgMinbound", Emoji: ptr("👍")})},
	{"reaction_removed", replying(out(message.Message{Type: message.TypeReaction, MessageID: "wamid.HBgMinbound", Emoji: ptr("")}), "wamid.IGNORED")},
	{"product", out(validProduct())},
	{"product_list", out(validProductList())},
	{"location_request", out(validLocationRequest())},
	{"cta_url", out(validCTA())},
	{"template", out(validTemplate())},
	{"template_no_components", replying(out(message.Message{Type: message.TypeTemplate, Name: "hello_world", Language: "en_US"}), "wamid.INBOUND")},
	// A customer known only by business-scoped user id: "recipient", no "to".
	{"text_bsuid", to(bsuid, out(text("Your table is booked.")))},
	{"text_parent_bsuid", to("GB.ENT.99120034455667788", out(text("Hi")))},
	{"text_group", to(group, out(text("Welcome to the tasting group")))},
	{"template_group", to(group, out(validTemplate()))},
}

const (
	bsuid = "GB.13491208655302741918"
	group = "Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw"
)

func to(id string, o message.Outgoing) message.Outgoing {
	o.To = id
	return o
}

func TestRender(t *testing.T) {
	for _, tt := range renderCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.out)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			file := filepath.Join("testdata", "out", tt.name+".json")
			if *update {
				var pretty bytes.Buffer
				json.Indent(&pretty, got, "", "  ")
				pretty.WriteByte('\n')
				if err := os.WriteFile(file, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, golden); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("Render =\n%s\nwant (%s)\n%s", got, file, want.Bytes())
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
		{"type not supported", message.Outgoing{To: "1", Message: message.Message{Type: message.TypeTimePicker}},
			message.CodeUnsupportedOnChannel, `"timePicker"`},
		{"too long", message.Outgoing{To: "1", Message: text(strings.Repeat("x", 4097))},
			message.CodeInvalidMessage, "message.text: 4097 characters, the limit is 4096"},
		{"too many rows", message.Outgoing{To: "1", Message: withSections(validList(), message.Section{Title: "A", Items: rows(0, 11)})},
			message.CodeInvalidMessage, "message.sections: 11 items in total, the limit is 10"},
		{"no recipient", message.Outgoing{Message: text("hi")},
			message.CodeInvalidRequest, "to: is required"},
		{"phone too long", message.Outgoing{To: "+1234567890123456", Message: text("hi")},
			message.CodeInvalidMessage, "to: 16 digits, a phone number has at most 15"},
		{"list to a group", message.Outgoing{To: group, Message: validList()},
			message.CodeInvalidMessage, `message.type: "list" messages cannot be sent to a WhatsApp group`},
		{"reaction to a group", message.Outgoing{To: group, Message: message.Message{Type: message.TypeReaction, MessageID: "wamid.X", Emoji: ptr("👍")}},
			message.CodeInvalidMessage, `message.type: "reaction" messages cannot be sent to a WhatsApp group`},
		{"catalog template to a group", message.Outgoing{To: group, Message: message.Message{Type: message.TypeTemplate, Name: "spring", Language: "en",
			Components: json.RawMessage(`[{"type":"button","sub_type":"catalog","index":"0","parameters":[{"type":"action","action":{"thumbnail_product_retailer_id":"sku-1"}}]}]`)}},
			message.CodeInvalidMessage, `message.components[0].sub_type: "catalog" buttons cannot be sent to a WhatsApp group`},
		{"group id too long", message.Outgoing{To: strings.Repeat("g", 257), Message: text("hi")},
			message.CodeInvalidMessage, "to: 257 characters, a group id has at most 256"},
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
