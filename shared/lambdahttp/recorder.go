package lambdahttp

import (
	"bytes"
	"fmt"
	"net/http"
)

// recorder is the http.ResponseWriter a handler answers an event into: its
// status, headers and body, gathered to become the event's answer. It
// behaves as net/http's own writers do: the status is that of the first
// WriteHeader, or 200 at the first write; a body without a Content-Type
// has one sniffed from its first bytes; a status that allows no body
// refuses writes with http.ErrBodyNotAllowed.
type recorder struct {
	code        int
	header      http.Header
	body        bytes.Buffer
	wroteHeader bool
}

func newRecorder() *recorder { return &recorder{code: http.StatusOK, header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	r.code, r.wroteHeader = code, true
}

func (r *recorder) Write(b []byte) (int, error) {
	r.writeHeader(b)
	r.body.Write(b)
	if !bodyAllowed(r.code) {
		return 0, http.ErrBodyNotAllowed
	}
	return len(b), nil
}

func (r *recorder) WriteString(s string) (int, error) {
	if !r.wroteHeader {
		r.writeHeader([]byte(s[:min(len(s), 512)]))
	}
	r.body.WriteString(s)
	if !bodyAllowed(r.code) {
		return 0, http.ErrBodyNotAllowed
	}
	return len(s), nil
}

// Flush makes the status final, as a Flush of net/http's writers does.
func (r *recorder) Flush() {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
}

// writeHeader makes the status 200, if none was written, before the first
// bytes of the body, and sniffs their Content-Type if none is set.
func (r *recorder) writeHeader(first []byte) {
	if r.wroteHeader {
		return
	}
	if _, typed := r.header["Content-Type"]; !typed && r.header.Get("Transfer-Encoding") == "" {
		r.header.Set("Content-Type", http.DetectContentType(first))
	}
	r.WriteHeader(http.StatusOK)
}

// bodyAllowed reports whether a response of status may carry a body.
func bodyAllowed(status int) bool {
	return (status < 100 || status > 199) && status != http.StatusNoContent && status != http.StatusNotModified
}
