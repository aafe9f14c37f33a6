package whatsapp

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/message"
)

func text(s string) message.Message {
	return message.Message{Type: message.TypeText, Text: s}
}

func ptr[T any](v T) *T { return &v }

func prob(field, problem string) message.Problem {
	return message.Problem{Field: field, Problem: problem}
}

func item(id, title string) message.Option { return message.Option{ID: id, Title: title} }

// Valid messages of every type, changed by the tests one field at a time.
func validList() message.Message {
	return message.Message{Type: message.TypeList, Header: &message.Header{Type: "text", Text: "Delivery slots"},
		Body: "When should we deliver order 5521?", Footer: "Times are local", Button: "Pick a slot",
		Sections: []message.Section{
			{Title: "Tomorrow", Items: []message.Option{
				{ID: "slot:0900", Title: "09:00–11:00", Description: "Morning van"}, item("slot:1400", "14:00–16:00")}},
			{Title: "Saturday", Items: []message.Option{{ID: "slot:sat-am", Title: "10:00–12:00", Description: "Weekend fee applies"}}},
		}}
}

func validButtons() message.Message {
	return message.Message{Type: message.TypeButtons, Header: &message.Header{Type: "image", ID: "1402299281192839"},
		Body: "Your table for 2 is booked for Friday 19:30. Keep it?", Footer: "Reply within 24 hours",
		Buttons: []message.Option{item("booking:8812:keep", "Keep booking"), item("booking:8812:move", "Change time"), item("booking:8812:cancel", "Cancel")}}
}

func validCTA() message.Message {
	return message.Message{Type: message.TypeCTAURL, Header: &message.Header{Type: "text", Text: "Your receipt"},
		Body: "Tap below to open receipt R-2291 in your browser.", Footer: "Link valid 7 days",
		Button: "Open receipt", URL: "https://shop.example/r/2291?t=abc"}
}

func validProduct() message.Message {
	return message.Message{Type: message.TypeProduct, Body: "The one you asked about", Footer: "Free returns",
		CatalogID: "194836987003835", ProductID: "sku-tee-blue-m"}
}

func validProductList() message.Message {
	return message.Message{Type: message.TypeProductList, Header: &message.Header{Type: "text", Text: "Summer picks"},
		Body: "Three tees and a hat we think you'll like", CatalogID: "194836987003835",
		Sections: []message.Section{
			{Title: "Tees", ProductIDs: []string{"sku-tee-blue-m", "sku-tee-red-m"}},
			{Title: "Hats", ProductIDs: []string{"sku-hat-01"}},
		}}
}

func validLocationRequest() message.Message {
	return message.Message{Type: message.TypeLocationRequest, Body: "Where should the driver pick you up? Share your location."}
}

func validTemplate() message.Message {
	return message.Message{Type: message.TypeTemplate, Name: "booking_reminder", Language: "en_GB",
		Components: json.RawMessage(`[
			{"type":"header","parameters":[{"type":"image","image":{"id":"1402299281192839"}}]},
			{"type":"body","parameters":[{"type":"text","text":"Sam"},{"type":"text","text":"Friday 19:30"}]},
			{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"booking:8812:keep"}]},
			{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"r/2291"}]}]`)}
}

// alphabets are the kinds of text every length limit is tried with: each
// unit is one or two code points.
var alphabets = []struct{ name, unit string }{
	{"ascii", "a"},
	{"two-byte", "é"},
	{"CJK", "日本"},
	{"emoji", "👍"},
	{"emoji with skin tone", "👍🏽"},
}

// fill returns n code points of unit, repeated.
func fill(unit string, n int) string {
	runes := []rune(unit)
	out := make([]rune, n)
	for i := range out {
		out[i] = runes[i%len(runes)]
	}
	return string(out)
}

// lengthLimits are every length limit of WhatsApp, each as the field it
// names, its limit and how to set it on a valid message.
var lengthLimits = []struct {
	field string
	limit int
	msg   func(s string) message.Message
}{
	{"message.text", 4096, func(s string) message.Message { return text(s) }},
	{"message.header.text", 60, func(s string) message.Message { m := validList(); m.Header.Text = s; return m }},
	{"message.body", 4096, func(s string) message.Message { m := validList(); m.Body = s; return m }},
	{"message.footer", 60, func(s string) message.Message { m := validList(); m.Footer = s; return m }},
	{"message.button", 20, func(s string) message.Message { m := validList(); m.Button = s; return m }},
	{"message.sections[1].title", 24, func(s string) message.Message { m := validList(); m.Sections[1].Title = s; return m }},
	{"message.sections[0].items[1].id", 200, func(s string) message.Message { m := validList(); m.Sections[0].Items[1].ID = s; return m }},
	{"message.sections[0].items[1].title", 24, func(s string) message.Message { m := validList(); m.Sections[0].Items[1].Title = s; return m }},
	{"message.sections[1].items[0].description", 72, func(s string) message.Message {
		m := validList()
		m.Sections[1].Items[0].Description = s
		return m
	}},
	{"message.header.text", 60, func(s string) message.Message {
		m := validButtons()
		m.Header = &message.Header{Type: "text", Text: s}
		return m
	}},
	{"message.body", 1024, func(s string) message.Message { m := validButtons(); m.Body = s; return m }},
	{"message.footer", 60, func(s string) message.Message { m := validButtons(); m.Footer = s; return m }},
	{"message.buttons[2].id", 256, func(s string) message.Message { m := validButtons(); m.Buttons[2].ID = s; return m }},
	{"message.buttons[2].title", 20, func(s string) message.Message { m := validButtons(); m.Buttons[2].Title = s; return m }},
	{"message.header.text", 60, func(s string) message.Message { m := validCTA(); m.Header.Text = s; return m }},
	{"message.body", 1024, func(s string) message.Message { m := validCTA(); m.Body = s; return m }},
	{"message.footer", 60, func(s string) message.Message { m := validCTA(); m.Footer = s; return m }},
	{"message.button", 20, func(s string) message.Message { m := validCTA(); m.Button = s; return m }},
	{"message.body", 1024, func(s string) message.Message { m := validProduct(); m.Body = s; return m }},
	{"message.footer", 60, func(s string) message.Message { m := validProduct(); m.Footer = s; return m }},
	{"message.header.text", 60, func(s string) message.Message { m := validProductList(); m.Header.Text = s; return m }},
	{"message.body", 1024, func(s string) message.Message { m := validProductList(); m.Body = s; return m }},
	{"message.footer", 60, func(s string) message.Message { m := validProductList(); m.Footer = s; return m }},
	{"message.sections[0].title", 24, func(s string) message.Message { m := validProductList(); m.Sections[0].Title = s; return m }},
	{"message.body", 1024, func(s string) message.Message { m := validLocationRequest(); m.Body = s; return m }},
	{"message.components[0].parameters[0].text", 60, func(s string) message.Message {
		return withComponents(`[{"type":"header","parameters":[{"type":"text","text":%s}]}]`, s)
	}},
	{"message.components[1].parameters[0].text", 1024, func(s string) message.Message {
		return withComponents(`[{"type":"header","parameters":[{"type":"text","text":"Hi"}]},{"type":"body","parameters":[{"type":"text","text":%s}]}]`, s)
	}},
	// A body sent alone takes a longer variable.
	{"message.components[0].parameters[0].text", 32768, func(s string) message.Message {
		return withComponents(`[{"type":"body","parameters":[{"type":"text","text":%s}]}]`, s)
	}},
	// A carousel card's body holds 160 characters; the message body beside
	// the carousel 1024.
	{"message.components[1].cards[1].components[1].parameters[0].text", 160, func(s string) message.Message {
		return withComponents(carousel(`"Sam"`, `"one"`, "%s"), s)
	}},
	{"message.components[0].parameters[0].text", 1024, func(s string) message.Message {
		return withComponents(carousel("%s", `"one"`, `"two"`), s)
	}},
	{"message.components[0].parameters[0].coupon_code", 15, func(s string) message.Message {
		return withComponents(`[{"type":"button","sub_type":"copy_code","index":0,"parameters":[{"type":"coupon_code","coupon_code":%s}]}]`, s)
	}},
	{"message.components[0].parameters[0].action.sections[0].title", 24, func(s string) message.Message {
		return withComponents(`[{"type":"button","sub_type":"mpm","index":0,"parameters":[{"type":"action","action":{"thumbnail_product_retailer_id":"sku-1",
			"sections":[{"title":%s,"product_items":[{"product_retailer_id":"sku-1"}]}]}}]}]`, s)
	}},
}

// carousel is a media card carousel template's components with one text
// variable in the message body and one in each of two cards' bodies, the
// three given as JSON (or as %s for withComponents).
func carousel(body, card0, card1 string) string {
	card := func(i int, text string) string {
		return fmt.Sprintf(`{"card_index":%d,"components":[{"type":"header","parameters":[{"type":"image","image":{"id":"1402299281192839"}}]},`+
			`{"type":"body","parameters":[{"type":"text","text":%s}]},{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"pick:%d"}]}]}`, i, text, i)
	}
	return `[{"type":"body","parameters":[{"type":"text","text":` + body + `}]},{"type":"carousel","cards":[` + card(0, card0) + "," + card(1, card1) + `]}]`
}

// TestCarouselBodyTotals: the text variables of a card's body count
// together against its 160 characters, and those of a carousel
// template's message body against its 1024, in every alphabet.
func TestCarouselBodyTotals(t *testing.T) {
	two := func(a, b string) string {
		qa, _ := json.Marshal(a)
		qb, _ := json.Marshal(b)
		return `{"type":"text","text":` + string(qa) + `},{"type":"text","text":` + string(qb) + `}`
	}
	for _, tt := range []struct {
		name, field, what string
		limit             int
		build             func(vars string) string
	}{
		{"card body", "message.components[1].cards[0].components[1].parameters", "a card's body", 160, func(vars string) string {
			return strings.Replace(carousel(`"Sam"`, `"one"`, `"two"`), `{"type":"text","text":"one"}`, vars, 1)
		}},
		{"message body", "message.components[0].parameters", "the message body of a carousel template", 1024, func(vars string) string {
			return strings.Replace(carousel(`"Sam"`, `"one"`, `"two"`), `{"type":"text","text":"Sam"}`, vars, 1)
		}},
	} {
		for _, a := range alphabets {
			t.Run(tt.name+"/"+a.name, func(t *testing.T) {
				m := validTemplate()
				half := tt.limit / 2
				m.Components = json.RawMessage(tt.build(two(fill(a.unit, half), fill(a.unit, tt.limit-half))))
				if ps := Validate(m); ps != nil {
					t.Errorf("at the limit: Validate = %v, want no problems", ps)
				}
				m.Components = json.RawMessage(tt.build(two(fill(a.unit, half), fill(a.unit, tt.limit-half+1))))
				want := message.Problems{{Field: tt.field, Problem: fmt.Sprintf("%d characters of text variables together, the limit is %d: they count against %s, which holds %d characters with its own text",
					tt.limit+1, tt.limit, tt.what, tt.limit)}}
				if ps := Validate(m); !reflect.DeepEqual(ps, want) {
					t.Errorf("one over: Validate = %v, want %v", ps, want)
				}
			})
		}
	}
	// A body beside no carousel is not bound by its variables' total.
	m := withComponents(`[{"type":"header","parameters":[{"type":"text","text":"Hi"}]},{"type":"body","parameters":[{"type":"text","text":%s},{"type":"text","text":"x"}]}]`, strings.Repeat("a", 1024))
	if ps := Validate(m); ps != nil {
		t.Errorf("a body of 1025 characters of variables beside no carousel: Validate = %v, want no problems", ps)
	}
}

// withComponents is a template whose components are format with s, quoted,
// in place of its %s.
func withComponents(format, s string) message.Message {
	q, _ := json.Marshal(s)
	m := validTemplate()
	m.Components = json.RawMessage(fmt.Sprintf(format, q))
	return m
}

func TestValidateLengthLimits(t *testing.T) {
	for _, l := range lengthLimits {
		typ := l.msg("x").Type
		for _, a := range alphabets {
			t.Run(fmt.Sprintf("%s/%s/%s", typ, l.field, a.name), func(t *testing.T) {
				if ps := Validate(l.msg(fill(a.unit, l.limit))); ps != nil {
					t.Errorf("at the limit: Validate = %v, want no problems", ps)
				}
				want := message.Problems{{Field: l.field, Problem: fmt.Sprintf("%d characters, the limit is %d", l.limit+1, l.limit)}}
				if ps := Validate(l.msg(fill(a.unit, l.limit+1))); !reflect.DeepEqual(ps, want) {
					t.Errorf("one over: Validate = %v, want %v", ps, want)
				}
			})
		}
	}
}

// rows returns n list items, ids and titles numbered from start.
func rows(start, n int) []message.Option {
	out := make([]message.Option, n)
	for i := range out {
		out[i] = item(fmt.Sprintf("r%d", start+i), fmt.Sprintf("Row %d", start+i))
	}
	return out
}

func withSections(m message.Message, sections ...message.Section) message.Message {
	m.Sections = sections
	return m
}

func products(start, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("sku-%d", start+i)
	}
	return out
}

// sections returns n sections of size items each, or of size products.
func sections(n, size int, ofProducts bool) []message.Section {
	out := make([]message.Section, n)
	for i := range out {
		out[i].Title = fmt.Sprintf("Section %d", i)
		if ofProducts {
			out[i].ProductIDs = products(i*size, size)
		} else {
			out[i].Items = rows(i*size, size)
		}
	}
	return out
}

func TestValidate(t *testing.T) {
	buttons := func(n int) message.Message {
		m := validButtons()
		m.Buttons = rows(0, n)
		return m
	}
	tests := []struct {
		name string
		msg  message.Message
		want message.Problems
	}{
		// Every type, valid.
		{"text", text("Your table is booked."), nil},
		{"richLink", message.Message{Type: message.TypeRichLink, Title: "Receipt R-2291", URL: "https://shop.example/r/2291"}, nil},
		{"list", validList(), nil},
		{"buttons", validButtons(), nil},
		{"reaction", message.Message{Type: message.TypeReaction, MessageID: "wamid.A1", Emoji: ptr("👍")}, nil},
		{"reaction removed", message.Message{Type: message.TypeReaction, MessageID: "wamid.A1", Emoji: ptr("")}, nil},
		{"product", validProduct(), nil},
		{"product without body", message.Message{Type: message.TypeProduct, CatalogID: "c", ProductID: "p"}, nil},
		{"productList", validProductList(), nil},
		{"locationRequest", validLocationRequest(), nil},
		{"ctaUrl", validCTA(), nil},
		{"template", validTemplate(), nil},
		{"template without components", message.Message{Type: message.TypeTemplate, Name: "hello_world", Language: "en_US"}, nil},
		{"reply", func() message.Message { m := validList(); m.ReplyTo = "msg_1"; return m }(), nil},
		{"bare string header is text", func() message.Message {
			m := validList()
			json.Unmarshal([]byte(`"Slots"`), &m.Header)
			return m
		}(), nil},

		// Counts, at the limit and one over.
		{"10 items over 3 sections", withSections(validList(),
			message.Section{Title: "A", Items: rows(0, 4)}, message.Section{Title: "B", Items: rows(4, 3)}, message.Section{Title: "C", Items: rows(7, 3)}), nil},
		{"11 items over 3 sections", withSections(validList(),
			message.Section{Title: "A", Items: rows(0, 4)}, message.Section{Title: "B", Items: rows(4, 4)}, message.Section{Title: "C", Items: rows(8, 3)}),
			message.Problems{prob("message.sections", "11 items in total, the limit is 10")}},
		{"10 sections", withSections(validList(), sections(10, 1, false)...), nil},
		{"11 sections", withSections(validList(), sections(11, 1, false)...),
			message.Problems{prob("message.sections", "11 sections, the limit is 10"), prob("message.sections", "11 items in total, the limit is 10")}},
		{"no sections", withSections(validList()), message.Problems{prob("message.sections", "is required: 1 to 10 sections")}},
		{"3 buttons", buttons(3), nil},
		{"4 buttons", buttons(4),
			message.Problems{prob("message.buttons", "4 buttons, the limit is 3 (set adapt to send up to 10 options as a list)")}},
		{"1 button", buttons(1), nil},
		{"no buttons", buttons(0), message.Problems{prob("message.buttons", "is required: 1 to 3 buttons")}},
		{"30 products", withSections(validProductList(), sections(3, 10, true)...), nil},
		{"31 products", withSections(validProductList(), append(sections(3, 10, true), message.Section{Title: "More", ProductIDs: products(30, 1)})...),
			message.Problems{prob("message.sections", "31 products in total, the limit is 30")}},
		{"10 product sections", withSections(validProductList(), sections(10, 1, true)...), nil},
		{"11 product sections", withSections(validProductList(), sections(11, 1, true)...),
			message.Problems{prob("message.sections", "11 sections, the limit is 10")}},
		{"no product sections", withSections(validProductList()), message.Problems{prob("message.sections", "is required: 1 to 10 sections")}},

		// Required fields.
		{"empty text", text(""), message.Problems{prob("message.text", "is required")}},
		{"empty list", message.Message{Type: message.TypeList}, message.Problems{
			prob("message.body", "is required"), prob("message.button", "is required"), prob("message.sections", "is required: 1 to 10 sections")}},
		{"list item without id and title", withSections(validList(), message.Section{Title: "A", Items: []message.Option{{}}}), message.Problems{
			prob("message.sections[0].items[0].id", "is required"), prob("message.sections[0].items[0].title", "is required")}},
		{"section without title", withSections(validList(), message.Section{Items: rows(0, 1)}),
			message.Problems{prob("message.sections[0].title", "is required")}},
		{"empty section", withSections(validList(), message.Section{Title: "A", Items: rows(0, 1)}, message.Section{Title: "B"}),
			message.Problems{prob("message.sections[1].items", "is required: a section needs at least one item")}},
		{"empty product section", withSections(validProductList(), message.Section{Title: "A", ProductIDs: products(0, 1)}, message.Section{Title: "B"}),
			message.Problems{prob("message.sections[1].productIds", "is required: a section needs at least one product")}},
		{"empty product id", withSections(validProductList(), message.Section{Title: "A", ProductIDs: []string{""}}),
			message.Problems{prob("message.sections[0].productIds[0]", "is required")}},
		{"empty buttons", message.Message{Type: message.TypeButtons}, message.Problems{
			prob("message.body", "is required"), prob("message.buttons", "is required: 1 to 3 buttons")}},
		{"button without id and title", func() message.Message { m := validButtons(); m.Buttons[1] = message.Option{}; return m }(),
			message.Problems{prob("message.buttons[1].id", "is required"), prob("message.buttons[1].title", "is required")}},
		{"empty reaction", message.Message{Type: message.TypeReaction}, message.Problems{
			prob("message.messageId", "is required"), prob("message.emoji", `is required ("" removes the reaction)`)}},
		{"empty product", message.Message{Type: message.TypeProduct}, message.Problems{
			prob("message.catalogId", "is required"), prob("message.productId", "is required")}},
		{"productList without header", func() message.Message { m := validProductList(); m.Header = nil; return m }(),
			message.Problems{prob("message.header", "is required for productList messages (a text header)")}},
		{"empty productList", message.Message{Type: message.TypeProductList}, message.Problems{
			prob("message.catalogId", "is required"), prob("message.header", "is required for productList messages (a text header)"),
			prob("message.body", "is required"), prob("message.sections", "is required: 1 to 10 sections")}},
		{"empty locationRequest", message.Message{Type: message.TypeLocationRequest}, message.Problems{prob("message.body", "is required")}},
		{"empty ctaUrl", message.Message{Type: message.TypeCTAURL}, message.Problems{
			prob("message.body", "is required"), prob("message.button", "is required"), prob("message.url", "is required")}},
		{"empty richLink", message.Message{Type: message.TypeRichLink}, message.Problems{
			prob("message.title", "is required"), prob("message.url", "is required")}},
		{"empty template", message.Message{Type: message.TypeTemplate}, message.Problems{
			prob("message.name", "is required"), prob("message.language", "is required")}},
		{"richLink too long as a text", message.Message{Type: message.TypeRichLink, Title: strings.Repeat("t", 4080), URL: "https://shop.example/r/2291"},
			message.Problems{prob("message.title", "with the url, a text of 4108 characters, the limit is 4096")}},

		// Duplicates.
		{"duplicate item ids across sections", withSections(validList(),
			message.Section{Title: "A", Items: rows(0, 2)}, message.Section{Title: "B", Items: []message.Option{item("r1", "Again")}}),
			message.Problems{prob("message.sections[1].items[0].id", `"r1" repeats message.sections[0].items[1].id; each must be unique`)}},
		{"duplicate button ids", func() message.Message { m := validButtons(); m.Buttons[2].ID = m.Buttons[0].ID; return m }(),
			message.Problems{prob("message.buttons[2].id", `"booking:8812:keep" repeats message.buttons[0].id; each must be unique`)}},
		{"duplicate button titles", func() message.Message { m := validButtons(); m.Buttons[1].Title = "Cancel"; return m }(),
			message.Problems{prob("message.buttons[2].title", `"Cancel" repeats message.buttons[1].title; each must be unique`)}},

		// URLs.
		{"ctaUrl not http", func() message.Message { m := validCTA(); m.URL = "javascript:alert(1)"; return m }(),
			message.Problems{prob("message.url", "must be an http or https URL")}},
		{"ctaUrl without host", func() message.Message { m := validCTA(); m.URL = "https:///r/2291"; return m }(),
			message.Problems{prob("message.url", "must be an http or https URL")}},
		{"ctaUrl http", func() message.Message { m := validCTA(); m.URL = "HTTP://shop.example/r"; return m }(), nil},
		{"richLink ftp", message.Message{Type: message.TypeRichLink, Title: "File", URL: "ftp://shop.example/f"},
			message.Problems{prob("message.url", "must be an http or https URL")}},
		{"header link not http", func() message.Message {
			m := validButtons()
			m.Header = &message.Header{Type: "video", URL: "file:///etc/passwd"}
			return m
		}(), message.Problems{prob("message.header.url", "must be an http or https URL")}},

		// Headers.
		{"document header by link", func() message.Message {
			m := validButtons()
			m.Header = &message.Header{Type: "document", URL: "https://shop.example/menu.pdf", Filename: "menu.pdf"}
			return m
		}(), nil},
		{"media header with neither", func() message.Message { m := validButtons(); m.Header = &message.Header{Type: "image"}; return m }(),
			message.Problems{prob("message.header", "image headers need url (a link) or id (a WhatsApp media id)")}},
		{"media header with both", func() message.Message {
			m := validButtons()
			m.Header = &message.Header{Type: "image", ID: "1", URL: "https://shop.example/a.jpg"}
			return m
		}(), message.Problems{prob("message.header", "url and id are both set; give one")}},
		{"media header with text and filename", func() message.Message {
			m := validButtons()
			m.Header = &message.Header{Type: "image", ID: "1", Text: "x", Filename: "a.jpg"}
			return m
		}(), message.Problems{prob("message.header.text", "not used by image headers"), prob("message.header.filename", "not used by image headers, only by documents")}},
		{"text header with a link", func() message.Message {
			m := validList()
			m.Header = &message.Header{Type: "text", Text: "x", URL: "https://shop.example"}
			return m
		}(), message.Problems{prob("message.header.url", "not used by text headers")}},
		{"empty text header", func() message.Message { m := validList(); m.Header = &message.Header{Type: "text"}; return m }(),
			message.Problems{prob("message.header.text", "is required")}},
		{"list with image header", func() message.Message { m := validList(); m.Header = &message.Header{Type: "image", ID: "1"}; return m }(),
			message.Problems{prob("message.header.type", `"image" headers are not used by list messages: their header is text`)}},
		{"productList with video header", func() message.Message {
			m := validProductList()
			m.Header = &message.Header{Type: "video", ID: "1"}
			return m
		}(), message.Problems{prob("message.header.type", `"video" headers are not used by productList messages: their header is text`)}},
		{"header without type", func() message.Message { m := validButtons(); m.Header = &message.Header{ID: "1"}; return m }(),
			message.Problems{prob("message.header.type", "is required: text, image, video or document")}},
		{"header of unknown type", func() message.Message {
			m := validButtons()
			m.Header = &message.Header{Type: "audio", ID: "1"}
			return m
		}(),
			message.Problems{prob("message.header.type", `"audio" is not a header type: text, image, video or document`)}},

		// Fields that do not belong to the type.
		{"slots on a list", func() message.Message { m := validList(); m.Slots = []message.Slot{{ID: "s"}}; return m }(),
			message.Problems{prob("message.slots", "not used by list messages")}},
		{"header on a product", func() message.Message {
			m := validProduct()
			m.Header = &message.Header{Type: "text", Text: "x"}
			return m
		}(),
			message.Problems{prob("message.header", "not used by product messages")}},
		{"footer on a location request", func() message.Message { m := validLocationRequest(); m.Footer = "x"; return m }(),
			message.Problems{prob("message.footer", "not used by locationRequest messages")}},
		{"sections on buttons", func() message.Message { m := validButtons(); m.Sections = validList().Sections; return m }(),
			message.Problems{prob("message.sections", "not used by buttons messages; a list has sections (set adapt to send more than 3 options as a list)")}},
		{"reply to on a reaction", message.Message{Type: message.TypeReaction, MessageID: "wamid.A1", Emoji: ptr("👍"), ReplyTo: "wamid.A1"},
			message.Problems{prob("message.replyTo", "a reaction cannot be a reply; messageId names the message it reacts to")}},
		{"multiple selection", func() message.Message { m := validList(); m.MultipleSelection = true; return m }(),
			message.Problems{prob("message.multipleSelection", "WhatsApp lists take a single choice")}},
		{"multiple selection in a section", func() message.Message {
			m := validList()
			m.Sections = append([]message.Section(nil), m.Sections...)
			m.Sections[0].MultipleSelection = ptr(true)
			return m
		}(), message.Problems{prob("message.sections[0].multipleSelection", "WhatsApp lists take a single choice")}},
		{"multiple selection in a product section", func() message.Message {
			m := validProductList()
			m.Sections = append([]message.Section(nil), m.Sections...)
			m.Sections[0].MultipleSelection = ptr(false)
			return m
		}(), message.Problems{prob("message.sections[0].multipleSelection", "not used by productList messages")}},
		{"apple's fields", func() message.Message {
			m := validList()
			m.Bubble = &message.Bubble{Title: "Pick"}
			m.Images = []message.Image{{ID: "i"}}
			return m
		}(), message.Problems{prob("message.images", "not used on WhatsApp (Apple only)"), prob("message.bubble", "not used on WhatsApp (Apple only)")}},
		{"richLink image", message.Message{Type: message.TypeRichLink, Title: "R", URL: "https://shop.example", Image: &message.Image{URL: "https://shop.example/i.png"}},
			message.Problems{prob("message.image", "not used on WhatsApp, which previews the page itself; set adapt to send the link without it")}},
		{"custom's app on a richLink", message.Message{Type: message.TypeRichLink, Title: "R", URL: "https://shop.example", AppID: 1, AppName: "Shop"},
			message.Problems{prob("message.appId", "not used by richLink messages"), prob("message.appName", "not used by richLink messages")}},
		{"previewUrl on a richLink", message.Message{Type: message.TypeRichLink, Title: "R", URL: "https://shop.example", PreviewURL: true},
			message.Problems{prob("message.previewUrl", "not used by richLink messages")}},
		{"item image and product ids in a list", withSections(validList(),
			message.Section{Title: "A", Items: []message.Option{{ID: "a", Title: "A", ImageID: "img"}}, ProductIDs: []string{"p"}}),
			message.Problems{prob("message.sections[0].productIds", "not used by list messages; a section lists items"),
				prob("message.sections[0].items[0].imageId", "not used on WhatsApp (Apple only)")}},
		{"items in a product section", withSections(validProductList(), message.Section{Title: "A", ProductIDs: []string{"p"}, Items: rows(0, 1)}),
			message.Problems{prob("message.sections[0].items", "not used by productList messages; a section lists productIds")}},
		{"button description", func() message.Message { m := validButtons(); m.Buttons[0].Description = "d"; return m }(),
			message.Problems{prob("message.buttons[0].description", "not used by buttons messages")}},
		{"text on a template", func() message.Message { m := validTemplate(); m.Text = "hi"; return m }(),
			message.Problems{prob("message.text", "not used by template messages")}},

		// Template components.
		{"components not an array", func() message.Message {
			m := validTemplate()
			m.Components = json.RawMessage(`{"type":"body"}`)
			return m
		}(),
			message.Problems{prob("message.components", "must be an array of component objects")}},
		{"component not an object", func() message.Message { m := validTemplate(); m.Components = json.RawMessage(`["body"]`); return m }(),
			message.Problems{prob("message.components[0]", "must be an object")}},
		{"component types", func() message.Message {
			m := validTemplate()
			m.Components = json.RawMessage(`[{"parameters":[]},{"type":"footer"},{"type":"body","sub_type":"x","index":"0"}]`)
			return m
		}(), message.Problems{
			prob("message.components[0].type", "is required: header, body, button, limited_time_offer or carousel"),
			prob("message.components[1].type", `"footer" is not a component type: header, body, button, limited_time_offer or carousel`),
			prob("message.components[2].index", "not used by a body component"),
			prob("message.components[2].sub_type", "not used by a body component")}},
		{"button without sub_type and index", func() message.Message {
			m := validTemplate()
			m.Components = json.RawMessage(`[{"type":"button"}]`)
			return m
		}(), message.Problems{
			prob("message.components[0].sub_type", "is required for a button component: quick_reply, url, copy_code, flow, catalog, mpm, spm, voice_call or order_details"),
			prob("message.components[0].index", `is required for a button component: its 0-based position, e.g. "0" or 0`)}},
		// Meta's coupon-code and limited-time-offer examples send the index
		// as a number: accepted; a word, a fraction or 10 is not a position.
		{"index as a number", func() message.Message {
			m := validTemplate()
			m.Components = json.RawMessage(`[{"type":"button","sub_type":"quick_reply","index":0},{"type":"button","sub_type":"quick_reply","index":"first"},
				{"type":"button","sub_type":"quick_reply","index":1.5},{"type":"button","sub_type":"quick_reply","index":10}]`)
			return m
		}(), message.Problems{
			prob("message.components[1].index", `must be the button's 0-based position, 0 to 9, as a string or a number, e.g. "0" or 0`),
			prob("message.components[2].index", `must be the button's 0-based position, 0 to 9, as a string or a number, e.g. "0" or 0`),
			prob("message.components[3].index", `must be the button's 0-based position, 0 to 9, as a string or a number, e.g. "0" or 0`)}},
		{"quick reply parameters", func() message.Message {
			m := validTemplate()
			m.Components = json.RawMessage(`[{"type":"button","sub_type":"quick_reply","index":"0",
				"parameters":[{"type":"text","text":"Keep"},{"type":"payload"},"payload",{"payload":"x"}]}]`)
			return m
		}(), message.Problems{
			prob("message.components[0].parameters[2]", "must be an object"),
			prob("message.components[0].parameters[0].type", `must be "payload" in a quick_reply button`),
			prob("message.components[0].parameters[1].payload", "is required: the string WhatsApp sends back when the button is tapped"),
			prob("message.components[0].parameters[3].type", "is required: payload"),
			prob("message.components[0].parameters", "4 parameters, the limit is 1: a button takes one")}},
		// caption is a key of Meta's media object: let through.
		{"media header with a caption", func() message.Message {
			m := validTemplate()
			m.Components = json.RawMessage(`[{"type":"header","parameters":[{"type":"image","image":{"id":"1402299281192839","caption":"Room 12"}}]}]`)
			return m
		}(), nil},
		{"parameters not an array", func() message.Message {
			m := validTemplate()
			m.Components = json.RawMessage(`[{"type":"body","parameters":{"type":"text"}}]`)
			return m
		}(), message.Problems{prob("message.components[0].parameters", "must be an array of parameter objects")}},

		// Types this package does not render.
		{"timePicker", message.Message{Type: message.TypeTimePicker}, nil},
		{"auth", message.Message{Type: message.TypeAuth}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Validate(tt.msg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate =\n  %v\nwant\n  %v", got, tt.want)
			}
		})
	}
}

func TestSupports(t *testing.T) {
	for _, typ := range []string{message.TypeText, message.TypeRichLink, message.TypeList, message.TypeButtons,
		message.TypeReaction, message.TypeProduct, message.TypeProductList, message.TypeLocationRequest,
		message.TypeCTAURL, message.TypeTemplate} {
		if !Supports(typ) {
			t.Errorf("Supports(%q) = false, want true", typ)
		}
	}
	for _, typ := range []string{message.TypeTimePicker, message.TypeAuth, message.TypeApplePay, message.TypeCustom, "", "carousel"} {
		if Supports(typ) {
			t.Errorf("Supports(%q) = true, want false", typ)
		}
	}
}
