package whatsappsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Wire builders for the cases below: each returns JSON.

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// envelope is a send request of type typ carrying obj.
func envelope(typ, obj string) string {
	return `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"` + typ + `","` + typ + `":` + obj + `}`
}

func interactive(typ, parts string) string {
	return envelope("interactive", `{"type":"`+typ+`",`+parts+`}`)
}

func body(text string) string   { return `"body":{"text":` + quote(text) + `}` }
func footer(text string) string { return `"footer":{"text":` + quote(text) + `}` }
func textHeader(text string) string {
	return `"header":{"type":"text","text":` + quote(text) + `}`
}

func button(id, title string) string {
	return `{"type":"reply","reply":{"id":` + quote(id) + `,"title":` + quote(title) + `}}`
}

func buttons(parts string, bs ...string) string {
	return interactive("button", parts+`"action":{"buttons":[`+strings.Join(bs, ",")+`]}`)
}

func row(id, title, desc string) string {
	if desc == "" {
		return `{"id":` + quote(id) + `,"title":` + quote(title) + `}`
	}
	return `{"id":` + quote(id) + `,"title":` + quote(title) + `,"description":` + quote(desc) + `}`
}

// rows are n rows with ids prefix0, prefix1, …
func rows(prefix string, n int) string {
	var rs []string
	for i := range n {
		rs = append(rs, row(fmt.Sprintf("%s%d", prefix, i), fmt.Sprintf("Row %d", i), ""))
	}
	return strings.Join(rs, ",")
}

func section(title, rows string) string {
	return `{"title":` + quote(title) + `,"rows":[` + rows + `]}`
}

func list(parts, label string, sections ...string) string {
	return interactive("list", parts+`"action":{"button":`+quote(label)+`,"sections":[`+strings.Join(sections, ",")+`]}`)
}

func products(prefix string, n int) string {
	var ps []string
	for i := range n {
		ps = append(ps, fmt.Sprintf(`{"product_retailer_id":"%s%d"}`, prefix, i))
	}
	return strings.Join(ps, ",")
}

func productSection(title, items string) string {
	return `{"title":` + quote(title) + `,"product_items":[` + items + `]}`
}

func productList(parts string, sections ...string) string {
	return interactive("product_list", parts+`"action":{"catalog_id":"194836987003835","sections":[`+strings.Join(sections, ",")+`]}`)
}

func cta(parts, text, url string) string {
	return interactive("cta_url", parts+`"action":{"name":"cta_url","parameters":{"display_text":`+quote(text)+`,"url":`+quote(url)+`}}`)
}

func flow(params string) string {
	return interactive("flow", body("Takes a minute.")+`,"action":{"name":"flow","parameters":{`+params+`}}`)
}

func reactionTo(emoji string) string {
	return envelope("reaction", `{"message_id":"wamid.THEIRS","emoji":`+quote(emoji)+`}`)
}

func template(components string) string {
	return envelope("template", `{"name":"booking_reminder","language":{"code":"en_GB"},"components":[`+components+`]}`)
}

func quickReplyButton(index, payload string) string {
	return `{"type":"button","sub_type":"quick_reply","index":` + index + `,"parameters":[{"type":"payload","payload":` + quote(payload) + `}]}`
}

var r = strings.Repeat

// times is f(i) for i from 0 to n-1.
func times(n int, f func(i int) string) []string {
	var out []string
	for i := range n {
		out = append(out, f(i))
	}
	return out
}

// TestSendLimits: every type Meta accepts, at its limits, and refused one
// over them with Meta's code and details.
func TestSendLimits(t *testing.T) {
	const (
		ok        = 0
		param     = 100    // missing, wrong JSON type, unknown
		value     = 131009 // out of Meta's rules
		flowValid = `"flow_message_version":"3","flow_id":"1190045712345678","flow_token":"case-4812","flow_cta":"Start"`
	)
	threeButtons := []string{button(r("i", 256), r("👍", 20)), button("b", "Change time"), button("c", "Cancel")}
	tests := []struct {
		name        string
		body        string
		wantCode    int
		wantDetails string
	}{
		// Reply buttons.
		{"buttons at every limit", buttons(textHeader(r("h", 60))+","+body(r("é", 1024))+","+footer(r("f", 60))+",", threeButtons...), ok, ""},
		{"buttons image header by id", buttons(`"header":{"type":"image","image":{"id":"1402299281192839"}},`+body("Keep it?")+",", button("a", "Keep")), ok, ""},
		{"buttons document header by link", buttons(`"header":{"type":"document","document":{"link":"https://x.example/a.pdf","filename":"a.pdf"}},`+body("Here")+",", button("a", "Keep")), ok, ""},
		{"buttons video header", buttons(`"header":{"type":"video","video":{"link":"https://x.example/a.mp4"}},`+body("Here")+",", button("a", "Keep")), ok, ""},
		{"four buttons", buttons(body("Pick")+",", append(threeButtons, button("d", "More"))...), value, "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3"},
		{"no button", buttons(body("Pick") + ","), value, "Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3"},
		{"button title one over", buttons(body("Pick")+",", button("a", r("👍", 21))), value, "Button title length invalid. Min length: 1, Max length: 20"},
		{"button title empty", buttons(body("Pick")+",", button("a", "")), value, "Button title length invalid. Min length: 1, Max length: 20"},
		{"button id one over", buttons(body("Pick")+",", button(r("i", 257), "Keep")), value, "Button id length invalid. Min length: 1, Max length: 256"},
		{"button titles repeat", buttons(body("Pick")+",", button("a", "Keep"), button("b", "Keep")), value, `Button title must be unique within the message: "Keep" is repeated.`},
		{"button type not reply", buttons(body("Pick")+",", `{"type":"url","reply":{"id":"a","title":"Keep"}}`), value, `interactive['action']['buttons'][0]['type'] must be "reply"`},
		{"button title misspelled", buttons(body("Pick")+",", `{"type":"reply","reply":{"id":"a","titel":"Keep"}}`), param, `Unexpected key "titel" on param interactive['action']['buttons'][0]['reply'].`},
		{"button title missing", buttons(body("Pick")+",", `{"type":"reply","reply":{"id":"a"}}`), param, `The parameter interactive['action']['buttons'][0]['reply']['title'] is required.`},
		{"button title a number", buttons(body("Pick")+",", `{"type":"reply","reply":{"id":"a","title":7}}`), param, `Param interactive['action']['buttons'][0]['reply']['title'] must be a string.`},
		{"buttons body one over", buttons(body(r("é", 1025))+",", button("a", "Keep")), value, "Body text length invalid. Min length: 1, Max length: 1024"},
		{"buttons body empty", buttons(body("")+",", button("a", "Keep")), value, "Body text length invalid. Min length: 1, Max length: 1024"},
		{"buttons without body", buttons("", button("a", "Keep")), param, "The parameter interactive['body'] is required."},
		{"buttons footer one over", buttons(body("Pick")+","+footer(r("f", 61))+",", button("a", "Keep")), value, "Footer text length invalid. Min length: 1, Max length: 60"},
		{"buttons header text one over", buttons(textHeader(r("h", 61))+","+body("Pick")+",", button("a", "Keep")), value, "Header text length invalid. Min length: 1, Max length: 60"},
		{"buttons header location", buttons(`"header":{"type":"location","location":{}},`+body("Pick")+",", button("a", "Keep")), param, `Unexpected key "location" on param interactive['header'].`},
		{"buttons header media id and link", buttons(`"header":{"type":"image","image":{"id":"1","link":"https://x.example/a.png"}},`+body("Pick")+",", button("a", "Keep")), param, "takes an id or a link, not both"},
		{"buttons header media neither", buttons(`"header":{"type":"image","image":{}},`+body("Pick")+",", button("a", "Keep")), param, "The parameter interactive['header']['image']['id'] or interactive['header']['image']['link'] is required."},
		{"buttons header link not a URL", buttons(`"header":{"type":"image","image":{"link":"x.example/a.png"}},`+body("Pick")+",", button("a", "Keep")), value, "must be an http or https URL"},
		{"buttons header text with an image", buttons(`"header":{"type":"text","text":"Hi","image":{"id":"1"}},`+body("Pick")+",", button("a", "Keep")), param, `Unexpected key "image" on param interactive['header'] for a header of type text.`},
		{"interactive key misspelled", buttons(`"bdy":{"text":"Pick"},`, button("a", "Keep")), param, `Unexpected key "bdy" on param interactive.`},
		{"interactive type unknown", interactive("carousel", body("Pick")), value, `Param interactive['type'] must be one of {button, list, cta_url, location_request_message, product, product_list, flow, catalog_message}, got "carousel".`},
		{"interactive type missing", envelope("interactive", `{`+body("Pick")+`}`), param, "The parameter interactive['type'] is required."},
		{"interactive missing", `{"messaging_product":"whatsapp","to":"447700900123","type":"interactive"}`, param, "The parameter interactive is required."},

		// Lists.
		{"list at every limit", list(textHeader(r("h", 60))+","+body(r("é", 4096))+","+footer(r("f", 60))+",", r("b", 20),
			section(r("s", 24), row(r("i", 200), r("t", 24), r("d", 72))+","+rows("a", 4)), section("Saturday", rows("b", 5))), ok, ""},
		{"list ten sections", list(body("Pick")+",", "Slots", times(10, func(i int) string { return section("S", rows(fmt.Sprint(i), 1)) })...), ok, ""},
		{"eleven rows across sections", list(body("Pick")+",", "Slots", section("Tomorrow", rows("a", 5)), section("Saturday", rows("b", 6))), value, "Total row count exceeds the max allowed count across all sections. Max allowed rows: 10"},
		{"eleven sections", list(body("Pick")+",", "Slots", times(11, func(i int) string { return section("S", rows(fmt.Sprint(i), 1)) })...), value, "Invalid sections count. Min allowed sections: 1, Max allowed sections: 10"},
		{"no section", list(body("Pick")+",", "Slots"), value, "Invalid sections count. Min allowed sections: 1, Max allowed sections: 10"},
		{"section without rows", list(body("Pick")+",", "Slots", section("Tomorrow", "")), value, "Invalid rows count in interactive['action']['sections'][0]. Min allowed rows: 1"},
		{"row title one over", list(body("Pick")+",", "Slots", section("Tomorrow", row("a", r("t", 25), ""))), value, "Row title length invalid. Min length: 1, Max length: 24"},
		{"row id one over", list(body("Pick")+",", "Slots", section("Tomorrow", row(r("i", 201), "T", ""))), value, "Row id length invalid. Min length: 1, Max length: 200"},
		{"row description one over", list(body("Pick")+",", "Slots", section("Tomorrow", row("a", "T", r("d", 73)))), value, "Row description length invalid. Min length: 0, Max length: 72"},
		{"row ids repeat", list(body("Pick")+",", "Slots", section("Tomorrow", row("a", "T", "")), section("Saturday", row("a", "U", ""))), value, `Row id must be unique within the message: "a" is repeated.`},
		{"section title one over", list(body("Pick")+",", "Slots", section(r("s", 25), rows("a", 1))), value, "Section title length invalid. Min length: 1, Max length: 24"},
		{"section title missing", list(body("Pick")+",", "Slots", `{"rows":[`+rows("a", 1)+`]}`), param, "The parameter interactive['action']['sections'][0]['title'] is required."},
		{"list button one over", list(body("Pick")+",", r("b", 21), section("Tomorrow", rows("a", 1))), value, "Button text length invalid. Min length: 1, Max length: 20"},
		{"list body one over", list(body(r("é", 4097))+",", "Slots", section("Tomorrow", rows("a", 1))), value, "Body text length invalid. Min length: 1, Max length: 4096"},
		{"list image header", list(`"header":{"type":"image","image":{"id":"1"}},`+body("Pick")+",", "Slots", section("Tomorrow", rows("a", 1))), value, `Header type "image" is not allowed in an interactive message of type list; allowed: text.`},

		// CTA URL.
		{"cta at every limit", cta(`"header":{"type":"image","image":{"link":"https://x.example/r.png"}},`+body(r("é", 1024))+","+footer(r("f", 60))+",", r("👍", 20), "https://shop.example/r/2291?t=abc"), ok, ""},
		{"cta display text one over", cta(body("Open")+",", r("d", 21), "https://shop.example/r"), value, "Display text length invalid. Min length: 1, Max length: 20"},
		{"cta url not http", cta(body("Open")+",", "Open", "ftp://shop.example/r"), value, `Param interactive['action']['parameters']['url'] must be an http or https URL, got "ftp://shop.example/r".`},
		{"cta url missing", interactive("cta_url", body("Open")+`,"action":{"name":"cta_url","parameters":{"display_text":"Open"}}`), param, "The parameter interactive['action']['parameters']['url'] is required."},
		{"cta name wrong", interactive("cta_url", body("Open")+`,"action":{"name":"url","parameters":{"display_text":"Open","url":"https://x.example"}}`), value, `Param interactive['action']['name'] must be "cta_url", got "url".`},
		{"cta body one over", cta(body(r("é", 1025))+",", "Open", "https://shop.example/r"), value, "Body text length invalid. Min length: 1, Max length: 1024"},

		// Location request.
		{"location request at the limit", interactive("location_request_message", body(r("é", 1024))+`,"action":{"name":"send_location"}`), ok, ""},
		{"location request body one over", interactive("location_request_message", body(r("é", 1025))+`,"action":{"name":"send_location"}`), value, "Body text length invalid. Min length: 1, Max length: 1024"},
		{"location request with a header", interactive("location_request_message", textHeader("Where?")+","+body("Share")+`,"action":{"name":"send_location"}`), value, "A header is not allowed in an interactive message of type location_request_message."},
		{"location request with a footer", interactive("location_request_message", body("Share")+","+footer("Thanks")+`,"action":{"name":"send_location"}`), value, "A footer is not allowed in an interactive message of type location_request_message."},
		{"location request action name wrong", interactive("location_request_message", body("Share")+`,"action":{"name":"location"}`), value, `must be "send_location", got "location"`},

		// Single product.
		{"product without body", interactive("product", `"action":{"catalog_id":"194836987003835","product_retailer_id":"sku-tee-blue-m"}`), ok, ""},
		{"product at every limit", interactive("product", body(r("é", 1024))+","+footer(r("f", 60))+`,"action":{"catalog_id":"194836987003835","product_retailer_id":"sku-tee-blue-m"}`), ok, ""},
		{"product with a header", interactive("product", textHeader("Tee")+`,"action":{"catalog_id":"194836987003835","product_retailer_id":"sku-tee-blue-m"}`), value, "A header is not allowed in an interactive message of type product."},
		{"product without catalog", interactive("product", `"action":{"product_retailer_id":"sku-tee-blue-m"}`), param, "The parameter interactive['action']['catalog_id'] is required."},
		{"product body one over", interactive("product", body(r("é", 1025))+`,"action":{"catalog_id":"1","product_retailer_id":"sku"}`), value, "Body text length invalid. Min length: 1, Max length: 1024"},

		// Multi-product.
		{"product list at every limit", productList(textHeader(r("h", 60))+","+body(r("é", 1024))+","+footer(r("f", 60))+",",
			productSection(r("s", 24), products("a", 10)), productSection("Hats", products("b", 10)), productSection("Socks", products("c", 10))), ok, ""},
		{"product list 31 products", productList(textHeader("Picks")+","+body("For you")+",",
			productSection("Tees", products("a", 10)), productSection("Hats", products("b", 10)), productSection("Socks", products("c", 11))), value, "Total product count exceeds the max allowed count across all sections. Max allowed products: 30"},
		{"product list without header", productList(body("For you")+",", productSection("Tees", products("a", 1))), param, "The parameter interactive['header'] is required."},
		{"product list image header", productList(`"header":{"type":"image","image":{"id":"1"}},`+body("For you")+",", productSection("Tees", products("a", 1))), value, `Header type "image" is not allowed in an interactive message of type product_list; allowed: text.`},
		{"product list without body", productList(textHeader("Picks")+",", productSection("Tees", products("a", 1))), param, "The parameter interactive['body'] is required."},
		{"product list empty section", productList(textHeader("Picks")+","+body("For you")+",", productSection("Tees", "")), value, "Invalid product_items count in interactive['action']['sections'][0]. Min allowed product_items: 1"},
		{"product list eleven sections", productList(textHeader("Picks")+","+body("For you")+",", times(11, func(int) string { return productSection("S", products("a", 1)) })...), value, "Invalid sections count. Min allowed sections: 1, Max allowed sections: 10"},
		{"product list section title one over", productList(textHeader("Picks")+","+body("For you")+",", productSection(r("s", 25), products("a", 1))), value, "Section title length invalid. Min length: 1, Max length: 24"},

		// Flow and catalog.
		{"flow", flow(flowValid + `,"flow_action":"navigate","flow_action_payload":{"screen":"WELCOME","data":{"case":"4812"}}`), ok, ""},
		{"flow by id and name", flow(flowValid + `,"flow_name":"repair"`), param, "Exactly one of interactive['action']['parameters']['flow_id'] and interactive['action']['parameters']['flow_name'] is required."},
		{"flow version 2", flow(`"flow_message_version":"2","flow_id":"1","flow_cta":"Start"`), value, `Param interactive['action']['parameters']['flow_message_version'] must be "3", got "2".`},
		{"flow mode unknown", flow(flowValid + `,"mode":"live"`), value, `Param interactive['action']['parameters']['mode'] must be one of {draft, published}, got "live".`},
		{"flow empty data", flow(flowValid + `,"flow_action_payload":{"screen":"WELCOME","data":{}}`), value, "must be a non-empty JSON object"},
		{"catalog", interactive("catalog_message", body("Our catalog")+`,"action":{"name":"catalog_message","parameters":{"thumbnail_product_retailer_id":"sku-1"}}`), ok, ""},
		{"catalog with a header", interactive("catalog_message", textHeader("Shop")+","+body("Our catalog")+`,"action":{"name":"catalog_message"}`), value, "A header is not allowed in an interactive message of type catalog_message."},

		// Reactions.
		{"reaction", reactionTo("👍"), ok, ""},
		{"reaction removed", reactionTo(""), ok, ""},
		{"reaction keycap", reactionTo("1️⃣"), ok, ""},
		{"reaction family", reactionTo("👨‍👩‍👧‍👦"), ok, ""},
		{"reaction with a word", reactionTo("ok"), value, `Param reaction['emoji'] must be a single emoji (or "" to remove a reaction), got "ok".`},
		{"reaction with two emoji and a space", reactionTo("👍 👍"), value, "must be a single emoji"},
		{"reaction as a contextual reply", `{"messaging_product":"whatsapp","to":"447700900123","type":"reaction","reaction":{"message_id":"wamid.THEIRS","emoji":"👍"},"context":{"message_id":"wamid.THEIRS"}}`, value, "A reaction message cannot be a contextual reply"},
		{"reaction without target", envelope("reaction", `{"emoji":"👍"}`), param, "The parameter reaction['message_id'] is required."},
		{"reaction without emoji", envelope("reaction", `{"message_id":"wamid.THEIRS"}`), param, "The parameter reaction['emoji'] is required."},

		// Templates.
		{"template with every component", template(`{"type":"header","parameters":[{"type":"image","image":{"id":"1402299281192839"}}]},` +
			`{"type":"body","parameters":[{"type":"text","text":"Sam"},{"type":"currency","currency":{"fallback_value":"£7.99","code":"GBP","amount_1000":7990}},{"type":"text","parameter_name":"slot","text":"Friday 19:30"}]},` +
			quickReplyButton(`"0"`, "booking:8812:keep") + "," + quickReplyButton("1", "booking:8812:cancel") + `,` +
			`{"type":"button","sub_type":"url","index":"2","parameters":[{"type":"text","text":"r/2291"}]}`), ok, ""},
		{"template without components", envelope("template", `{"name":"hello_world","language":{"code":"en_US","policy":"deterministic"}}`), ok, ""},
		{"template ten quick replies", template(strings.Join(times(10, func(i int) string { return quickReplyButton(fmt.Sprintf(`"%d"`, i), fmt.Sprint("p", i)) }), ",")), ok, ""},
		{"template eleventh quick reply", template(strings.Join(times(11, func(i int) string { return quickReplyButton(fmt.Sprint(min(i, 9)), fmt.Sprint("p", i)) }), ",")), value, "Param template['components'][10]['index'] repeats button index 9; each button has its own."},
		{"template button index 10", template(quickReplyButton("10", "p")), value, "Param template['components'][0]['index'] must be a button index from 0 to 9, got 10."},
		{"template without language", envelope("template", `{"name":"hello_world"}`), param, "The parameter template['language'] is required."},
		{"template language misspelled", envelope("template", `{"name":"hello_world","language":{"cod":"en_US"}}`), param, `Unexpected key "cod" on param template['language'].`},
		{"template quick reply with text", template(`{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"text","text":"Keep"}]}`), value, `Param template['components'][0]['parameters'][0]['type'] of a quick_reply button must be "payload", got "text".`},
		{"template index not a digit", template(`{"type":"button","sub_type":"quick_reply","index":"first","parameters":[{"type":"payload","payload":"p"}]}`), value, `Param template['components'][0]['index'] must be a button index from 0 to 9, got "first".`},
		{"template button without sub_type", template(`{"type":"button","index":"0"}`), param, "The parameter template['components'][0]['sub_type'] is required."},
		{"template footer component", template(`{"type":"footer"}`), value, `Param template['components'][0]['type'] must be one of {header, body, button, limited_time_offer, carousel}, got "footer".`},
		{"template empty text parameter", template(`{"type":"body","parameters":[{"type":"text","text":""}]}`), param, "The parameter template['components'][0]['parameters'][0]['text'] is required."},
		{"template unknown parameter type", template(`{"type":"body","parameters":[{"type":"money"}]}`), value, `Param template['components'][0]['parameters'][0]['type'] must be one of {text, currency, date_time}, got "money".`},

		// The envelope.
		{"callback data at the limit", `{"messaging_product":"whatsapp","to":"447700900123","biz_opaque_callback_data":"` + r("c", 512) + `","text":{"body":"hi"}}`, ok, ""},
		{"callback data one over", `{"messaging_product":"whatsapp","to":"447700900123","biz_opaque_callback_data":"` + r("c", 513) + `","text":{"body":"hi"}}`, value, "biz_opaque_callback_data length invalid. Min length: 0, Max length: 512"},
		{"context misspelled", `{"messaging_product":"whatsapp","to":"447700900123","text":{"body":"hi"},"context":{"id":"wamid.X"}}`, param, `Unexpected key "id" on param context.`},
		{"text key misspelled", `{"messaging_product":"whatsapp","to":"447700900123","text":{"bdy":"hi"}}`, param, `Unexpected key "bdy" on param text.`},
	}
	s := newStack(t, business)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := s.send(t, tt.body)
			if tt.wantCode == ok {
				if status != http.StatusOK || got.Error != nil || len(got.Messages) != 1 {
					t.Fatalf("status %d %+v, want a wamid", status, got.Error)
				}
				return
			}
			e := got.Error
			switch {
			case status != http.StatusBadRequest || e == nil:
				t.Fatalf("status %d %+v, want 400 with an error", status, e)
			case e.Code != tt.wantCode || e.Type != "OAuthException" || e.FBTraceID == "":
				t.Errorf("error %+v, want code %d, OAuthException and an fbtrace_id", e, tt.wantCode)
			case !strings.Contains(e.ErrorData.Details, tt.wantDetails):
				t.Errorf("details %q, want them to contain %q", e.ErrorData.Details, tt.wantDetails)
			case e.Message != fmt.Sprintf("(#%d) %s", tt.wantCode, codeTitles[tt.wantCode]):
				t.Errorf("message %q", e.Message)
			}
		})
	}
}
