package apple

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/out")

const testMessageID = "0f6d1d8e-4a1b-4a2e-9c7d-5b1e2f3a4c5d"

// png returns n bytes that start as a PNG image does.
func png(n int) []byte {
	b := bytes.Repeat([]byte{0x42}, n)
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}

// jpeg returns n bytes that start as a JPEG image does.
func jpeg(n int) []byte {
	b := bytes.Repeat([]byte{0x42}, n)
	copy(b, "\xff\xd8\xff\xe0")
	return b
}

func ptr[T any](v T) *T { return &v }

func TestSupports(t *testing.T) {
	for _, tt := range []struct {
		typ  string
		want bool
	}{
		{message.TypeText, true},
		{message.TypeRichLink, true},
		{message.TypeList, true},
		{message.TypeButtons, true},
		{message.TypeTimePicker, true},
		{message.TypeCustom, true},
		{message.TypeAuth, true},
		{message.TypeApplePay, true},
		{message.TypeReaction, false},
		{message.TypeProduct, false},
		{message.TypeProductList, false},
		{message.TypeLocationRequest, false},
		{message.TypeCTAURL, false},
		{message.TypeTemplate, false},
		{"", false},
	} {
		if got := Supports(tt.typ); got != tt.want {
			t.Errorf("Supports(%q) = %v, want %v", tt.typ, got, tt.want)
		}
	}
}

// Messages of every type, valid for Apple; the golden tests render them and
// the validation tests change them.
var (
	fruitList = message.Message{
		Type: message.TypeList,
		Body: "Pick your produce",
		Sections: []message.Section{
			{Title: "Fruit", Items: []message.Option{
				{ID: "sku-1", Title: "Apple", Description: "Red", ImageID: "apple"},
				{ID: "sku-2", Title: "Orange", Description: "Juicy"},
			}},
			{Title: "Veg", Items: []message.Option{{ID: "sku-3", Title: "Lettuce"}}},
		},
		Images:      []message.Image{{ID: "apple", Data: png(16)}},
		Bubble:      &message.Bubble{Title: "Pick your produce", Subtitle: "Tap to choose", Style: "small", ImageID: "apple"},
		ReplyBubble: &message.Bubble{Title: "Produce chosen", Style: "icon"},
	}
	quickReplyMessage = message.Message{
		Type: message.TypeButtons,
		Body: "What can I help you with?",
		Buttons: []message.Option{
			{ID: "1", Title: "Track order"},
			{ID: "2", Title: "Talk to an agent"},
		},
	}
	fitting = message.Message{
		Type:           message.TypeTimePicker,
		Title:          "Book a fitting",
		TimezoneOffset: ptr(-420),
		Location:       &message.EventLocation{Latitude: 37.3318, Longitude: -122.0312, Radius: 100, Title: "Main St store"},
		Slots: []message.Slot{
			{ID: "slot-1", Start: time.Date(2025, 7, 10, 10, 0, 0, 0, time.FixedZone("PDT", -7*3600)), Duration: 3600},
			{ID: "slot-2", Start: time.Date(2025, 7, 10, 18, 0, 0, 0, time.UTC), Duration: 1800},
		},
		Bubble: &message.Bubble{Title: "Book a fitting", Subtitle: "Main St store"},
	}
	shopApp = message.Message{
		Type:     message.TypeCustom,
		TeamID:   "ABCDE12345",
		BundleID: "com.example.shop.MessagesExtension",
		URL:      "?orderId=991&step=track",
		AppID:    123456789,
		AppName:  "Shop",
		Image:    &message.Image{Data: png(12)},
		Bubble:   &message.Bubble{Title: "Your order", Subtitle: "Tap to track"},
	}
	signIn = message.Message{
		Type:        message.TypeAuth,
		OAuth:       &message.OAuth{ResponseType: "code", Scope: []string{"profile", "email"}, State: "c3RhdGUtbm9uY2U="},
		Images:      []message.Image{{ID: "logo", Data: png(10)}},
		Bubble:      &message.Bubble{Title: "Sign in to Example", ImageID: "logo"},
		ReplyBubble: &message.Bubble{Title: "You signed in"},
	}
	applePay = message.Message{
		Type: message.TypeApplePay,
		Payment: json.RawMessage(`{"merchantName":"Example Shop","countryCode":"US","currencyCode":"USD",
			"lineItems":[{"label":"Item","amount":"10.00","type":"final"}],
			"total":{"label":"Your Total","amount":"10.00","type":"final"},
			"applePay":{"merchantIdentifier":"merchant.com.example","supportedNetworks":["visa","masterCard"],"merchantCapabilities":["supports3DS"]},
			"requiredShippingContactFields":["post","name"]}`),
		Bubble: &message.Bubble{Title: "Your order", Subtitle: "$10.00"},
	}
	invoiceAndLabel = message.Message{
		Type: message.TypeText,
		Text: "Your invoice and the return label",
		Attachments: []message.OutgoingAttachment{
			{Name: "invoice.pdf", MimeType: "application/pdf", URL: "https://shop.example/invoice.pdf"},
			{Name: "label.png", MimeType: "image/png", Upload: "uploads/0123456789abcdef0123456789abcdef"},
		},
	}
	cabinet = message.Message{
		Type:  message.TypeRichLink,
		URL:   "https://example.com/p/123",
		Title: "Walnut cabinet",
		Image: &message.Image{Data: jpeg(20)},
	}
)

var merchantSession = json.RawMessage(`{"epochTimestamp":1717000000000,"expiresAt":1717007200000,"merchantSessionIdentifier":"SSH1","nonce":"5a1b","merchantIdentifier":"4F2A","displayName":"Example Shop","initiative":"messaging","initiativeContext":"https://parley.example/webhooks/apple/pay/paymentGateway","signature":"308006"}`)

func TestRenderGolden(t *testing.T) {
	multi := fruitList
	multi.MultipleSelection = true
	multi.Bubble = nil
	multi.ReplyBubble = nil
	// Apple's own sample mixes a multiple-choice section with a
	// single-choice one: the message's flag is the default, a section's
	// own flag wins.
	mixed := fruitList
	mixed.MultipleSelection = true
	mixed.Sections = append([]message.Section(nil), fruitList.Sections...)
	mixed.Sections[1].MultipleSelection = ptr(false)
	noLive := shopApp
	noLive.LiveLayout = ptr(false)
	noLive.ReplyBubble = &message.Bubble{Title: "Viewed", Style: "large"}
	video := cabinet
	video.VideoURL = "https://example.com/v.mov?s=1"
	withBubble := quickReplyMessage
	withBubble.Bubble = &message.Bubble{Title: "How can we help?"}
	utcSlots := fitting
	utcSlots.TimezoneOffset = nil
	utcSlots.Location = nil
	untitled := fitting
	untitled.Title = ""
	untitled.Bubble = &message.Bubble{Title: "Please pick a time"}
	jpegSignIn := signIn
	jpegSignIn.Images = []message.Image{{ID: "logo", Data: jpeg(12)}}
	jpegSignIn.Bubble = &message.Bubble{Title: "Sign in to Example", ImageID: "logo"}
	session := fruitList
	session.SessionIdentifier = "3e5a7c9e-1b3d-4f5a-8c7e-9a1b3c5d7e9f"
	session.Locale = "fr_FR"
	session.Automated = true
	overridden := applePay
	overridden.Endpoints = map[string]string{"fallbackUrl": "https://shop.example/fallback"}
	payInputs := func(m message.Message) Inputs {
		return Inputs{MerchantSession: merchantSession, Endpoints: PayEndpoints("https://parley.example/", m)}
	}

	tests := []struct {
		name string
		m    message.Message
		in   Inputs
	}{
		{"text", message.Message{Type: message.TypeText, Text: "Your order ships today 📦"}, Inputs{}},
		{"text_attachments", invoiceAndLabel, Inputs{Attachments: []Attachment{
			{Name: "invoice.pdf", MimeType: "application/pdf", Size: "48213", SignatureBase64: "gaHzMTQ1Njc4OTBhYmNkZWYwMTIzNDU2",
				URL: "https://p42-content.icloud.com/M1", Owner: "owner-1", Key: "00" + strings.Repeat("a1", 32)},
			{Name: "label.png", MimeType: "image/png", Size: "1024", SignatureBase64: "gbHzMTQ1Njc4OTBhYmNkZWYwMTIzNDU2",
				URL: "https://p42-content.icloud.com/M2", Owner: "owner-2", Key: "00" + strings.Repeat("b2", 32)},
		}}},
		{"rich_link", cabinet, Inputs{}},
		{"rich_link_video", video, Inputs{}},
		{"list", fruitList, Inputs{}},
		{"list_multiple_selection", multi, Inputs{}},
		{"list_mixed_selection", mixed, Inputs{}},
		{"quick_reply", quickReplyMessage, Inputs{}},
		{"quick_reply_bubble", withBubble, Inputs{}},
		{"time_picker", fitting, Inputs{}},
		{"time_picker_viewer_zone", utcSlots, Inputs{}},
		{"time_picker_untitled", untitled, Inputs{}},
		{"list_session_locale", session, Inputs{}},
		{"typing_start", message.Message{Type: message.TypeTyping, State: message.TypingStart, Locale: "en_GB"}, Inputs{}},
		{"typing_end", message.Message{Type: message.TypeTyping, State: message.TypingEnd, Automated: true, Agent: "bot:returns"}, Inputs{}},
		{"auth_jpeg_image", jpegSignIn, Inputs{AuthKey: "BOR1a2b3"}},
		{"custom", shopApp, Inputs{}},
		{"custom_no_live_layout", noLive, Inputs{}},
		{"auth", signIn, Inputs{AuthKey: "BOR1a2b3"}},
		{"apple_pay", applePay, payInputs(applePay)},
		{"apple_pay_endpoint_override", overridden, payInputs(overridden)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ps := Validate(tt.m); len(ps) > 0 {
				t.Fatalf("Validate = %v", ps)
			}
			o := message.Outgoing{MessageID: "msg_1", BusinessID: testBusiness, To: testCustomer, Message: tt.m, PlatformMessageID: testMessageID}
			got, err := Render(o, tt.in)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden := filepath.Join("testdata", "out", tt.name+".json")
			if *update {
				var buf bytes.Buffer
				if err := json.Indent(&buf, got, "", "  "); err != nil {
					t.Fatal(err)
				}
				buf.WriteByte('\n')
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			raw, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, raw); err != nil {
				t.Fatalf("%s: %v", golden, err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("Render =\n%s\nwant (%s)\n%s", got, golden, want.Bytes())
			}
		})
	}
}

func TestRenderCorrelatesReplies(t *testing.T) {
	for _, m := range []message.Message{fruitList, quickReplyMessage, fitting, signIn} {
		o := message.Outgoing{BusinessID: testBusiness, To: testCustomer, Message: m, PlatformMessageID: testMessageID}
		b, err := Render(o, Inputs{AuthKey: "k"})
		if err != nil {
			t.Fatalf("%s: Render: %v", m.Type, err)
		}
		var got struct {
			ID              string `json:"id"`
			InteractiveData struct {
				BID  string `json:"bid"`
				Data struct {
					Version           string `json:"version"`
					RequestIdentifier string `json:"requestIdentifier"`
				} `json:"data"`
			} `json:"interactiveData"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		d := got.InteractiveData
		if got.ID != testMessageID || d.Data.RequestIdentifier != testMessageID || d.Data.Version != "1.0" || d.BID != BuiltInBID {
			t.Errorf("%s: id %q, bid %q, version %q, requestIdentifier %q; want the message id twice, Apple's bid and 1.0",
				m.Type, got.ID, d.BID, d.Data.Version, d.Data.RequestIdentifier)
		}
	}
}

func TestRenderLargeInteractive(t *testing.T) {
	m := fruitList
	m.Sections = []message.Section{{Title: "Many"}}
	for i := range MaxListItems {
		m.Sections[0].Items = append(m.Sections[0].Items, message.Option{ID: "sku-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('0'+i/26)),
			Title: "Item", Description: strings.Repeat("A long description. ", 5)})
	}
	if ps := Validate(m); len(ps) > 0 {
		t.Fatalf("Validate = %v", ps)
	}
	b, err := Render(message.Outgoing{BusinessID: testBusiness, To: testCustomer, Message: m, PlatformMessageID: testMessageID}, Inputs{})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if len(b) <= 10<<10 {
		t.Fatalf("the payload is %d bytes; the test wants one over 10 KB", len(b))
	}
}

func TestRenderRefuses(t *testing.T) {
	out := func(m message.Message) message.Outgoing {
		return message.Outgoing{BusinessID: testBusiness, To: testCustomer, Message: m, PlatformMessageID: testMessageID}
	}
	byURL := fruitList
	byURL.Images = []message.Image{{ID: "apple", URL: "https://img.example/apple.png"}}
	huge := cabinet
	huge.Image = &message.Image{Data: jpeg(MaxBody)}
	noID := out(message.Message{Type: message.TypeText, Text: "hi"})
	noID.PlatformMessageID = ""
	tests := []struct {
		name     string
		o        message.Outgoing
		in       Inputs
		wantCode message.Code
		wantText string
	}{
		{"a type Apple lacks", out(message.Message{Type: message.TypeReaction}), Inputs{}, message.CodeUnsupportedOnChannel, "reaction"},
		{"no Apple message id", noID, Inputs{}, "", "no Apple message id"},
		{"an image not fetched", out(byURL), Inputs{}, "", "message.images[0]: the image has not been fetched"},
		{"auth without its key", out(signIn), Inputs{}, "", "response encryption key"},
		{"Apple Pay without a session", out(applePay), Inputs{Endpoints: PayEndpoints("https://p.example", applePay)}, "", "merchant session"},
		{"Apple Pay without endpoints", out(applePay), Inputs{MerchantSession: merchantSession}, "", "paymentGatewayUrl"},
		{"over the body limit", out(huge), Inputs{}, message.CodeInvalidMessage, "the limit is 8388608"},
		{"attachments not uploaded", out(invoiceAndLabel), Inputs{}, "", "0 of the message's 2 attachments are uploaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.o, tt.in)
			if err == nil {
				t.Fatal("Render succeeded")
			}
			var e *message.Error
			if tt.wantCode != "" && (!errors.As(err, &e) || e.Code != tt.wantCode) {
				t.Errorf("Render = %v, want code %s", err, tt.wantCode)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Render = %v, want it to say %q", err, tt.wantText)
			}
		})
	}
}
