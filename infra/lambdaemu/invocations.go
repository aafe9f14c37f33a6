package lambdaemu

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// serveInvoke is the invocation endpoint of AWS's Runtime Interface
// Emulator; the package documentation lists its answers.
func (e *Emulator) serveInvoke(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayload))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
				fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", MaxPayload))
			return
		}
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	res, err := e.Invoke(r.Context(), body)
	if err != nil {
		var ie *InvokeError
		switch {
		case errors.As(err, &ie) && errors.Is(err, ErrTimeout):
			writeRuntimeError(w, http.StatusGatewayTimeout, ie.Type, ie.Message)
		case errors.As(err, &ie):
			writeRuntimeError(w, http.StatusBadGateway, ie.Type, ie.Message)
		case errors.Is(err, ErrClosed):
			writeRuntimeError(w, http.StatusServiceUnavailable, "ServiceException", err.Error())
		case r.Context().Err() != nil:
			// The caller has gone; there is no one to answer.
		default:
			writeRuntimeError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-RequestId", res.RequestID)
	h.Set("X-Amz-Executed-Version", "$LATEST")
	if res.FunctionError != "" {
		h.Set("X-Amz-Function-Error", res.FunctionError)
	}
	w.WriteHeader(http.StatusOK)
	w.Write(res.Payload)
}
