package metrics

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// publisher is the event bus port (shared/bus) as Events needs it.
type publisher interface {
	Publish(ctx context.Context, evs ...message.Event) error
}

// Events counts what passes through an event publisher: every event by
// type, customers' messages by channel and body type, and messages that
// will not arrive (message.failed, and message.status "failed") by channel
// and error code.
type Events struct {
	Publisher publisher
	Metrics   *Recorder
}

// Publish publishes evs, then counts them.
func (e Events) Publish(ctx context.Context, evs ...message.Event) error {
	err := e.Publisher.Publish(ctx, evs...)
	for _, ev := range evs {
		e.Metrics.Count(ctx, EventsPublished, Dimensions{Type: ev.Type}, 1)
		switch {
		case ev.Type == message.EventReceived:
			typ := ""
			if ev.Body != nil {
				typ = ev.Body.Type
			}
			e.Metrics.Count(ctx, MessagesReceived, Dimensions{Channel: string(ev.Channel), Type: typ}, 1)
		case ev.Type == message.EventFailed, ev.Type == message.EventStatus && ev.Status == message.StatusFailed:
			e.Metrics.Count(ctx, MessagesFailed, Dimensions{Channel: string(ev.Channel), Code: errorCode(ev.Error)}, 1)
		}
	}
	return err
}

func errorCode(e *message.Error) string {
	if e == nil || e.Code == "" {
		return string(message.CodeInternal)
	}
	return string(e.Code)
}

// Platform records one call to a platform that started at start: its
// latency, and its error's code when it failed. A message the platform
// accepted counts as sent, with the type that went out.
func (r *Recorder) Platform(ctx context.Context, ch message.Channel, typ string, start time.Time, err error) {
	if r == nil {
		return
	}
	r.Duration(ctx, PlatformLatency, Dimensions{Channel: string(ch)}, time.Since(start))
	if err != nil {
		r.Count(ctx, PlatformErrors, Dimensions{Channel: string(ch), Code: string(message.AsError(err).Code)}, 1)
		return
	}
	r.Count(ctx, MessagesSent, Dimensions{Channel: string(ch), Type: typ}, 1)
}

// SendOutcome records what a send request came to: a refusal because the
// window was closed, or a fallback sent in place of the message.
func (r *Recorder) SendOutcome(ctx context.Context, ch message.Channel, status string, err error) {
	if r == nil {
		return
	}
	if err != nil {
		if message.AsError(err).Code == message.CodeWindowClosed {
			r.Count(ctx, WindowRefusals, Dimensions{Channel: string(ch)}, 1)
		}
		return
	}
	if status == StatusFallbackSent {
		r.Count(ctx, FallbacksSent, Dimensions{Channel: string(ch)}, 1)
	}
}

// StatusFallbackSent is a send answer's status when its fallback went out
// (the send use case's own constant, repeated here to keep this package
// free of the use cases).
const StatusFallbackSent = "fallback_sent"

// Job records how a payload job of kind ("fetch", "decode") ended on its
// attempt-th delivery of maxAttempts.
func (r *Recorder) Job(ctx context.Context, kind string, attempt, maxAttempts int, err error) {
	outcome := OutcomeDone
	switch {
	case err != nil && attempt >= maxAttempts:
		outcome = OutcomeFailed
	case err != nil:
		outcome = OutcomeRetry
	}
	r.Count(ctx, PayloadJobs, Dimensions{Type: kind, Outcome: outcome}, 1)
}

// Webhooks measures each webhook h answers: its latency, and whether it
// was answered 5xx, by channel ("whatsapp", "apple") and type ("message"
// for the platforms' webhooks, "payment" for Apple Pay's callbacks).
func (r *Recorder) Webhooks(h http.Handler) http.Handler {
	if r == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, req)
		d := webhookDimensions(req.URL.Path)
		r.Duration(req.Context(), WebhookLatency, d, time.Since(start))
		if sw.status >= 500 {
			r.Count(req.Context(), WebhookServerErrors, d, 1)
		}
	})
}

// webhookDimensions reads the channel from a webhook's path,
// /webhooks/{channel}/…; a channel's payment callbacks are under
// /webhooks/{channel}/pay/.
func webhookDimensions(path string) Dimensions {
	rest, ok := strings.CutPrefix(path, "/webhooks/")
	name, sub, _ := strings.Cut(rest, "/")
	if ch := message.Channel(name); !ok || !ch.Valid() {
		return Dimensions{Type: "other"}
	}
	if strings.HasPrefix(sub, "pay/") {
		return Dimensions{Channel: name, Type: "payment"}
	}
	return Dimensions{Channel: name, Type: "message"}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}
