package local

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
)

// sendMessage sends m to the Apple customer and returns the answer.
func sendApple(t *testing.T, st *Stack, m map[string]any) message.SendResult {
	t.Helper()
	var raw json.RawMessage
	code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "apple", "businessId": appleBusiness, "to": appleCustomer, "message": m}, &raw)
	var res message.SendResult
	if err := json.Unmarshal(raw, &res); err != nil || code != http.StatusAccepted {
		t.Fatalf("send %v: %d %s", m["type"], code, raw)
	}
	return res
}

func lastEvent(t *testing.T, st *Stack, typ string) message.Event {
	t.Helper()
	evs := events(t, st)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			return evs[i]
		}
	}
	t.Fatalf("no %s event in %d events", typ, len(evs))
	return message.Event{}
}

// TestAppleInteractiveRoundTrips sends each Apple interactive type through
// the send API to the simulator, answers as the customer through the
// simulator, and checks the typed event that names the message it answers.
func TestAppleInteractiveRoundTrips(t *testing.T) {
	clk := clock.NewManual(start)
	st := startStack(t, "embedded", clk)
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "hi"})

	list := sendApple(t, st, map[string]any{"type": "list", "body": "Pick fruit", "bubble": map[string]any{"title": "Fruit"},
		"sections": []any{map[string]any{"title": "Fruit", "items": []any{
			map[string]any{"id": "sku-1", "title": "Apple"}, map[string]any{"id": "sku-2", "title": "Orange"}, map[string]any{"id": "sku-3", "title": "Pear"}}}},
		"multipleSelection": true})
	// A French customer taps Pear, then Apple: Apple answers with the whole
	// list, the choice first ("Votre sélection"), Orange under "Autres".
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "action": "select", "replyTo": list.PlatformMessageID,
		"ids": []string{"sku-3", "sku-1"}, "locale": "fr_FR", "intent": "produce", "group": "grocery", "deviceAgent": "Mac OS X"})
	ev := lastEvent(t, st, message.EventReceived)
	want := []message.Selection{{ID: "sku-3", Title: "Pear"}, {ID: "sku-1", Title: "Apple"}}
	if ev.Body.Type != message.BodySelection || !reflect.DeepEqual(ev.Body.Selections, want) || ev.InReplyTo != list.ID || ev.Stale {
		t.Fatalf("list selection event: %+v body %+v, want selections %+v", ev, ev.Body, want)
	}
	if ev.Body.ReplyBubble == nil || ev.Body.ReplyBubble.Subtitle != "Pear, Apple" || ev.Body.SessionIdentifier == "" {
		t.Errorf("list selection event: reply bubble %+v, session %q; want the answer's bubble and session", ev.Body.ReplyBubble, ev.Body.SessionIdentifier)
	}
	routing := message.Routing{Intent: "produce", Group: "grocery", Locale: "fr_FR", DeviceAgent: "Mac OS X"}
	if ev.Routing != routing {
		t.Errorf("event routing %+v, want %+v", ev.Routing, routing)
	}
	var conv map[string]any
	call(t, "GET", st.URL+"/v1/conversations/apple/"+appleBusiness+"/"+url.PathEscape(appleCustomer), nil, &conv)
	if conv["intent"] != "produce" || conv["group"] != "grocery" || conv["locale"] != "fr_FR" || conv["deviceAgent"] != "Mac OS X" {
		t.Errorf("conversation %v, want the latest routing %+v", conv, routing)
	}

	// One list, a multiple-choice section and a single-choice one (the
	// message's flag is the default; a section's own flag wins).
	mixed := sendApple(t, st, map[string]any{"type": "list", "body": "Build a box", "multipleSelection": true,
		"sections": []any{
			map[string]any{"title": "Fruit", "items": []any{map[string]any{"id": "f-1", "title": "Apple"}, map[string]any{"id": "f-2", "title": "Plum"}}},
			map[string]any{"title": "Box size", "multipleSelection": false, "items": []any{map[string]any{"id": "s-1", "title": "Small"}, map[string]any{"id": "s-2", "title": "Large"}}}}})
	var refused map[string]string
	if code := call(t, "POST", st.URL+"/sim/apple/reply", map[string]any{"action": "select", "replyTo": mixed.PlatformMessageID, "ids": []string{"s-1", "s-2"}}, &refused); code != http.StatusBadRequest ||
		!strings.Contains(refused["error"], "which allows one selection") {
		t.Fatalf("two items of a single-choice section: %d %v, want 400", code, refused)
	}
	reply(t, st, "apple", map[string]any{"action": "select", "replyTo": mixed.PlatformMessageID, "ids": []string{"f-2", "s-2", "f-1"}})
	ev = lastEvent(t, st, message.EventReceived)
	if want := []message.Selection{{ID: "f-2", Title: "Plum"}, {ID: "s-2", Title: "Large"}, {ID: "f-1", Title: "Apple"}}; !reflect.DeepEqual(ev.Body.Selections, want) {
		t.Fatalf("mixed list selections %+v, want %+v", ev.Body.Selections, want)
	}

	clk.Advance(time.Minute)
	picker := sendApple(t, st, map[string]any{"type": "timePicker", "title": "Book a fitting", "timezoneOffset": -420, "bubble": map[string]any{"title": "Book"},
		"slots": []any{map[string]any{"id": "slot-1", "start": "2026-12-01T17:00:00Z", "duration": 3600}, map[string]any{"id": "slot-2", "start": "2026-12-01T18:00:00Z", "duration": 1800}}})
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "action": "select", "replyTo": picker.PlatformMessageID, "ids": []string{"slot-2"}})
	ev = lastEvent(t, st, message.EventReceived)
	if ev.Body.Type != message.BodyTimeslot || ev.Body.Timeslot.ID != "slot-2" || ev.InReplyTo != picker.ID {
		t.Fatalf("timeslot event: %+v body %+v", ev, ev.Body)
	}
	// The customer re-opens the older list: the reply is stale.
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "action": "select", "replyTo": list.PlatformMessageID, "ids": []string{"sku-2"}})
	if ev = lastEvent(t, st, message.EventReceived); !ev.Stale || ev.InReplyTo != list.ID {
		t.Fatalf("a reply to an older list must be stale: %+v", ev)
	}

	auth := sendApple(t, st, map[string]any{"type": "auth", "bubble": map[string]any{"title": "Sign in"},
		"oauth": map[string]any{"responseType": "code", "scope": []string{"profile"}, "state": "s-1"}})
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "action": "auth", "replyTo": auth.PlatformMessageID, "token": "oauth-code-42"})
	ev = lastEvent(t, st, message.EventReceived)
	if ev.Body.Type != message.BodyAuth || ev.Body.Auth.Token != "oauth-code-42" || ev.InReplyTo != auth.ID {
		t.Fatalf("auth event: %+v body %+v", ev, ev.Body.Auth)
	}

	pay := sendApple(t, st, map[string]any{"type": "applePay", "bubble": map[string]any{"title": "Pay"},
		"payment": map[string]any{"merchantName": "Shop", "countryCode": "US", "currencyCode": "USD",
			"total":     map[string]any{"label": "Total", "amount": "10.00", "type": "final"},
			"lineItems": []any{map[string]any{"label": "Tee", "amount": "10.00", "type": "final"}},
			"applePay":  map[string]any{"merchantIdentifier": DefaultApplePayMerchantID, "supportedNetworks": []string{"visa"}, "merchantCapabilities": []string{"supports3DS"}}}})
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "action": "pay", "replyTo": pay.PlatformMessageID, "result": "success"})
	cb := lastEvent(t, st, message.EventPayment)
	if cb.MessageID != pay.ID || cb.Body == nil || cb.Body.Payment == nil {
		t.Fatalf("payment callback event: %+v", cb)
	}
	ev = lastEvent(t, st, message.EventReceived)
	if ev.Body.Type != message.BodyPayment || ev.InReplyTo != pay.ID {
		t.Fatalf("payment event: %+v body %+v", ev, ev.Body)
	}
	var calls []map[string]any
	call(t, "GET", st.URL+"/sim/applepay/processor/calls", nil, &calls)
	if len(calls) != 1 || calls[0]["name"] != "paymentGateway" {
		t.Fatalf("the processor got %v, want one paymentGateway call", calls)
	}
}

// TestAppleDeviceCapabilities: a type the device cannot show is refused,
// or adapted when the request allows it.
func TestAppleDeviceCapabilities(t *testing.T) {
	st := startStack(t, "embedded", clock.NewManual(start))
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "hi", "capabilities": []string{"QUICK"}})
	list := map[string]any{"type": "list", "body": "Pick one", "sections": []any{map[string]any{"title": "S", "items": []any{
		map[string]any{"id": "a", "title": "A"}, map[string]any{"id": "b", "title": "B"}}}}}
	var e apiError
	code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "apple", "businessId": appleBusiness, "to": appleCustomer, "message": list}, &e)
	if code != http.StatusUnprocessableEntity || e.Error.Code != "unsupported_on_device" {
		t.Fatalf("a list to a device without LIST: %d %+v", code, e)
	}
	var res message.SendResult
	code = call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "apple", "businessId": appleBusiness, "to": appleCustomer, "message": list, "adapt": true}, &res)
	if code != http.StatusAccepted || res.Adapted == nil || res.Adapted.To != "buttons" {
		t.Fatalf("adapted: %d %+v", code, res)
	}
}

// TestAppleTypingAndEnvelope: typing indicators go to Apple as
// typing_start/typing_end and leave no record or event; the automated
// marker, the agent, the locale and a session reach the gateway; a typing
// indicator takes no idempotency key, goes nowhere once the customer closed
// the conversation, and does not exist on WhatsApp.
func TestAppleTypingAndEnvelope(t *testing.T) {
	st := startStack(t, "embedded", clock.NewManual(start))
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "hi"})
	before := len(events(t, st))

	res := sendApple(t, st, map[string]any{"type": "typing", "state": "start", "automated": true, "agent": "returns-bot/2", "locale": "en_GB"})
	if res.ID != "" || res.Status != message.StatusSent || res.PlatformMessageID == "" {
		t.Fatalf("typing answer %+v, want sent with an Apple id and no parley id", res)
	}
	var raw map[string]any
	call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "apple", "businessId": appleBusiness, "to": appleCustomer,
		"message": map[string]any{"type": "typing", "state": "end"}}, &raw)
	if _, has := raw["id"]; has || raw["status"] != "sent" {
		t.Errorf("typing end answer %v, want sent without an id", raw)
	}
	if n := len(events(t, st)); n != before {
		t.Errorf("typing indicators wrote %d events, want none", n-before)
	}
	var sim []struct {
		ID, Type  string
		AutoReply bool
		Agent     string
		Body      json.RawMessage
	}
	call(t, "GET", st.URL+"/sim/apple/messages", nil, &sim)
	if len(sim) != 2 || sim[0].Type != "typing_start" || sim[1].Type != "typing_end" || sim[0].ID != res.PlatformMessageID ||
		!sim[0].AutoReply || sim[0].Agent != "returns-bot/2" || sim[1].AutoReply || !strings.Contains(string(sim[0].Body), `"locale":"en_GB"`) {
		t.Fatalf("the gateway got %+v, want typing_start (automated, agent, locale) then typing_end", sim)
	}
	var conv struct{ RecentMessages []message.Record }
	call(t, "GET", st.URL+"/v1/conversations/apple/"+appleBusiness+"/"+url.PathEscape(appleCustomer), nil, &conv)
	for _, r := range conv.RecentMessages {
		if r.Direction == message.Outbound {
			t.Errorf("a typing indicator was recorded: %+v", r)
		}
	}

	// A session the business chose comes back with the answer.
	list := sendApple(t, st, map[string]any{"type": "list", "body": "Pick", "sessionIdentifier": "returns-session-7",
		"sections": []any{map[string]any{"title": "S", "items": []any{map[string]any{"id": "a", "title": "A"}, map[string]any{"id": "b", "title": "B"}}}}})
	reply(t, st, "apple", map[string]any{"action": "select", "replyTo": list.PlatformMessageID, "ids": []string{"b"}})
	if ev := lastEvent(t, st, message.EventReceived); ev.Body.SessionIdentifier != "returns-session-7" {
		t.Errorf("answer session %q, want the business's", ev.Body.SessionIdentifier)
	}

	refused := func(req map[string]any, code, field string) {
		t.Helper()
		var out struct{ Error message.Error }
		call(t, "POST", st.URL+"/v1/messages", req, &out)
		if string(out.Error.Code) != code || !strings.Contains(out.Error.Error(), field) {
			t.Errorf("%v: %+v, want %s naming %s", req["message"], out.Error, code, field)
		}
	}
	typing := map[string]any{"type": "typing", "state": "start"}
	refused(map[string]any{"channel": "apple", "businessId": appleBusiness, "to": appleCustomer, "message": typing, "idempotencyKey": "k-1"},
		"invalid_request", "idempotencyKey")
	refused(map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer, "message": typing}, "unsupported_on_channel", "typing")
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "type": "close"})
	refused(map[string]any{"channel": "apple", "businessId": appleBusiness, "to": appleCustomer, "message": typing}, "conversation_closed", "closed")
}
