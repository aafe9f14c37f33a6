package applesim

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

// edit returns s with each old → new replacement applied once; it panics
// when old is missing, so that a case cannot silently test the original.
func edit(s string, pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			panic("fixture has no " + pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func TestGatewayInteractiveAndRichLink(t *testing.T) {
	interactive := func(idata string) string { return `"interactiveData":` + idata }
	link := func(rl string) string { return `"body":"https://example.com/p/123","richLinkData":` + rl }
	bigImage := base64.StdEncoding.EncodeToString(make([]byte, 200_001))
	tests := []struct {
		name     string
		path     string
		typ      string
		members  string
		want     int
		wantBody string // the answer contains it; for 200, the kind recorded
	}{
		{"list picker", "/v1/message", "interactive", interactive(listPicker), 200, KindListPicker},
		{"time picker", "/v1/message", "interactive", interactive(timePicker), 200, KindTimePicker},
		{"time picker with an empty title", "/v1/message", "interactive", interactive(edit(timePicker, `"title":"Book a fitting"`, `"title":""`)), 200, KindTimePicker},
		{"list picker with a JPEG image", "/v1/message", "interactive", interactive(edit(listPicker, `"data":"`+png+`"`, `"data":"/9j/4AAQSkZJRgABAQ=="`)), 200, KindListPicker},
		{"quick reply", "/v1/message", "interactive", interactive(quickReply), 200, KindQuickReply},
		{"authentication", "/v1/message", "interactive", interactive(authRequest), 200, KindAuth},
		{"authentication, legacy endpoint", "/v1/authenticate", "interactive", interactive(authRequest), 200, KindAuth},
		{"Apple Pay", "/v1/message", "interactive", interactive(strings.ReplaceAll(applePay, "PAY", "https://pay.example.com")), 200, KindApplePay},
		{"form", "/v1/message", "interactive", interactive(`{"bid":"` + AppleBID + `","data":{"version":"1.0","requestIdentifier":"r","dynamic":{"version":"1.1","template":"messageForms","data":{}}}}`), 200, KindForm},
		{"custom", "/v1/message", "interactive", interactive(custom), 200, KindCustom},
		{"custom, URL of 64 KB", "/v1/message", "interactive", interactive(edit(custom, `"?orderId=991&step=track"`, `"`+strings.Repeat("a", 64<<10)+`"`)), 200, KindCustom},
		{"mspVersion instead of version", "/v1/message", "interactive", interactive(edit(quickReply, `"version"`, `"mspVersion"`)), 200, KindQuickReply},
		{"quick reply of 5", "/v1/message", "interactive", interactive(edit(quickReply, `{"identifier":"2"`, `{"identifier":"3","title":"c"},{"identifier":"4","title":"d"},{"identifier":"5","title":"e"},{"identifier":"2"`)), 200, KindQuickReply},
		{"by reference", "/v1/message", "interactive", `"interactiveDataRef":{"bid":"` + AppleBID + `","url":"https://p1-content.icloud.com/M1","owner":"o","key":"00aa","size":10,"signature-base64":"gQ=="}`, 200, KindDataRef},
		{"rich link", "/v1/message", "richLink", link(richLink), 200, ""},
		{"rich link, image only", "/v1/message", "richLink", link(edit(richLink, `,
  "video":{"url":"https://example.com/v.mp4","mimeType":"video/mp4"}`, ``)), 200, ""},

		{"no bid", "/v1/message", "interactive", interactive(edit(quickReply, `"bid":"`+AppleBID+`",`, ``)), 400, "interactiveData.bid is required"},
		{"bid without the plugin", "/v1/message", "interactive", interactive(edit(quickReply, AppleBID, "com.example.shop:ABCDE12345:com.example.ext")), 400, "want com.apple.messages.MSMessageExtensionBalloonPlugin:<team id>:<bundle id>"},
		{"bid with a short team id", "/v1/message", "interactive", interactive(edit(custom, "ABCDE12345", "ABC")), 400, "<team id>"},
		{"bid without a bundle", "/v1/message", "interactive", interactive(edit(custom, ":com.example.shop.MessagesExtension", "")), 400, "<bundle id>"},
		{"Apple's team, other bundle", "/v1/message", "interactive", interactive(edit(quickReply, "com.apple.icloud.apps.messages.business.extension", "com.example.ext")), 400, "team 0000000000 has only the extension"},
		{"interactiveData not an object", "/v1/message", "interactive", interactive(`"x"`), 400, "interactiveData must be an object"},
		{"both data and a reference", "/v1/message", "interactive", interactive(quickReply) + `,"interactiveDataRef":{}`, 400, "exclude each other"},
		{"reference without owner", "/v1/message", "interactive", `"interactiveDataRef":{"bid":"` + AppleBID + `","url":"u","key":"00aa","size":10,"signature-base64":"gQ=="}`, 400, "interactiveDataRef.owner is required"},
		{"no data", "/v1/message", "interactive", interactive(`{"bid":"` + AppleBID + `"}`), 400, "interactiveData.data is required"},
		{"no version", "/v1/message", "interactive", interactive(edit(quickReply, `"version":"1.0",`, ``)), 400, "interactiveData.data.version is required"},
		{"no requestIdentifier", "/v1/message", "interactive", interactive(edit(quickReply, `"requestIdentifier":"req-quick",`, ``)), 400, "interactiveData.data.requestIdentifier is required"},
		{"no feature", "/v1/message", "interactive", interactive(`{"bid":"` + AppleBID + `","data":{"version":"1.0","requestIdentifier":"r"}}`), 400, "has no feature"},
		{"two features", "/v1/message", "interactive", interactive(edit(timePicker, `"event":`, `"quick-reply":{"items":[]},"event":`)), 400, "has 2 features (event, quick-reply): want exactly one"},
		{"image identifiers not unique", "/v1/message", "interactive", interactive(edit(listPicker, `"images":[`, `"images":[{"identifier":"apple","data":"`+png+`"},`)), 400, `interactiveData.data.images[1].identifier "apple" is not unique`},
		{"image without identifier", "/v1/message", "interactive", interactive(edit(listPicker, `"images":[`, `"images":[{"data":"`+png+`"},`)), 400, "interactiveData.data.images[0].identifier is required"},
		{"image not Base64", "/v1/message", "interactive", interactive(edit(listPicker, png, "not base64!")), 400, "interactiveData.data.images[0].data is not Base64"},
		{"item names a missing image", "/v1/message", "interactive", interactive(edit(listPicker, `"order":1,"style":"default"}]},`, `"order":1,"style":"default","imageIdentifier":"pear"}]},`)), 400, `interactiveData.data.listPicker.sections[0].items[1].imageIdentifier "pear" names no image`},
		{"bubble names a missing image", "/v1/message", "interactive", interactive(edit(listPicker, `"style":"icon","imageIdentifier":"apple"`, `"style":"icon","imageIdentifier":"logo"`)), 400, `interactiveData.receivedMessage.imageIdentifier "logo"`},
		{"custom bubble with an image", "/v1/message", "interactive", interactive(edit(custom, `"subtitle":"Tap to track"`, `"subtitle":"Tap to track","imageIdentifier":"1"`)), 400, `interactiveData.receivedMessage.imageIdentifier "1" names no image`},
		{"list picker without sections", "/v1/message", "interactive", interactive(`{"bid":"` + AppleBID + `","data":{"version":"1.0","requestIdentifier":"r","listPicker":{"sections":[]}}}`), 400, "interactiveData.data.listPicker.sections must be a non-empty array"},
		{"list items not unique", "/v1/message", "interactive", interactive(edit(listPicker, `"identifier":"sku-4"`, `"identifier":"sku-1"`)), 400, `interactiveData.data.listPicker.sections[1].items[1].identifier "sku-1" is not unique`},
		{"list item without identifier", "/v1/message", "interactive", interactive(edit(listPicker, `"identifier":"sku-3",`, ``)), 400, "interactiveData.data.listPicker.sections[1].items[0].identifier is required"},
		{"time slot start not Apple's form", "/v1/message", "interactive", interactive(edit(timePicker, "2025-07-10T18:00+0000", "2025-07-10T18:00:00Z")), 400, `interactiveData.data.event.timeslots[1].startTime "2025-07-10T18:00:00Z"`},
		{"no time slots", "/v1/message", "interactive", interactive(`{"bid":"` + AppleBID + `","data":{"version":"1.0","requestIdentifier":"r","event":{"title":"x"}}}`), 400, "interactiveData.data.event.timeslots must be a non-empty array"},
		{"quick reply of 1", "/v1/message", "interactive", interactive(edit(quickReply, `,{"identifier":"2","title":"Talk to an agent"}`, ``)), 400, "interactiveData.data.quick-reply.items: 1 items, want 2 to 5"},
		{"quick reply of 6", "/v1/message", "interactive", interactive(edit(quickReply, `{"identifier":"2"`, `{"identifier":"3","title":"c"},{"identifier":"4","title":"d"},{"identifier":"5","title":"e"},{"identifier":"6","title":"f"},{"identifier":"2"`)), 400, "6 items, want 2 to 5"},
		{"quick reply item without title", "/v1/message", "interactive", interactive(edit(quickReply, `"title":"Track order"`, `"title":""`)), 400, "interactiveData.data.quick-reply.items[0].title is required"},
		{"auth key not a P-384 point", "/v1/message", "interactive", interactive(edit(authRequest, recipientKey, "BAAA")), 400, "responseEncryptionKey: 3 bytes that are not an uncompressed P-384 point"},
		{"auth responseType", "/v1/message", "interactive", interactive(edit(authRequest, `"responseType":"token"`, `"responseType":"id_token"`)), 400, `responseType "id_token"`},
		{"legacy endpoint, not auth", "/v1/authenticate", "interactive", interactive(quickReply), 400, "/v1/authenticate takes an interactive authentication message"},
		{"legacy endpoint, text", "/v1/authenticate", "text", `"body":"hi"`, 400, "/v1/authenticate takes"},
		{"Apple Pay without gateway", "/v1/message", "interactive", interactive(strings.ReplaceAll(edit(applePay, `"paymentGatewayUrl":"PAY/gateway",`, ``), "PAY", "https://pay.example.com")), 400, "interactiveData.data.payment.endpoints.paymentGatewayUrl must be an http(s) URL"},
		{"Apple Pay without request", "/v1/message", "interactive", interactive(`{"bid":"` + AppleBID + `","data":{"version":"1.0","requestIdentifier":"r","payment":{"endpoints":{}}}}`), 400, "interactiveData.data.payment.paymentRequest is required"},
		{"custom with data", "/v1/message", "interactive", interactive(edit(custom, `"appId":123456789,`, `"appId":123456789,"data":{"version":"1.0"},`)), 400, "Third party interactive data disallows use of 'data'"},
		{"custom URL over 64 KB", "/v1/message", "interactive", interactive(edit(custom, `"?orderId=991&step=track"`, `"`+strings.Repeat("a", 64<<10+1)+`"`)), 400, "interactiveData.URL: 65537 bytes, the limit is 65536"},

		{"rich link without url", "/v1/message", "richLink", link(edit(richLink, `"url":"https://example.com/p/123",`, ``)), 400, "richLinkData.url must be an http(s) URL"},
		{"rich link with a custom scheme", "/v1/message", "richLink", link(edit(richLink, `"https://example.com/p/123"`, `"shop://p/123"`)), 400, "richLinkData.url must be an http(s) URL"},
		{"rich link without title", "/v1/message", "richLink", link(edit(richLink, `"title":"Walnut cabinet",`, ``)), 400, "richLinkData.title is required"},
		{"rich link without assets", "/v1/message", "richLink", link(`{"url":"https://example.com","title":"t"}`), 400, "richLinkData.assets is required"},
		{"rich link with empty assets", "/v1/message", "richLink", link(`{"url":"https://example.com","title":"t","assets":{}}`), 400, "richLinkData.assets needs an image or a video"},
		{"rich link image over 200 kB", "/v1/message", "richLink", link(edit(richLink, png, bigImage)), 400, "richLinkData.assets.image.data: 200001 bytes, the limit is 200000"},
		{"rich link image without type", "/v1/message", "richLink", link(edit(richLink, `"mimeType":"image/png"`, `"mimeType":""`)), 400, "richLinkData.assets.image.mimeType is required"},
		{"rich link video without url", "/v1/message", "richLink", link(edit(richLink, `"url":"https://example.com/v.mp4",`, ``)), 400, "richLinkData.assets.video.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := New(Config{MSPID: mspID, Secret: secret, Now: func() time.Time { return now }})
			const id = "0f6d1d8e-4a1b-4a2e-9c7d-5b1e2f3a4c5d"
			rec := send(t, sim, tt.path, id, outbound(id, tt.typ, tt.members))
			if rec.Code != tt.want {
				t.Fatalf("POST %s = %d %q, want %d", tt.path, rec.Code, rec.Body, tt.want)
			}
			got := sim.Messages("")
			if tt.want != http.StatusOK {
				if !strings.Contains(rec.Body.String(), tt.wantBody) || len(got) != 0 {
					t.Errorf("refused with %q and %d messages kept; want %q and none", rec.Body, len(got), tt.wantBody)
				}
				return
			}
			if len(got) != 1 || got[0].Type != tt.typ || got[0].Interactive != tt.wantBody {
				t.Errorf("kept %+v, want one %s message of kind %q", got, tt.typ, tt.wantBody)
			}
		})
	}
}

func TestThirdPartyDataAnswerIsApples(t *testing.T) {
	sim := New(Config{MSPID: mspID, Secret: secret, Now: func() time.Time { return now }})
	const id = "0f6d1d8e-4a1b-4a2e-9c7d-5b1e2f3a4c5d"
	rec := send(t, sim, "/v1/message", id, outbound(id, "interactive", `"interactiveData":`+edit(custom, `"URL"`, `"data":{},"URL"`)))
	if rec.Code != http.StatusBadRequest || rec.Body.String() != "Third party interactive data disallows use of 'data'\n" {
		t.Errorf("POST /v1/message = %d %q, want 400 with Apple's text alone", rec.Code, rec.Body)
	}
}
