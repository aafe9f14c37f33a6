package lambdahttp

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

// TestRecorderIsNetHTTPs: what a handler writes is recorded as
// net/http/httptest's ResponseRecorder records it — status, headers
// (Content-Type sniffed when unset), body, and what each write returns.
func TestRecorderIsNetHTTPs(t *testing.T) {
	type writes struct {
		n   []int
		err []error
	}
	for name, h := range map[string]func(w http.ResponseWriter) writes{
		"nothing": func(w http.ResponseWriter) writes { return writes{} },
		"a status only": func(w http.ResponseWriter) writes {
			w.WriteHeader(http.StatusAccepted)
			return writes{}
		},
		"JSON, typed": func(w http.ResponseWriter) writes {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			n, err := w.Write([]byte(`{"id":"msg_1"}`))
			return writes{[]int{n}, []error{err}}
		},
		"HTML, sniffed": func(w http.ResponseWriter) writes {
			n, err := w.Write([]byte("<!DOCTYPE html><p>hi</p>"))
			return writes{[]int{n}, []error{err}}
		},
		"text as a string, sniffed": func(w http.ResponseWriter) writes {
			n, err := io.WriteString(w, "plain words")
			return writes{[]int{n}, []error{err}}
		},
		"bytes, sniffed": func(w http.ResponseWriter) writes {
			n, err := w.Write([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0})
			return writes{[]int{n}, []error{err}}
		},
		"an empty Content-Type is kept": func(w http.ResponseWriter) writes {
			w.Header()["Content-Type"] = nil
			n, err := w.Write([]byte("x"))
			return writes{[]int{n}, []error{err}}
		},
		"a Transfer-Encoding: no sniffing": func(w http.ResponseWriter) writes {
			w.Header().Set("Transfer-Encoding", "chunked")
			n, err := w.Write([]byte("x"))
			return writes{[]int{n}, []error{err}}
		},
		"the first status wins": func(w http.ResponseWriter) writes {
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusOK)
			n, err := w.Write([]byte("gone"))
			return writes{[]int{n}, []error{err}}
		},
		"a write makes the status 200": func(w http.ResponseWriter) writes {
			n, err := w.Write([]byte("a"))
			w.WriteHeader(http.StatusTeapot)
			return writes{[]int{n}, []error{err}}
		},
		"headers set after the status": func(w http.ResponseWriter) writes {
			w.WriteHeader(http.StatusOK)
			w.Header().Set("X-Late", "yes")
			return writes{}
		},
		"no body allowed": func(w http.ResponseWriter) writes {
			w.WriteHeader(http.StatusNoContent)
			n, err := w.Write([]byte("x"))
			n2, err2 := io.WriteString(w, "y")
			return writes{[]int{n, n2}, []error{err, err2}}
		},
		"not modified": func(w http.ResponseWriter) writes {
			w.WriteHeader(http.StatusNotModified)
			n, err := w.Write([]byte("x"))
			return writes{[]int{n}, []error{err}}
		},
		"flushed": func(w http.ResponseWriter) writes {
			if err := http.NewResponseController(w).Flush(); err != nil {
				return writes{err: []error{err}}
			}
			w.WriteHeader(http.StatusBadRequest)
			return writes{}
		},
		"written in parts": func(w http.ResponseWriter) writes {
			n, err := w.Write([]byte("%PDF-1.7 "))
			n2, err2 := w.Write([]byte("more"))
			return writes{[]int{n, n2}, []error{err, err2}}
		},
	} {
		ours, theirs := newRecorder(), httptest.NewRecorder()
		got, want := h(ours), h(theirs)
		if ours.code != theirs.Code || !reflect.DeepEqual(ours.header, theirs.Header()) || ours.body.String() != theirs.Body.String() ||
			!reflect.DeepEqual(got.n, want.n) || !errorsMatch(got.err, want.err) {
			t.Errorf("%s: %d %v %q %v %v, want %d %v %q %v %v", name, ours.code, ours.header, ours.body.String(), got.n, got.err,
				theirs.Code, theirs.Header(), theirs.Body.String(), want.n, want.err)
		}
	}
}

// TestRecorderRefusesAStatusOfOtherThanThreeDigits as net/http's writers
// do, with a panic.
func TestRecorderRefusesAStatusOfOtherThanThreeDigits(t *testing.T) {
	for _, code := range []int{0, 99, 1000} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("WriteHeader(%d) did not panic", code)
				}
			}()
			newRecorder().WriteHeader(code)
		}()
	}
}

func errorsMatch(a, b []error) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !errors.Is(a[i], b[i]) {
			return false
		}
	}
	return true
}
