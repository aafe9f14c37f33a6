package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley/shared/access"
	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/message"
)

// Deliveries are the event webhooks that ran out of attempts.
type Deliveries interface {
	Parked(ctx context.Context, after string, limit int) ([]apphook.Delivery, string, error)
	Redrive(ctx context.Context, id string, allow func(apphook.Delivery) error) (apphook.Delivery, error)
}

// WebhookDeliveries returns the handler of the parked event webhooks:
//
//	GET  /v1/webhook-deliveries?status=failed&after=<cursor>&limit=<n>
//	POST /v1/webhook-deliveries/{id}/redrive
//
// A caller limited by scopes sees and redrives only its businesses' events.
func WebhookDeliveries(d Deliveries, log *slog.Logger, scopes access.Scopes) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/webhook-deliveries", handleParked(d, scopes))
	mux.Handle("POST /v1/webhook-deliveries/{id}/redrive", handleRedrive(d, scopes))
	return logRequests(log, mux)
}

// deliveriesPage is the answer of GET /v1/webhook-deliveries.
type deliveriesPage struct {
	Deliveries []apphook.Delivery `json:"deliveries"`
	Next       string             `json:"next,omitempty"`
}

func handleParked(d Deliveries, scopes access.Scopes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if s := q.Get("status"); s != "" && s != apphook.StatusFailed {
			writeError(w, &message.Error{Code: message.CodeInvalidRequest, Message: `status must be "failed": only failed deliveries are kept`,
				Details: message.Problems{{Field: "status", Problem: "unknown status " + strconv.Quote(s)}}})
			return
		}
		limit := 100
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 100 {
				writeError(w, &message.Error{Code: message.CodeInvalidRequest, Message: "limit must be from 1 to 100",
					Details: message.Problems{{Field: "limit", Problem: "must be a whole number from 1 to 100"}}})
				return
			}
			limit = n
		}
		ds, next, err := d.Parked(r.Context(), q.Get("after"), limit)
		if err != nil {
			writeError(w, storeError(r, "reading parked deliveries", err))
			return
		}
		page := deliveriesPage{Deliveries: []apphook.Delivery{}, Next: next}
		for _, p := range ds {
			if scopes.Check(access.Caller(r.Context()), p.Event.BusinessID, "read") == nil {
				page.Deliveries = append(page.Deliveries, p)
			}
		}
		encode(w, http.StatusOK, page)
	})
}

func handleRedrive(d Deliveries, scopes access.Scopes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := d.Redrive(r.Context(), r.PathValue("id"), func(p apphook.Delivery) error {
			return scopes.Check(access.Caller(r.Context()), p.Event.BusinessID, "redrive the webhooks of")
		})
		var apiErr *message.Error
		switch {
		case errors.As(err, &apiErr):
			writeError(w, apiErr)
		case errors.Is(err, apphook.ErrNotParked):
			writeError(w, message.Errorf(message.CodeNotFound, "no failed delivery %s", r.PathValue("id")))
		case err != nil:
			writeError(w, storeError(r, "redriving a delivery", err))
		default:
			encode(w, http.StatusAccepted, got)
		}
	})
}
