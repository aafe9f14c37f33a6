package message

import (
	"errors"
	"fmt"
	"time"
)

// Code is a machine-readable error code of the public API.
type Code string

// The error codes of the public API (docs/ARCHITECTURE.md, "The public
// API's messages and errors").
const (
	CodeInvalidRequest       Code = "invalid_request"
	CodeInvalidMessage       Code = "invalid_message"
	CodeUnsupportedOnChannel Code = "unsupported_on_channel"
	CodeUnsupportedOnDevice  Code = "unsupported_on_device"
	CodeWindowClosed         Code = "window_closed"
	CodeConversationClosed   Code = "conversation_closed"
	CodePlatformRejected     Code = "platform_rejected"
	CodePlatformUnavailable  Code = "platform_unavailable"
	CodeUnauthorized         Code = "unauthorized"
	CodeTooLarge             Code = "too_large"
	// CodeUnsupportedMediaType is a body not sent as application/json.
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	CodeNotFound             Code = "not_found"
	CodeConflict             Code = "conflict"
	CodeInternal             Code = "internal"
	// CodeForbidden is a caller acting for a business its access scope
	// does not name.
	CodeForbidden Code = "forbidden"
	// CodeDeliveryUnknown: the request reached the platform, or may have,
	// but no answer saying what it did came back (a timeout after the
	// request was written, a reset, an answer cut off). The message may or
	// may not arrive; parley does not send it again by itself.
	CodeDeliveryUnknown Code = "delivery_unknown"
	// CodePayloadFailed is an inbound message whose large payload or
	// attachment could not be fetched or decoded after every retry.
	CodePayloadFailed Code = "payload_failed"
)

// Error is an error the API reports to its caller.
type Error struct {
	Code    Code     `json:"code"`
	Message string   `json:"message"`
	Details Problems `json:"details,omitempty"`
	// ClosedAt is when the conversation or window closed, for window_closed
	// and conversation_closed, when known.
	ClosedAt *time.Time `json:"closedAt,omitempty"`
	// Platform is the platform's own error, for platform_rejected and
	// platform_unavailable.
	Platform *PlatformError `json:"platform,omitempty"`
	// MessageID is parley's id of the message the error concerns, when a
	// record of it was kept (delivery_unknown: look it up with GET
	// /v1/messages/{id}).
	MessageID string `json:"messageId,omitempty"`
	// Retryable is set by platform clients when the request certainly did
	// not reach the platform, or the platform said it did nothing with it
	// (no connection, rate limits), so that trying again cannot send twice;
	// RetryAfter is the platform's advice, if any.
	Retryable  bool          `json:"-"`
	RetryAfter time.Duration `json:"-"`
}

func (e *Error) Error() string {
	if len(e.Details) > 0 {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Message, e.Details.Error())
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an invalid_message error carrying the problems.
func Invalid(ps Problems) *Error {
	return &Error{Code: CodeInvalidMessage, Message: "the message is not valid: " + ps.Error(), Details: ps}
}

// AsError finds an *Error in err's chain; other errors become internal
// errors with a generic message (their text may hold details not meant for
// callers).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ps Problems
	if errors.As(err, &ps) {
		return Invalid(ps)
	}
	return &Error{Code: CodeInternal, Message: "internal error"}
}

// PlatformError is what a platform said when it refused or failed a request.
type PlatformError struct {
	// HTTPStatus is the status of the platform's answer; 0 when none came.
	HTTPStatus int `json:"httpStatus,omitempty"`
	// Code is the platform's own error code (WhatsApp's error.code), if any.
	Code int `json:"code,omitempty"`
	// Message is the platform's error text.
	Message string `json:"message,omitempty"`
	// Details is WhatsApp's error_data.details, or Apple's response body.
	Details string `json:"details,omitempty"`
	// Title and Href are a WhatsApp webhook error's title and the page
	// Meta links for the code.
	Title string `json:"title,omitempty"`
	Href  string `json:"href,omitempty"`
	// TraceID is WhatsApp's fbtrace_id, to quote to Meta support.
	TraceID string `json:"traceId,omitempty"`
}
