package lambdaemu

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Runtime API headers.
const (
	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	headerErrorType   = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody  = "Lambda-Runtime-Function-Error-Body"
)

// routes serves the Runtime API the function calls and the invocation
// endpoint its users call.
func (e *Emulator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", e.serveNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", e.serveResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", e.serveError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", e.serveInitError)
	mux.HandleFunc("POST /2015-03-31/functions/function/invocations", e.serveInvoke)
	return mux
}

// serveNext blocks until there is an invocation for the runtime of the
// current execution environment, then hands it over.
func (e *Emulator) serveNext(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	p := e.proc
	if p != nil {
		if !p.asked {
			p.initDuration = time.Since(p.started)
			p.initCPU = cpuTime(p.cmd.Process.Pid)
		}
		p.asked = true
	}
	e.mu.Unlock()
	if p == nil {
		writeRuntimeError(w, http.StatusInternalServerError, "Runtime.Unknown", "no execution environment is running")
		return
	}

	select {
	case inv := <-p.next:
		e.mu.Lock()
		e.current = inv
		p.served++
		e.mu.Unlock()
		deadline := time.Now().Add(e.cfg.Timeout)
		h := w.Header()
		h.Set(headerRequestID, inv.id)
		h.Set(headerDeadline, strconv.FormatInt(deadline.UnixMilli(), 10))
		h.Set(headerFunctionARN, e.arn)
		h.Set(headerTraceID, newTraceID())
		h.Set("Content-Type", "application/json")
		w.Write(inv.payload)
	case <-r.Context().Done():
	case <-p.done:
	case <-e.closing:
		writeRuntimeError(w, http.StatusInternalServerError, "Runtime.Shutdown", "the emulator is shutting down")
	}
}

// serveResponse takes the function's answer to the current invocation.
func (e *Emulator) serveResponse(w http.ResponseWriter, r *http.Request) {
	inv, body, ok := e.answer(w, r)
	if !ok {
		return
	}
	if errorType := r.Trailer.Get(headerErrorType); errorType != "" {
		// The runtime failed while streaming the response and said so in
		// the trailers.
		doc, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		inv.result <- Result{RequestID: inv.id, Payload: functionError(doc, errorType), FunctionError: FunctionErrorUnhandled}
	} else {
		inv.result <- Result{RequestID: inv.id, Payload: body}
	}
	writeAccepted(w)
}

// serveError takes the error the function answered the current invocation
// with.
func (e *Emulator) serveError(w http.ResponseWriter, r *http.Request) {
	inv, body, ok := e.answer(w, r)
	if !ok {
		return
	}
	inv.result <- Result{RequestID: inv.id, Payload: functionError(body, r.Header.Get(headerErrorType)), FunctionError: FunctionErrorUnhandled}
	writeAccepted(w)
}

// answer reads the body of a response or error the runtime posts and ends
// the invocation it names. It answers the runtime itself, and reports
// false, when the request id is not the current invocation's or the body
// is too large (the invocation then ends with Lambda's size error).
func (e *Emulator) answer(w http.ResponseWriter, r *http.Request) (*invocation, []byte, bool) {
	body, tooLarge, err := readPayload(r.Body)
	if err != nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return nil, nil, false
	}
	id := r.PathValue("id")
	inv, ok := e.take(id)
	if !ok {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in progress has the request id "+strconv.Quote(id))
		return nil, nil, false
	}
	if tooLarge {
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxPayload)
		inv.result <- Result{RequestID: inv.id, Payload: errorDocument("Function.ResponseSizeTooLarge", msg), FunctionError: FunctionErrorUnhandled}
		writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		return nil, nil, false
	}
	return inv, body, true
}

// serveInitError takes the error a runtime failed to initialise with; the
// next invocation ends with it.
func (e *Emulator) serveInitError(w http.ResponseWriter, r *http.Request) {
	body, _, err := readPayload(r.Body)
	if err != nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	var doc struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &doc) != nil {
		doc.Message = string(body)
	}
	if doc.Type == "" {
		doc.Type = r.Header.Get(headerErrorType)
	}
	if doc.Type == "" {
		doc.Type = "Runtime.InitError"
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.proc
	if p == nil || p.asked || p.initErr != nil {
		writeRuntimeError(w, http.StatusForbidden, "InvalidStateTransition", "init errors are accepted only before the runtime asks for an invocation")
		return
	}
	p.initErr = &InvokeError{Type: doc.Type, Message: doc.Message, kind: ErrInit}
	close(p.initFailed)
	writeAccepted(w)
}

// take ends the current invocation if its request id is id.
func (e *Emulator) take(id string) (*invocation, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inv := e.current
	if inv == nil || inv.id != id {
		return nil, false
	}
	e.current = nil
	return inv, true
}

// readPayload reads a body of at most MaxPayload bytes. A larger body is
// read to its end, so the runtime gets the answer, and reported as too
// large.
func readPayload(r io.Reader) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, MaxPayload+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > MaxPayload {
		_, err := io.Copy(io.Discard, r)
		return nil, true, err
	}
	return body, false, nil
}

// functionError returns the error document a function reported: the
// runtime's own when it is a JSON object, or one made of its text and type.
func functionError(body []byte, errorType string) []byte {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil {
		return body
	}
	if errorType == "" {
		errorType = "Runtime.Unknown"
	}
	return errorDocument(errorType, string(body))
}

// errorDocument is Lambda's error document.
func errorDocument(errorType, message string) []byte {
	b, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{message, errorType})
	return b
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

func writeRuntimeError(w http.ResponseWriter, status int, errorType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(errorDocument(errorType, message))
}

// newRequestID returns a random (version 4) UUID, the form of Lambda's
// request ids.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newTraceID returns an X-Ray tracing header for an unsampled request.
func newTraceID() string {
	var root [12]byte
	var parent [8]byte
	rand.Read(root[:])
	rand.Read(parent[:])
	return fmt.Sprintf("Root=1-%08x-%x;Parent=%x;Sampled=0", time.Now().Unix(), root, parent)
}
