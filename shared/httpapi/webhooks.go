package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// Body caps of the webhooks. WhatsApp documents payloads of up to 3 MB;
// Apple sends interactive data over 10 KB by reference, so its bodies are
// small, but text has no documented maximum.
const (
	MaxWhatsAppBody      = 4 << 20
	MaxAppleBody         = 4 << 20
	MaxAppleBodyInflated = 16 << 20
	appleMessagePath     = "/webhooks/apple/message"
	whatsAppWebhookPath  = "/webhooks/whatsapp"
)

// Ingester stores verified inbound items (the ingest use case).
type Ingester interface {
	Ingest(ctx context.Context, items []message.InboundItem) (ingest.Result, error)
}

// WebhookSecrets are what the webhooks verify requests with.
type WebhookSecrets struct {
	WhatsAppAppSecret   string
	WhatsAppVerifyToken string
	AppleMSPID          string
	AppleSecret         []byte
}

// Webhooks returns the handler of the platform webhooks:
//
//	GET  /webhooks/whatsapp        verification handshake
//	POST /webhooks/whatsapp        X-Hub-Signature-256 over the raw body
//	POST /webhooks/apple/message   JWT in Authorization, gzip body
//
// A request is verified before its body is parsed, and acknowledged only
// after every item in it is stored.
func Webhooks(in Ingester, sec WebhookSecrets, clk clock.Clock, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+whatsAppWebhookPath, handleWhatsAppVerify(sec.WhatsAppVerifyToken, log))
	mux.Handle("POST "+whatsAppWebhookPath, handleWhatsApp(in, sec.WhatsAppAppSecret, clk, log))
	mux.Handle("POST "+appleMessagePath, handleApple(in, sec, clk, log))
	mux.Handle("/webhooks/", notFound())
	return logRequests(log, mux)
}

func handleWhatsAppVerify(verifyToken string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		challenge, ok := whatsapp.VerifyChallenge(r.URL.Query(), verifyToken)
		if !ok {
			log.Warn("whatsapp verification refused", "mode", r.URL.Query().Get("hub.mode"))
			http.Error(w, "verification failed", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, challenge)
	})
}

func handleWhatsApp(in Ingester, appSecret string, clk clock.Clock, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWhatsAppBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				webhookError(w, http.StatusRequestEntityTooLarge, message.CodeTooLarge, "the body is over the limit of 4 MiB")
				return
			}
			webhookError(w, http.StatusBadRequest, message.CodeInvalidRequest, "the body could not be read")
			return
		}
		if !whatsapp.ValidSignature(body, r.Header.Get("X-Hub-Signature-256"), appSecret) {
			log.Warn("whatsapp webhook with a bad or missing signature refused", "bytes", len(body))
			webhookError(w, http.StatusUnauthorized, message.CodeUnauthorized, "X-Hub-Signature-256 is missing or does not match the body")
			return
		}
		parsed, err := whatsapp.Parse(body, clk.Now())
		if err != nil {
			log.Warn("whatsapp webhook not understood", "error", err)
			webhookError(w, http.StatusBadRequest, message.CodeInvalidRequest, err.Error())
			return
		}
		for _, s := range parsed.Skipped {
			log.Warn("whatsapp webhook entry skipped", "path", s.Path, "reason", s.Reason)
		}
		ingestAndAck(w, r, in, parsed.Items, log)
	})
}

func handleApple(in Ingester, sec WebhookSecrets, clk clock.Clock, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := apple.VerifyToken(r.Header.Get("Authorization"), sec.AppleSecret, sec.AppleMSPID, clk.Now()); err != nil {
			if errors.Is(err, apple.ErrNoAuthorization) {
				log.Warn("apple webhook without authorization refused")
				webhookError(w, http.StatusUnauthorized, message.CodeUnauthorized, "the Authorization header is missing")
				return
			}
			log.Warn("apple webhook with a bad token refused", "error", err)
			webhookError(w, http.StatusForbidden, message.CodeUnauthorized, "the Authorization token is not valid for this MSP")
			return
		}
		body, err := apple.ReadBody(r.Body, r.Header.Get("Content-Encoding"), MaxAppleBody, MaxAppleBodyInflated)
		switch {
		case errors.Is(err, apple.ErrTooLarge):
			webhookError(w, http.StatusRequestEntityTooLarge, message.CodeTooLarge, err.Error())
			return
		case err != nil:
			webhookError(w, http.StatusBadRequest, message.CodeInvalidRequest, err.Error())
			return
		}
		item, err := apple.Parse(r.Header, body, clk.Now())
		if err != nil {
			log.Warn("apple webhook not understood", "error", err)
			webhookError(w, http.StatusBadRequest, message.CodeInvalidRequest, err.Error())
			return
		}
		ingestAndAck(w, r, in, []message.InboundItem{item}, log)
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
