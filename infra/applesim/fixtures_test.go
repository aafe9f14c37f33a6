package applesim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/apple"
)

// Interactive messages as an MSP sends them, in the shape of Apple's samples
// (MSP tutorial and REST API reference).
const (
	// recipientKey is the Base64 responseEncryptionKey whose private
	// scalar is 48 bytes of 0x11.
	recipientKey = "BDhudn6ly3FsnNYg/3NCEpyJKm/M7+YSFAyAv/WelDRoAZ3aFuUHmwwdkAHSOmJLbdCI0MOCY5QZR4dAPop9B+XiL36cC46A+h+v9dKLS7WXsmfwuHAjymH8hFS93v0uDg=="
	png          = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

	listPicker = `{"bid":"` + AppleBID + `",
 "data":{"version":"1.0","requestIdentifier":"req-list",
  "images":[{"identifier":"apple","data":"` + png + `"}],
  "listPicker":{"sections":[
   {"title":"Fruit","order":0,"multipleSelection":true,"items":[
    {"identifier":"sku-1","title":"Apple","subtitle":"Red","order":0,"style":"default","imageIdentifier":"apple"},
    {"identifier":"sku-2","title":"Orange","order":1,"style":"default"}]},
   {"title":"Veg","order":1,"multipleSelection":false,"items":[
    {"identifier":"sku-3","title":"Lettuce","order":0,"style":"default"},
    {"identifier":"sku-4","title":"Kale","order":1,"style":"default"}]}]}},
 "receivedMessage":{"title":"Pick produce","style":"icon","imageIdentifier":"apple"},
 "replyMessage":{"title":"Selected produce","style":"icon"}}`

	timePicker = `{"bid":"` + AppleBID + `",
 "data":{"version":"1.0","requestIdentifier":"req-time",
  "event":{"identifier":"evt-42","title":"Book a fitting","timezoneOffset":-420,
   "timeslots":[{"identifier":"slot-1","startTime":"2025-07-10T17:00+0000","duration":3600},
                {"identifier":"slot-2","startTime":"2025-07-10T18:00+0000","duration":1800}]}},
 "receivedMessage":{"title":"Pick a time"},"replyMessage":{"title":"Time chosen"}}`

	quickReply = `{"bid":"` + AppleBID + `",
 "data":{"version":"1.0","requestIdentifier":"req-quick",
  "quick-reply":{"summaryText":"What can I help you with?",
   "items":[{"identifier":"1","title":"Track order"},{"identifier":"2","title":"Talk to an agent"}]}}}`

	authRequest = `{"bid":"` + AppleBID + `",
 "data":{"version":"1.0","requestIdentifier":"req-auth","images":[],
  "authenticate":{"oauth2":{"responseType":"token","scope":["profile"],"state":"c3RhdGU=",
   "responseEncryptionKey":"` + recipientKey + `","clientSecret":"s3cret"}}},
 "receivedMessage":{"title":"Sign in to Example"},"replyMessage":{"title":"You signed in"}}`

	// applePay's endpoints are filled in with the URL of the test's
	// business server, PAY.
	applePay = `{"bid":"` + AppleBID + `",
 "data":{"version":"1.0","requestIdentifier":"req-pay",
  "payment":{"paymentRequest":{"merchantName":"Example Shop","countryCode":"US","currencyCode":"USD",
    "lineItems":[{"label":"Item","amount":"10.00","type":"final"}],
    "total":{"label":"Your Total","amount":"10.00","type":"final"},
    "requiredBillingContactFields":["post"],
    "shippingMethods":[{"identifier":"ship-std","label":"Free","detail":"5-7 days","amount":"0.00"},
                       {"identifier":"ship-exp","label":"Express","detail":"1 day","amount":"9.00"}]},
   "merchantSession":{"merchantSessionIdentifier":"msi"},
   "endpoints":{"paymentGatewayUrl":"PAY/gateway","paymentMethodUpdateUrl":"PAY/method","shippingMethodUpdateUrl":"PAY/shipping"}}},
 "receivedMessage":{"title":"Pay Example Shop"},"replyMessage":{"title":"Paid"}}`

	custom = `{"bid":"com.apple.messages.MSMessageExtensionBalloonPlugin:ABCDE12345:com.example.shop.MessagesExtension",
 "appId":123456789,"appName":"Shop","URL":"?orderId=991&step=track","useLiveLayout":true,
 "receivedMessage":{"title":"Your order","subtitle":"Tap to track"},"replyMessage":{"title":"Viewed"}}`

	richLink = `{"url":"https://example.com/p/123","title":"Walnut cabinet",
 "assets":{"image":{"data":"` + png + `","mimeType":"image/png"},
  "video":{"url":"https://example.com/v.mp4","mimeType":"video/mp4"}}}`
)

// outbound returns the body of a POST /v1/message of type typ whose other
// members are members.
func outbound(id, typ, members string) string {
	return `{"v":1,"id":"` + id + `","type":"` + typ + `","sourceId":"` + business + `","destinationId":"` + customer + `",` + members + `}`
}

// send posts body to the gateway's path with the MSP's headers.
func send(t *testing.T, sim http.Handler, path, id, body string) *httptest.ResponseRecorder {
	t.Helper()
	token, err := apple.MintToken(secret, mspID, now)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("id", id)
	req.Header.Set("Source-Id", business)
	req.Header.Set("Destination-Id", customer)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, req)
	return rec
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// delivery is one webhook request as parley receives it: its token
// verified and its body decompressed by the apple package.
type delivery struct {
	header http.Header
	body   map[string]any
}

// recorder is parley's webhook for interactive answers. It checks only
// what the apple package offers besides Parse, so that the answer's shape
// is asserted by the tests themselves.
type recorder struct {
	mu   sync.Mutex
	got  []delivery
	errs []string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := apple.VerifyToken(r.Header.Get("Authorization"), secret, mspID, now); err != nil {
		rc.errs = append(rc.errs, err.Error())
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	raw, err := apple.ReadBody(r.Body, r.Header.Get("Content-Encoding"), 1<<20, 1<<20)
	if err != nil {
		rc.errs = append(rc.errs, err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		rc.errs = append(rc.errs, err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.got = append(rc.got, delivery{header: r.Header.Clone(), body: body})
	io.WriteString(w, "stored")
}

// last returns the one delivery the recorder got.
func (rc *recorder) last(t *testing.T) delivery {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.errs) > 0 || len(rc.got) != 1 {
		t.Fatalf("webhook got %d deliveries, errors %q; want 1", len(rc.got), rc.errs)
	}
	return rc.got[0]
}

// at returns the value at a dotted path of v, with [i] for array elements
// written as .i: "data.listPicker.sections.0".
func at(v any, path string) (any, bool) {
	for key := range strings.SplitSeq(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = node[key]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// checkPaths asserts that each path of v holds the JSON value of want; a
// want of "-" means the path must be absent.
func checkPaths(t *testing.T, v any, want map[string]string) {
	t.Helper()
	for path, js := range want {
		got, ok := at(v, path)
		if js == "-" {
			if ok {
				t.Errorf("%s = %v, want it absent", path, got)
			}
			continue
		}
		var w any
		if err := json.Unmarshal([]byte(js), &w); err != nil {
			t.Fatalf("want %s: %v", path, err)
		}
		if !ok || !reflect.DeepEqual(got, w) {
			g, _ := json.Marshal(got)
			t.Errorf("%s = %s, want %s", path, g, compact(js))
		}
	}
}

func compact(js string) string {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(js)) != nil {
		return js
	}
	return buf.String()
}

// applePayShipping is applePay asking for a shipping contact, with an
// endpoint for its changes.
var applePayShipping = edit(applePay, `"requiredBillingContactFields":["post"],`, `"requiredBillingContactFields":["post"],"requiredShippingContactFields":["post","name"],`,
	`"shippingMethodUpdateUrl":"PAY/shipping"`, `"shippingMethodUpdateUrl":"PAY/shipping","shippingContactUpdateUrl":"PAY/contact"`)
