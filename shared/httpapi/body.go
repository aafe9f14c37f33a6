package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/shared/message"
)

// checkContentType refuses a body that is not declared application/json
// (415); a charset parameter is fine when it is UTF-8.
func checkContentType(r *http.Request) *message.Error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	shown := ct
	if shown == "" {
		shown = "none"
	}
	return &message.Error{Code: message.CodeUnsupportedMediaType,
		Message: fmt.Sprintf("the body must be JSON sent as Content-Type: application/json (UTF-8), not %s", shown),
		Details: message.Problems{{Field: "Content-Type", Problem: fmt.Sprintf("%s: it must be application/json", shown)}}}
}

// checkText refuses what encoding/json would read wrongly or pass on
// silently: bytes that are not UTF-8 (it would replace them with U+FFFD), a
// UTF-16 surrogate escape that is not part of a pair (replaced too) and the
// NUL character (\u0000), which neither platform takes. The error names the
// field that holds it.
func checkText(b []byte) *message.Error {
	if off, ok := invalidUTF8(b); ok {
		return textError(b, off, "is not valid UTF-8 (parley does not replace invalid bytes)")
	}
	if off, what, ok := badEscape(b); ok {
		return textError(b, off, what)
	}
	return nil
}

func textError(b []byte, off int, problem string) *message.Error {
	field := fieldAt(b, off)
	return &message.Error{Code: message.CodeInvalidRequest, Message: field + ": " + problem,
		Details: message.Problems{{Field: field, Problem: problem}}}
}

// invalidUTF8 returns the offset of the first byte of b that is not UTF-8.
func invalidUTF8(b []byte) (int, bool) {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i, true
		}
		i += n
	}
	return 0, false
}

// badEscape finds a \u0000 or an unpaired surrogate escape inside a JSON
// string of b.
func badEscape(b []byte) (int, string, bool) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] != 'u' || i+6 > len(b) {
			i++ // an escaped character, e.g. \\ or \"
			continue
		}
		v, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
		if err != nil {
			i++
			continue
		}
		switch {
		case v == 0:
			return i, "holds a NUL character (\\u0000), which the platforms refuse", true
		case v >= 0xd800 && v <= 0xdbff:
			if i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if w, err := strconv.ParseUint(string(b[i+8:i+12]), 16, 16); err == nil && w >= 0xdc00 && w <= 0xdfff {
					i += 11
					continue
				}
			}
			return i, "holds an unpaired UTF-16 surrogate escape, which is not a character", true
		case v >= 0xdc00 && v <= 0xdfff:
			return i, "holds an unpaired UTF-16 surrogate escape, which is not a character", true
		}
		i += 5
	}
	return 0, "", false
}

// fieldAt names the JSON field whose key or value holds the byte at off,
// e.g. "message.sections[0].items[1].title"; "body" when it cannot tell.
func fieldAt(b []byte, off int) string {
	type frame struct {
		object    bool
		key       string
		index     int
		expectKey bool
	}
	var stack []*frame
	path := func() string {
		var sb strings.Builder
		for _, f := range stack {
			switch {
			case f.object && f.key != "":
				if sb.Len() > 0 {
					sb.WriteByte('.')
				}
				sb.WriteString(f.key)
			case !f.object && f.index >= 0:
				fmt.Fprintf(&sb, "[%d]", f.index)
			}
		}
		if sb.Len() == 0 {
			return "body"
		}
		return sb.String()
	}
	// The same structure at the same offsets, with valid bytes.
	dec := json.NewDecoder(bytes.NewReader(sameLength(b)))
	for {
		tok, err := dec.Token()
		if err != nil {
			return path()
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.object && top.expectKey
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expectKey = true
			}
			continue
		}
		switch {
		case isKey:
			top.key, top.expectKey = tok.(string), false
		case top != nil && !top.object:
			top.index++
		}
		if int(dec.InputOffset()) > off {
			return path()
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &frame{object: d == '{', index: -1, expectKey: d == '{'})
			continue
		}
		if top != nil && top.object && !isKey {
			top.expectKey = true
		}
	}
}

// sameLength replaces each byte that is not UTF-8 with a space, keeping
// every offset.
func sameLength(b []byte) []byte {
	out := bytes.Clone(b)
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRune(out[i:])
		if r == utf8.RuneError && n == 1 {
			out[i] = ' '
		}
		i += n
	}
	return out
}
