package local

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
)

func sendWhatsApp(t *testing.T, st *Stack, m map[string]any, adapt bool) message.SendResult {
	t.Helper()
	var raw json.RawMessage
	code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer, "message": m, "adapt": adapt}, &raw)
	var res message.SendResult
	if err := json.Unmarshal(raw, &res); err != nil || code != http.StatusAccepted {
		t.Fatalf("send %v: %d %s", m["type"], code, raw)
	}
	return res
}

// TestWhatsAppInteractiveRoundTrips sends interactive messages through the
// send API to the simulator, answers as the customer through the simulator
// and checks the typed events.
func TestWhatsAppInteractiveRoundTrips(t *testing.T) {
	clk := clock.NewManual(start)
	st := startStack(t, "embedded", clk)
	reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "menu please"})

	list := sendWhatsApp(t, st, map[string]any{"type": "list", "body": "When should we deliver?", "button": "Pick a slot",
		"sections": []any{map[string]any{"title": "Tomorrow", "items": []any{
			map[string]any{"id": "slot:0900", "title": "09:00–11:00", "description": "Morning van"},
			map[string]any{"id": "slot:1400", "title": "14:00–16:00"}}}}}, false)
	reply(t, st, "whatsapp", map[string]any{"action": "select", "replyTo": list.PlatformMessageID, "id": "slot:0900"})
	ev := lastEvent(t, st, message.EventReceived)
	if ev.Body.Type != message.BodySelection || ev.Body.Selections[0].ID != "slot:0900" || ev.Body.Selections[0].Description != "Morning van" || ev.InReplyTo != list.ID {
		t.Fatalf("list reply: %+v %+v", ev, ev.Body)
	}

	// Five buttons are too many for WhatsApp; adapted, they become a list.
	clk.Advance(time.Minute)
	buttons := sendWhatsApp(t, st, map[string]any{"type": "buttons", "body": "Rate us", "buttons": []any{
		map[string]any{"id": "1", "title": "1"}, map[string]any{"id": "2", "title": "2"}, map[string]any{"id": "3", "title": "3"},
		map[string]any{"id": "4", "title": "4"}, map[string]any{"id": "5", "title": "5"}}}, true)
	if buttons.Adapted == nil || buttons.Adapted.From != "buttons" || buttons.Adapted.To != "list" {
		t.Fatalf("adapted: %+v", buttons.Adapted)
	}
	reply(t, st, "whatsapp", map[string]any{"action": "select", "replyTo": buttons.PlatformMessageID, "id": "5"})
	if ev = lastEvent(t, st, message.EventReceived); ev.Body.Selections[0].ID != "5" || ev.InReplyTo != buttons.ID {
		t.Fatalf("adapted list reply: %+v", ev)
	}
	// The customer re-opens the first list: stale.
	reply(t, st, "whatsapp", map[string]any{"action": "select", "replyTo": list.PlatformMessageID, "id": "slot:1400"})
	if ev = lastEvent(t, st, message.EventReceived); !ev.Stale || ev.InReplyTo != list.ID {
		t.Fatalf("a reply to an older list must be stale: %+v", ev)
	}

	loc := sendWhatsApp(t, st, map[string]any{"type": "locationRequest", "body": "Where should the driver pick you up?"}, false)
	reply(t, st, "whatsapp", map[string]any{"action": "location", "replyTo": loc.PlatformMessageID, "latitude": 51.5033, "longitude": -0.1196, "name": "County Hall"})
	if ev = lastEvent(t, st, message.EventReceived); ev.Body.Type != message.BodyLocation || ev.Body.Location.Name != "County Hall" || ev.InReplyTo != loc.ID {
		t.Fatalf("location: %+v %+v", ev, ev.Body)
	}

	products := sendWhatsApp(t, st, map[string]any{"type": "productList", "catalogId": "194836987003835", "header": map[string]any{"type": "text", "text": "Summer picks"},
		"body": "Tees", "sections": []any{map[string]any{"title": "Tees", "productIds": []string{"sku-tee-blue-m", "sku-tee-red-m"}}}}, false)
	reply(t, st, "whatsapp", map[string]any{"action": "order", "replyTo": products.PlatformMessageID, "text": "For Saturday",
		"items": []any{map[string]any{"productId": "sku-tee-blue-m", "quantity": 2, "price": "7.99", "currency": "GBP"}}})
	if ev = lastEvent(t, st, message.EventReceived); ev.Body.Type != message.BodyOrder || ev.Body.Order.Items[0].Price.String() != "7.99" {
		t.Fatalf("order: %+v %+v", ev, ev.Body)
	}

	reply(t, st, "whatsapp", map[string]any{"action": "react", "replyTo": list.PlatformMessageID, "emoji": "👍"})
	if ev = lastEvent(t, st, message.EventReceived); ev.Body.Type != message.BodyReaction || ev.Body.Reaction.MessageID != list.ID || ev.Body.Reaction.Emoji != "👍" {
		t.Fatalf("reaction: %+v %+v", ev, ev.Body)
	}

	// A limit refused before anything leaves, naming the field and the limit.
	var e apiError
	code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer,
		"message": map[string]any{"type": "buttons", "body": "x", "buttons": []any{map[string]any{"id": "1", "title": "This title is far too long"}}}}, &e)
	if code != http.StatusBadRequest || e.Error.Code != "invalid_message" || len(e.Error.Details) == 0 || e.Error.Details[0].Field != "message.buttons[0].title" {
		t.Fatalf("over a limit: %d %+v", code, e)
	}
}

// TestLateWindowClosedStatus: Meta accepts a send and fails it later with
// 131047; the message is marked window_closed.
func TestLateWindowClosedStatus(t *testing.T) {
	clk := clock.NewManual(start)
	st := startStack(t, "embedded", clk)
	// parley hears the customer directly, the simulator does not: its own
	// window stays closed, as Meta's can when clocks or deliveries differ.
	body, sig := signedWhatsApp("wamid.DIRECT", "hello", start)
	req, _ := http.NewRequest("POST", st.URL+"/webhooks/whatsapp", bytesReader(body))
	req.Header.Set("X-Hub-Signature-256", sig)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %v %v", res, err)
	}
	res.Body.Close()
	sent := sendWhatsApp(t, st, map[string]any{"type": "text", "text": "hi"}, false)
	st.WhatsApp.Flush()
	var rec message.Record
	call(t, "GET", st.URL+"/v1/messages/"+sent.ID, nil, &rec)
	if rec.Status != message.StatusFailed || rec.Error == nil || rec.Error.Code != message.CodeWindowClosed {
		t.Fatalf("record after a late 131047: %+v", rec)
	}
	if ev := lastEvent(t, st, message.EventStatus); ev.Status != message.StatusFailed || ev.Error.Code != message.CodeWindowClosed {
		t.Fatalf("status event: %+v", ev)
	}
}

// TestWhatsAppTimePickerAdapted: WhatsApp has no time picker; adapted, the
// slots become a list, and the customer's pick names the slot.
func TestWhatsAppTimePickerAdapted(t *testing.T) {
	st := startStack(t, "embedded", clock.NewManual(start))
	reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "book me in"})
	res := sendWhatsApp(t, st, map[string]any{"type": "timePicker", "title": "Book a fitting", "timezoneOffset": 60,
		"slots": []any{map[string]any{"id": "slot-1", "start": "2026-12-01T17:00:00Z", "duration": 3600},
			map[string]any{"id": "slot-2", "start": "2026-12-01T18:00:00Z", "duration": 1800}}}, true)
	if res.Adapted == nil || res.Adapted.From != "timePicker" || res.Adapted.To != "list" {
		t.Fatalf("adapted: %+v", res.Adapted)
	}
	reply(t, st, "whatsapp", map[string]any{"action": "select", "replyTo": res.PlatformMessageID, "id": "slot-2"})
	if ev := lastEvent(t, st, message.EventReceived); ev.Body.Type != message.BodySelection || ev.Body.Selections[0].ID != "slot-2" || ev.InReplyTo != res.ID {
		t.Fatalf("selection of an adapted time picker: %+v", ev)
	}
}
