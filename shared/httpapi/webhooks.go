package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
)

// Ingester stores verified inbound items (the ingest use case).
type Ingester interface {
	Ingest(ctx context.Context, items []message.InboundItem) (ingest.Result, error)
}

// Webhooks returns the handler of the platform webhooks: every route of
// each channel's webhook (channel.Webhook), such as
//
//	GET  /webhooks/whatsapp        verification handshake
//	POST /webhooks/whatsapp        X-Hub-Signature-256 over the raw body
//	POST /webhooks/apple/message   JWT in Authorization, gzip body
//
// A request is verified by its channel before its body is parsed, and
// acknowledged only after every item in it is stored.
func Webhooks(in Ingester, hooks []channel.Webhook, clk clock.Clock, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	mux := http.NewServeMux()
	for _, h := range hooks {
		for _, rt := range h.Routes() {
			mux.Handle(rt.Pattern, route(in, rt, clk, log))
		}
	}
	mux.Handle("/webhooks/", notFound())
	return logRequests(log, mux)
}

// route serves one route of a channel's webhook.
func route(in Ingester, rt channel.Route, clk clock.Clock, log *slog.Logger) http.Handler {
	if rt.Handshake != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			answer, ok := rt.Handshake(r, log)
			if !ok {
				http.Error(w, "verification failed", http.StatusForbidden)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, answer)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.MaxBody > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, rt.MaxBody)
		}
		items, err := rt.Receive(r, clk.Now(), log)
		if err != nil {
			var ref *channel.Refusal
			if !errors.As(err, &ref) {
				ref = channel.Refuse(http.StatusBadRequest, message.CodeInvalidRequest, err.Error())
			}
			webhookError(w, ref.Status, ref.Code, ref.Message)
			return
		}
		ingestAndAck(w, r, in, items, log)
	})
}

// ingestAndAck stores the items and answers 200 only when all are durable;
// otherwise 500, so that the platform delivers the webhook again.
func ingestAndAck(w http.ResponseWriter, r *http.Request, in Ingester, items []message.InboundItem, log *slog.Logger) {
	res, err := in.Ingest(r.Context(), items)
	if err != nil {
		log.Error("webhook not stored; the platform will deliver it again", "error", err, "stored", res.Stored)
		webhookError(w, http.StatusInternalServerError, message.CodeInternal, "the webhook could not be stored; deliver it again")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func webhookError(w http.ResponseWriter, status int, code message.Code, text string) {
	encode(w, status, errorBody{Error: &message.Error{Code: code, Message: text}})
}
