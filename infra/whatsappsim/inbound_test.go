package whatsappsim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/whatsapp"
)

const samReq = `"businessId":"` + business + `","from":"` + customer + `","name":"Sam"`

// postOK posts req to path and returns the webhook the simulator posted.
func (s *stack) postOK(t *testing.T, path, req string) (delivery, []byte) {
	t.Helper()
	var got delivery
	if status := s.post(t, path, "", req, &got); status != 200 || got.WebhookStatus != 200 {
		t.Fatalf("POST %s %s = %d %+v", path, req, status, got)
	}
	_, raw := s.hooks.last(t)
	return got, raw
}

func TestOtherActionsRefuse(t *testing.T) {
	s := newStackWith(t, Config{KnownNumbers: []string{business}})
	text, _ := s.postOK(t, "/reply", `{`+samReq+`,"text":"hello"}`)
	s.send(t, `{"messaging_product":"whatsapp","to":"+447700900123","type":"text","text":{"body":"Hi Sam"}}`)
	ours := s.sim.Accepted()[0].WAMID
	reacted, _ := s.postOK(t, "/reply", `{"action":"react","replyTo":"`+ours+`","emoji":"👍"}`)
	tests := []struct {
		name       string
		req        string
		wantStatus int
		wantError  string
	}{
		{"contacts without cards", `{"action":"contacts",` + samReq + `}`, 400, "contacts is required"},
		{"contact without a name", `{"action":"contacts",` + samReq + `,"contacts":[{"name":{"first_name":"Dana"}}]}`, 400, "contacts[0].name.formatted_name is required"},
		{"contact field misspelled", `{"action":"contacts",` + samReq + `,"contacts":[{"name":{"formatted_name":"Dana"},"phone":[]}]}`, 400, `unknown field "phone"`},
		{"revoke without replyTo", `{"action":"revoke",` + samReq + `}`, 400, "replyTo is required for action \"revoke\""},
		{"revoke of the business's message", `{"action":"revoke","replyTo":"` + ours + `"}`, 404, "delivered no customer message"},
		{"revoke of a reaction", `{"action":"revoke","replyTo":"` + reacted.WAMID + `"}`, 404, "delivered no customer message"},
		{"revoke by another customer", `{"action":"revoke","from":"447700900999","replyTo":"` + text.WAMID + `"}`, 400, "a customer revokes or edits only their own messages"},
		{"edit without text", `{"action":"edit","replyTo":"` + text.WAMID + `"}`, 400, "text is required"},
		{"system without change", `{"action":"system",` + samReq + `}`, 400, `change must be "number", "userId" or "identity"`},
		{"number change to nothing", `{"action":"system",` + samReq + `,"change":"number"}`, 400, "newPhone is required"},
		{"number change to the same", `{"action":"system",` + samReq + `,"change":"number","newPhone":"447700900123"}`, 400, "is the customer's number already"},
		{"user id change to a phone", `{"action":"system",` + samReq + `,"change":"userId","newUserId":"447700900777"}`, 400, "newUserId is required"},
		{"system in reply", `{"action":"system",` + samReq + `,"change":"identity","replyTo":"` + ours + `"}`, 400, "a system message answers nothing"},
		{"call permission without answer", `{"action":"callPermission",` + samReq + `}`, 400, `answer must be "accept" or "reject"`},
		{"unsupported without type", `{"action":"unsupported",` + samReq + `}`, 400, "unsupported is required"},
		{"referral on a location", `{"action":"location",` + samReq + `,"latitude":1,"longitude":1,"referral":{"sourceType":"ad","sourceUrl":"https://fb.example/ads/1"}}`, 400, "referral goes with action \"text\""},
		{"referral of no kind", `{` + samReq + `,"text":"hi","referral":{"sourceType":"banner","sourceUrl":"https://fb.example/ads/1"}}`, 400, "referral.sourceType must be"},
		{"referral without url", `{` + samReq + `,"text":"hi","referral":{"sourceType":"ad"}}`, 400, "referral.sourceUrl is required"},
		{"referred product without id", `{` + samReq + `,"text":"hi","referredProduct":{"catalogId":"1"}}`, 400, "referredProduct needs catalogId and productId"},
		{"forwarded reply", `{` + samReq + `,"text":"hi","forwarded":"once","replyTo":"` + ours + `"}`, 400, "forwarded takes no replyTo"},
		{"forwarded how", `{` + samReq + `,"text":"hi","forwarded":"twice"}`, 400, `forwarded must be "once" or "frequently"`},
		{"location url not a link", `{"action":"location",` + samReq + `,"latitude":1,"longitude":1,"url":"javascript:alert(1)"}`, 400, "url must be an http(s) URL"},
		{"parent id not a parent", `{` + samReq + `,"text":"hi","parentUserId":"GB.123"}`, 400, "is not a parent business-scoped user id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.hooks.count()
			var got struct {
				Error string `json:"error"`
			}
			if status := s.post(t, "/reply", "", tt.req, &got); status != tt.wantStatus || !strings.Contains(got.Error, tt.wantError) {
				t.Errorf("POST /reply = %d %q, want %d mentioning %q", status, got.Error, tt.wantStatus, tt.wantError)
			}
			if n := s.hooks.count(); n != 0 {
				t.Errorf("%d webhooks posted, want none", n)
			}
		})
	}
	for _, tt := range []struct{ path, req, wantError string }{
		{"/preferences", `{` + samReq + `,"value":"maybe"}`, `value must be "stop" or "resume"`},
		{"/preferences", `{"businessId":"` + business + `","value":"stop"}`, "from or userId is required"},
		{"/preferences", `{"businessId":"999","from":"1","value":"stop"}`, `businessId "999" is not one of`},
		{"/error", `{"businessId":"` + business + `"}`, "code is required"},
		{"/error", `{"code":130429}`, "businessId is required"},
	} {
		var got struct {
			Error string `json:"error"`
		}
		if status := s.post(t, tt.path, "", tt.req, &got); status != 400 || !strings.Contains(got.Error, tt.wantError) {
			t.Errorf("POST %s %s = %d %q, want 400 mentioning %q", tt.path, tt.req, status, got.Error, tt.wantError)
		}
	}
}

// A customer edits a text within 15 minutes and deletes it for everyone
// within about two days, not later.
func TestEditAndRevokeLimits(t *testing.T) {
	s := newStack(t)
	text, _ := s.postOK(t, "/reply", `{`+samReq+`,"text":"see you at 8"}`)
	s.clock.Advance(14 * time.Minute)
	s.postOK(t, "/reply", `{"action":"edit","replyTo":"`+text.WAMID+`","text":"see you at 9"}`)
	s.clock.Advance(2 * time.Minute)
	var got struct {
		Error string `json:"error"`
	}
	if status := s.post(t, "/reply", "", `{"action":"edit","replyTo":"`+text.WAMID+`","text":"at 10"}`, &got); status != 400 || !strings.Contains(got.Error, "can be edited for 15m0s") {
		t.Errorf("an edit after 16 minutes = %d %q", status, got.Error)
	}
	s.clock.Advance(59 * time.Hour)
	s.postOK(t, "/reply", `{"action":"revoke","replyTo":"`+text.WAMID+`"}`)
	s.clock.Advance(2 * time.Hour)
	if status := s.post(t, "/reply", "", `{"action":"revoke","replyTo":"`+text.WAMID+`"}`, &got); status != 400 || !strings.Contains(got.Error, "can be deleted for everyone") {
		t.Errorf("a revoke after 61 hours = %d %q", status, got.Error)
	}
}

// After a number change the customer writes, and is written to, by the new
// number; after a business-scoped id change, by the new id.
func TestCustomerChanges(t *testing.T) {
	s := newStack(t)
	s.postOK(t, "/reply", `{`+samReq+`,"text":"hello"}`)
	s.postOK(t, "/reply", `{"action":"system",`+samReq+`,"change":"number","newPhone":"447700900777"}`)
	_, raw := s.postOK(t, "/reply", `{"businessId":"`+business+`","from":"447700900777","text":"new phone"}`)
	p, err := whatsapp.Parse(raw, now)
	if err != nil || len(p.Items) != 1 || p.Items[0].Customer.WaID != "447700900777" || p.Items[0].Customer.UserID != bsuidFor(business, customer) || p.Items[0].Customer.Name != "Sam" {
		t.Fatalf("after the number change: %+v %v", p.Items, err)
	}
	// The window goes on: it is Sam's, whatever the number.
	if status, _ := s.send(t, `{"messaging_product":"whatsapp","to":"+447700900777","type":"text","text":{"body":"Noted"}}`); status != 200 {
		t.Fatalf("send to the new number: %d", status)
	}
	s.postOK(t, "/reply", `{"action":"system","businessId":"`+business+`","from":"447700900777","change":"userId","newUserId":"GB.88812345678901234567"}`)
	_, raw = s.postOK(t, "/reply", `{"businessId":"`+business+`","userId":"GB.88812345678901234567","text":"and a new id"}`)
	if !strings.Contains(string(raw), `"from":"447700900777","from_user_id":"GB.88812345678901234567"`) {
		t.Errorf("after the id change: %s", raw)
	}
	s.sim.Flush()
	for _, a := range s.sim.Accepted() {
		if a.FailedWith != 0 {
			t.Errorf("%+v failed", a)
		}
	}
}

// A customer who stopped marketing messages gets none: a MARKETING
// template to them fails with 131050; a UTILITY one goes through; after
// "resume" marketing goes through again.
func TestMarketingOptOut(t *testing.T) {
	s := newStackWith(t, Config{KnownTemplates: []Template{{Name: "autumn_sale", Language: "en_GB", Category: "MARKETING"}, {Name: "order_ready", Language: "en_GB", Category: "UTILITY"}}})
	_, raw := s.postOK(t, "/preferences", `{`+samReq+`,"value":"stop"}`)
	p, err := whatsapp.Parse(raw, now)
	if err != nil || len(p.Items) != 1 || p.Items[0].EventType != message.EventPreferences || p.Items[0].Body.Preferences[0].Value != "stop" {
		t.Fatalf("preferences webhook %s parsed %+v %v", raw, p, err)
	}
	tmpl := func(name string) string {
		return `{"messaging_product":"whatsapp","to":"+447700900123","type":"template","template":{"name":"` + name + `","language":{"code":"en_GB"}}}`
	}
	s.send(t, tmpl("autumn_sale"))
	s.send(t, tmpl("order_ready"))
	s.sim.Flush()
	s.hooks.count()
	s.postOK(t, "/preferences", `{`+samReq+`,"value":"resume"}`)
	s.send(t, tmpl("autumn_sale"))
	s.sim.Flush()
	got := []int{}
	for _, a := range s.sim.Accepted() {
		got = append(got, a.FailedWith)
	}
	if len(got) != 3 || got[0] != 131050 || got[1] != 0 || got[2] != 0 {
		t.Errorf("failed with %v, want [131050 0 0]", got)
	}
}

// Each new customer item reads, in shared/whatsapp, as what it is.
func TestOtherItemsParse(t *testing.T) {
	s := newStack(t)
	cases := []struct {
		path, req string
		check     func(it message.InboundItem) bool
	}{
		{"/reply", `{"action":"callPermission",` + samReq + `,"answer":"reject"}`, func(it message.InboundItem) bool {
			return it.Body.Type == message.BodyCallPermission && it.Body.CallPermission.Response == "reject" && it.Body.CallPermission.ExpiresAt.IsZero()
		}},
		{"/reply", `{"action":"unrendered",` + samReq + `}`, func(it message.InboundItem) bool {
			return it.EventType == message.EventFailed && it.StatusError.Code == 131000 && it.Body.Type == message.BodyUnsupported
		}},
		{"/reply", `{"action":"system",` + samReq + `,"change":"identity"}`, func(it message.InboundItem) bool {
			return it.Body.System.Change == message.ChangeIdentity && len(it.Body.System.Identity.Hash) == 12
		}},
		{"/error", `{"businessId":"` + business + `","code":131056}`, func(it message.InboundItem) bool {
			return it.EventType == message.EventPlatformError && it.StatusError.Code == 131056
		}},
	}
	for _, c := range cases {
		_, raw := s.postOK(t, c.path, c.req)
		p, err := whatsapp.Parse(raw, now)
		// An unrendered message also reports its change's error.
		if err != nil || len(p.Items) == 0 || !c.check(p.Items[0]) {
			b, _ := json.Marshal(p)
			t.Errorf("%s %s: webhook %s parsed %s %v", c.path, c.req, raw, b, err)
		}
	}
}

// Statuses price what was sent as Meta does: free-form messages and a
// utility template inside the window are free, a template outside it, or
// a marketing one, is billed at its category.
func TestStatusPricing(t *testing.T) {
	s := newStackWith(t, Config{KnownTemplates: []Template{{Name: "autumn_sale", Language: "en_GB", Category: "MARKETING"}, {Name: "order_ready", Language: "en_GB", Category: "UTILITY"}}})
	s.postOK(t, "/reply", `{`+samReq+`,"text":"hello"}`)
	tmpl := func(name string) string {
		return `{"messaging_product":"whatsapp","to":"+447700900123","type":"template","template":{"name":"` + name + `","language":{"code":"en_GB"}}}`
	}
	sends := []struct {
		body string
		want string
	}{
		{`{"messaging_product":"whatsapp","to":"+447700900123","type":"text","text":{"body":"Hi"}}`, `{"billable":false,"pricing_model":"PMP","type":"free_customer_service","category":"service"}`},
		{tmpl("order_ready"), `{"billable":false,"pricing_model":"PMP","type":"free_customer_service","category":"utility"}`},
		{tmpl("autumn_sale"), `{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}`},
	}
	for i, c := range sends {
		if i == 2 {
			s.clock.Advance(25 * time.Hour)
		}
		status, ans := s.send(t, c.body)
		if status != 200 {
			t.Fatalf("send %d: %d", i, status)
		}
		_, raw := s.postOK(t, "/status", `{"wamid":"`+ans.Messages[0].ID+`","status":"delivered"}`)
		if !strings.Contains(string(raw), `"pricing":`+c.want) {
			t.Errorf("send %d: status %s, want pricing %s", i, raw, c.want)
		}
	}
	// Outside the window a utility template is billed too.
	status, ans := s.send(t, tmpl("order_ready"))
	if status != 200 {
		t.Fatal(status)
	}
	if _, raw := s.postOK(t, "/status", `{"wamid":"`+ans.Messages[0].ID+`","status":"sent"}`); !strings.Contains(string(raw), `"type":"regular","category":"utility"`) {
		t.Errorf("utility template outside the window: %s", raw)
	}
}
