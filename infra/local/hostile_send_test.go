package local

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
)

// TestHostileSends: a caller naming a business or customer in a form the
// channel does not have, or sending a list picker of 10,000 rows, is
// refused with 400 naming the field, and nothing reaches the platforms;
// every form the platforms use is taken.
func TestHostileSends(t *testing.T) {
	st := startStack(t, "embedded", clock.NewManual(start))
	reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "text": "hi"})
	text := map[string]any{"type": "text", "text": "hello"}
	rows := make([]map[string]any, 10000)
	for i := range rows {
		rows[i] = map[string]any{"id": fmt.Sprintf("row-%d", i), "title": "Row"}
	}
	bigList := map[string]any{"type": "list", "body": "Pick one", "sections": []any{map[string]any{"title": "All", "items": rows}}}
	tests := []struct {
		name, channel, business, to string
		msg                         map[string]any
		field, problem              string
	}{
		{"WhatsApp business as a name", "whatsapp", "acme-shop", waCustomer, text, "businessId", "is not a WhatsApp phone number id"},
		{"WhatsApp business as an Apple id", "whatsapp", appleBusiness, waCustomer, text, "businessId", "is not a WhatsApp phone number id"},
		{"WhatsApp customer as an Apple id", "whatsapp", waBusiness, appleCustomer, text, "to", "is not a WhatsApp recipient"},
		{"WhatsApp customer with 16 digits", "whatsapp", waBusiness, "4477009001234567", text, "to", "16 digits, a phone number has at most 15"},
		{"WhatsApp customer with two pluses", "whatsapp", waBusiness, "++447700900123", text, "to", "is not a WhatsApp recipient"},
		{"WhatsApp customer in full-width digits", "whatsapp", waBusiness, "＋４４ ７７００ ９００１２３", text, "to", "is not a WhatsApp recipient"},
		{"Apple business as a phone number id", "apple", waBusiness, appleCustomer, text, "businessId", "is not an Apple business id"},
		{"Apple customer as a phone number", "apple", appleBusiness, waCustomer, text, "to", "is not an Apple customer id"},
		{"Apple customer as a bare opaque id", "apple", appleBusiness, strings.TrimPrefix(appleCustomer, "urn:mbid:"), text, "to", "is not an Apple customer id"},
		{"Apple list picker of 10,000 rows", "apple", appleBusiness, appleCustomer, bigList, "message.sections", "10000 items in total, the limit is 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ans struct{ Error message.Error }
			code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": tt.channel, "businessId": tt.business, "to": tt.to, "message": tt.msg}, &ans)
			if code != http.StatusBadRequest || len(ans.Error.Details) == 0 {
				b, _ := json.Marshal(ans)
				t.Fatalf("HTTP %d %s, want 400 naming %s", code, b, tt.field)
			}
			if d := ans.Error.Details[0]; d.Field != tt.field || !strings.Contains(d.Problem, tt.problem) {
				t.Errorf("details %+v, want %s: …%s…", ans.Error.Details, tt.field, tt.problem)
			}
		})
	}
	if n := len(st.WhatsApp.Accepted()); n != 0 {
		t.Errorf("the WhatsApp simulator received %d messages, want none", n)
	}
	if n := len(st.Apple.Messages(appleCustomer)); n != 0 {
		t.Errorf("the Apple simulator received %d messages, want none", n)
	}

	// The forms the platforms use are taken.
	if code, _, e := sendText(t, st, "whatsapp", waBusiness, waCustomer, "hello"); code != http.StatusAccepted {
		t.Errorf("WhatsApp to %s: HTTP %d %v", waCustomer, code, e)
	}
	// A phone number written as Meta takes it in "to" — with a "+",
	// spaces, hyphens, parentheses — reaches the conversation the
	// customer's own messages opened (its wa_id, digits alone).
	var conv struct {
		CustomerID string `json:"customerId"`
		Window     struct{ Open bool }
	}
	if code := call(t, "GET", st.URL+"/v1/conversations/whatsapp/"+waBusiness+"/"+waCustomer, nil, &conv); code != http.StatusOK || !conv.Window.Open {
		t.Fatalf("conversation of %s: HTTP %d %+v", waCustomer, code, conv)
	}
	customer := conv.CustomerID
	for _, to := range []string{"+" + waCustomer, "+44 7700 900123", "+44 (7700) 900-123"} {
		code, res, e := sendText(t, st, "whatsapp", waBusiness, to, "hello")
		if code != http.StatusAccepted {
			t.Errorf("WhatsApp to %q: HTTP %d %v, want 202 inside the window %s opened", to, code, e, waCustomer)
			continue
		}
		var rec message.Record
		if code := call(t, "GET", st.URL+"/v1/messages/"+res.ID, nil, &rec); code != http.StatusOK || rec.CustomerID != customer {
			t.Errorf("WhatsApp to %q: HTTP %d, customerId %q, want %q", to, code, rec.CustomerID, customer)
		}
	}
	conv.CustomerID, conv.Window.Open = "", false
	if code := call(t, "GET", st.URL+"/v1/conversations/whatsapp/"+waBusiness+"/"+url.PathEscape("+44 7700 900123"), nil, &conv); code != http.StatusOK || conv.CustomerID != customer || !conv.Window.Open {
		t.Errorf("conversation read by a formatted number: HTTP %d %+v, want %s with its window open", code, conv, customer)
	}
	for _, to := range []string{"GB.13491208655302741918", "Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw"} {
		// Ids of conversations that have not written: refused for the
		// window, not for their form.
		if code, _, e := sendText(t, st, "whatsapp", waBusiness, to, "hello"); code == http.StatusBadRequest {
			t.Errorf("WhatsApp to %s: HTTP %d %v", to, code, e)
		}
	}
	if code, _, e := sendText(t, st, "apple", strings.ToUpper(appleBusiness), appleCustomer, "hello"); code != http.StatusAccepted {
		t.Errorf("Apple with an upper-case business id: HTTP %d %v", code, e)
	}
}

// TestFaultyTemplateAnswerBounded: a template of nearly a megabyte of
// faulty components is refused with 400 listing at most
// message.MaxProblems problems and one saying the rest are not listed: the
// answer stays far smaller than the request.
func TestFaultyTemplateAnswerBounded(t *testing.T) {
	st := startStack(t, "embedded", clock.NewManual(start))
	comps := make([]map[string]any, 200000)
	for i := range comps {
		comps[i] = map[string]any{}
	}
	tmpl := map[string]any{"type": "template", "name": "spring_offer", "language": "en_GB", "components": comps}
	body, _ := json.Marshal(map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer, "message": tmpl})
	resp, err := http.Post(st.URL+"/v1/messages", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	var ans struct{ Error message.Error }
	json.Unmarshal(answer, &ans)
	if resp.StatusCode != http.StatusBadRequest || len(ans.Error.Details) != message.MaxProblems+1 {
		t.Fatalf("HTTP %d with %d details, want 400 with %d", resp.StatusCode, len(ans.Error.Details), message.MaxProblems+1)
	}
	if last := ans.Error.Details[message.MaxProblems]; !strings.Contains(last.Problem, "not listed") {
		t.Errorf("last detail %+v, want one saying the rest are not listed", last)
	}
	if len(answer) > len(body)/10 {
		t.Errorf("a %d-byte request got a %d-byte answer", len(body), len(answer))
	}
	if n := len(st.WhatsApp.Accepted()); n != 0 {
		t.Errorf("the WhatsApp simulator received %d messages, want none", n)
	}
}
