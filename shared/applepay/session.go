// Package applepay is Apple Pay for Messages for Business: the merchant
// sessions an applePay message carries, and the callbacks Apple Pay makes
// while the customer pays (payment gateway, payment method, shipping
// contact and method updates, order tracking, fallback), which parley
// forwards to the business's payment processor. Apple describes both in
// "Sending an Apple Pay Payment Request" and "Processing Payment Requests"
// (developer.apple.com/documentation/businesschatapi/messages_sent/
// interactive_messages/apple_pay_in_business_chat/) and in its MSP tutorial's
// "Integrating Apple Pay" (register.apple.com/resources/messages/
// msp-api-tutorial/applepay).
package applepay

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// DefaultGatewayURL is Apple's merchant session endpoint.
const DefaultGatewayURL = "https://apple-pay-gateway.apple.com/paymentservices/paymentSession"

// DefaultSessionTimeout bounds a merchant session request when
// NewHTTPClient is given no timeout.
const DefaultSessionTimeout = 10 * time.Second

const (
	// maxSession caps the merchant session Apple returns (about 1 KB in
	// Apple's samples).
	maxSession = 64 << 10
	// maxDetails is how much of a refusal's body an error keeps.
	maxDetails = 2048
)

// MerchantSessions asks Apple Pay for the merchant sessions that applePay
// messages carry. Each session is requested just before the message is
// sent, since sessions expire.
type MerchantSessions struct {
	// GatewayURL is the paymentSession endpoint; "" means
	// DefaultGatewayURL.
	GatewayURL         string
	MerchantIdentifier string
	// DomainName is the domain registered and verified for the merchant
	// identifier: the host of parley's public URL.
	DomainName  string
	DisplayName string
	// HTTP presents the merchant identity certificate (see NewHTTPClient).
	HTTP *http.Client
}

// NewHTTPClient returns a client that presents the Apple Pay merchant
// identity certificate and key (PEM) and speaks TLS 1.2 or later. A
// timeout of zero means DefaultSessionTimeout.
func NewHTTPClient(certPEM, keyPEM []byte, timeout time.Duration) (*http.Client, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("applepay: merchant identity certificate: %w", err)
	}
	if timeout <= 0 {
		timeout = DefaultSessionTimeout
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	return &http.Client{Transport: t, Timeout: timeout}, nil
}

// sessionRequest is the body of a paymentSession request.
type sessionRequest struct {
	MerchantIdentifier string `json:"merchantIdentifier"`
	DomainName         string `json:"domainName"`
	DisplayName        string `json:"displayName"`
	Initiative         string `json:"initiative"`
	InitiativeContext  string `json:"initiativeContext"`
}

// Session requests a merchant session for initiativeContext (the
// message's paymentGatewayUrl) and returns the object Apple returned,
// unchanged. Failures are *message.Error values: unauthorized when Apple
// refuses the merchant (401, 403), platform_rejected for other 4xx,
// platform_unavailable (retryable) for 5xx, network errors and timeouts;
// each carries Apple's status and the start of its answer.
func (m *MerchantSessions) Session(ctx context.Context, initiativeContext string) (json.RawMessage, error) {
	if err := m.check(initiativeContext); err != nil {
		return nil, err
	}
	body, err := json.Marshal(sessionRequest{
		MerchantIdentifier: m.MerchantIdentifier,
		DomainName:         m.DomainName,
		DisplayName:        m.DisplayName,
		Initiative:         "messaging",
		InitiativeContext:  initiativeContext,
	})
	if err != nil {
		return nil, fmt.Errorf("applepay: merchant session: %w", err)
	}
	gateway := m.GatewayURL
	if gateway == "" {
		gateway = DefaultGatewayURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, gateway, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("applepay: merchant session: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.HTTP.Do(req)
	if err != nil {
		return nil, &message.Error{
			Code:      message.CodePlatformUnavailable,
			Message:   "applepay: the Apple Pay merchant session could not be requested: " + err.Error(),
			Platform:  &message.PlatformError{},
			Retryable: true,
		}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxSession+1))
	if err != nil {
		return nil, &message.Error{
			Code:      message.CodePlatformUnavailable,
			Message:   "applepay: the Apple Pay merchant session could not be read: " + err.Error(),
			Platform:  &message.PlatformError{HTTPStatus: resp.StatusCode},
			Retryable: true,
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, sessionError(resp.StatusCode, answer)
	}
	answer = bytes.TrimSpace(answer)
	if len(answer) > maxSession || !isObject(answer) {
		return nil, &message.Error{
			Code:     message.CodePlatformRejected,
			Message:  fmt.Sprintf("applepay: Apple Pay answered %d with something other than a merchant session (a JSON object of at most %d bytes)", resp.StatusCode, maxSession),
			Platform: &message.PlatformError{HTTPStatus: resp.StatusCode, Details: capped(answer)},
		}
	}
	return json.RawMessage(answer), nil
}

// check names what is missing before a request is made.
func (m *MerchantSessions) check(initiativeContext string) error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"merchant identifier", m.MerchantIdentifier},
		{"domain name", m.DomainName},
		{"display name", m.DisplayName},
		{"initiative context (the payment gateway URL)", initiativeContext},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("applepay: merchant session: no %s", strings.Join(missing, ", "))
	}
	if m.HTTP == nil {
		return errors.New("applepay: merchant session: no HTTP client with the merchant identity certificate")
	}
	return nil
}

// sessionError maps Apple Pay's refusal to the public error codes.
func sessionError(status int, answer []byte) *message.Error {
	e := &message.Error{Platform: &message.PlatformError{HTTPStatus: status, Details: capped(answer)}}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Code = message.CodeUnauthorized
		e.Message = fmt.Sprintf("applepay: Apple Pay refused the merchant (%d): check the merchant identifier, its identity certificate and the registered domain", status)
	case status >= 500:
		e.Code = message.CodePlatformUnavailable
		e.Message = fmt.Sprintf("applepay: Apple Pay failed to make a merchant session (%d)", status)
		e.Retryable = true
	default:
		e.Code = message.CodePlatformRejected
		e.Message = fmt.Sprintf("applepay: Apple Pay refused the merchant session request (%d)", status)
	}
	return e
}

// capped returns the start of b as text, at most maxDetails bytes.
func capped(b []byte) string {
	suffix := ""
	if len(b) > maxDetails {
		b, suffix = b[:maxDetails], "…"
	}
	return strings.ToValidUTF8(string(b), "\uFFFD") + suffix
}

// isObject reports whether b is one JSON object.
func isObject(b []byte) bool {
	var v map[string]json.RawMessage
	return json.Unmarshal(b, &v) == nil && v != nil
}
