// Package httpapi is parley's HTTP surface: the send API (/v1/…) and the
// platform webhooks (/webhooks/…). The same handlers serve the local stack
// and, through shared/lambdahttp, the Lambda functions.
package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// MaxRequestBody caps the body of a send API request.
const MaxRequestBody = 1 << 20

// encode writes v as JSON with the given status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Default().Warn("writing a response failed", "error", err)
	}
}

// decode reads a JSON body of at most MaxRequestBody bytes into v, refusing
// unknown fields so that typos surface, a body not sent as
// application/json, and text encoding/json would change (see checkText).
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBody))
	if err != nil {
		return decodeError(err)
	}
	if err := checkText(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return message.Errorf(message.CodeInvalidRequest, "the body holds more than one JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return message.Errorf(message.CodeInvalidRequest, "the body holds more than one JSON value")
	}
	return nil
}

func decodeError(err error) *message.Error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var when *time.ParseError
	switch {
	case errors.As(err, &tooBig):
		return message.Errorf(message.CodeTooLarge, "the body is over the limit of %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return message.Errorf(message.CodeInvalidRequest, "the body is empty; send a JSON object")
	case errors.As(err, &syntax):
		return message.Errorf(message.CodeInvalidRequest, "the body is not valid JSON: %s at byte %d", syntax.Error(), syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return message.Errorf(message.CodeInvalidRequest, "the body is not valid JSON: it ends too early")
	case errors.As(err, &typ):
		field := typ.Field
		return &message.Error{Code: message.CodeInvalidRequest,
			Message: fmt.Sprintf("%s: must be %s, not %s", field, typ.Type, typ.Value),
			Details: message.Problems{{Field: field, Problem: fmt.Sprintf("must be %s, not %s", typ.Type, typ.Value)}}}
	case errors.As(err, &when):
		// sendAt is the request's one time.
		p := fmt.Sprintf("%q is not a time: write RFC 3339, e.g. 2026-12-01T09:00:00Z", when.Value)
		return &message.Error{Code: message.CodeInvalidRequest, Message: "sendAt: " + p, Details: message.Problems{{Field: "sendAt", Problem: p}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &message.Error{Code: message.CodeInvalidRequest, Message: fmt.Sprintf("unknown field %q", field),
			Details: message.Problems{{Field: field, Problem: "unknown field"}}}
	default:
		return message.Errorf(message.CodeInvalidRequest, "the body could not be read: %v", err)
	}
}

// StatusOf is the HTTP status of an API error code.
func StatusOf(code message.Code) int {
	switch code {
	case message.CodeInvalidRequest, message.CodeInvalidMessage:
		return http.StatusBadRequest
	case message.CodeNotFound:
		return http.StatusNotFound
	case message.CodeForbidden:
		return http.StatusForbidden
	case message.CodeConflict:
		return http.StatusConflict
	case message.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case message.CodeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case message.CodeWindowClosed, message.CodeConversationClosed, message.CodeUnsupportedOnChannel, message.CodeUnsupportedOnDevice,
		message.CodePlatformRejected:
		return http.StatusUnprocessableEntity
	case message.CodeUnauthorized, message.CodePlatformUnavailable, message.CodeDeliveryUnknown:
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the API's error format (docs/ARCHITECTURE.md).
type errorBody struct {
	Error *message.Error `json:"error"`
}

// writeError writes err in the API's error format.
func writeError(w http.ResponseWriter, err error) {
	e := message.AsError(err)
	encode(w, StatusOf(e.Code), errorBody{Error: e})
}
