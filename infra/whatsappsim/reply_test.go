package whatsappsim

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// sentToCustomer are the messages the business sends before the customer
// acts, by the placeholder that stands for their wamid in the cases.
var sentToCustomer = map[string]string{
	"{list}": list(textHeader("Delivery slots")+","+body("When should we deliver?")+",", "Pick a slot",
		section("Tomorrow", row("slot:0900", "09:00–11:00", "Morning van")+","+row("slot:1400", "14:00–16:00", ""))),
	"{buttons}":  buttons(body("Keep your booking?")+",", button("booking:8812:keep", "Keep booking"), button("booking:8812:cancel", "Cancel")),
	"{template}": template(quickReplyButton(`"0"`, "booking:8812:keep") + "," + quickReplyButton("1", "booking:8812:cancel")),
	"{locreq}":   interactive("location_request_message", body("Where should the driver pick you up?")+`,"action":{"name":"send_location"}`),
	"{product}":  interactive("product", `"action":{"catalog_id":"194836987003835","product_retailer_id":"sku-tee-blue-m"}`),
	"{products}": productList(textHeader("Summer picks")+","+body("Tees and a hat")+",",
		productSection("Tees", `{"product_retailer_id":"sku-tee-blue-m"},{"product_retailer_id":"sku-tee-red-m"}`),
		productSection("Hats", `{"product_retailer_id":"sku-hat-01"}`)),
	"{flow}": flow(`"flow_message_version":"3","flow_id":"1190045712345678","flow_token":"case-4812","flow_cta":"Start"`),
	"{text}": `{"messaging_product":"whatsapp","to":"+447700900123","type":"text","text":{"body":"Anything else?"}}`,
}

// TestCustomerActions: each action of /reply posts the webhook Meta would,
// signed, that shared/whatsapp reads; each one (re)opens the window.
func TestCustomerActions(t *testing.T) {
	tests := []struct {
		name string
		req  string
		// want is the webhook's message, without its id.
		want string
		// wantRaw must appear in the webhook's bytes as they are.
		wantRaw string
	}{
		{"list row", `{"action":"select","replyTo":"{list}","id":"slot:0900"}`,
			`{"context":{"from":"{display}","id":"{list}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"interactive",
			  "interactive":{"type":"list_reply","list_reply":{"id":"slot:0900","title":"09:00–11:00","description":"Morning van"}}}`,
			`"title":"09:00\u201311:00"`},
		{"list row without description", `{"action":"select","replyTo":"{list}","id":"slot:1400"}`,
			`{"context":{"from":"{display}","id":"{list}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"interactive",
			  "interactive":{"type":"list_reply","list_reply":{"id":"slot:1400","title":"14:00–16:00"}}}`, ""},
		{"reply button", `{"action":"select","replyTo":"{buttons}","id":"booking:8812:cancel"}`,
			`{"context":{"from":"{display}","id":"{buttons}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"interactive",
			  "interactive":{"type":"button_reply","button_reply":{"id":"booking:8812:cancel","title":"Cancel"}}}`, ""},
		{"template quick reply", `{"action":"select","replyTo":"{template}","id":"booking:8812:keep"}`,
			`{"context":{"from":"{display}","id":"{template}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"button",
			  "button":{"payload":"booking:8812:keep","text":"Keep booking"}}`, ""},
		{"template quick reply without payload", `{"action":"select","replyTo":"{template}","id":"Call me"}`,
			`{"context":{"from":"{display}","id":"{template}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"button",
			  "button":{"payload":"Call me","text":"Call me"}}`, ""},
		{"location", `{"action":"location","replyTo":"{locreq}","latitude":51.5033,"longitude":-0.1196,"name":"County Hall","address":"Westminster Bridge Rd, London"}`,
			`{"context":{"from":"{display}","id":"{locreq}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"location",
			  "location":{"latitude":51.5033,"longitude":-0.1196,"name":"County Hall","address":"Westminster Bridge Rd, London"}}`,
			`"latitude":51.5033,"longitude":-0.1196`},
		{"location without request", `{"action":"location","businessId":"106540352242922","from":"447700900123","latitude":0,"longitude":0}`,
			`{"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"location","location":{"latitude":0,"longitude":0}}`, ""},
		{"order from a product", `{"action":"order","replyTo":"{product}","items":[{"productId":"sku-tee-blue-m","quantity":2,"price":"7.99","currency":"GBP"}],"text":"For Saturday please"}`,
			`{"context":{"from":"{display}","id":"{product}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"order",
			  "order":{"catalog_id":"194836987003835","text":"For Saturday please","product_items":[{"product_retailer_id":"sku-tee-blue-m","quantity":2,"item_price":7.99,"currency":"GBP"}]}}`,
			`"item_price":7.99,`},
		{"order from a product list", `{"action":"order","replyTo":"{products}","items":[{"productId":"sku-hat-01","quantity":1,"price":12,"currency":"GBP"},{"productId":"sku-tee-red-m","quantity":3,"price":"7.50","currency":"GBP"}]}`,
			`{"context":{"from":"{display}","id":"{products}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"order",
			  "order":{"catalog_id":"194836987003835","product_items":[{"product_retailer_id":"sku-hat-01","quantity":1,"item_price":12,"currency":"GBP"},
			           {"product_retailer_id":"sku-tee-red-m","quantity":3,"item_price":7.50,"currency":"GBP"}]}}`,
			`"item_price":7.50,`},
		{"reaction", `{"action":"react","replyTo":"{text}","emoji":"👍"}`,
			`{"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"reaction","reaction":{"message_id":"{text}","emoji":"👍"}}`,
			`"emoji":"\ud83d\udc4d"`},
		{"reaction removed", `{"action":"unreact","replyTo":"{text}"}`,
			`{"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"reaction","reaction":{"message_id":"{text}"}}`, ""},
		{"flow", `{"action":"flow","replyTo":"{flow}","response":{"slot":"1400","note":"Café"}}`,
			`{"context":{"from":"{display}","id":"{flow}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"interactive",
			  "interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":"{\"flow_token\":\"case-4812\",\"note\":\"Café\",\"slot\":\"1400\"}"}}}`,
			`"response_json":"{\"flow_token\":\"case-4812\",\"note\":\"Caf\u00e9\",\"slot\":\"1400\"}"`},
		{"flow from a template", `{"action":"flow","replyTo":"{template}","response":{"flow_token":"t-1"}}`,
			`{"context":{"from":"{display}","id":"{template}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"interactive",
			  "interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":"{\"flow_token\":\"t-1\"}"}}}`, ""},
		{"text still works", `{"businessId":"106540352242922","from":"447700900123","text":"Thanks","replyTo":"{text}"}`,
			`{"context":{"from":"{display}","id":"{text}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"text","text":{"body":"Thanks"}}`, ""},
		{"text action from replyTo", `{"action":"text","text":"Thanks","replyTo":"{text}"}`,
			`{"context":{"from":"{display}","id":"{text}"},"from":"447700900123","from_user_id":"{uid}","timestamp":"{ts}","type":"text","text":{"body":"Thanks"}}`, ""},
	}
	s := newStackWith(t, Config{KnownTemplates: []Template{{Name: "booking_reminder", Language: "en_GB", QuickReplies: []string{"Keep booking", "Cancel", "Call me"}}}})
	s.customerWrites(t)
	wamids := s.sendAll(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The window closes; the action must open it again.
			s.clock.Advance(25 * time.Hour)
			subst := strings.NewReplacer(slices.Concat(wamids, []string{"{display}", displayNumber(business), "{ts}", strconv.FormatInt(s.clock.Now().Unix(), 10),
				"{uid}", bsuidFor(business, customer)})...)
			var got delivery
			if status := s.post(t, "/reply", "", subst.Replace(tt.req), &got); status != 200 || got.WebhookStatus != 200 {
				t.Fatalf("POST /reply = %d %+v", status, got)
			}
			r, raw := s.hooks.last(t)
			if !whatsapp.ValidSignature(raw, r.Header.Get("X-Hub-Signature-256"), secret) {
				t.Errorf("signature %q does not verify", r.Header.Get("X-Hub-Signature-256"))
			}
			var hook struct {
				Object string `json:"object"`
				Entry  []struct {
					Changes []struct {
						Field string `json:"field"`
						Value struct {
							Metadata struct {
								PhoneNumberID string `json:"phone_number_id"`
							} `json:"metadata"`
							Contacts []contact        `json:"contacts"`
							Messages []map[string]any `json:"messages"`
						} `json:"value"`
					} `json:"changes"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(raw, &hook); err != nil || len(hook.Entry) != 1 || len(hook.Entry[0].Changes) != 1 {
				t.Fatalf("webhook %s: %v", raw, err)
			}
			v := hook.Entry[0].Changes[0].Value
			if hook.Object != "whatsapp_business_account" || hook.Entry[0].Changes[0].Field != "messages" || v.Metadata.PhoneNumberID != business ||
				len(v.Contacts) != 1 || v.Contacts[0].WaID != customer || v.Contacts[0].Profile.Name != "Sam" || len(v.Messages) != 1 {
				t.Fatalf("webhook %s", raw)
			}
			msg := v.Messages[0]
			if msg["id"] != got.WAMID {
				t.Errorf("id %v, want %s", msg["id"], got.WAMID)
			}
			delete(msg, "id")
			var want map[string]any
			if err := json.Unmarshal([]byte(subst.Replace(tt.want)), &want); err != nil {
				t.Fatalf("want: %v", err)
			}
			if !reflect.DeepEqual(msg, want) {
				g, _ := json.Marshal(msg)
				w, _ := json.Marshal(want)
				t.Errorf("message\n %s\nwant\n %s", g, w)
			}
			if !bytes.Contains(raw, []byte(tt.wantRaw)) {
				t.Errorf("webhook lacks %s:\n%s", tt.wantRaw, raw)
			}
			parsed, err := whatsapp.Parse(raw, now)
			if err != nil || len(parsed.Items)+len(parsed.Skipped) != 1 {
				t.Fatalf("Parse = %+v, %v", parsed, err)
			}
			if len(parsed.Items) == 1 {
				it := parsed.Items[0]
				ctx, _ := want["context"].(map[string]any)
				if it.Kind != message.KindMessage || it.PlatformMessageID != got.WAMID || it.CustomerID != customer ||
					(ctx != nil && it.ReplyToPlatformID != ctx["id"]) {
					t.Errorf("parsed %+v", it)
				}
			}
			// The window is open again: a text goes through.
			if status, ans := s.send(t, sentToCustomer["{text}"]); status != 200 {
				t.Fatalf("send after the action: %d %+v", status, ans.Error)
			}
			s.sim.Flush()
			if n := s.hooks.count(); n != 0 {
				t.Errorf("%d webhooks after a send inside the window, want none", n)
			}
		})
	}
}

// sendAll sends sentToCustomer and returns placeholder, wamid pairs for a
// strings.Replacer.
func (s *stack) sendAll(t *testing.T) []string {
	t.Helper()
	var pairs []string
	for placeholder, body := range sentToCustomer {
		status, got := s.send(t, body)
		if status != 200 {
			t.Fatalf("sending %s: %d %+v", placeholder, status, got.Error)
		}
		pairs = append(pairs, placeholder, got.Messages[0].ID)
	}
	s.sim.Flush()
	if n := s.hooks.count(); n != 0 {
		t.Fatalf("%d webhooks after sends inside the window, want none", n)
	}
	return pairs
}

func TestActionRefuses(t *testing.T) {
	tests := []struct {
		name       string
		req        string
		wantStatus int
		wantError  string
	}{
		{"unknown action", `{"action":"tap","replyTo":"{list}","id":"slot:0900"}`, 400, `action must be one of`},
		{"select without replyTo, nothing to answer", `{"action":"select","from":"447700900999","id":"slot:0900"}`, 404, `replyTo "latest": the simulator accepted no message this action can answer to 447700900999`},
		{"latest from another number", `{"action":"select","replyTo":"latest","businessId":"999","id":"slot:0900"}`, 404, "accepted no message this action can answer from 999"},
		{"select of an unknown wamid", `{"action":"select","replyTo":"wamid.NOPE","id":"slot:0900"}`, 404, `never accepted a message "wamid.NOPE"`},
		{"select of an unknown row", `{"action":"select","replyTo":"{list}","id":"slot:2300"}`, 404, `offers no choice with id "slot:2300"`},
		{"select of an unknown button", `{"action":"select","replyTo":"{buttons}","id":"Keep booking"}`, 404, `offers no choice with id "Keep booking"`},
		{"select of an unknown payload", `{"action":"select","replyTo":"{template}","id":"booking:8812:move"}`, 404, `offers no choice with id "booking:8812:move"`},
		{"select without id", `{"action":"select","replyTo":"{list}"}`, 400, "id is required"},
		{"select on a text", `{"action":"select","replyTo":"{text}","id":"a"}`, 400, "select answers a list, reply buttons or a template"},
		{"select from another customer", `{"action":"select","replyTo":"{list}","from":"447700900999","id":"slot:0900"}`, 400, `from "447700900999" is not the customer`},
		{"select from another number", `{"action":"select","replyTo":"{list}","businessId":"999","id":"slot:0900"}`, 400, `businessId "999" is not the number`},
		{"location on a list", `{"action":"location","replyTo":"{list}","latitude":1,"longitude":1}`, 400, "a location answers a location request"},
		{"location without longitude", `{"action":"location","replyTo":"{locreq}","latitude":1}`, 400, "latitude and longitude are required"},
		{"location off the map", `{"action":"location","replyTo":"{locreq}","latitude":91,"longitude":1}`, 400, "latitude must be from -90 to 90"},
		{"location without anyone", `{"action":"location","latitude":1,"longitude":1}`, 400, "businessId is required"},
		{"order of a product not offered", `{"action":"order","replyTo":"{product}","items":[{"productId":"sku-hat-01","quantity":1,"price":"12","currency":"GBP"}]}`, 404, `did not offer product "sku-hat-01"`},
		{"order on a list", `{"action":"order","replyTo":"{list}","items":[{"productId":"sku-hat-01","quantity":1,"price":"12","currency":"GBP"}]}`, 400, "an order answers a product or product_list message"},
		{"order without items", `{"action":"order","replyTo":"{product}"}`, 400, "items is required"},
		{"order of none", `{"action":"order","replyTo":"{product}","items":[{"productId":"sku-tee-blue-m","quantity":0,"price":"7.99","currency":"GBP"}]}`, 400, "items[0].quantity must be at least 1"},
		{"order at a negative price", `{"action":"order","replyTo":"{product}","items":[{"productId":"sku-tee-blue-m","quantity":1,"price":"-1","currency":"GBP"}]}`, 400, "items[0].price must be a decimal"},
		{"order at a price not a number", `{"action":"order","replyTo":"{product}","items":[{"productId":"sku-tee-blue-m","quantity":1,"price":"7,99","currency":"GBP"}]}`, 400, "not the JSON expected"},
		{"order without currency", `{"action":"order","replyTo":"{product}","items":[{"productId":"sku-tee-blue-m","quantity":1,"price":"7.99"}]}`, 400, "items[0].currency must be an ISO 4217 code"},
		{"react without emoji", `{"action":"react","replyTo":"{text}"}`, 400, "emoji is required"},
		{"react with a word", `{"action":"react","replyTo":"{text}","emoji":"yes"}`, 400, "emoji is required"},
		{"unreact with emoji", `{"action":"unreact","replyTo":"{text}","emoji":"👍"}`, 400, "unreact takes no emoji"},
		{"react to an unknown wamid", `{"action":"react","replyTo":"wamid.NOPE","emoji":"👍"}`, 404, "never accepted"},
		{"flow on a list", `{"action":"flow","replyTo":"{list}","response":{"a":1}}`, 400, "a flow response answers a flow message or a template"},
		{"flow without response", `{"action":"flow","replyTo":"{flow}"}`, 400, "response is required"},
		{"flow with an array", `{"action":"flow","replyTo":"{flow}","response":[1]}`, 400, "response is required"},
		{"field misspelled", `{"action":"select","replyTo":"{list}","rowId":"slot:0900"}`, 400, `unknown field "rowId"`},
	}
	s := newStackWith(t, Config{KnownNumbers: []string{business}})
	s.customerWrites(t)
	subst := strings.NewReplacer(s.sendAll(t)...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got struct {
				Error string `json:"error"`
			}
			if status := s.post(t, "/reply", "", subst.Replace(tt.req), &got); status != tt.wantStatus || !strings.Contains(got.Error, tt.wantError) {
				t.Errorf("POST /reply = %d %q, want %d mentioning %q", status, got.Error, tt.wantStatus, tt.wantError)
			}
			if n := s.hooks.count(); n != 0 {
				t.Errorf("%d webhooks posted, want none", n)
			}
		})
	}
}

// TestReplyToLatest: replyTo "latest", or none where an action answers a
// message, is the newest message of that chat the action can answer.
func TestReplyToLatest(t *testing.T) {
	s := newStack(t)
	s.customerWrites(t)
	sendID := func(body string) string {
		t.Helper()
		status, got := s.send(t, body)
		if status != 200 {
			t.Fatalf("send: %d %+v", status, got.Error)
		}
		return got.Messages[0].ID
	}
	listID := sendID(sentToCustomer["{list}"])
	textID := sendID(sentToCustomer["{text}"])
	contextOf := func(req string) (context, reacted string) {
		t.Helper()
		var got delivery
		if status := s.post(t, "/reply", "", req, &got); status != 200 || got.WebhookStatus != 200 {
			t.Fatalf("POST /reply %s = %d %+v", req, status, got)
		}
		_, raw := s.hooks.last(t)
		var hook struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Messages []struct {
							Context  struct{ ID string } `json:"context"`
							Reaction struct {
								MessageID string `json:"message_id"`
							} `json:"reaction"`
						} `json:"messages"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(raw, &hook); err != nil {
			t.Fatal(err)
		}
		m := hook.Entry[0].Changes[0].Value.Messages[0]
		return m.Context.ID, m.Reaction.MessageID
	}
	// The text sent after the list is passed over: select answers the list.
	if c, _ := contextOf(`{"action":"select","id":"slot:0900"}`); c != listID {
		t.Errorf("select without replyTo answered %q, want the list %q", c, listID)
	}
	if c, _ := contextOf(`{"action":"select","replyTo":"latest","businessId":"` + business + `","from":"` + customer + `","id":"slot:1400"}`); c != listID {
		t.Errorf("select of latest answered %q, want the list %q", c, listID)
	}
	if _, r := contextOf(`{"action":"react","emoji":"👍"}`); r != textID {
		t.Errorf("react without replyTo reacted to %q, want the newest message %q", r, textID)
	}
	buttonsID := sendID(sentToCustomer["{buttons}"])
	if c, _ := contextOf(`{"action":"select","replyTo":"latest","id":"booking:8812:keep"}`); c != buttonsID {
		t.Errorf("select of latest answered %q, want the buttons %q", c, buttonsID)
	}
	// A text quotes nothing unless asked to quote the latest.
	if c, _ := contextOf(`{"businessId":"` + business + `","from":"` + customer + `","text":"ok"}`); c != "" {
		t.Errorf("a text without replyTo quoted %q", c)
	}
	if c, _ := contextOf(`{"businessId":"` + business + `","from":"` + customer + `","text":"ok","replyTo":"latest"}`); c != buttonsID {
		t.Errorf("a text quoting latest quoted %q, want %q", c, buttonsID)
	}
}
