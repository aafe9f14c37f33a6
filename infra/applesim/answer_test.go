package applesim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// payEndpoints is a business's Apple Pay endpoints: it keeps each request's
// JSON by path and answers with answers[path].
type payEndpoints struct {
	mu      sync.Mutex
	answers map[string]string
	got     map[string]any
}

func (b *payEndpoints) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var v any
	json.Unmarshal(raw, &v)
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want JSON", http.StatusUnsupportedMediaType)
		return
	}
	b.got[r.URL.Path] = v
	io.WriteString(w, b.answers[r.URL.Path])
}

// newBusiness serves a business whose gateway answers gateway.
func newBusiness(t *testing.T, gateway string) (*payEndpoints, *httptest.Server) {
	b := &payEndpoints{got: map[string]any{}, answers: map[string]string{
		"/gateway":  gateway,
		"/method":   `{"newTotal":{"label":"Your Total","amount":"10.00","type":"final"}}`,
		"/shipping": `{"newLineItems":[{"label":"Express","amount":"9.00","type":"final"}],"newTotal":{"label":"Your Total","amount":"19.00","type":"final"}}`,
		"/contact": `{"newLineItems":[{"label":"Item","amount":"10.00","type":"final"},{"label":"Sales tax","amount":"0.85","type":"final"}],` +
			`"newTotal":{"label":"Your Total","amount":"10.85","type":"final"},"newShippingMethods":[{"identifier":"ship-std","label":"Free","detail":"5-7 days","amount":"0.00"}]}`,
	}}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, srv
}

const success = `{"status":"STATUS_SUCCESS"}`

func TestAnswers(t *testing.T) {
	card := `{"displayName":"Visa 4242","network":"Visa","type":"Credit"}`
	tests := []struct {
		name    string
		request string // the interactiveData sent by the business
		reply   string // POST /reply members besides replyTo
		gateway string // the business gateway's answer
		// want are paths of the answer's interactiveData; nil means no
		// webhook is called.
		want map[string]string
		// check opens what want cannot compare.
		check func(t *testing.T, idata any)
		// callback is the business endpoint called and the paths of its
		// request.
		callback     string
		wantCallback map[string]string
		caps         string
	}{
		{name: "list picker, two of a multiple section", request: listPicker, reply: `"action":"select","ids":["sku-2","sku-1"]`, want: map[string]string{
			"bid":                    `"` + AppleBID + `"`,
			"data.version":           `"1.0"`,
			"data.requestIdentifier": `"req-list"`,
			"data.listPicker": `{"sections":[{"title":"You Selected","order":0,"multipleSelection":true,"items":[
				{"identifier":"sku-2","title":"Orange","order":1,"style":"default"},
				{"identifier":"sku-1","title":"Apple","subtitle":"Red","order":0,"style":"default","imageIdentifier":"apple"}]},
				{"title":"Others","order":1,"multipleSelection":true,"items":[
				{"identifier":"sku-3","title":"Lettuce","order":0,"style":"default"},
				{"identifier":"sku-4","title":"Kale","order":1,"style":"default"}]}]}`,
			"data.images":       `[{"identifier":"apple","data":"` + png + `"}]`,
			"data.replyMessage": `{"title":"Selected produce","subtitle":"Orange, Apple","style":"icon"}`,
			"receivedMessage":   `{"title":"Pick produce","style":"icon","imageIdentifier":"apple"}`,
			"replyMessage":      `{"title":"Selected produce","style":"icon"}`,
		}},
		{name: "list picker, one from each section, in French", request: listPicker, reply: `"action":"select","ids":["sku-3","sku-1"],"locale":"fr_FR"`, want: map[string]string{
			"data.listPicker.sections": `[
				{"title":"Votre sélection","order":0,"multipleSelection":true,"items":[{"identifier":"sku-3","title":"Lettuce","order":0,"style":"default"},
					{"identifier":"sku-1","title":"Apple","subtitle":"Red","order":0,"style":"default","imageIdentifier":"apple"}]},
				{"title":"Autres","order":1,"multipleSelection":true,"items":[{"identifier":"sku-2","title":"Orange","order":1,"style":"default"},
					{"identifier":"sku-4","title":"Kale","order":1,"style":"default"}]}]`,
		}},
		{name: "list picker, every item, in German", request: listPicker, reply: `"action":"select","ids":["sku-1","sku-2","sku-4"],"locale":"de-DE"`, want: map[string]string{
			"data.listPicker.sections.0.title": `"Ihre Auswahl"`,
			"data.listPicker.sections.0.items": `[{"identifier":"sku-1","title":"Apple","subtitle":"Red","order":0,"style":"default","imageIdentifier":"apple"},
				{"identifier":"sku-2","title":"Orange","order":1,"style":"default"},{"identifier":"sku-4","title":"Kale","order":1,"style":"default"}]`,
			"data.listPicker.sections.1.title": `"Weitere"`,
			"data.listPicker.sections.1.items": `[{"identifier":"sku-3","title":"Lettuce","order":0,"style":"default"}]`,
			"data.listPicker.sections.2":       "-",
		}},
		{name: "time picker", request: timePicker, reply: `"action":"select","ids":["slot-2"]`, want: map[string]string{
			"data.requestIdentifier": `"req-time"`,
			"data.event": `{"identifier":"evt-42","title":"Book a fitting","timezoneOffset":-420,
				"timeslots":[{"identifier":"slot-2","startTime":"2025-07-10T18:00+0000","duration":1800}]}`,
			"data.replyMessage": `{"title":"Time chosen","subtitle":"2025-07-10T18:00+0000"}`,
			"data.images":       "-",
		}},
		{name: "quick reply", request: quickReply, reply: `"action":"select","ids":["2"]`, caps: "QUICK", want: map[string]string{
			"data.requestIdentifier": `"req-quick"`,
			"data.quick-reply": `{"summaryText":"What can I help you with?","items":[{"identifier":"2","title":"Talk to an agent"}],
				"selectedIdentifier":"2","selectedIndex":1}`,
			"data.replyMessage": `{"title":"Talk to an agent"}`,
			"receivedMessage":   "-",
		}},
		{name: "authentication", request: authRequest, reply: `"action":"auth","token":"the OAuth token"`, want: map[string]string{
			"data.requestIdentifier":     `"req-auth"`,
			"data.authenticate.status":   `"authenticated"`,
			"data.images":                `[]`,
			"data.replyMessage":          `{"title":"You signed in"}`,
			"data.authenticate.oauth2":   "-",
			"data.authenticate.clientId": "-",
		}, check: func(t *testing.T, idata any) {
			b64, _ := at(idata, "data.authenticate.token")
			s, _ := b64.(string)
			sealed, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				t.Fatalf("token %q is not Base64", s)
			}
			token, err := openToken(fixedKey(t, 0x11), sealed)
			if err != nil || string(token) != "the OAuth token" {
				t.Errorf("the token opens to %q, %v; want the OAuth token", token, err)
			}
		}},
		{name: "Apple Pay, charged", request: applePay, reply: `"action":"pay","result":"success"`, gateway: success,
			callback: "/gateway", wantCallback: map[string]string{
				"requestIdentifier":                        `"req-pay"`,
				"version":                                  `"1.0"`,
				"payment.paymentToken.paymentMethod":       card,
				"payment.paymentToken.paymentData.version": `"EC_v1"`,
				"payment.billingContact.postalCode":        `"95014"`,
				"payment.shippingContact":                  "-",
			}, want: map[string]string{
				"data.requestIdentifier":     `"req-pay"`,
				"data.payment.status":        `"STATUS_SUCCESS"`,
				"data.payment.paymentMethod": card,
				"data.payment.total":         `{"label":"Your Total","amount":"10.00","type":"final"}`,
				"data.replyMessage":          `{"title":"Paid"}`,
			}},
		{name: "Apple Pay, result defaults to success", request: applePay, reply: `"action":"pay"`, gateway: success,
			callback: "/gateway", want: map[string]string{"data.payment.status": `"STATUS_SUCCESS"`}},
		{name: "Apple Pay, gateway declines", request: applePay, reply: `"action":"pay","result":"success"`, gateway: `{"status":"STATUS_FAILURE"}`,
			callback: "/gateway", want: map[string]string{"data.payment.status": `"STATUS_FAILURE"`}},
		{name: "Apple Pay, gateway answers nonsense", request: applePay, reply: `"action":"pay"`, gateway: `<html>`,
			callback: "/gateway", want: map[string]string{"data.payment.status": `"STATUS_FAILURE"`}},
		{name: "Apple Pay, customer's payment fails", request: applePay, reply: `"action":"pay","result":"failure"`, gateway: success,
			callback: "/gateway", want: map[string]string{"data.payment.status": `"STATUS_FAILURE"`}},
		{name: "Apple Pay, shipping method", request: applePay, reply: `"action":"shipping","ids":["ship-exp"]`,
			callback: "/shipping", wantCallback: map[string]string{
				"requestIdentifier":      `"req-pay"`,
				"version":                `"1.0"`,
				"payment.shippingMethod": `{"identifier":"ship-exp","label":"Express","detail":"1 day","amount":"9.00"}`,
			}},
		{name: "Apple Pay, first shipping method", request: applePay, reply: `"action":"shipping"`,
			callback: "/shipping", wantCallback: map[string]string{"payment.shippingMethod.identifier": `"ship-std"`}},
		{name: "Apple Pay, payment method", request: applePay, reply: `"action":"paymentMethod"`,
			callback: "/method", wantCallback: map[string]string{"requestIdentifier": `"req-pay"`, "payment.paymentMethod": card}},
		{name: "Apple Pay, shipping contact", request: applePayShipping, reply: `"action":"shippingContact"`,
			callback: "/contact", wantCallback: map[string]string{
				"requestIdentifier": `"req-pay"`,
				"version":           `"1.0"`,
				"payment.shippingContact": `{"givenName":"","familyName":"","phoneticGivenName":"","phoneticFamilyName":"","addressLines":[],
					"subLocality":"","locality":"Portland","subAdministrativeArea":"","administrativeArea":"OR","postalCode":"97205",
					"country":"United States","countryCode":"us"}`,
				"payment.paymentToken": "-",
			}},
		{name: "Apple Pay, British shipping contact", request: applePayShipping,
			reply:    `"action":"shippingContact","address":{"locality":"London","postalCode":"SW1A 2AA","countryCode":"GB"}`,
			callback: "/contact", wantCallback: map[string]string{
				"payment.shippingContact.postalCode": `"SW1A"`, "payment.shippingContact.country": `"United Kingdom"`,
				"payment.shippingContact.countryCode": `"gb"`, "payment.shippingContact.administrativeArea": `""`,
			}},
		{name: "Apple Pay, Canadian shipping contact named", request: applePayShipping,
			reply:    `"action":"shippingContact","address":{"locality":"Ottawa","administrativeArea":"ON","postalCode":"K1A 0B1","countryCode":"ca","country":"Kanada"}`,
			callback: "/contact", wantCallback: map[string]string{
				"payment.shippingContact.postalCode": `"K1A"`, "payment.shippingContact.country": `"Kanada"`,
			}},
		{name: "custom", request: custom, reply: `"action":"custom","url":"?step=done"`, want: map[string]string{
			"bid":             `"com.apple.messages.MSMessageExtensionBalloonPlugin:ABCDE12345:com.example.shop.MessagesExtension"`,
			"URL":             `"?step=done"`,
			"appId":           `123456789`,
			"appName":         `"Shop"`,
			"useLiveLayout":   `true`,
			"receivedMessage": `{"title":"Your order","subtitle":"Tap to track"}`,
			"replyMessage":    `{"title":"Viewed"}`,
			"data":            "-",
		}},
		{name: "custom, business and customer named", request: custom, reply: `"action":"custom","url":"?a=1","businessId":"` + business + `","from":"` + customer + `","type":"interactive"`,
			want: map[string]string{"URL": `"?a=1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			hook := httptest.NewServer(rc)
			defer hook.Close()
			biz, bizSrv := newBusiness(t, tt.gateway)
			sim := New(Config{MSPID: mspID, Secret: secret, WebhookURL: hook.URL + "/message", Now: func() time.Time { return now }})
			base := mount(t, sim)
			id := message.NewUUID()
			if rec := send(t, sim, "/v1/message", id, outbound(id, "interactive", `"interactiveData":`+strings.ReplaceAll(tt.request, "PAY", bizSrv.URL))); rec.Code != http.StatusOK {
				t.Fatalf("the business's message was refused: %d %s", rec.Code, rec.Body)
			}
			reply := `{"replyTo":"` + id + `",` + tt.reply
			if tt.caps != "" {
				reply += `,"capabilities":["` + tt.caps + `"]`
			}
			status, answer := postJSON(t, base+"/reply", reply+`}`)
			if status != http.StatusOK {
				t.Fatalf("POST /reply = %d %s", status, answer)
			}
			var d Delivery
			if err := json.Unmarshal(answer, &d); err != nil {
				t.Fatal(err)
			}

			if tt.callback != "" {
				biz.mu.Lock()
				got, called := biz.got[tt.callback]
				biz.mu.Unlock()
				wantBody := biz.answers[tt.callback]
				if !called || d.Callback == nil || d.Callback.URL != bizSrv.URL+tt.callback || d.Callback.Status != 200 || d.Callback.Body != wantBody || d.Callback.Refused != "" {
					t.Fatalf("callback %+v (called: %v), want %s answered 200 %s", d.Callback, called, tt.callback, wantBody)
				}
				checkPaths(t, got, tt.wantCallback)
			} else if d.Callback != nil {
				t.Errorf("delivery reports a callback %+v", d.Callback)
			}

			if tt.want == nil {
				rc.mu.Lock()
				n := len(rc.got)
				rc.mu.Unlock()
				if n != 0 || d.ID != "" {
					t.Errorf("the webhook got %d deliveries (delivery %+v), want none", n, d)
				}
				return
			}
			dl := rc.last(t)
			if d.WebhookStatus != 200 || d.WebhookBody != "stored" || d.DataRef {
				t.Errorf("delivery %+v, want an inline answer stored", d)
			}
			var asked struct{ Locale string }
			json.Unmarshal([]byte("{"+tt.reply+"}"), &asked)
			if asked.Locale == "" {
				asked.Locale = "en_US"
			}
			checkPaths(t, dl.body, map[string]string{
				"v": `1`, "id": `"` + d.ID + `"`, "type": `"interactive"`, "sourceId": `"` + customer + `"`,
				"destinationId": `"` + business + `"`, "locale": `"` + asked.Locale + `"`, "interactiveDataRef": "-",
			})
			wantCaps := "QUICK,LIST,TIME,AUTH,AUTH2,FORM"
			if tt.caps != "" {
				wantCaps = tt.caps
			}
			for name, want := range map[string]string{
				"Capability-List": wantCaps, "Id": d.ID, "Source-Id": customer, "Destination-Id": business,
				"Content-Encoding": "gzip", "Device-Agent": "iPhone OS",
			} {
				if got := dl.header.Get(name); got != want {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			}
			idata := dl.body["interactiveData"]
			if s, _ := at(idata, "sessionIdentifier"); s == nil || s == "" {
				t.Errorf("interactiveData has no sessionIdentifier")
			}
			checkPaths(t, idata, tt.want)
			if tt.check != nil {
				tt.check(t, idata)
			}
		})
	}
}

func TestAnswerKeepsTheSession(t *testing.T) {
	rc := &recorder{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	sim := New(Config{MSPID: mspID, Secret: secret, WebhookURL: hook.URL, Now: func() time.Time { return now }})
	given := message.NewUUID()
	sessionOf := func(idata string) []any {
		id := message.NewUUID()
		if rec := send(t, sim, "/v1/message", id, outbound(id, "interactive", `"interactiveData":`+idata)); rec.Code != 200 {
			t.Fatalf("refused: %s", rec.Body)
		}
		var sessions []any
		for range 2 {
			if _, err := sim.Reply(t.Context(), Reply{Action: "select", ReplyTo: id, IDs: []string{"1"}}); err != nil {
				t.Fatal(err)
			}
			rc.mu.Lock()
			s, _ := at(rc.got[len(rc.got)-1].body, "interactiveData.sessionIdentifier")
			rc.mu.Unlock()
			sessions = append(sessions, s)
		}
		return sessions
	}
	if s := sessionOf(edit(quickReply, `"data"`, `"sessionIdentifier":"`+given+`","data"`)); s[0] != given || s[1] != given {
		t.Errorf("sessions %v, want the business's %s twice", s, given)
	}
	s := sessionOf(quickReply)
	if s[0] == "" || s[0] != s[1] || s[0] == given {
		t.Errorf("sessions %v, want one the gateway made, twice", s)
	}
}

func TestAnswerRefused(t *testing.T) {
	tests := []struct {
		name       string
		request    string // interactiveData; empty sends a text
		reply      string // POST /reply; REPLYTO is the id of the message sent
		wantStatus int
		wantIn     string
	}{
		{"two items of a single-selection section", listPicker, `"action":"select","ids":["sku-3","sku-4"]`, 400, `2 items of sections[1] \"Veg\", which allows one selection`},
		{"unknown item", listPicker, `"action":"select","ids":["sku-1","sku-9"]`, 400, `\"sku-9\" is not an item of the list picker`},
		{"item twice", listPicker, `"action":"select","ids":["sku-1","sku-1"]`, 400, `\"sku-1\" is selected twice`},
		{"no ids", listPicker, `"action":"select"`, 400, "action select needs ids"},
		{"two time slots", timePicker, `"action":"select","ids":["slot-1","slot-2"]`, 400, "2 ids; a timePicker takes one"},
		{"unknown time slot", timePicker, `"action":"select","ids":["slot-9"]`, 400, `\"slot-9\" is not a time slot`},
		{"two quick replies", quickReply, `"action":"select","ids":["1","2"]`, 400, "2 ids; a quickReply takes one"},
		{"unknown quick reply", quickReply, `"action":"select","ids":["7"]`, 400, `\"7\" is not a quick reply item`},
		{"select on an auth request", authRequest, `"action":"select","ids":["1"]`, 400, "action select answers a list picker, time picker or quick reply"},
		{"auth without token", authRequest, `"action":"auth"`, 400, "action auth needs token"},
		{"auth on a list picker", listPicker, `"action":"auth","token":"t"`, 400, "action auth answers an authentication request; message REPLYTO is listPicker"},
		{"pay on a quick reply", quickReply, `"action":"pay"`, 400, "action pay answers an Apple Pay request"},
		{"pay with another result", applePay, `"action":"pay","result":"maybe"`, 400, `result \"maybe\": want success or failure`},
		{"unknown shipping method", applePay, `"action":"shipping","ids":["ship-9"]`, 400, `\"ship-9\" is not a shipping method`},
		{"two shipping methods", applePay, `"action":"shipping","ids":["ship-std","ship-exp"]`, 400, "2 shipping methods"},
		{"shipping without endpoint", edit(applePay, `,"shippingMethodUpdateUrl":"PAY/shipping"`, ``), `"action":"shipping"`, 400, "no endpoints.shippingMethodUpdateUrl"},
		{"shipping contact the request does not ask for", applePay, `"action":"shippingContact"`, 400, "asks for no shipping contact (paymentRequest.requiredShippingContactFields)"},
		{"shipping contact without endpoint", edit(applePayShipping, `,"shippingContactUpdateUrl":"PAY/contact"`, ``), `"action":"shippingContact"`, 400, "no endpoints.shippingContactUpdateUrl"},
		{"shipping contact in no country", applePayShipping, `"action":"shippingContact","address":{"locality":"Nowhere","postalCode":"1","countryCode":"USA"}`, 400, `address.countryCode \"USA\": want an ISO 3166 two-letter code`},
		{"shipping contact without postal code", applePayShipping, `"action":"shippingContact","address":{"locality":"Portland","countryCode":"US"}`, 400, "address needs locality and postalCode"},
		{"address with another action", applePayShipping, `"action":"shipping","address":{"locality":"Portland","postalCode":"97205","countryCode":"US"}`, 400, "address is for action shippingContact, not shipping"},
		{"payment method without endpoint", edit(applePay, `"paymentMethodUpdateUrl":"PAY/method",`, ``), `"action":"paymentMethod"`, 400, "no endpoints.paymentMethodUpdateUrl"},
		{"gateway unreachable", strings.ReplaceAll(applePay, "PAY", "http://127.0.0.1:1"), `"action":"pay"`, 502, "Apple Pay endpoint"},
		{"custom without url", custom, `"action":"custom"`, 400, "action custom needs url"},
		{"custom url over 64 KB", custom, `"action":"custom","url":"` + strings.Repeat("a", 64<<10+1) + `"`, 400, "url: 65537 bytes, the limit is 65536"},
		{"custom on a list picker", listPicker, `"action":"custom","url":"?a"`, 400, "action custom answers an iMessage app message"},
		{"unknown action", listPicker, `"action":"buy"`, 400, `action \"buy\": want select, auth, pay, shipping, paymentMethod, shippingContact or custom`},
		{"no replyTo, nothing sent to that customer", listPicker, `"action":"select","ids":["sku-1"],"replyTo":"","from":"urn:mbid:AQAAYother"`, 400, `replyTo \"latest\": the gateway accepted no interactive message to urn:mbid:AQAAYother`},
		{"latest of a text", "", `"action":"select","ids":["1"],"replyTo":"latest"`, 400, `replyTo \"latest\": the gateway accepted no interactive message`},
		{"unknown replyTo", listPicker, `"action":"select","ids":["sku-1"],"replyTo":"11111111-1111-4111-8111-111111111111"`, 400, "the gateway accepted no message with this id"},
		{"replyTo a text", "", `"action":"select","ids":["1"]`, 400, "not an interactive message whose content the gateway saw"},
		{"another customer", listPicker, `"action":"select","ids":["sku-1"],"from":"urn:mbid:AQAAYother"`, 400, "was not sent to urn:mbid:AQAAYother"},
		{"another business", listPicker, `"action":"select","ids":["sku-1"],"businessId":"b2"`, 400, "businessId b2 did not send message"},
		{"action with text", listPicker, `"action":"select","ids":["sku-1"],"text":"hi"`, 400, "an action carries no text"},
		{"action of type close", listPicker, `"action":"select","ids":["sku-1"],"type":"close"`, 400, "an action is an interactive message, not close"},
		{"replyTo without action", listPicker, `"businessId":"` + business + `","from":"` + customer + `","text":"hi"`, 400, "replyTo, ids, token, result, url and address need an action"},
		{"ids without action", listPicker, `"businessId":"` + business + `","from":"` + customer + `","text":"hi","ids":["sku-1"],"replyTo":""`, 400, "need an action"},
		{"unknown member", listPicker, `"action":"select","ids":["sku-1"],"items":["sku-1"]`, 400, "items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			hook := httptest.NewServer(rc)
			defer hook.Close()
			_, bizSrv := newBusiness(t, success)
			sim := New(Config{MSPID: mspID, Secret: secret, WebhookURL: hook.URL, Now: func() time.Time { return now }})
			base := mount(t, sim)
			id := message.NewUUID()
			body := outbound(id, "text", `"body":"Hello"`)
			if tt.request != "" {
				body = outbound(id, "interactive", `"interactiveData":`+strings.ReplaceAll(tt.request, "PAY", bizSrv.URL))
			}
			if rec := send(t, sim, "/v1/message", id, body); rec.Code != http.StatusOK {
				t.Fatalf("the business's message was refused: %d %s", rec.Code, rec.Body)
			}
			reply := `{"replyTo":"` + id + `",` + tt.reply + `}`
			status, answer := postJSON(t, base+"/reply", reply)
			wantIn := strings.ReplaceAll(tt.wantIn, "REPLYTO", id)
			if status != tt.wantStatus || !strings.Contains(string(answer), wantIn) {
				t.Errorf("POST /reply = %d %s; want %d mentioning %s", status, answer, tt.wantStatus, wantIn)
			}
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if len(rc.got) != 0 {
				t.Errorf("the webhook got %d deliveries, want none", len(rc.got))
			}
		})
	}
}

// TestAnswerLatest: replyTo "latest", or none, answers the newest
// interactive message the business sent the customer.
func TestAnswerLatest(t *testing.T) {
	rc := &recorder{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	sim := New(Config{MSPID: mspID, Secret: secret, WebhookURL: hook.URL, Now: func() time.Time { return now }})
	sendOne := func(typ, members string) string {
		id := message.NewUUID()
		if rec := send(t, sim, "/v1/message", id, outbound(id, typ, members)); rec.Code != 200 {
			t.Fatalf("refused: %s", rec.Body)
		}
		return id
	}
	answered := func(rp Reply) any {
		t.Helper()
		if _, err := sim.Reply(t.Context(), rp); err != nil {
			t.Fatal(err)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		v, _ := at(rc.got[len(rc.got)-1].body, "interactiveData.data.requestIdentifier")
		return v
	}
	sendOne("interactive", `"interactiveData":`+listPicker)
	sendOne("text", `"body":"Hello"`)
	if got := answered(Reply{Action: "select", IDs: []string{"sku-1"}}); got != "req-list" {
		t.Errorf("select without replyTo answered %v, want the list picker (the text after it is not interactive)", got)
	}
	sendOne("interactive", `"interactiveData":`+timePicker)
	if got := answered(Reply{Action: "select", ReplyTo: Latest, BusinessID: business, From: customer, IDs: []string{"slot-1"}}); got != "req-time" {
		t.Errorf("select of latest answered %v, want the time picker", got)
	}
}

// TestUpdateAnswerChecked: the payment sheet takes an update's answer only
// in the shape Apple Pay takes, and the simulator reports why it refuses
// one.
func TestUpdateAnswerChecked(t *testing.T) {
	total := `"newTotal":{"label":"Your Total","amount":"10.85","type":"final"}`
	tests := []struct {
		name, action string
		status       int
		answer       string
		wantRefused  string // "" when the sheet takes it
	}{
		{"no change", "shippingContact", 200, `{}`, ""},
		{"no change, spaced", "shipping", 200, " { }\n", ""},
		{"new total", "paymentMethod", 200, `{` + total + `}`, ""},
		{"a pending total without amount", "shippingContact", 200, `{"newTotal":{"label":"Your Total","type":"pending"}}`, ""},
		{"errors for the customer to fix", "shippingContact", 200, `{` + total + `,"errors":[{"code":"addressUnserviceable","message":"We do not deliver there"},{"code":"shippingContactInvalid","contactField":"postalCode"}]}`, ""},
		{"errors in a shipping method's answer are not read", "shipping", 200, `{` + total + `,"errors":[{"code":"nonsense"}]}`, ""},
		{"a negative line item (a discount)", "shippingContact", 200, `{` + total + `,"newLineItems":[{"label":"Discount","amount":"-1.00"}]}`, ""},
		{"not 200", "shippingContact", 409, `{"error":{"code":"conflict"}}`, "the endpoint answered 409, not 200"},
		{"not JSON", "shippingContact", 200, `<html>`, "the answer is not a JSON object"},
		{"an array", "shipping", 200, `[]`, "the answer is not a JSON object"},
		{"no newTotal", "shippingContact", 200, `{"newLineItems":[{"label":"Item","amount":"10.00"}]}`, "newTotal is required in an update"},
		{"newTotal a string", "shippingContact", 200, `{"newTotal":"10.85"}`, "newTotal must be a line item object"},
		{"negative total", "paymentMethod", 200, `{"newTotal":{"label":"Your Total","amount":"-1.00"}}`, "newTotal.amount must not be negative"},
		{"total as a number", "shippingContact", 200, `{"newTotal":{"label":"Your Total","amount":10.85}}`, `newTotal.amount must be a decimal amount in a string`},
		{"total without label", "shippingContact", 200, `{"newTotal":{"amount":"10.85"}}`, "newTotal.label is required"},
		{"total of another type", "shippingContact", 200, `{"newTotal":{"label":"Your Total","amount":"10.85","type":"estimated"}}`, `newTotal.type "estimated" is not final or pending`},
		{"line items not a list", "shippingContact", 200, `{` + total + `,"newLineItems":{"label":"Item"}}`, "newLineItems must be a list of line items"},
		{"line item without amount", "shippingContact", 200, `{` + total + `,"newLineItems":[{"label":"Item"}]}`, "newLineItems[0].amount must be a decimal amount"},
		{"shipping method without amount", "shippingContact", 200, `{` + total + `,"newShippingMethods":[{"identifier":"x","label":"Post"}]}`, "newShippingMethods[0].amount must be a decimal amount"},
		{"shipping method without label", "shippingContact", 200, `{` + total + `,"newShippingMethods":[{"identifier":"x","amount":"1.00"}]}`, "newShippingMethods[0].label is required"},
		{"unknown error code", "shippingContact", 200, `{` + total + `,"errors":[{"code":"badAddress"}]}`, `errors[0].code "badAddress" is not an Apple Pay error code`},
		{"unknown contact field", "shippingContact", 200, `{` + total + `,"errors":[{"code":"shippingContactInvalid","contactField":"street"}]}`, `errors[0].contactField "street" is not a contact field of Apple Pay`},
		{"unknown error code for a card", "paymentMethod", 200, `{` + total + `,"errors":[{"code":"cardDeclined"}]}`, `errors[0].code "cardDeclined" is not an Apple Pay error code`},
		{"errors not a list", "shippingContact", 200, `{` + total + `,"errors":{"code":"unknown"}}`, "errors must be a list of Apple Pay errors"},
		{"two problems", "shippingContact", 200, `{"newTotal":{"amount":"x"}}`, `newTotal.label is required; newTotal.amount must be a decimal amount`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkUpdate(tt.action, tt.status, []byte(tt.answer))
			if tt.wantRefused == "" && got != "" || !strings.Contains(got, tt.wantRefused) {
				t.Errorf("checkUpdate(%s, %d, %s) = %q, want %q", tt.action, tt.status, tt.answer, got, tt.wantRefused)
			}
		})
	}

	// Through the simulator: the business's answer is reported, refused.
	hook := httptest.NewServer(&recorder{})
	defer hook.Close()
	biz, bizSrv := newBusiness(t, success)
	biz.answers["/contact"] = `{"newLineItems":[{"label":"Item","amount":"10.00"}]}`
	sim := New(Config{MSPID: mspID, Secret: secret, WebhookURL: hook.URL, Now: func() time.Time { return now }})
	id := message.NewUUID()
	if rec := send(t, sim, "/v1/message", id, outbound(id, "interactive", `"interactiveData":`+strings.ReplaceAll(applePayShipping, "PAY", bizSrv.URL))); rec.Code != http.StatusOK {
		t.Fatalf("the business's message was refused: %d %s", rec.Code, rec.Body)
	}
	d, err := sim.Reply(t.Context(), Reply{Action: "shippingContact", ReplyTo: id})
	if err != nil || d.Callback == nil || d.Callback.Status != 200 || !strings.Contains(d.Callback.Refused, "newTotal is required") || d.ID != "" {
		t.Fatalf("Reply = %+v (callback %+v), %v; want the answer refused for its missing newTotal, and no webhook", d, d.Callback, err)
	}
}
