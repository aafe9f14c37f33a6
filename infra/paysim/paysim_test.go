package paysim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSimulator(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(New(func() time.Time { return now }))
	defer srv.Close()
	post := func(path, body string) (int, map[string]any) {
		res, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	code, session := post("/paymentSession", `{"merchantIdentifier":"merchant.x","domainName":"d","displayName":"Shop","initiative":"messaging","initiativeContext":"https://p/webhooks/apple/pay/paymentGateway"}`)
	if code != 200 || session["merchantIdentifier"] != "merchant.x" || session["expiresAt"].(float64) != float64(now.Add(2*time.Hour).UnixMilli()) {
		t.Fatalf("session: %d %v", code, session)
	}
	if code, _ := post("/paymentSession", `{"merchantIdentifier":"merchant.x","initiative":"web"}`); code != 400 {
		t.Errorf("a session for another initiative: %d, want 400", code)
	}
	payment := `{"requestIdentifier":"r","payment":{"paymentToken":{"transactionIdentifier":"A1B2"}}}`
	for range 2 {
		if code, out := post("/processor/paymentGateway", payment); code != 200 || out["status"] != "STATUS_SUCCESS" {
			t.Errorf("payment: %d %v", code, out)
		}
	}
	if code, out := post("/processor/shippingMethodUpdate", `{"requestIdentifier":"r"}`); code != 200 || len(out) != 0 {
		t.Errorf("update: %d %v", code, out)
	}
	if code, _ := post("/processor/paymentGateway", `not json`); code != 400 {
		t.Errorf("not JSON: %d", code)
	}
	answer := func(method, name, body string) int {
		req, _ := http.NewRequest(method, srv.URL+"/processor/answers/"+name, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	taxed := `{"newTotal":{"label":"Shop","amount":"10.85"}}`
	if code := answer("PUT", "shippingContactUpdate", taxed); code != 204 {
		t.Fatalf("PUT answer: %d", code)
	}
	if code, out := post("/processor/shippingContactUpdate", `{"requestIdentifier":"r"}`); code != 200 || out["newTotal"] == nil {
		t.Errorf("update with an answer set: %d %v", code, out)
	}
	if code, out := post("/processor/paymentMethodUpdate", `{"requestIdentifier":"r"}`); code != 200 || len(out) != 0 {
		t.Errorf("another update: %d %v, want {}", code, out)
	}
	if code := answer("DELETE", "shippingContactUpdate", ""); code != 204 {
		t.Fatalf("DELETE answer: %d", code)
	}
	if code, out := post("/processor/shippingContactUpdate", `{"requestIdentifier":"r"}`); code != 200 || len(out) != 0 {
		t.Errorf("update after the answer was forgotten: %d %v, want {}", code, out)
	}
	if answer("PUT", "paymentGateway", `{"status":"STATUS_FAILURE"}`) != 400 || answer("PUT", "fallback", `{`) != 400 {
		t.Errorf("an answer for the payment, or not JSON, was taken")
	}
	res, _ := http.Get(srv.URL + "/processor/calls")
	var calls []Call
	_ = json.NewDecoder(res.Body).Decode(&calls)
	res.Body.Close()
	if len(calls) != 6 || calls[0].Name != "paymentGateway" || !calls[0].Charged || calls[1].Charged || calls[2].Charged {
		t.Errorf("calls: %+v; want the first payment charged, its replay and the update not", calls)
	}
}
