package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store/embedded"
)

// TestBodyBoundary: the send API reads JSON sent as application/json only,
// and refuses text encoding/json would silently change or the platforms
// refuse, naming the field — before the use case sees the request.
func TestBodyBoundary(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got message.SendRequest
	h := API(sender{&got}, st, nil, quiet, nil)
	const ok = `{"channel":"apple","businessId":"b","to":"c","message":{"type":"text","text":"hi"}}`
	tests := []struct {
		name, contentType, body string
		wantStatus              int
		wantField, wantProblem  string
	}{
		{"application/json", "application/json", ok, 202, "", ""},
		{"with a charset", "application/json; charset=utf-8", ok, 202, "", ""},
		{"charset in capitals", "Application/JSON; charset=UTF-8", ok, 202, "", ""},
		{"text/plain", "text/plain", ok, 415, "Content-Type", "text/plain: it must be application/json"},
		{"a form, as curl -d sends", "application/x-www-form-urlencoded", ok, 415, "Content-Type", "it must be application/json"},
		{"no content type", "", ok, 415, "Content-Type", "none: it must be application/json"},
		{"another charset", "application/json; charset=latin1", ok, 415, "Content-Type", "it must be application/json"},
		{"invalid UTF-8 in text", "application/json", `{"channel":"apple","businessId":"b","to":"c","message":{"type":"text","text":"caf` + "\xe9" + `"}}`,
			400, "message.text", "is not valid UTF-8"},
		{"invalid UTF-8 in a list", "application/json", `{"channel":"apple","businessId":"b","to":"c","message":{"type":"list","sections":[{"items":[{"id":"a"},{"title":"` + "\xff" + `"}]}]}}`,
			400, "message.sections[0].items[1].title", "is not valid UTF-8"},
		{"invalid UTF-8 in a key", "application/json", `{"channel":"apple","bus` + "\xc3" + `":"b"}`, 400, "bus ", "is not valid UTF-8"},
		{"NUL in text", "application/json", `{"channel":"apple","businessId":"b","to":"c","message":{"type":"text","text":"a\u0000b"}}`,
			400, "message.text", "NUL"},
		{"NUL in businessId", "application/json", `{"channel":"apple","businessId":"b\u0000","to":"c","message":{"type":"text","text":"hi"}}`,
			400, "businessId", "NUL"},
		{"an escaped backslash before u0000 is text", "application/json", `{"channel":"apple","businessId":"b","to":"c","message":{"type":"text","text":"a\\u0000b"}}`, 202, "", ""},
		{"a lone surrogate", "application/json", `{"channel":"apple","businessId":"b","to":"c","message":{"type":"text","text":"\ud83d!"}}`,
			400, "message.text", "unpaired UTF-16 surrogate"},
		{"a surrogate pair is a character", "application/json", `{"channel":"apple","businessId":"b","to":"c","message":{"type":"text","text":"\ud83d\udc4d"}}`, 202, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/messages", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", w.Code, w.Body, tt.wantStatus)
			}
			if tt.wantField == "" {
				return
			}
			var e struct {
				Error *message.Error `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == nil || len(e.Error.Details) != 1 {
				t.Fatalf("error %s", w.Body)
			}
			d := e.Error.Details[0]
			if d.Field != strings.ToValidUTF8(tt.wantField, "\uFFFD") || !strings.Contains(d.Problem, tt.wantProblem) {
				t.Errorf("details %+v, want field %q and a problem saying %q", d, tt.wantField, tt.wantProblem)
			}
		})
	}
}
