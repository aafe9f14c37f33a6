package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store/embedded"
)

// uploadAPI is the send API with uploads on an embedded store.
func uploadAPI(t *testing.T) (http.Handler, *embedded.Store, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	st, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return API(sender{new(message.SendRequest)}, st, &Uploads{Blobs: st, BaseURL: "http://parley.test/", Now: clk.Now}, quiet, nil), st, clk
}

// slot asks POST /v1/uploads for a slot.
func slot(t *testing.T, h http.Handler, body string) UploadSlot {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/v1/uploads", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(w, r)
	var s UploadSlot
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &s) != nil {
		t.Fatalf("POST /v1/uploads = %d %s, want 201", w.Code, w.Body)
	}
	return s
}

func put(h http.Handler, u, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("PUT", u, strings.NewReader(body)))
	return w
}

func TestUploadRequests(t *testing.T) {
	h, _, _ := uploadAPI(t)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{"a slot", `{"name":"manual.pdf","mimeType":"application/pdf","size":104857600}`, 201, `"upload":"uploads/`},
		{"no name", `{"mimeType":"application/pdf","size":10}`, 400, `{"field":"name","problem":"is required"}`},
		{"not a MIME type", `{"name":"a","mimeType":"pdf","size":10}`, 400, `{"field":"mimeType","problem":"\"pdf\" is not a MIME type (type/subtype)"}`},
		{"empty", `{"name":"a","mimeType":"text/plain","size":0}`, 400, `{"field":"size","problem":"0 bytes, it must be 1 to 104857600"}`},
		{"one byte over 100 MB", `{"name":"a","mimeType":"text/plain","size":104857601}`, 400, `{"field":"size","problem":"104857601 bytes, it must be 1 to 104857600"}`},
		{"unknown field", `{"name":"a","mimeType":"text/plain","size":1,"sha":"x"}`, 400, `"field":"sha"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/v1/uploads", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Fatalf("got %d %s, want %d containing %s", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// TestUploadPut walks the local upload route: the slot's URL takes one PUT
// of exactly the size announced, before it expires, into the blob store.
func TestUploadPut(t *testing.T) {
	h, st, clk := uploadAPI(t)
	s := slot(t, h, `{"name":"note.txt","mimeType":"text/plain","size":11}`)
	if !isUploadID(strings.TrimPrefix(s.Upload, "uploads/")) || s.URL != "http://parley.test/v1/"+s.Upload ||
		s.Method != "PUT" || s.Headers["Content-Type"] != "text/plain" || !s.ExpiresAt.Equal(clk.Now().Add(UploadTTL)) {
		t.Fatalf("slot = %+v", s)
	}
	if w := put(h, s.URL, "hello world"); w.Code != http.StatusOK {
		t.Fatalf("PUT = %d %s", w.Code, w.Body)
	}
	rc, info, err := st.GetBlob(t.Context(), s.Upload)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "hello world" || info.ContentType != "text/plain" {
		t.Errorf("blob = %q (%s)", got, info.ContentType)
	}
	if w := put(h, s.URL, "hello world"); w.Code != http.StatusNotFound {
		t.Errorf("a second PUT = %d, want 404", w.Code)
	}

	tests := []struct {
		name       string
		body       string
		expire     bool
		wantStatus int
		wantBody   string
	}{
		{"short", "hello", false, 400, "the upload is 5 bytes, POST /v1/uploads announced 11"},
		{"long", "hello world!", false, 400, "the upload is 12 bytes, POST /v1/uploads announced 11"},
		{"expired", "hello world", true, 404, "no upload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := slot(t, h, `{"name":"note.txt","mimeType":"text/plain","size":11}`)
			if tt.expire {
				clk.Advance(UploadTTL)
			}
			w := put(h, s.URL, tt.body)
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Fatalf("PUT = %d %s, want %d containing %s", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if _, _, err := st.GetBlob(t.Context(), s.Upload); err == nil {
				t.Error("a refused upload was stored")
			}
		})
	}
	if w := put(h, "/v1/uploads/..%2Fraw%2Fx", "x"); w.Code != http.StatusNotFound {
		t.Errorf("PUT outside uploads/ = %d, want 404", w.Code)
	}
}

// TestUploadPutStreams checks a body of unknown length (chunked) against
// the size announced, without Content-Length.
func TestUploadPutStreams(t *testing.T) {
	h, st, _ := uploadAPI(t)
	for _, tt := range []struct {
		body       string
		wantStatus int
	}{{"hello world", 200}, {"hello world, and more", 400}, {"hello", 400}} {
		s := slot(t, h, `{"name":"note.txt","mimeType":"text/plain","size":11}`)
		r := httptest.NewRequest("PUT", s.URL, io.MultiReader(strings.NewReader(tt.body)))
		r.ContentLength = -1
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		_, _, err := st.GetBlob(t.Context(), s.Upload)
		if w.Code != tt.wantStatus || (err == nil) != (tt.wantStatus == 200) {
			t.Errorf("PUT %q = %d (stored: %v), want %d", tt.body, w.Code, err == nil, tt.wantStatus)
		}
	}
}

func TestIsUploadID(t *testing.T) {
	for id, want := range map[string]bool{
		"0123456789abcdef0123456789abcdef":  true,
		"0123456789ABCDEF0123456789abcdef":  false,
		"0123456789abcdef0123456789abcde":   false,
		"0123456789abcdef0123456789abcdef0": false,
		"0123456789abcdef0123456789abcdeg":  false,
		"../456789abcdef0123456789abcdef01": false,
		"":                                  false,
	} {
		if got := isUploadID(id); got != want {
			t.Errorf("isUploadID(%q) = %v", id, got)
		}
	}
}
