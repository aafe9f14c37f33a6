package whatsappsim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const (
	samBSUID = "GB.13491208655302741918"
	group    = "Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw"
)

// A customer known by business-scoped user id is sent to in "recipient";
// the window is theirs whichever id the send names, and statuses name
// both ids when the customer shares their number.
func TestSendToABusinessScopedUserID(t *testing.T) {
	s := newStack(t)
	var got delivery
	if status := s.post(t, "/reply", "", `{"businessId":"`+business+`","from":"`+customer+`","userId":"`+samBSUID+`","name":"Sam","text":"hello"}`, &got); status != 200 {
		t.Fatalf("POST /reply = %d", status)
	}
	s.hooks.count()
	status, ans := s.send(t, `{"messaging_product":"whatsapp","recipient_type":"individual","recipient":"`+samBSUID+`","type":"text","text":{"body":"Hi Sam"}}`)
	if status != 200 || len(ans.Messages) != 1 {
		t.Fatalf("send = %d %+v", status, ans)
	}
	a := s.sim.Accepted()[0]
	if a.UserID != samBSUID || a.WaID != "" || a.FailedWith != 0 {
		t.Fatalf("accepted %+v, want it for %s, in the window", a, samBSUID)
	}
	s.post(t, "/status", "", `{"wamid":"`+a.WAMID+`","status":"delivered"}`, &got)
	_, raw := s.hooks.last(t)
	for _, want := range []string{`"recipient_id":"` + customer + `"`, `"recipient_user_id":"` + samBSUID + `"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("status webhook lacks %s:\n%s", want, raw)
		}
	}
	// "to" wins over "recipient", as Meta says.
	status, _ = s.send(t, `{"messaging_product":"whatsapp","to":"`+customer+`","recipient":"`+samBSUID+`","type":"text","text":{"body":"both"}}`)
	if status != 200 || s.sim.Accepted()[1].WaID != customer {
		t.Fatalf("send with both = %d %+v", status, s.sim.Accepted()[1])
	}
}

func TestSendRecipientRefusals(t *testing.T) {
	s := newStack(t)
	for _, tt := range []struct{ name, body, want string }{
		{"neither to nor recipient", `{"messaging_product":"whatsapp","type":"text","text":{"body":"x"}}`, "to"},
		{"recipient not a business-scoped id", `{"messaging_product":"whatsapp","recipient":"447700900123","type":"text","text":{"body":"x"}}`, "recipient"},
		{"interactive to a group", `{"messaging_product":"whatsapp","recipient_type":"group","to":"` + group + `","type":"interactive","interactive":{"type":"button","body":{"text":"x"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"A"}}]}}}`, "group"},
		{"reaction to a group", `{"messaging_product":"whatsapp","recipient_type":"group","to":"` + group + `","type":"reaction","reaction":{"message_id":"wamid.X","emoji":"👍"}}`, "group"},
		{"catalog template to a group", `{"messaging_product":"whatsapp","recipient_type":"group","to":"` + group + `","type":"template","template":{"name":"spring","language":{"code":"en"},"components":[{"type":"button","sub_type":"catalog","index":"0","parameters":[{"type":"action","action":{"thumbnail_product_retailer_id":"sku-1"}}]}]}}`, "commerce"},
		{"call button template to a group", `{"messaging_product":"whatsapp","recipient_type":"group","to":"` + group + `","type":"template","template":{"name":"call_us_back","language":{"code":"en"},"components":[{"type":"button","sub_type":"voice_call","parameters":[{"type":"ttl_minutes","ttl_minutes":720}]}]}}`, "Calling"},
		{"order template to a group", `{"messaging_product":"whatsapp","recipient_type":"group","to":"` + group + `","type":"template","template":{"name":"invoice_ready","language":{"code":"en"},"components":[{"type":"button","sub_type":"order_details","index":0,"parameters":[{"type":"action","action":{"order_details":{"reference_id":"inv-1"}}}]}]}}`, "commerce"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, ans := s.send(t, tt.body)
			if status != 400 || !strings.Contains(ans.Error.Message+ans.Error.ErrorData.Details, tt.want) {
				t.Errorf("send = %d %+v, want 400 naming %s", status, ans, tt.want)
			}
		})
	}
}

// A group message opens the group's window; a send to the group is
// accepted inside it and names the group; statuses name the group and the
// participant.
func TestGroups(t *testing.T) {
	s := newStack(t)
	status, _ := s.send(t, `{"messaging_product":"whatsapp","recipient_type":"group","to":"`+group+`","type":"text","text":{"body":"anyone?"}}`)
	s.sim.Flush()
	if status != 200 || s.sim.Accepted()[0].FailedWith != 131047 {
		t.Fatalf("a send before anyone wrote in the group = %d %+v, want it failed with 131047", status, s.sim.Accepted()[0])
	}
	s.hooks.count()
	var got delivery
	if status := s.post(t, "/reply", "", `{"businessId":"`+business+`","from":"447700900999","name":"Alex","group":"`+group+`","text":"hello all"}`, &got); status != 200 {
		t.Fatalf("POST /reply = %d", status)
	}
	_, raw := s.hooks.last(t)
	if !strings.Contains(string(raw), `"group_id":"`+group+`"`) || !strings.Contains(string(raw), `"from":"447700900999"`) {
		t.Fatalf("group message webhook %s", raw)
	}
	// Alex's own window stays closed: the group's opened.
	status, _ = s.send(t, `{"messaging_product":"whatsapp","to":"447700900999","type":"text","text":{"body":"hi Alex"}}`)
	s.sim.Flush()
	if status != 200 || s.sim.Accepted()[1].FailedWith != 131047 {
		t.Fatalf("a send to the participant = %d %+v, want it failed with 131047", status, s.sim.Accepted()[1])
	}
	status, ans := s.send(t, `{"messaging_product":"whatsapp","recipient_type":"group","to":"`+group+`","type":"text","text":{"body":"welcome"}}`)
	a := s.sim.Accepted()[2]
	if status != 200 || a.GroupID != group || a.FailedWith != 0 || len(ans.Messages) != 1 {
		t.Fatalf("send to the group = %d %+v %+v", status, ans, a)
	}
	s.hooks.count()
	if code := s.post(t, "/status", "", `{"wamid":"`+a.WAMID+`","status":"read","participant":"447700900999"}`, &got); code != 200 {
		t.Fatalf("POST /status = %d", code)
	}
	_, raw = s.hooks.last(t)
	var hook struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Statuses []map[string]any `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	json.Unmarshal(raw, &hook)
	st := hook.Entry[0].Changes[0].Value.Statuses[0]
	if st["recipient_type"] != "group" || st["recipient_id"] != group || st["recipient_participant_id"] != "447700900999" {
		t.Fatalf("group status %v", st)
	}
	s.clock.Advance(25 * time.Hour)
	status, _ = s.send(t, `{"messaging_product":"whatsapp","recipient_type":"group","to":"`+group+`","type":"text","text":{"body":"still there?"}}`)
	s.sim.Flush()
	if status != 200 || s.sim.Accepted()[3].FailedWith != 131047 {
		t.Fatalf("after 25 h the group's window = %d %+v, want closed", status, s.sim.Accepted()[3])
	}
}
