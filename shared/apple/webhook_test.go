package apple

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

const (
	testBusiness = "3f9a6c2e-5b1d-4e8a-9c70-2d4b6e8f1a03"
	testCustomer = "urn:mbid:AQAAY3ZvTjGmQXk9p+e/Zu7x2Dhc9fN0kRr3Qa4lB1rBXbI8tKQvN5sLmW2o="
)

// fixture is one webhook of testdata/: its headers (without Authorization)
// and its decompressed body.
type fixture struct {
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func loadFixture(t testing.TB, name string) (http.Header, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	h := http.Header{}
	for k, v := range f.Headers {
		h.Set(k, v)
	}
	return h, f.Body
}

func TestParseFixtures(t *testing.T) {
	at := time.Date(2024, 5, 29, 16, 26, 40, 0, time.UTC)
	item := func(kind, id string, body *message.Body, caps ...string) message.InboundItem {
		return message.InboundItem{
			Kind:              kind,
			Channel:           message.Apple,
			BusinessID:        testBusiness,
			CustomerID:        testCustomer,
			PlatformMessageID: id,
			At:                at,
			Body:              body,
			Capabilities:      caps,
			Routing:           message.Routing{Locale: "en_US", DeviceAgent: "iPhone OS"},
		}
	}
	routed := func(it message.InboundItem, r message.Routing) message.InboundItem {
		it.Routing = r
		return it
	}
	mac := message.Routing{Locale: "en_US", DeviceAgent: "Mac OS X"}
	session := "6a8a3c1e-2b4d-4f6a-8c0e-1a3b5c7d9e0f"
	reply := func(it message.InboundItem, requestID string) message.InboundItem {
		it.ReplyToPlatformID = requestID
		return it
	}
	all := []string{"QUICK", "LIST", "TIME", "AUTH", "AUTH2", "FORM"}
	tests := []struct {
		fixture string
		want    message.InboundItem
	}{
		{"text.json", routed(item(message.KindMessage, "9b2f5c1a-3d4e-4f60-8a7b-1c2d3e4f5a6b",
			&message.Body{Type: "text", Text: "Hello, is my order on its way? 📦"}),
			message.Routing{Intent: "order-status", Group: "deliveries", Locale: "en_GB", DeviceAgent: "iPhone OS"})},
		{"text_capabilities.json", routed(item(message.KindMessage, "0c7e4a2b-8d1f-4b3a-a5e6-7f8091a2b3c4",
			&message.Body{Type: "text", Text: "Here is my photo \ufffc",
				Attachments: []message.Attachment{{Name: "IMG_0001.JPG", MimeType: "image/jpeg", Size: 81234}}},
			"QUICK", "LIST", "TIME", "AUTH", "AUTH2", "FORM"),
			message.Routing{Intent: "billing", Group: "support", Locale: "en_US", DeviceAgent: "iPhone OS"})},
		{"typing_start.json", routed(item(message.KindTypingStart, "b3e8a0c4-5b9f-4d2e-8a61-0c9e7f3d2b14", nil, "QUICK", "LIST", "TIME"), mac)},
		{"typing_end.json", routed(item(message.KindTypingEnd, "f1d0a7e2-9c34-4b58-a6e1-3d7b2c8f0e95", nil, "QUICK", "LIST", "TIME"), mac)},
		{"close.json", routed(item(message.KindClose, "2a6c9e1f-7d3b-4e05-b8a2-6f1c4d9e3a70", nil, "QUICK", "LIST", "TIME"), mac)},
		// One item chosen of three: only the first section ("You Selected")
		// is the choice; "Others" is the rest of the list.
		{"interactive_list_picker.json", routed(reply(item(message.KindMessage, "5e1d2c3b-4a59-4687-9a1b-2c3d4e5f6a7b",
			&message.Body{Type: message.BodySelection,
				Selections:  []message.Selection{{ID: "acct-balance", Title: "Balance", Description: "What you have today"}},
				ReplyBubble: &message.ReplyBubble{Title: "Balance", AlternateTitle: "Balance"}, SessionIdentifier: session}, all...),
			"d2b7c9e1-4f3a-4b6c-8d0e-2f4a6b8c0d1e"),
			message.Routing{Intent: "account-help", Group: "retail-banking", Locale: "en_US", DeviceAgent: "iPhone OS"})},
		// Section titles in French: the position says what was chosen, in
		// the order Apple lists it.
		{"interactive_list_picker_multiple.json", routed(reply(item(message.KindMessage, "7a3c5e9b-1d2f-4a6b-8c0d-3e5f7a9b1c2d",
			&message.Body{Type: message.BodySelection, Selections: []message.Selection{
				{ID: "sku-2", Title: "Orange", Description: "Juteuse"},
				{ID: "sku-1", Title: "Pomme", Description: "Rouge"},
				{ID: "sku-3", Title: "Laitue"},
			}, ReplyBubble: &message.ReplyBubble{Title: "Orange, Pomme et Laitue", AlternateTitle: "3 articles"}, SessionIdentifier: session}, all...),
			"d2b7c9e1-4f3a-4b6c-8d0e-2f4a6b8c0d1e"), message.Routing{Locale: "fr_FR", DeviceAgent: "iPhone OS"})},
		// Everything chosen: one section only.
		{"interactive_list_picker_all.json", routed(reply(item(message.KindMessage, "8b4d6f0a-2e3c-4b7d-9e1f-4a6b8c0d2e4f",
			&message.Body{Type: message.BodySelection, Selections: []message.Selection{
				{ID: "extra-bag", Title: "Tasche"}, {ID: "extra-seat", Title: "Sitzplatz"},
			}, ReplyBubble: &message.ReplyBubble{Title: "Tasche und Sitzplatz"}, SessionIdentifier: "9c1e3a5b-7d9f-4b2d-8e0a-5c7e9a1b3d5f"}, all...),
			"e3c8d0f2-5a4b-4c7d-9e1f-3a5b7c9d1e2f"), message.Routing{Locale: "de_DE", DeviceAgent: "iPhone OS"})},
		{"interactive_time_picker.json", reply(item(message.KindMessage, "c4e6a8b0-2d4f-4b6a-9c8e-0f1a2b3c4d5e",
			&message.Body{Type: message.BodyTimeslot, Timeslot: &message.Timeslot{
				ID: "slot-1", Start: time.Date(2025, 7, 10, 17, 0, 0, 0, time.UTC), Duration: 3600},
				ReplyBubble: &message.ReplyBubble{Title: "Thu 10 Jul, 17:00", Subtitle: "Main St store"}}, all...),
			"e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b")},
		{"interactive_quick_reply.json", reply(item(message.KindMessage, "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a",
			&message.Body{Type: message.BodySelection, Selections: []message.Selection{{ID: "2", Title: "Talk to an agent"}},
				SummaryText: "What can I help you with?"}, all...),
			"f0e1d2c3-b4a5-4968-8776-655443322110")},
		{"interactive_quick_reply_index.json", reply(item(message.KindMessage, "1e2f3a4b-5c6d-4e7f-9a8b-0c1d2e3f4a5b",
			&message.Body{Type: message.BodySelection, Selections: []message.Selection{{ID: "1", Title: "Track order"}},
				SummaryText: "What can I help you with?"}, all...),
			"f0e1d2c3-b4a5-4968-8776-655443322110")},
		{"interactive_auth.json", reply(item(message.KindMessage, "2f3a4b5c-6d7e-4f8a-8b9c-1d2e3f4a5b6c",
			&message.Body{Type: message.BodyAuth, Auth: &message.AuthReply{Status: "authenticated",
				EncryptedToken: "BCo2uV2r3H1mYqg7l2oX0mZk8o8r2cV1l6w0aQ9vX4n0Jm5t7Qm3y8Xf1uL0pWkq=="},
				ReplyBubble: &message.ReplyBubble{Title: "You signed in"}}, all...),
			"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")},
		{"interactive_apple_pay.json", reply(item(message.KindMessage, "3a4b5c6d-7e8f-4a9b-9c0d-2e3f4a5b6c7d",
			&message.Body{Type: message.BodyPayment, Payment: &message.PaymentReply{Status: "STATUS_SUCCESS",
				Detail: json.RawMessage(`{"status":"STATUS_SUCCESS","transactionIdentifier":"5A7B1C2D"}`)},
				ReplyBubble: &message.ReplyBubble{Title: "Paid $10.00"}}, all...),
			"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")},
		{"interactive_custom.json", reply(item(message.KindMessage, "4b5c6d7e-8f9a-4b0c-8d1e-3f4a5b6c7d8e",
			&message.Body{Type: message.BodyCustom,
				Custom:      json.RawMessage(`{"requestIdentifier":"c3d4e5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f","orderId":"991","step":"tracked"}`),
				ReplyBubble: &message.ReplyBubble{Title: "Tracked"}}, all...),
			"c3d4e5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f")},
		{"interactive_data_ref.json", item(message.KindMessage, "5c6d7e8f-9a0b-4c1d-9e2f-4a5b6c7d8e9f",
			&message.Body{Type: message.BodyUnsupported, Unsupported: "interactiveDataRef"}, all...)},
	}
	withPayload := func(it message.InboundItem, kind string, ref string) message.InboundItem {
		it.Payloads = []message.PayloadRef{{Kind: kind, Ref: json.RawMessage(ref)}}
		return it
	}
	tests[1].want = withPayload(tests[1].want, message.PayloadAttachment, `{
        "name": "IMG_0001.JPG",
        "mimeType": "image/jpeg",
        "size": 81234,
        "url": "https://p61-content.icloud.com/M8f2a1c0b9e7d",
        "owner": "M8f2a1c0b9e7d",
        "key": "00a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "signature": "81a6f0c2d4e6a8b0c2d4e6a8b0c2d4e6a8b0c2d4e6"
      }`)
	last := len(tests) - 1
	tests[last].want = withPayload(tests[last].want, message.PayloadInteractive, `{
      "bid": "com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:com.apple.icloud.apps.messages.business.extension",
      "url": "https://p61-content.icloud.com/M8d3a7c1e9f2b4a6d8c0e1f3a5b7c9d1e/ef4a.C01USN00",
      "owner": "M8d3a7c1e9f2b4a6d8c0e1f3a5b7c9d1e",
      "key": "00a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
      "size": 43211,
      "signature": "81c1a6f2e3d4b5a69788796a5b4c3d2e1f0a9b8c7d",
      "title": "Selected produce"
    }`)
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			h, body := loadFixture(t, tt.fixture)
			got, err := Parse(h, body, at)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// edit returns body with its top-level keys changed: a nil value deletes the
// key.
func edit(t testing.TB, body []byte, changes map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFillsRoutingFromHeaders(t *testing.T) {
	h, body := loadFixture(t, "text.json")
	body = edit(t, body, map[string]any{"id": nil, "sourceId": nil, "destinationId": nil})
	got, err := Parse(h, body, time.Time{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got.PlatformMessageID != h.Get("id") || got.CustomerID != testCustomer || got.BusinessID != testBusiness {
		t.Errorf("Parse = id %q, customer %q, business %q; want the headers' values", got.PlatformMessageID, got.CustomerID, got.BusinessID)
	}
}

func TestParseRefuses(t *testing.T) {
	h, body := loadFixture(t, "text.json")
	without := func(name string) http.Header {
		c := h.Clone()
		c.Del(name)
		return c
	}
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		// field is what the error must name.
		field string
	}{
		{"no id header", without("id"), body, "header id"},
		{"no source-id header", without("source-id"), body, "header source-id"},
		{"no destination-id header", without("destination-id"), body, "header destination-id"},
		{"body id differs from header", h, edit(t, body, map[string]any{"id": "00000000-0000-4000-8000-000000000000"}), "id"},
		{"body sourceId differs from header", h, edit(t, body, map[string]any{"sourceId": "urn:mbid:someone-else"}), "sourceId"},
		{"body destinationId differs from header", h, edit(t, body, map[string]any{"destinationId": "another-business"}), "destinationId"},
		{"no v", h, edit(t, body, map[string]any{"v": nil}), "v"},
		{"v zero", h, edit(t, body, map[string]any{"v": 0}), "v"},
		{"v a string", h, edit(t, body, map[string]any{"v": "1"}), "v"},
		{"no type", h, edit(t, body, map[string]any{"type": nil}), "type"},
		{"type a number", h, edit(t, body, map[string]any{"type": 3}), "type"},
		{"text without body", h, edit(t, body, map[string]any{"body": nil}), "body"},
		{"text with empty body", h, edit(t, body, map[string]any{"body": ""}), "body"},
		{"text with a number body", h, edit(t, body, map[string]any{"body": 42}), "body"},
		{"not JSON", h, []byte("v=1&type=text"), "not JSON"},
		{"empty", h, nil, "not JSON"},
		{"JSON array", h, []byte(`[{"v":1}]`), "object"},
		{"JSON null", h, []byte(`null`), "v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.header, tt.body, time.Time{})
			if !errors.Is(err, ErrMalformedBody) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformedBody", got, err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %q", err, tt.field)
			}
		})
	}
}

func TestParseIgnoresUnknownFieldsAndTypes(t *testing.T) {
	h, body := loadFixture(t, "text.json")
	for _, tt := range []struct {
		name    string
		changes map[string]any
		want    message.Body
	}{
		{"unknown keys", map[string]any{"futureKey": map[string]any{"a": []int{1}}, "attachments": "odd"}, message.Body{Type: "text", Text: "Hello, is my order on its way? 📦"}},
		{"unknown type", map[string]any{"type": "hologram", "body": map[string]any{"x": 1}}, message.Body{Type: "unsupported"}},
		{"a later version", map[string]any{"v": 2}, message.Body{Type: "text", Text: "Hello, is my order on its way? 📦"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(h, edit(t, body, tt.changes), time.Time{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.Kind != message.KindMessage || got.Body == nil || !reflect.DeepEqual(*got.Body, tt.want) {
				t.Errorf("Parse = kind %q, body %+v; want a message with %+v", got.Kind, got.Body, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	h, _ := loadFixture(f, "text.json")
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, name := range names {
		name = filepath.Base(name)
		// Without its id, every fixture's body belongs with text.json's
		// headers.
		_, body := loadFixture(f, name)
		body = edit(f, body, map[string]any{"id": nil})
		f.Add(body, false)
		f.Add(body, true)
	}
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00}, false)
	f.Add([]byte(`{"v":1,"type":"text","body":"hi"}`), true)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		enc := ""
		if compress {
			data = gzipped(t, data)
			enc = "gzip"
		}
		body, err := ReadBody(bytes.NewReader(data), enc, 1<<16, 1<<16)
		if err != nil {
			if !errors.Is(err, ErrMalformedBody) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("ReadBody = %v, want ErrMalformedBody or ErrTooLarge", err)
			}
			return
		}
		item, err := Parse(h, body, time.Time{})
		if err != nil {
			if !errors.Is(err, ErrMalformedBody) {
				t.Fatalf("Parse = %v, want ErrMalformedBody", err)
			}
			return
		}
		if item.PlatformMessageID != h.Get("id") || item.CustomerID != h.Get("source-id") || item.BusinessID != h.Get("destination-id") {
			t.Fatalf("Parse routed %+v differently from the headers", item)
		}
		switch item.Kind {
		case message.KindMessage:
			if item.Body == nil || item.Body.Type == "text" && item.Body.Text == "" {
				t.Fatalf("Parse = a message with body %+v", item.Body)
			}
		case message.KindTypingStart, message.KindTypingEnd, message.KindClose:
		default:
			t.Fatalf("Parse = kind %q", item.Kind)
		}
	})
}

func TestParseInteractive(t *testing.T) {
	h, body := loadFixture(t, "interactive_list_picker.json")
	const req = "d2b7c9e1-4f3a-4b6c-8d0e-2f4a6b8c0d1e"
	builtIn := func(data string) map[string]any {
		return map[string]any{"interactiveData": json.RawMessage(`{"bid":"` + BuiltInBID + `","data":` + data + `}`)}
	}
	unsupported := func(what string) message.Body { return message.Body{Type: message.BodyUnsupported, Unsupported: what} }
	selection := func(id, title string) message.Body {
		return message.Body{Type: message.BodySelection, Selections: []message.Selection{{ID: id, Title: title}}}
	}
	items := `"items":[{"identifier":"a","title":"A"},{"identifier":"b","title":"B"}]`
	tests := []struct {
		name    string
		changes map[string]any
		want    message.Body
		wantReq string
	}{
		{"no interactiveData", map[string]any{"interactiveData": nil}, unsupported("interactive"), ""},
		{"null interactiveData and a reference", map[string]any{"interactiveData": nil, "interactiveDataRef": map[string]any{"url": "https://p1-content.icloud.com/M"}},
			unsupported("interactiveDataRef"), ""},
		{"quick reply index as a string", builtIn(`{"requestIdentifier":"` + req + `","quick-reply":{"selectedIndex":"1",` + items + `}}`), selection("b", "B"), req},
		{"quick reply identifier without items", builtIn(`{"quick-reply":{"selectedIdentifier":"z"}}`), selection("z", ""), ""},
		{"quick reply only item left", builtIn(`{"quick-reply":{"items":[{"identifier":"a","title":"A"}]}}`), selection("a", "A"), ""},
		{"quick reply index out of range", builtIn(`{"quick-reply":{"selectedIndex":2,` + items + `}}`), unsupported("quick-reply"), ""},
		{"quick reply without a choice", builtIn(`{"quick-reply":{` + items + `}}`), unsupported("quick-reply"), ""},
		{"time picker without a slot", builtIn(`{"event":{"timeslots":[]}}`), unsupported("event"), ""},
		{"time picker start with seconds", builtIn(`{"event":{"timeslots":[{"identifier":"s","startTime":"2025-07-10T19:00:30+0200","duration":60}]}}`),
			message.Body{Type: message.BodyTimeslot, Timeslot: &message.Timeslot{ID: "s", Start: time.Date(2025, 7, 10, 17, 0, 30, 0, time.UTC), Duration: 60}}, ""},
		{"time picker start unreadable", builtIn(`{"event":{"timeslots":[{"identifier":"s","startTime":"tomorrow"}]}}`),
			message.Body{Type: message.BodyTimeslot, Timeslot: &message.Timeslot{ID: "s"}}, ""},
		{"list picker with nothing chosen", builtIn(`{"listPicker":{"sections":[]}}`), unsupported("listPicker"), ""},
		{"list picker with an empty first section", builtIn(`{"listPicker":{"sections":[{"title":"Sélection","items":[]},{"title":"Autres",` + items + `}]}}`), unsupported("listPicker"), ""},
		{"list picker in Japanese", builtIn(`{"listPicker":{"sections":[{"title":"選択済み","items":[{"identifier":"b","title":"B"}]},{"title":"その他","items":[{"identifier":"a","title":"A"}]}]}}`), selection("b", "B"), ""},
		{"reply bubble on the envelope only", map[string]any{"interactiveData": json.RawMessage(`{"bid":"` + BuiltInBID + `","sessionIdentifier":"s-1","replyMessage":{"title":"Chosen"},"data":{"quick-reply":{"selectedIdentifier":"a",` + items + `}}}`)},
			message.Body{Type: message.BodySelection, Selections: []message.Selection{{ID: "a", Title: "A"}}, ReplyBubble: &message.ReplyBubble{Title: "Chosen"}, SessionIdentifier: "s-1"}, ""},
		{"empty reply bubble", builtIn(`{"replyMessage":{"style":"icon"},"quick-reply":{"selectedIdentifier":"a",` + items + `}}`), selection("a", "A"), ""},
		{"form", builtIn(`{"dynamic":{"selections":[]}}`), unsupported("dynamic"), ""},
		{"a feature parley does not read", builtIn(`{"requestIdentifier":"` + req + `","hologram":{}}`), unsupported("interactive"), req},
		{"no data", builtIn(`null`), unsupported("interactive"), ""},
		{"app reply without data", map[string]any{"interactiveData": json.RawMessage(`{"bid":"com.apple.messages.MSMessageExtensionBalloonPlugin:ABCDE12345:com.example.x", "URL":"?a=1"}`)},
			message.Body{Type: message.BodyCustom, Custom: json.RawMessage(`{"bid":"com.apple.messages.MSMessageExtensionBalloonPlugin:ABCDE12345:com.example.x","URL":"?a=1"}`)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(h, edit(t, body, tt.changes), time.Time{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.Kind != message.KindMessage || got.Body == nil || !reflect.DeepEqual(*got.Body, tt.want) || got.ReplyToPlatformID != tt.wantReq {
				t.Errorf("Parse = kind %q, body %+v, reply to %q; want a message with %+v replying to %q", got.Kind, got.Body, got.ReplyToPlatformID, tt.want, tt.wantReq)
			}
		})
	}
}

func TestParseInteractiveRefuses(t *testing.T) {
	h, body := loadFixture(t, "interactive_list_picker.json")
	tests := []struct {
		name string
		data string
		// field is what the error must name.
		field string
	}{
		{"interactiveData a string", `"x"`, "interactiveData"},
		{"data an array", `{"data":[1]}`, "interactiveData.data"},
		{"requestIdentifier a number", `{"data":{"requestIdentifier":7}}`, "interactiveData.data.requestIdentifier"},
		{"sections a string", `{"data":{"listPicker":{"sections":"x"}}}`, "interactiveData.data.listPicker"},
		{"duration a word", `{"data":{"event":{"timeslots":[{"identifier":"s","duration":"long"}]}}}`, "interactiveData.data.event"},
		{"selectedIndex a fraction", `{"data":{"quick-reply":{"selectedIndex":1.5}}}`, `interactiveData.data["quick-reply"]`},
		{"token a number", `{"data":{"authenticate":{"status":"authenticated","token":5}}}`, "interactiveData.data.authenticate"},
		{"payment a list", `{"data":{"payment":[]}}`, "interactiveData.data.payment"},
		{"reply bubble title a number", `{"data":{"replyMessage":{"title":3}}}`, "interactiveData.data.replyMessage"},
		{"envelope bubble a string", `{"replyMessage":"x","data":{}}`, "interactiveData.replyMessage"},
		{"sessionIdentifier a number", `{"sessionIdentifier":1,"data":{}}`, "interactiveData"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(h, edit(t, body, map[string]any{"interactiveData": json.RawMessage(tt.data)}), time.Time{})
			if !errors.Is(err, ErrMalformedBody) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformedBody", got, err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %q", err, tt.field)
			}
		})
	}
}

// TestParseDecodedReadsListRepliesAsInline: a list picker answer that comes
// as interactiveDataRef is decoded into the same dictionary, and read into
// the same body as when it comes inline.
func TestParseDecodedReadsListRepliesAsInline(t *testing.T) {
	for _, name := range []string{"interactive_list_picker.json", "interactive_list_picker_multiple.json", "interactive_list_picker_all.json"} {
		t.Run(name, func(t *testing.T) {
			h, body := loadFixture(t, name)
			inline, err := Parse(h, body, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var b struct {
				InteractiveData json.RawMessage `json:"interactiveData"`
			}
			if err := json.Unmarshal(body, &b); err != nil {
				t.Fatal(err)
			}
			decoded, replyTo, err := ParseDecoded(b.InteractiveData)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(decoded, inline.Body) || replyTo != inline.ReplyToPlatformID {
				t.Errorf("ParseDecoded = %+v, %q; inline %+v, %q", decoded, replyTo, inline.Body, inline.ReplyToPlatformID)
			}
		})
	}
}
