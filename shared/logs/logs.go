// Package logs is parley's one logger: JSON lines (as CloudWatch wants them)
// at a configured level, with customer identifiers masked to their last four
// characters unless the level is debug.
//
// Customer identifiers reach a log line only through Customer and Path, whose
// values mask themselves under any other handler too: a logger not built by
// New never prints them whole.
package logs

import (
	"context"
	"io"
	"log/slog"
	"strings"
)

// Level reads PARLEY_LOG_LEVEL's values: debug, info (the default), warn, error.
func Level(name string) slog.Level {
	switch name {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// New returns a logger writing JSON lines to w at the named level. Customer
// identifiers are written whole only at debug level.
func New(w io.Writer, level string) *slog.Logger {
	l := Level(level)
	return slog.New(&handler{next: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}), reveal: l <= slog.LevelDebug})
}

// Customer is the attribute customer_id: a customer's platform id (a WhatsApp
// number, an Apple opaque id).
func Customer(id string) slog.Attr {
	return slog.Any("customer_id", private{full: id, masked: Mask(id)})
}

// Path is the attribute path: a request path in which customerID, when not
// empty, is masked like Customer.
func Path(path, customerID string) slog.Attr {
	masked := path
	if customerID != "" {
		masked = strings.ReplaceAll(path, customerID, Mask(customerID))
	}
	return slog.Any("path", private{full: path, masked: masked})
}

// Mask keeps the last four characters of id and stars the rest; an id of four
// characters or fewer is starred whole.
func Mask(id string) string {
	r := []rune(id)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

// private is a value with a whole and a masked form. As a slog.LogValuer it
// is masked; handler picks the form its level allows.
type private struct{ full, masked string }

func (p private) LogValue() slog.Value { return slog.StringValue(p.masked) }

// handler resolves private values before the JSON handler sees them.
type handler struct {
	next   slog.Handler
	reveal bool
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = h.attr(a)
	}
	return &handler{next: h.next.WithAttrs(out), reveal: h.reveal}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), reveal: h.reveal}
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindLogValuer:
		if p, ok := a.Value.Any().(private); ok && h.reveal {
			return slog.String(a.Key, p.full)
		}
	case slog.KindGroup:
		g := a.Value.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = h.attr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	}
	return a
}
