package applesim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Apple Pay outcomes: the gateway's answer when it charged, and what the
// simulator reports otherwise.
const (
	statusSuccess = "STATUS_SUCCESS"
	statusFailure = "STATUS_FAILURE"
)

// card is the customer's payment method in every Apple Pay call.
var card = map[string]string{"displayName": "Visa 4242", "network": "Visa", "type": "Credit"}

// payment answers an Apple Pay request: the customer authorises, the
// gateway callback carries a fake payment token to the business's
// paymentGatewayUrl, and the answer's data.payment reports the outcome: the
// gateway's status when result is success (the default), STATUS_FAILURE
// when result is failure, for a payment the device reports as failed after
// the gateway answered.
func (s *Simulator) payment(ctx context.Context, q request, result string) (map[string]any, *Callback, error) {
	if q.msg.Interactive != KindApplePay {
		return nil, nil, wrongKind(q, "pay", "an Apple Pay request")
	}
	if result == "" {
		result = "success"
	}
	if result != "success" && result != "failure" {
		return nil, nil, fmt.Errorf("%w: result %q: want success or failure", ErrBadReply, result)
	}
	pay, _ := q.data.obj("payment")
	endpoints, _ := pay.obj("endpoints")
	request, _ := pay.obj("paymentRequest")
	txn := strings.ToUpper(randomHex(32))
	token := map[string]any{
		"paymentMethod":         card,
		"transactionIdentifier": txn,
		"paymentData": map[string]any{
			"version":   "EC_v1",
			"data":      randomBase64(96),
			"signature": randomBase64(64),
			"header": map[string]string{
				"ephemeralPublicKey": randomBase64(91),
				"publicKeyHash":      randomBase64(sha256.Size),
				"transactionId":      strings.ToLower(txn),
			},
		},
	}
	member := map[string]any{"paymentToken": token}
	contact := map[string]any{
		"givenName": "Jane", "familyName": "Appleseed", "addressLines": []string{"1 Infinite Loop"},
		"locality": "Cupertino", "administrativeArea": "CA", "postalCode": "95014",
		"country": "United States", "countryCode": "us",
	}
	if request.nonEmpty("requiredBillingContactFields") {
		member["billingContact"] = contact
	}
	if request.nonEmpty("requiredShippingContactFields") {
		shipping := map[string]any{"phoneNumber": "+14085550100", "emailAddress": "jane@example.com"}
		for k, v := range contact {
			shipping[k] = v
		}
		member["shippingContact"] = shipping
	}
	cb, err := s.callback(ctx, q, endpoints.str("paymentGatewayUrl"), member)
	if err != nil {
		return nil, nil, err
	}
	var answer struct {
		Status string `json:"status"`
	}
	outcome := statusFailure
	if json.Unmarshal([]byte(cb.Body), &answer) == nil && cb.Status == http.StatusOK && answer.Status != "" && result == "success" {
		outcome = answer.Status
	}
	reply := map[string]any{"status": outcome, "transactionIdentifier": txn, "paymentMethod": card}
	if total, ok := request["total"]; ok {
		reply["total"] = total
	}
	return s.builtIn(q, "payment", reply, ""), cb, nil
}

// paymentUpdate calls the business while the customer changes the payment
// sheet: action shipping picks a shipping method (ids: at most one, else the
// first), paymentMethod the customer's card.
func (s *Simulator) paymentUpdate(ctx context.Context, q request, action string, ids []string) (*Callback, error) {
	if q.msg.Interactive != KindApplePay {
		return nil, wrongKind(q, action, "an Apple Pay request")
	}
	pay, _ := q.data.obj("payment")
	endpoints, _ := pay.obj("endpoints")
	if action == "paymentMethod" {
		u := endpoints.str("paymentMethodUpdateUrl")
		if u == "" {
			return nil, fmt.Errorf("%w: the Apple Pay request has no endpoints.paymentMethodUpdateUrl", ErrBadReply)
		}
		return s.callback(ctx, q, u, map[string]any{"paymentMethod": card})
	}
	u := endpoints.str("shippingMethodUpdateUrl")
	if u == "" {
		return nil, fmt.Errorf("%w: the Apple Pay request has no endpoints.shippingMethodUpdateUrl", ErrBadReply)
	}
	if len(ids) > 1 {
		return nil, fmt.Errorf("%w: ids: %d shipping methods; the customer picks one", ErrBadReply, len(ids))
	}
	request, _ := pay.obj("paymentRequest")
	methods, _ := request.objects("shippingMethods")
	for _, m := range methods {
		if len(ids) == 0 || m.str("identifier") == ids[0] {
			return s.callback(ctx, q, u, map[string]any{"shippingMethod": m})
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: the Apple Pay request has no shippingMethods", ErrBadReply)
	}
	return nil, fmt.Errorf("%w: ids: %q is not a shipping method of the request", ErrBadReply, ids[0])
}

// callback POSTs an Apple Pay call, plain JSON with the request's
// requestIdentifier and version and member as payment, to the business.
func (s *Simulator) callback(ctx context.Context, q request, u string, member map[string]any) (*Callback, error) {
	version := q.data["version"]
	if version == nil {
		version = q.data["mspVersion"]
	}
	body, err := json.Marshal(map[string]any{
		"requestIdentifier": q.data["requestIdentifier"], "version": version, "payment": member,
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("applesim: Apple Pay endpoint %q: %w", u, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("applesim: Apple Pay endpoint: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxWebhookBody))
	return &Callback{URL: u, Status: resp.StatusCode, Body: string(answer)}, nil
}

// randomBase64 returns n random bytes in Base64.
func randomBase64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
