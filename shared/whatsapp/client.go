package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/safefetch"
)

// maxResponse caps how much of a Graph API answer the client reads.
const maxResponse = 1 << 20

// defaultHTTP is used when a Client has no HTTP client of its own; unlike
// http.DefaultClient it gives up on a Graph API that never answers.
var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// Client sends messages through the Graph API. Its zero value is not
// usable: set BaseURL and Token.
type Client struct {
	// BaseURL is the Graph API base including the version, e.g.
	// https://graph.facebook.com/v25.0.
	BaseURL string
	// Token is the system user access token. It is sent only in the
	// Authorization header, and never appears in an error.
	Token string
	// HTTP is the client requests go through; nil means one with a 30 s
	// timeout.
	HTTP *http.Client
	// MediaHTTP carries media downloads and uploads, which may take longer
	// than HTTP allows; nil means one without an overall timeout.
	MediaHTTP *http.Client
	// Fetch fetches a media message's url, a caller-supplied URL, for
	// uploading it to Meta; nil leaves url sources to Meta (sent as link).
	Fetch *safefetch.Client
	// Uploaded opens a file uploaded through the send API's POST
	// /v1/uploads: its bytes, size and content type; ErrNoUpload, wrapped,
	// when there is none. Nil refuses upload sources.
	Uploaded func(ctx context.Context, key string) (io.ReadCloser, int64, string, error)
}

// Send renders o, posts it to {BaseURL}/{o.BusinessID}/messages and returns
// the wamid Meta gave it. A 200 means Meta accepted the message, not that it
// was delivered: delivery comes later, by status webhook.
//
// Every error is a *message.Error. Meta's refusals are classified by their
// error.code alone and carry Meta's answer in Platform. Only errors where
// the message certainly did not reach Meta, or Meta said it took nothing
// (no connection, rate limits and the other codes Meta documents as "try
// again"), are Retryable, with Meta's advice in RetryAfter where it gives
// one. The endpoint has no idempotency key, so a failure after the request
// was written — a timeout, a reset, an answer cut off, a 5xx without Meta's
// error code — is delivery_unknown: the message may have been accepted, and
// sending it again could deliver it twice. Send never retries by itself.
func (c *Client) Send(ctx context.Context, o message.Outgoing) (wamid string, err error) {
	if o.BusinessID == "" {
		return "", requestError("businessId")
	}
	if c.Token == "" {
		return "", message.Errorf(message.CodeUnauthorized,
			"whatsapp: no access token is configured; this is a configuration problem")
	}
	if o.Message, err = c.prepareMedia(ctx, o); err != nil {
		return "", err
	}
	body, err := Render(o)
	if err != nil {
		return "", err
	}
	endpoint := strings.TrimRight(c.BaseURL, "/") + "/" + url.PathEscape(o.BusinessID) + "/messages"
	traced, wrote := retry.Track(ctx)
	req, err := http.NewRequestWithContext(traced, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "", message.Errorf(message.CodeInternal, "whatsapp: building the request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", transportError(err, wrote())
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		// Meta answered; what it said was lost.
		return "", unknownError(fmt.Sprintf("the Graph API's answer (HTTP %d) was cut off: %v", resp.StatusCode, err), resp.StatusCode, nil)
	}

	if resp.StatusCode/100 == 2 {
		var ok struct {
			Messages []struct {
				ID string `json:"id"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(raw, &ok); err != nil || len(ok.Messages) == 0 || ok.Messages[0].ID == "" {
			return "", unknownError(fmt.Sprintf("HTTP %d without a message id in the answer", resp.StatusCode), resp.StatusCode, raw)
		}
		return ok.Messages[0].ID, nil
	}
	return "", responseError(resp.StatusCode, raw, o.BusinessID)
}

// unknownError is a send that reached Meta, or may have, without an answer
// saying what Meta did.
func unknownError(what string, status int, raw []byte) *message.Error {
	return &message.Error{
		Code:     message.CodeDeliveryUnknown,
		Message:  "whatsapp: " + what + "; Meta may have accepted the message, so parley does not send it again",
		Platform: &message.PlatformError{HTTPStatus: status, Details: snippet(raw)},
	}
}

// graphError is the "error" object of the Graph API's error envelope.
type graphError struct {
	Message      string    `json:"message"`
	Type         string    `json:"type"`
	Code         *int      `json:"code"`
	ErrorSubcode int       `json:"error_subcode"`
	ErrorData    errorData `json:"error_data"`
	FBTraceID    string    `json:"fbtrace_id"`
}

// errorData is Graph's error_data. It is an object with "details" on the
// messages endpoint but a plain string on some others; any other shape is
// ignored rather than failing the decode.
type errorData struct {
	Details string
}

func (d *errorData) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		d.Details = s
		return nil
	}
	var o struct {
		Details string `json:"details"`
	}
	if json.Unmarshal(b, &o) == nil {
		d.Details = o.Details
	}
	return nil
}

// subcodeNoObject is Graph's error_subcode for "object with ID … does not
// exist": with code 100, an unknown phone-number-id.
const subcodeNoObject = 33

// responseError classifies a non-2xx answer.
func responseError(status int, raw []byte, businessID string) *message.Error {
	var env struct {
		Error *graphError `json:"error"`
	}
	if json.Unmarshal(raw, &env) != nil || env.Error == nil || env.Error.Code == nil {
		pe := &message.PlatformError{HTTPStatus: status, Details: snippet(raw)}
		switch {
		case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
			// Throttled or refused at the door: nothing was taken.
			return &message.Error{
				Code:      message.CodePlatformUnavailable,
				Message:   fmt.Sprintf("whatsapp: the Graph API answered HTTP %d; try again later", status),
				Platform:  pe,
				Retryable: true,
			}
		case status >= 500:
			// A gateway or server failure without Meta's error envelope:
			// the request may have been handled behind it.
			return unknownError(fmt.Sprintf("the Graph API answered HTTP %d without an error code", status), status, raw)
		}
		return &message.Error{
			Code:     message.CodePlatformRejected,
			Message:  fmt.Sprintf("whatsapp: the Graph API answered HTTP %d without an error code; check the configured API URL", status),
			Platform: pe,
		}
	}
	g := env.Error
	code := *g.Code
	pe := &message.PlatformError{
		HTTPStatus: status,
		Code:       code,
		Message:    g.Message,
		Details:    g.ErrorData.Details,
		TraceID:    g.FBTraceID,
	}
	e := &message.Error{Platform: pe}
	said := pe.Details
	if said == "" {
		said = pe.Message
	}
	switch {
	case code == codeWindowClosed:
		e.Code = message.CodeWindowClosed
		e.Message = "whatsapp: the customer service window is closed: the customer last wrote more than 24 hours ago, so only a template can reach them (code 131047)"
	case code == 190 || code == 0:
		e.Code = message.CodeUnauthorized
		e.Message = fmt.Sprintf("whatsapp: Meta refused the access token as invalid or expired (code %d); this is a configuration problem: give parley a valid system user access token", code)
	case code == 10 || code == 3 || code == 131005 || (code >= 200 && code <= 299):
		e.Code = message.CodeUnauthorized
		e.Message = fmt.Sprintf("whatsapp: the access token lacks a permission (code %d): %s; this is a configuration problem: the app needs whatsapp_business_messaging and the token must be allowed to use phone number id %q", code, said, businessID)
	case code == 100 && (g.ErrorSubcode == subcodeNoObject || g.Type == "GraphMethodException"):
		e.Code = message.CodePlatformRejected
		e.Message = fmt.Sprintf("whatsapp: Meta knows no phone number id %q that this token may use (code 100)", businessID)
	case code == 100 || code == 131008 || code == 131009:
		e.Code = message.CodeInvalidMessage
		e.Message = fmt.Sprintf("whatsapp: Meta refused the message as invalid (code %d): %s", code, said)
	case code == 130429 || code == 131056 || code == 131000 || code == 131016 || code == 131057 || code == 2 || code == 4:
		e.Code = message.CodePlatformUnavailable
		e.Message = fmt.Sprintf("whatsapp: Meta cannot take the message now (code %d): %s; try again later", code, said)
		e.Retryable = true
		e.RetryAfter = retryAfter(code)
	case status >= 500 && code != 131045:
		// An error code parley does not know, from a server in trouble:
		// Meta may or may not have taken the message. 131045 (number
		// registration) is a refusal.
		e.Code = message.CodeDeliveryUnknown
		e.Message = fmt.Sprintf("whatsapp: the Graph API failed with HTTP %d (code %d): %s; Meta may have accepted the message, so parley does not send it again", status, code, said)
	default:
		e.Code = message.CodePlatformRejected
		e.Message = fmt.Sprintf("whatsapp: Meta rejected the message (code %d): %s", code, said)
	}
	return e
}

// retryAfter is the wait before the next try of a retryable code, which
// the retry policy takes as its delay: for the pair rate limit Meta advises
// 4^X seconds with X from 0, so the first retry waits 1 s; throughput is
// counted per second, so a second lets it recover; an account in
// maintenance takes about a minute. Other codes leave the delay to the
// policy's backoff.
func retryAfter(code int) time.Duration {
	switch code {
	case 131056, 130429:
		return time.Second
	case 131057:
		return time.Minute
	}
	return 0
}

// transportError classifies a request that got no answer: retryable when
// it was never written in full, delivery_unknown when it was.
func transportError(err error, wrote bool) *message.Error {
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	if wrote {
		what := "the connection failed after the message was sent"
		if timeout {
			what = "the Graph API did not answer in time"
		}
		return unknownError(fmt.Sprintf("%s: %v", what, err), 0, nil)
	}
	what := "could not reach the Graph API"
	if timeout {
		what = "could not reach the Graph API in time"
	}
	return &message.Error{
		Code:      message.CodePlatformUnavailable,
		Message:   fmt.Sprintf("whatsapp: %s (nothing was sent): %v", what, err),
		Platform:  &message.PlatformError{},
		Retryable: true,
	}
}

// repeatableError classifies a failed call that is safe to repeat
// (reading media, uploading a file): retryable whenever it failed.
func repeatableError(err error) *message.Error {
	var ne net.Error
	what := "could not reach the Graph API"
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		what = "the Graph API did not answer in time"
	}
	return &message.Error{Code: message.CodePlatformUnavailable, Message: fmt.Sprintf("whatsapp: %s: %v", what, err), Retryable: true}
}

// snippet is the start of a body that is not a Graph error, for people to
// read in an error.
func snippet(raw []byte) string {
	const limit = 256
	if len(raw) > limit {
		raw = raw[:limit]
	}
	return strings.ToValidUTF8(strings.TrimSpace(string(raw)), string(utf8.RuneError))
}
