package local

import (
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
)

// post asks the WhatsApp simulator to post a webhook (path is /reply,
// /status, /preferences or /error) and returns the wamid of the message it
// posted, if any, once parley has acknowledged it.
func post(t *testing.T, st *Stack, path string, body map[string]any) string {
	t.Helper()
	var out struct {
		WAMID         string `json:"wamid"`
		WebhookStatus int    `json:"webhookStatus"`
		WebhookBody   string `json:"webhookBody"`
	}
	if code := call(t, "POST", st.URL+"/sim/whatsapp"+path, body, &out); code != http.StatusOK || out.WebhookStatus != http.StatusOK {
		t.Fatalf("POST %s %v: sim answered %d, webhook answered %d %s", path, body, code, out.WebhookStatus, out.WebhookBody)
	}
	return out.WAMID
}

// TestWhatsAppCustomerSpeaksEverything plays every inbound item of Meta's
// webhook reference through the simulator, and checks that parley turns
// each into the event README documents — on both stores.
func TestWhatsAppCustomerSpeaksEverything(t *testing.T) {
	const bsuid = "GB.13491208655302741918"
	sam := func(m map[string]any) map[string]any {
		m["businessId"], m["from"], m["userId"], m["name"] = waBusiness, waCustomer, bsuid, "Sam Rivera"
		return m
	}
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewManual(start)
			st := startStack(t, kind, clk)
			step := func() { clk.Advance(time.Minute) }

			// From an ad: the referral, and a free entry point conversation
			// named by the statuses of the business's answer.
			post(t, st, "/reply", sam(map[string]any{"text": "Are the boxes vegetarian?", "referral": map[string]any{
				"sourceUrl": "https://fb.example/ads/4471", "sourceType": "ad", "headline": "Autumn boxes are back"}}))
			ev := lastEvent(t, st, message.EventReceived)
			if r := ev.Body.Referral; r == nil || r.SourceType != "ad" || r.Headline != "Autumn boxes are back" || r.CtwaClid == "" || ev.CustomerID != bsuid {
				t.Fatalf("referral: %+v %+v", ev, ev.Body)
			}
			code, res, e := sendText(t, st, "whatsapp", waBusiness, waCustomer, "Yes, all of them.")
			if code != http.StatusAccepted {
				t.Fatalf("send: %d %+v", code, e)
			}
			step()
			post(t, st, "/status", map[string]any{"wamid": res.PlatformMessageID, "status": "sent"})
			ev = lastEvent(t, st, message.EventStatus)
			if d := ev.StatusDetail; ev.MessageID != res.ID || d == nil || d.Conversation == nil || d.Conversation.Origin != "referral_conversion" ||
				d.Conversation.ExpiresAt.IsZero() || d.Pricing == nil || d.Pricing.Type != "free_entry_point" {
				t.Fatalf("entry point status: %+v %+v", ev, ev.StatusDetail)
			}

			step()
			post(t, st, "/reply", sam(map[string]any{"action": "contacts", "contacts": []any{map[string]any{
				"name": map[string]any{"formatted_name": "Dana Okafor"}, "phones": []any{map[string]any{"phone": "+44 7700 900456", "type": "CELL"}}}}}))
			ev = lastEvent(t, st, message.EventReceived)
			if b := ev.Body; b.Type != message.BodyContacts || len(b.Contacts) != 1 || string(b.Contacts[0].Name) != `{"formatted_name":"Dana Okafor"}` {
				t.Fatalf("contacts: %+v", b)
			}

			step()
			post(t, st, "/reply", map[string]any{"action": "location", "businessId": waBusiness, "from": waCustomer, "latitude": 51.5079, "longitude": -0.0877,
				"name": "Borough Market", "url": "https://maps.example/borough"})
			if b := lastEvent(t, st, message.EventReceived).Body; b.Type != message.BodyLocation || b.Location.URL != "https://maps.example/borough" {
				t.Fatalf("location: %+v", b)
			}

			step()
			post(t, st, "/reply", sam(map[string]any{"text": "In medium?", "referredProduct": map[string]any{"catalogId": "194836987003835", "productId": "sku-tee-blue-m"}}))
			if b := lastEvent(t, st, message.EventReceived).Body; b.ReferredProduct == nil || b.ReferredProduct.ProductID != "sku-tee-blue-m" {
				t.Fatalf("referred product: %+v", b)
			}

			step()
			forwarded := post(t, st, "/reply", sam(map[string]any{"text": "See below", "forwarded": "frequently"}))
			if b := lastEvent(t, st, message.EventReceived).Body; b.Forwarded != "frequently" {
				t.Fatalf("forwarded: %+v", b)
			}
			step()
			post(t, st, "/reply", map[string]any{"action": "revoke", "replyTo": forwarded})
			if b := lastEvent(t, st, message.EventReceived).Body; b.Type != message.BodyRevoke || b.OriginalID != forwarded {
				t.Fatalf("revoke: %+v", b)
			}
			step()
			typo := post(t, st, "/reply", sam(map[string]any{"text": "See you at 8"}))
			post(t, st, "/reply", map[string]any{"action": "edit", "replyTo": typo, "text": "See you at 9"})
			if b := lastEvent(t, st, message.EventReceived).Body; b.Type != message.BodyEdit || b.OriginalID != typo || b.Edited == nil || b.Edited.Text != "See you at 9" {
				t.Fatalf("edit: %+v", b)
			}

			step()
			post(t, st, "/reply", sam(map[string]any{"action": "callPermission", "answer": "accept"}))
			if b := lastEvent(t, st, message.EventReceived).Body; b.Type != message.BodyCallPermission || b.CallPermission.Response != "accept" ||
				!b.CallPermission.ExpiresAt.Equal(clk.Now().Add(7*24*time.Hour).Truncate(time.Second)) {
				t.Fatalf("call permission: %+v", b.CallPermission)
			}

			step()
			post(t, st, "/reply", sam(map[string]any{"action": "unsupported", "unsupported": "poll"}))
			if b := lastEvent(t, st, message.EventReceived).Body; b.Type != message.BodyUnsupported || b.Unsupported != "unsupported.poll" ||
				len(b.Errors) != 1 || b.Errors[0].Code != 131051 || len(b.Raw) == 0 {
				t.Fatalf("unsupported: %+v", b)
			}
			step()
			post(t, st, "/reply", sam(map[string]any{"action": "unrendered"}))
			ev = lastEvent(t, st, message.EventFailed)
			if ev.Error == nil || ev.Error.Platform == nil || ev.Error.Platform.Code != 131000 || ev.Body == nil || len(ev.Body.Raw) == 0 {
				t.Fatalf("unrendered: %+v %+v", ev, ev.Error)
			}
			step()
			post(t, st, "/error", map[string]any{"businessId": waBusiness, "code": 130429})
			if ev = lastEvent(t, st, message.EventPlatformError); ev.Error == nil || ev.Error.Platform == nil || ev.Error.Platform.Code != 130429 || ev.Error.Platform.Href == "" {
				t.Fatalf("platform error: %+v %+v", ev, ev.Error)
			}
			step()
			post(t, st, "/preferences", map[string]any{"businessId": waBusiness, "from": waCustomer, "value": "stop"})
			if ev = lastEvent(t, st, message.EventPreferences); ev.CustomerID != bsuid || ev.Body.Preferences[0].Value != "stop" || ev.Body.Preferences[0].Category != "marketing_messages" {
				t.Fatalf("preferences: %+v %+v", ev, ev.Body)
			}

			step()
			post(t, st, "/reply", sam(map[string]any{"action": "system", "change": "identity", "identityHash": "Nq3vX0aTlyo="}))
			if s := lastEvent(t, st, message.EventReceived).Body.System; s == nil || s.Change != message.ChangeIdentity || s.Identity == nil || s.Identity.Hash != "Nq3vX0aTlyo=" {
				t.Fatalf("identity change: %+v", s)
			}

			// A customer with a username who keeps their number, with a
			// parent id; and a group.
			step()
			post(t, st, "/reply", map[string]any{"businessId": waBusiness, "userId": "GB.55501928374650192837", "parentUserId": "GB.ENT.99120034455667788",
				"username": "alex.m", "hidePhone": true, "name": "Alex", "text": "hi"})
			ev = lastEvent(t, st, message.EventReceived)
			if c := ev.Customer; ev.CustomerID != "GB.55501928374650192837" || c == nil || c.WaID != "" || c.Username != "alex.m" || c.ParentUserID != "GB.ENT.99120034455667788" {
				t.Fatalf("username customer: %+v %+v", ev, ev.Customer)
			}
			step()
			const group = "Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw"
			post(t, st, "/reply", map[string]any{"businessId": waBusiness, "from": "447700900999", "name": "Priya", "group": group, "text": "Friday?"})
			if ev = lastEvent(t, st, message.EventReceived); ev.GroupID != group || ev.CustomerID != group || ev.Customer.WaID != "447700900999" {
				t.Fatalf("group: %+v", ev)
			}

			// Sam changes number, then business-scoped id: one conversation.
			step()
			post(t, st, "/reply", sam(map[string]any{"action": "system", "change": "number", "newPhone": "447700900777"}))
			if ev = lastEvent(t, st, message.EventReceived); ev.Body.System.Change != message.ChangeNumber || ev.Body.System.WaID != "447700900777" || ev.CustomerID != bsuid {
				t.Fatalf("number change: %+v %+v", ev, ev.Body.System)
			}
			step()
			post(t, st, "/reply", map[string]any{"businessId": waBusiness, "from": "447700900777", "text": "new phone, same me"})
			if ev = lastEvent(t, st, message.EventReceived); ev.CustomerID != bsuid || ev.Customer.WaID != "447700900777" {
				t.Fatalf("after the number change: %+v %+v", ev, ev.Customer)
			}
			if code, _, e := sendText(t, st, "whatsapp", waBusiness, "447700900777", "Noted"); code != http.StatusAccepted {
				t.Fatalf("send to the new number: %d %+v", code, e)
			}
			step()
			post(t, st, "/reply", map[string]any{"action": "system", "businessId": waBusiness, "userId": bsuid, "change": "userId", "newUserId": "GB.88812345678901234567"})
			ev = lastEvent(t, st, message.EventReceived)
			if s := ev.Body.System; ev.CustomerID != bsuid || s.Change != message.ChangeUserID || s.UserID != "GB.88812345678901234567" || s.PreviousUserID != bsuid {
				t.Fatalf("user id change: %+v %+v", ev, s)
			}
		})
	}
}
