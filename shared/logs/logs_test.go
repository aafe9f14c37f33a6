package logs_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/logs"
)

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"447700900123":              "********0123",
		"urn:mbid:AQAAY1x/Wq+Lr0c=": "*********************r0c=",
		"12345":                     "*2345",
		"1234":                      "****",
		"":                          "",
		"日本語テキスト":                   "***テキスト",
	} {
		if got := logs.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// line logs one record through a logger built by New and decodes it.
func line(t *testing.T, level string, log func(*slog.Logger)) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	log(logs.New(&buf, level))
	if buf.Len() == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	return m
}

func TestCustomerIdsMaskedUnlessDebug(t *testing.T) {
	const wa, path = "447700900123", "/v1/conversations/whatsapp/106540352242922/447700900123"
	for _, tc := range []struct {
		level            string
		wantID, wantPath string
	}{
		{"info", "********0123", "/v1/conversations/whatsapp/106540352242922/********0123"},
		{"", "********0123", "/v1/conversations/whatsapp/106540352242922/********0123"},
		{"warn", "********0123", "/v1/conversations/whatsapp/106540352242922/********0123"},
		{"debug", wa, path},
	} {
		m := line(t, tc.level, func(l *slog.Logger) {
			l.Warn("request", logs.Path(path, wa), logs.Customer(wa))
		})
		if m["customer_id"] != tc.wantID || m["path"] != tc.wantPath {
			t.Errorf("level %q: customer_id %v, path %v; want %q, %q", tc.level, m["customer_id"], m["path"], tc.wantID, tc.wantPath)
		}
	}
}

func TestMaskedInGroupsAndWithAttrs(t *testing.T) {
	var buf bytes.Buffer
	l := logs.New(&buf, "info").With(logs.Customer("447700900123")).WithGroup("g")
	l.Info("x", slog.Group("inner", logs.Customer("447700900999")))
	out := buf.String()
	if strings.Contains(out, "447700900") || !strings.Contains(out, `"customer_id":"********0123"`) ||
		!strings.Contains(out, `"g":{"inner":{"customer_id":"********0999"}}`) {
		t.Errorf("line %s", out)
	}
	buf.Reset()
	logs.New(&buf, "debug").With(logs.Customer("447700900123")).Info("x", slog.Group("inner", logs.Customer("447700900999")))
	if out := buf.String(); !strings.Contains(out, `"customer_id":"447700900123"`) || !strings.Contains(out, `"inner":{"customer_id":"447700900999"}`) {
		t.Errorf("debug line %s", out)
	}
}

// A logger that parley did not build still never prints an id whole.
func TestOtherHandlersMask(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})).Info("x", logs.Customer("447700900123"))
	if out := buf.String(); strings.Contains(out, "447700900123") || !strings.Contains(out, "********0123") {
		t.Errorf("line %s", out)
	}
}

func TestLevel(t *testing.T) {
	if line(t, "info", func(l *slog.Logger) { l.Debug("quiet") }) != nil {
		t.Error("a debug line was written at info")
	}
	if line(t, "debug", func(l *slog.Logger) { l.Debug("loud") }) == nil {
		t.Error("no debug line at debug")
	}
	if line(t, "error", func(l *slog.Logger) { l.Warn("quiet") }) != nil {
		t.Error("a warning was written at error")
	}
}
