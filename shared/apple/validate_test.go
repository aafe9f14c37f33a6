package apple

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// with returns a copy of m changed by change; its attachments are copied,
// other slices and pointers that change touches must be replaced, not
// edited in place.
func with(m message.Message, change func(*message.Message)) message.Message {
	m.Attachments = slices.Clone(m.Attachments)
	change(&m)
	return m
}

func options(n int) []message.Option {
	o := make([]message.Option, n)
	for i := range o {
		o[i] = message.Option{ID: string(rune('a' + i)), Title: "Option"}
	}
	return o
}

// attachments returns n valid attachments.
func attachments(n int) []message.OutgoingAttachment {
	a := make([]message.OutgoingAttachment, n)
	for i := range a {
		a[i] = message.OutgoingAttachment{Name: fmt.Sprintf("page-%d.png", i), MimeType: "image/png", Data: png(8)}
	}
	return a
}

// Files at and one byte over Apple's 100 MB.
var (
	overFile = make([]byte, MaxBlob+1)
	maxFile  = overFile[:MaxBlob]
)

func TestValidate(t *testing.T) {
	long := strings.Repeat("é", 20000)
	slot := func(id string, start time.Time, d int) message.Slot {
		return message.Slot{ID: id, Start: start, Duration: d}
	}
	at := time.Date(2025, 7, 10, 17, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		m    message.Message
		want []string
	}{
		{"text", message.Message{Type: message.TypeText, Text: "Hello 👋"}, nil},
		{"long text has no limit", message.Message{Type: message.TypeText, Text: long}, nil},
		{"text without text", message.Message{Type: message.TypeText}, []string{"message.text: is required"}},
		{"a type Apple lacks", message.Message{Type: message.TypeReaction}, []string{`message.type: "reaction" cannot be sent on the apple channel`}},

		// text attachments
		{"text with attachments", invoiceAndLabel, nil},
		{"attachments without text", with(invoiceAndLabel, func(m *message.Message) { m.Text = "" }), nil},
		{"attachment data at 100 MB", with(invoiceAndLabel, func(m *message.Message) {
			m.Attachments = []message.OutgoingAttachment{{Name: "a.bin", MimeType: "application/octet-stream", Data: maxFile}}
		}), nil},
		{"attachment data one byte over", with(invoiceAndLabel, func(m *message.Message) {
			m.Attachments = []message.OutgoingAttachment{{Name: "a.bin", MimeType: "application/octet-stream", Data: overFile}}
		}), []string{"message.attachments[0].data: 104857601 bytes, the limit is 104857600"}},
		{"10 attachments", with(invoiceAndLabel, func(m *message.Message) { m.Attachments = attachments(MaxAttachments) }), nil},
		{"11 attachments", with(invoiceAndLabel, func(m *message.Message) { m.Attachments = attachments(MaxAttachments + 1) }),
			[]string{"message.attachments: 11 attachments, the limit is 10"}},
		{"attachment name at the limit", with(invoiceAndLabel, func(m *message.Message) { m.Attachments[0].Name = strings.Repeat("é", MaxAttachmentName) }), nil},
		{"attachment name over the limit", with(invoiceAndLabel, func(m *message.Message) { m.Attachments[0].Name = strings.Repeat("é", MaxAttachmentName+1) }),
			[]string{"message.attachments[0].name: 256 characters, the limit is 255"}},
		{"attachment without name and type", with(invoiceAndLabel, func(m *message.Message) { m.Attachments[1].Name = ""; m.Attachments[1].MimeType = "" }),
			[]string{"message.attachments[1].name: is required", "message.attachments[1].mimeType: is required"}},
		{"attachment with a bad type", with(invoiceAndLabel, func(m *message.Message) { m.Attachments[0].MimeType = "pdf" }),
			[]string{`message.attachments[0].mimeType: "pdf" is not a MIME type (type/subtype)`}},
		{"attachment without a source", with(invoiceAndLabel, func(m *message.Message) { m.Attachments[0].URL = "" }),
			[]string{"message.attachments[0]: needs one of url, data and upload"}},
		{"attachment with two sources", with(invoiceAndLabel, func(m *message.Message) { m.Attachments[0].Data = []byte("%PDF") }),
			[]string{"message.attachments[0]: gives url and data: exactly one of url, data and upload is allowed"}},
		{"attachment with a bad url and key", with(invoiceAndLabel, func(m *message.Message) {
			m.Attachments[0].URL = "file:///etc/passwd"
			m.Attachments[1].Upload = "raw/apple/x"
		}), []string{`message.attachments[0].url: "file:///etc/passwd" is not an absolute http or https URL`,
			`message.attachments[1].upload: "raw/apple/x" is not a key POST /v1/uploads returned`}},
		{"text holding U+FFFC", with(invoiceAndLabel, func(m *message.Message) { m.Text = "see \uFFFC" }),
			[]string{"message.text: contains U+FFFC, which Apple reads as the place of an attachment"}},
		{"attachments on a list", with(fruitList, func(m *message.Message) { m.Attachments = invoiceAndLabel.Attachments }),
			[]string{"message.attachments: not used by list messages: only text messages carry attachments"}},

		// richLink
		{"rich link", cabinet, nil},
		{"rich link image at 200 kB", with(cabinet, func(m *message.Message) { m.Image = &message.Image{Data: jpeg(MaxRichLinkImage)} }), nil},
		{"rich link image one byte over", with(cabinet, func(m *message.Message) { m.Image = &message.Image{Data: jpeg(MaxRichLinkImage + 1)} }),
			[]string{"message.image.data: 200001 bytes, the limit is 200000"}},
		{"rich link PNG", with(cabinet, func(m *message.Message) { m.Image = &message.Image{Data: png(100)} }), nil},
		{"rich link GIF", with(cabinet, func(m *message.Message) { m.Image = &message.Image{Data: []byte("GIF89a....")} }),
			[]string{"message.image.data: is not a JPEG or PNG image"}},
		{"rich link image by URL", with(cabinet, func(m *message.Message) { m.Image = &message.Image{URL: "https://img.example/c.jpg"} }), nil},
		{"rich link with a video only", with(cabinet, func(m *message.Message) { m.Image = nil; m.VideoURL = "https://example.com/v.mp4" }), nil},
		{"rich link without an asset", with(cabinet, func(m *message.Message) { m.Image = nil }),
			[]string{"message.image: is required on apple, or message.videoUrl: Apple's rich link needs an asset"}},
		{"rich link with a custom scheme", with(cabinet, func(m *message.Message) { m.URL = "shop://p/123" }),
			[]string{`message.url: "shop://p/123" is not an absolute http or https URL`}},
		{"rich link without url and title", with(cabinet, func(m *message.Message) { m.URL = ""; m.Title = "" }),
			[]string{"message.url: is required", "message.title: is required"}},
		{"rich link image with url and data", with(cabinet, func(m *message.Message) { m.Image = &message.Image{URL: "https://img.example/c.jpg", Data: jpeg(5)} }),
			[]string{"message.image: has both a url and data; give one"}},

		// list
		{"list", fruitList, nil},
		{"list without sections", with(fruitList, func(m *message.Message) { m.Sections = nil }),
			[]string{"message.sections: is required: at least one section with items"}},
		{"list section without items", with(fruitList, func(m *message.Message) {
			m.Sections = []message.Section{fruitList.Sections[0], {Title: "Empty"}}
		}), []string{"message.sections[1].items: is required: at least one item"}},
		{"list with a repeated id", with(fruitList, func(m *message.Message) {
			m.Sections = []message.Section{fruitList.Sections[0], {Items: []message.Option{{ID: "sku-2", Title: "Again"}}}}
		}), []string{`message.sections[1].items[0].id: "sku-2" is already the id of message.sections[0].items[1]`}},
		{"list item without id and title", with(fruitList, func(m *message.Message) {
			m.Sections = []message.Section{{Items: []message.Option{{}}}}
		}), []string{"message.sections[0].items[0].id: is required", "message.sections[0].items[0].title: is required"}},
		{"list item naming an unknown image", with(fruitList, func(m *message.Message) {
			m.Sections = []message.Section{{Items: []message.Option{{ID: "a", Title: "A", ImageID: "pear"}}}}
		}), []string{`message.sections[0].items[0].imageId: "pear" names no image in message.images`}},
		{"list at the item cap", with(fruitList, func(m *message.Message) {
			m.Sections = []message.Section{{Title: "A", Items: items(0, 60)}, {Title: "B", Items: items(60, 40)}}
		}), nil},
		{"list one item over the cap", with(fruitList, func(m *message.Message) {
			m.Sections = []message.Section{{Title: "A", Items: items(0, 60)}, {Title: "B", Items: items(60, 41)}}
		}), []string{"message.sections: 101 items in total, the limit is 100"}},
		{"list of 10,000 items", with(fruitList, func(m *message.Message) { m.Sections = []message.Section{{Items: items(0, 10000)}} }),
			[]string{"message.sections: 10000 items in total, the limit is 100"}},
		{"list without a bubble title or body", with(fruitList, func(m *message.Message) { m.Body = ""; m.Bubble = nil }),
			[]string{"message.bubble.title: is required (or message.body): it is the bubble Apple shows"}},
		{"list bubble naming an unknown image", with(fruitList, func(m *message.Message) { m.Bubble = &message.Bubble{Title: "T", ImageID: "pear"} }),
			[]string{`message.bubble.imageId: "pear" names no image in message.images`}},
		{"list bubble style", with(fruitList, func(m *message.Message) { m.ReplyBubble = &message.Bubble{Title: "T", Style: "huge"} }),
			[]string{`message.replyBubble.style: "huge" is not a bubble style: icon, small or large`}},
		{"list image at the limit", with(fruitList, func(m *message.Message) { m.Images = []message.Image{{ID: "apple", Data: png(MaxImage)}} }), nil},
		{"list image one byte over", with(fruitList, func(m *message.Message) { m.Images = []message.Image{{ID: "apple", Data: png(MaxImage + 1)}} }),
			[]string{"message.images[0].data: 1048577 bytes, the limit is 1048576"}},
		{"list image a JPEG", with(fruitList, func(m *message.Message) { m.Images = []message.Image{{ID: "apple", Data: jpeg(10)}} }), nil},
		{"list image a JPEG at the limit", with(fruitList, func(m *message.Message) { m.Images = []message.Image{{ID: "apple", Data: jpeg(MaxImage)}} }), nil},
		{"list image a JPEG one byte over", with(fruitList, func(m *message.Message) { m.Images = []message.Image{{ID: "apple", Data: jpeg(MaxImage + 1)}} }),
			[]string{"message.images[0].data: 1048577 bytes, the limit is 1048576"}},
		{"list image a GIF", with(fruitList, func(m *message.Message) { m.Images = []message.Image{{ID: "apple", Data: []byte("GIF89a....")}} }),
			[]string{"message.images[0].data: is not a JPEG or PNG image"}},
		{"auth image a JPEG, as in Apple's sample", with(signIn, func(m *message.Message) {
			m.Images = []message.Image{{ID: "1", Data: jpeg(2048)}}
			m.Bubble = &message.Bubble{Title: "Sign in", ImageID: "1"}
		}), nil},
		{"app icon a JPEG", with(shopApp, func(m *message.Message) { m.Image = &message.Image{Data: jpeg(300)} }), nil},
		{"list image by URL", with(fruitList, func(m *message.Message) { m.Images = []message.Image{{ID: "apple", URL: "https://img.example/a.png"}} }), nil},
		{"list images without and with a repeated id", with(fruitList, func(m *message.Message) {
			m.Images = []message.Image{{ID: "apple", Data: png(9)}, {ID: "apple", Data: png(9)}, {Data: png(9)}}
		}), []string{`message.images[1].id: "apple" is used by another image`, "message.images[2].id: is required: bubbles and items name images by id"}},
		{"list image without url or data", with(fruitList, func(m *message.Message) { m.Images = []message.Image{{ID: "apple"}} }),
			[]string{"message.images[0]: needs a url or data"}},

		// buttons (quick reply)
		{"quick reply", quickReplyMessage, nil},
		{"quick reply of 5", with(quickReplyMessage, func(m *message.Message) { m.Buttons = options(5) }), nil},
		{"quick reply of 6", with(quickReplyMessage, func(m *message.Message) { m.Buttons = options(6) }),
			[]string{"message.buttons: 6 buttons, Apple's quick reply takes 2 to 5"}},
		{"quick reply of 1", with(quickReplyMessage, func(m *message.Message) { m.Buttons = options(1) }),
			[]string{"message.buttons: 1 buttons, Apple's quick reply takes 2 to 5"}},
		{"quick reply without body", with(quickReplyMessage, func(m *message.Message) { m.Body = "" }), []string{"message.body: is required"}},
		{"quick reply with a repeated id", with(quickReplyMessage, func(m *message.Message) {
			m.Buttons = []message.Option{{ID: "1", Title: "A"}, {ID: "1", Title: "B"}}
		}), []string{`message.buttons[1].id: "1" is already the id of message.buttons[0]`}},
		{"quick reply bubble without title", with(quickReplyMessage, func(m *message.Message) { m.Bubble = &message.Bubble{Subtitle: "s"} }),
			[]string{"message.bubble.title: is required (or message.title): it is the bubble Apple shows"}},
		{"quick reply with long titles", with(quickReplyMessage, func(m *message.Message) {
			m.Buttons = []message.Option{{ID: "1", Title: strings.Repeat("a", 300)}, {ID: "2", Title: "B"}}
		}), []string{"message.buttons[0].title: 300 characters, the limit is 200"}},

		// timePicker
		{"time picker", fitting, nil},
		{"time picker without slots", with(fitting, func(m *message.Message) { m.Slots = nil }), []string{"message.slots: is required: at least one slot"}},
		{"time picker slot problems", with(fitting, func(m *message.Message) {
			m.Slots = []message.Slot{slot("", at, 0), slot("s", time.Time{}, 60), slot("s", at.Add(30*time.Second), -5)}
		}), []string{
			"message.slots[0].id: is required",
			"message.slots[0].duration: 0 seconds, it must be positive",
			"message.slots[1].start: is required",
			`message.slots[2].id: "s" is already the id of message.slots[1]`,
			"message.slots[2].start: 2025-07-10T17:00:30Z has seconds: Apple's startTime counts whole minutes",
			"message.slots[2].duration: -5 seconds, it must be positive",
		}},
		{"time picker without title nor bubble", with(fitting, func(m *message.Message) { m.Title = ""; m.Bubble = nil }),
			[]string{"message.bubble.title: is required (or message.title): it is the bubble Apple shows"}},
		{"time picker with an empty title, as in Apple's sample", with(fitting, func(m *message.Message) {
			m.Title = ""
			m.Bubble = &message.Bubble{Title: "Please pick a time"}
		}), nil},
		{"time picker offsets at the limits", with(fitting, func(m *message.Message) { m.TimezoneOffset = ptr(840) }), nil},
		{"time picker offset out of range", with(fitting, func(m *message.Message) { m.TimezoneOffset = ptr(-721) }),
			[]string{"message.timezoneOffset: -721 minutes is not an offset from UTC (-720 to 840)"}},
		{"time picker location out of range", with(fitting, func(m *message.Message) {
			m.Location = &message.EventLocation{Latitude: 91, Longitude: -181, Radius: -1}
		}), []string{
			"message.location.latitude: 91 is not a latitude (-90 to 90)",
			"message.location.longitude: -181 is not a longitude (-180 to 180)",
			"message.location.radius: -1 is negative",
		}},

		// custom
		{"custom", shopApp, nil},
		{"custom URL at 64 KB", with(shopApp, func(m *message.Message) { m.URL = "?d=" + strings.Repeat("x", MaxCustomURL-3) }), nil},
		{"custom URL one byte over", with(shopApp, func(m *message.Message) { m.URL = "?d=" + strings.Repeat("x", MaxCustomURL-2) }),
			[]string{"message.url: 65537 bytes, the limit is 65536"}},
		{"custom team id of 9", with(shopApp, func(m *message.Message) { m.TeamID = "ABCDE1234" }),
			[]string{`message.teamId: "ABCDE1234" is not an Apple team id: 10 upper-case letters and digits`}},
		{"custom team id of 11", with(shopApp, func(m *message.Message) { m.TeamID = "ABCDE123456" }),
			[]string{`message.teamId: "ABCDE123456" is not an Apple team id: 10 upper-case letters and digits`}},
		{"custom team id in lower case", with(shopApp, func(m *message.Message) { m.TeamID = "abcde12345" }),
			[]string{`message.teamId: "abcde12345" is not an Apple team id: 10 upper-case letters and digits`}},
		{"custom with data", with(shopApp, func(m *message.Message) { m.Data = json.RawMessage(`{"a":1}`) }),
			[]string{"message.data: Apple refuses data in an iMessage app message; put it in message.url"}},
		{"custom missing everything", message.Message{Type: message.TypeCustom}, []string{
			"message.teamId: is required",
			"message.bundleId: is required",
			"message.url: is required",
			"message.appId: is required: the App Store id of the iMessage app",
			"message.appName: is required",
			"message.image: is required: the app icon shown when the app is not installed",
			"message.bubble.title: is required (or message.title): it is the bubble Apple shows",
		}},
		{"custom with images", with(shopApp, func(m *message.Message) {
			m.Images = []message.Image{{ID: "x", Data: png(9)}}
			m.Bubble = &message.Bubble{Title: "T", ImageID: "x"}
		}), []string{"message.images: an iMessage app message carries no images", "message.bubble.imageId: an iMessage app message carries no images"}},

		// auth
		{"auth", signIn, nil},
		{"auth without oauth", with(signIn, func(m *message.Message) { m.OAuth = nil }), []string{"message.oauth: is required"}},
		{"auth with bad oauth", with(signIn, func(m *message.Message) {
			m.OAuth = &message.OAuth{ResponseType: "id_token", Scope: []string{""}}
		}), []string{`message.oauth.responseType: "id_token" is not "code" or "token"`, "message.oauth.scope[0]: is required", "message.oauth.state: is required"}},
		{"auth without scope", with(signIn, func(m *message.Message) {
			m.OAuth = &message.OAuth{ResponseType: "token", State: "s"}
		}), []string{"message.oauth.scope: is required: at least one scope"}},
		{"auth without bubble", with(signIn, func(m *message.Message) { m.Bubble = nil }),
			[]string{"message.bubble.title: is required (or message.title): it is the bubble Apple shows"}},

		// applePay
		{"Apple Pay", applePay, nil},
		{"Apple Pay without payment", with(applePay, func(m *message.Message) { m.Payment = nil }), []string{"message.payment: is required: Apple's paymentRequest"}},
		{"Apple Pay payment not an object", with(applePay, func(m *message.Message) { m.Payment = json.RawMessage(`[1]`) }),
			[]string{"message.payment: must be a JSON object: Apple's paymentRequest"}},
		{"Apple Pay payment missing fields", with(applePay, func(m *message.Message) { m.Payment = json.RawMessage(`{}`) }), []string{
			"message.payment.merchantName: is required",
			"message.payment.countryCode: is required",
			"message.payment.currencyCode: is required",
			"message.payment.total: is required",
			"message.payment.applePay: is required: merchantIdentifier, supportedNetworks, merchantCapabilities",
		}},
		{"Apple Pay payment with bad values", with(applePay, func(m *message.Message) {
			m.Payment = json.RawMessage(`{"merchantName":"S","countryCode":"USA","currencyCode":"$","total":{"label":"T","amount":"ten"},
				"lineItems":[{"amount":"1.00"}],"applePay":{"merchantIdentifier":"m","supportedNetworks":[],"merchantCapabilities":[]}}`)
		}), []string{
			`message.payment.countryCode: "USA" is not an ISO 3166 two-letter country code`,
			`message.payment.currencyCode: "$" is not an ISO 4217 three-letter currency code`,
			`message.payment.total.amount: "ten" is not a decimal amount written as a string, e.g. "10.00"`,
			"message.payment.lineItems[0].label: is required",
			"message.payment.applePay.supportedNetworks: is required: at least one network",
			"message.payment.applePay.merchantCapabilities: is required: at least one capability",
		}},
		{"Apple Pay amount as a number", with(applePay, func(m *message.Message) {
			m.Payment = json.RawMessage(`{"total":{"label":"T","amount":10}}`)
		}), []string{"message.payment: total.amount: is a JSON number, want string"}},
		{"Apple Pay endpoints", with(applePay, func(m *message.Message) {
			m.Endpoints = map[string]string{"fallbackUrl": "https://shop.example/f", "orderTrackingUrl": "ftp://x", "refundUrl": "https://shop.example/r"}
		}), []string{
			`message.endpoints.orderTrackingUrl: "ftp://x" is not an absolute http or https URL`,
			"message.endpoints.refundUrl: is not an Apple Pay endpoint: paymentGatewayUrl, fallbackUrl, orderTrackingUrl, paymentMethodUpdateUrl, shippingContactUpdateUrl or shippingMethodUpdateUrl",
		}},
		{"typing start", message.Message{Type: message.TypeTyping, State: "start", Locale: "en_US", Automated: true, Agent: "bot"}, nil},
		{"typing end", message.Message{Type: message.TypeTyping, State: "end"}, nil},
		{"typing without state", message.Message{Type: message.TypeTyping}, []string{`message.state: is required: "start" or "end"`}},
		{"typing with another state", message.Message{Type: message.TypeTyping, State: "paused"}, []string{`message.state: "paused" is not a typing state: "start" or "end"`}},
		{"typing with text", message.Message{Type: message.TypeTyping, State: "start", Text: "hi"},
			[]string{"message: a typing indicator carries only state, and optionally locale, automated and agent"}},
		{"typing with a session", message.Message{Type: message.TypeTyping, State: "start", SessionIdentifier: "s"},
			[]string{"message.sessionIdentifier: not used by typing messages: only interactive messages have a session",
				"message: a typing indicator carries only state, and optionally locale, automated and agent"}},
		{"state on a list", with(fruitList, func(m *message.Message) { m.State = "start" }), []string{"message.state: not used by list messages: only typing indicators have a state"}},
		{"session, locale, automated and agent on a list", with(fruitList, func(m *message.Message) {
			m.SessionIdentifier, m.Locale, m.Automated, m.Agent = "s-1", "pt-BR", true, strings.Repeat("a", MaxAgent)
		}), nil},
		{"session on a text", message.Message{Type: message.TypeText, Text: "hi", SessionIdentifier: "s-1"},
			[]string{"message.sessionIdentifier: not used by text messages: only interactive messages have a session"}},
		{"bad locale", message.Message{Type: message.TypeText, Text: "hi", Locale: "English"}, []string{`message.locale: "English" is not a locale such as en_US`}},
		{"agent over the limit", message.Message{Type: message.TypeText, Text: "hi", Agent: strings.Repeat("a", MaxAgent+1)}, []string{"message.agent: 1025 bytes, the limit is 1024"}},
		{"agent with a newline", message.Message{Type: message.TypeText, Text: "hi", Agent: "bot\r\nx-evil: 1"},
			[]string{"message.agent: contains a control character: it is sent as the msp-agent header"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range Validate(tt.m) {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestUIStringLimit holds every interface string to MaxUIString code
// points: at the limit it passes, one over it names the field and the limit.
func TestUIStringLimit(t *testing.T) {
	at := strings.Repeat("é", MaxUIString-1) + "👍"
	over := at + "a"
	list := func(title, item, desc, bubble string) message.Message {
		return message.Message{Type: message.TypeList, Body: "Pick", Bubble: &message.Bubble{Title: bubble},
			Sections: []message.Section{{Title: title, Items: []message.Option{{ID: "a", Title: item, Description: desc}}}}}
	}
	tests := []struct {
		name  string
		m     message.Message
		field string // "" = valid
	}{
		{"all at the limit", list(at, at, at, at), ""},
		{"section title", list(over, "A", "", "B"), "message.sections[0].title"},
		{"item title", list("S", over, "", "B"), "message.sections[0].items[0].title"},
		{"item description", list("S", "A", over, "B"), "message.sections[0].items[0].description"},
		{"bubble title", list("S", "A", "", over), "message.bubble.title"},
		{"quick reply title", message.Message{Type: message.TypeButtons, Body: "Pick", Buttons: []message.Option{{ID: "1", Title: over}, {ID: "2", Title: "B"}}}, "message.buttons[0].title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var found *message.Problem
			for _, p := range Validate(tt.m) {
				if strings.HasSuffix(p.Problem, "the limit is 200") {
					found = &p
				}
			}
			switch {
			case tt.field == "" && found != nil:
				t.Fatalf("unexpected problem %v", found)
			case tt.field != "" && (found == nil || found.Field != tt.field || found.Problem != "201 characters, the limit is 200"):
				t.Fatalf("problem %v, want %s: 201 characters, the limit is 200", found, tt.field)
			}
		})
	}
}

// items returns n list items with distinct ids from first on.
func items(first, n int) []message.Option {
	out := make([]message.Option, n)
	for i := range out {
		out[i] = message.Option{ID: fmt.Sprintf("sku-%d", first+i), Title: fmt.Sprintf("Item %d", first+i)}
	}
	return out
}
