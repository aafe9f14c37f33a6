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
	"regexp"
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
// first), paymentMethod the customer's card, shippingContact another
// shipping address (addr, else DefaultAddress). The sheet then checks the
// answer as Apple's does (see checkUpdate) and sets the callback's Refused
// when it would not take it.
func (s *Simulator) paymentUpdate(ctx context.Context, q request, action string, ids []string, addr *Address) (*Callback, error) {
	if q.msg.Interactive != KindApplePay {
		return nil, wrongKind(q, action, "an Apple Pay request")
	}
	pay, _ := q.data.obj("payment")
	endpoints, _ := pay.obj("endpoints")
	request, _ := pay.obj("paymentRequest")
	var (
		u      string
		member map[string]any
	)
	switch action {
	case "paymentMethod":
		if u = endpoints.str("paymentMethodUpdateUrl"); u == "" {
			return nil, fmt.Errorf("%w: the Apple Pay request has no endpoints.paymentMethodUpdateUrl", ErrBadReply)
		}
		member = map[string]any{"paymentMethod": card}
	case "shippingContact":
		if !request.nonEmpty("requiredShippingContactFields") {
			return nil, fmt.Errorf("%w: the Apple Pay request asks for no shipping contact (paymentRequest.requiredShippingContactFields), so the sheet shows none to change", ErrBadReply)
		}
		if u = endpoints.str("shippingContactUpdateUrl"); u == "" {
			return nil, fmt.Errorf("%w: the Apple Pay request has no endpoints.shippingContactUpdateUrl", ErrBadReply)
		}
		if addr == nil {
			addr = &DefaultAddress
		}
		contact, err := addr.redacted()
		if err != nil {
			return nil, err
		}
		member = map[string]any{"shippingContact": contact}
	default:
		if u = endpoints.str("shippingMethodUpdateUrl"); u == "" {
			return nil, fmt.Errorf("%w: the Apple Pay request has no endpoints.shippingMethodUpdateUrl", ErrBadReply)
		}
		if len(ids) > 1 {
			return nil, fmt.Errorf("%w: ids: %d shipping methods; the customer picks one", ErrBadReply, len(ids))
		}
		methods, _ := request.objects("shippingMethods")
		for _, m := range methods {
			if len(ids) == 0 || m.str("identifier") == ids[0] {
				member = map[string]any{"shippingMethod": m}
				break
			}
		}
		if member == nil && len(ids) == 0 {
			return nil, fmt.Errorf("%w: the Apple Pay request has no shippingMethods", ErrBadReply)
		}
		if member == nil {
			return nil, fmt.Errorf("%w: ids: %q is not a shipping method of the request", ErrBadReply, ids[0])
		}
	}
	cb, err := s.callback(ctx, q, u, member)
	if err != nil {
		return nil, err
	}
	cb.Refused = checkUpdate(action, cb.Status, []byte(cb.Body))
	return cb, nil
}

// Address is the shipping address a customer picks on the payment sheet
// (action shippingContact). The sheet sends it redacted, as Apple Pay does
// before the customer authorises: no street, name, phone or email, and a
// postal code cut to what taxes and shipping need.
type Address struct {
	Locality           string `json:"locality"`
	AdministrativeArea string `json:"administrativeArea,omitempty"`
	PostalCode         string `json:"postalCode"`
	// CountryCode is the ISO 3166 two-letter code, in either case.
	CountryCode string `json:"countryCode"`
	// Country is the country's name; empty takes it from CountryCode for
	// the countries the simulator knows, else the code.
	Country string `json:"country,omitempty"`
}

// DefaultAddress is the shipping address of an action shippingContact
// that names none.
var DefaultAddress = Address{Locality: "Portland", AdministrativeArea: "OR", PostalCode: "97205-2811", CountryCode: "US"}

var countryNames = map[string]string{
	"us": "United States", "ca": "Canada", "gb": "United Kingdom", "ie": "Ireland", "fr": "France",
	"de": "Germany", "es": "Spain", "it": "Italy", "jp": "Japan", "au": "Australia",
}

// redacted returns the contact Apple Pay sends for a before the payment is
// authorised: a US ZIP code cut to its first five digits, a Canadian or
// British postal code without its last three characters.
func (a Address) redacted() (map[string]any, error) {
	code := strings.ToLower(a.CountryCode)
	if len(code) != 2 || code[0] < 'a' || code[0] > 'z' || code[1] < 'a' || code[1] > 'z' {
		return nil, fmt.Errorf("%w: address.countryCode %q: want an ISO 3166 two-letter code", ErrBadReply, a.CountryCode)
	}
	if a.Locality == "" || a.PostalCode == "" {
		return nil, fmt.Errorf("%w: address needs locality and postalCode", ErrBadReply)
	}
	postal := strings.TrimSpace(a.PostalCode)
	switch code {
	case "us":
		if len(postal) > 5 {
			postal = postal[:5]
		}
	case "ca", "gb":
		compact := strings.ReplaceAll(postal, " ", "")
		if len(compact) > 3 {
			postal = compact[:len(compact)-3]
		}
	}
	country := a.Country
	if country == "" {
		if country = countryNames[code]; country == "" {
			country = strings.ToUpper(code)
		}
	}
	return map[string]any{
		"givenName": "", "familyName": "", "phoneticGivenName": "", "phoneticFamilyName": "",
		"addressLines": []string{}, "subLocality": "", "locality": a.Locality,
		"subAdministrativeArea": "", "administrativeArea": a.AdministrativeArea,
		"postalCode": postal, "country": country, "countryCode": code,
	}, nil
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

// The values of an ApplePayError the sheet takes.
var (
	payErrorCodes = map[string]bool{
		"unknown": true, "shippingContactInvalid": true, "billingContactInvalid": true,
		"addressUnserviceable": true, "couponCodeInvalid": true, "couponCodeExpired": true,
	}
	payErrorFields = map[string]bool{
		"phoneNumber": true, "emailAddress": true, "name": true, "phoneticName": true,
		"postalAddress": true, "addressLines": true, "subLocality": true, "locality": true,
		"postalCode": true, "subAdministrativeArea": true, "administrativeArea": true,
		"country": true, "countryCode": true,
	}
	amount = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
)

// checkUpdate returns why the payment sheet does not take the answer to an
// update callback (action shipping, paymentMethod or shippingContact), ""
// when it does. It takes 200 with {} (no change), or an update: newTotal, a
// line item with a label and an amount of at least zero, is then required;
// newLineItems and newShippingMethods, when present, are lists of line
// items and of shipping methods (label and amount); the answer to a
// shipping contact or a card may carry errors, each with a code and an
// optional contactField of Apple's, which the sheet shows for the customer
// to fix (Apple's shipping-method update has no errors, and ignores them).
func checkUpdate(action string, status int, body []byte) string {
	if status != http.StatusOK {
		return fmt.Sprintf("the endpoint answered %d, not 200", status)
	}
	a, ok := decodeObject(body)
	if !ok {
		return "the answer is not a JSON object"
	}
	if len(a) == 0 {
		return ""
	}
	var ps []string
	if total, ok := a.obj("newTotal"); ok {
		ps = checkLineItem(ps, "newTotal", total)
		if strings.HasPrefix(total.str("amount"), "-") {
			ps = append(ps, "newTotal.amount must not be negative")
		}
	} else if _, present := a["newTotal"]; present {
		ps = append(ps, "newTotal must be a line item object")
	} else {
		ps = append(ps, "newTotal is required in an update ({} changes nothing)")
	}
	if _, present := a["newLineItems"]; present {
		items, ok := a.objects("newLineItems")
		if !ok {
			ps = append(ps, "newLineItems must be a list of line items")
		}
		for i, it := range items {
			ps = checkLineItem(ps, fmt.Sprintf("newLineItems[%d]", i), it)
		}
	}
	if _, present := a["newShippingMethods"]; present {
		methods, ok := a.objects("newShippingMethods")
		if !ok {
			ps = append(ps, "newShippingMethods must be a list of shipping methods")
		}
		for i, m := range methods {
			f := fmt.Sprintf("newShippingMethods[%d]", i)
			if m.str("label") == "" {
				ps = append(ps, f+".label is required")
			}
			if !amount.MatchString(m.str("amount")) {
				ps = append(ps, f+`.amount must be a decimal amount in a string, e.g. "5.00"`)
			}
		}
	}
	if _, present := a["errors"]; present && action != "shipping" {
		errs, ok := a.objects("errors")
		if !ok {
			ps = append(ps, "errors must be a list of Apple Pay errors")
		}
		for i, e := range errs {
			f := fmt.Sprintf("errors[%d]", i)
			if !payErrorCodes[e.str("code")] {
				ps = append(ps, fmt.Sprintf("%s.code %q is not an Apple Pay error code", f, e.str("code")))
			}
			if _, present := e["contactField"]; present && !payErrorFields[e.str("contactField")] {
				ps = append(ps, fmt.Sprintf("%s.contactField %q is not a contact field of Apple Pay", f, e.str("contactField")))
			}
		}
	}
	return strings.Join(ps, "; ")
}

// checkLineItem appends the problems of the line item it, field, to ps: a
// label, an amount (a decimal in a string; a pending item may leave it
// out) and a type final or pending.
func checkLineItem(ps []string, field string, it object) []string {
	if it.str("label") == "" {
		ps = append(ps, field+".label is required")
	}
	typ := it.str("type")
	if _, present := it["type"]; present && typ != "final" && typ != "pending" {
		ps = append(ps, fmt.Sprintf("%s.type %q is not final or pending", field, typ))
	}
	if _, present := it["amount"]; (present || typ != "pending") && !amount.MatchString(it.str("amount")) {
		ps = append(ps, field+`.amount must be a decimal amount in a string, e.g. "10.00"`)
	}
	return ps
}
