package applepay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// The callbacks Apple Pay makes, by the last segment of their path under
// PathPrefix (and of the processor URL they are forwarded to).
const (
	PaymentGateway        = "paymentGateway"
	PaymentMethodUpdate   = "paymentMethodUpdate"
	ShippingContactUpdate = "shippingContactUpdate"
	ShippingMethodUpdate  = "shippingMethodUpdate"
	OrderTracking         = "orderTracking"
	Fallback              = "fallback"
)

// callbacks lists every callback, in the order of Apple's endpoints.
var callbacks = []string{PaymentGateway, Fallback, OrderTracking, PaymentMethodUpdate, ShippingContactUpdate, ShippingMethodUpdate}

// PathPrefix starts the path of every callback.
const PathPrefix = "/webhooks/apple/pay/"

// Apple Pay statuses of the payment gateway's answer.
const (
	StatusSuccess = "STATUS_SUCCESS"
	StatusFailure = "STATUS_FAILURE"
)

// Event statuses of the update, tracking and fallback callbacks.
const (
	// StatusForwarded: the processor answered and Apple got its answer.
	StatusForwarded = "forwarded"
	// StatusProcessorFailed: the processor failed or timed out, and Apple
	// got {} (no change).
	StatusProcessorFailed = "processor_failed"
	// StatusRefused: parley refused the callback (its request is closed,
	// or the step is not one of the request's) without forwarding it.
	StatusRefused = "refused"
)

const (
	// MaxBody caps a callback's body and the processor's answer.
	MaxBody = 1 << 20
	// DefaultTimeout bounds the processor's answer. Apple Pay gives the
	// payment sheet 30 seconds to complete; 20 leave room for Apple's own
	// hops, a cold start and the store.
	DefaultTimeout = 20 * time.Second
	// HeaderMessageID names, on each forwarded callback, the parley message
	// the callback belongs to.
	HeaderMessageID = "X-Parley-Message-Id"
)

// HandlerConfig is what the callback handler needs.
type HandlerConfig struct {
	// ProcessorURL is the business's payment processor: each callback is
	// forwarded to ProcessorURL + "/" + its name.
	ProcessorURL string
	// HTTP forwards the callbacks; nil means a client without a timeout of
	// its own (Timeout bounds each call).
	HTTP *http.Client
	// Timeout bounds the processor's answer; zero means DefaultTimeout.
	Timeout time.Duration
	// Store holds the applePay messages parley sent (found by their Apple
	// message id, the callbacks' requestIdentifier), their conversations,
	// and the state of each request's callbacks.
	Store Store
	// Emit records an event; each answered callback makes one.
	Emit func(ctx context.Context, ev message.Event) error
	// Lifetime is how long after it is sent a request takes callbacks;
	// zero means DefaultLifetime.
	Lifetime time.Duration
	// Limits bound the callbacks taken; zero fields take DefaultLimits'.
	Limits Limits
	// Log gets one line per callback; nil means slog.Default(). Bodies are
	// never logged: they hold the payment token and the customer's contact.
	Log *slog.Logger
	// Clock times the events and the requests' lives; nil means the system
	// clock.
	Clock clock.Clock
}

// Store is what the handler reads and writes of parley's store (see
// store.Store).
type Store interface {
	MessageByPlatformID(ctx context.Context, ch message.Channel, pid string) (message.Record, error)
	Conversation(ctx context.Context, k store.ConversationKey) (message.Conversation, error)
	Payment(ctx context.Context, messageID string) (store.Payment, error)
	Apply(ctx context.Context, ws ...store.Write) error
}

// handler serves the callbacks of one HandlerConfig.
type handler struct {
	HandlerConfig
	store    Store
	clock    clock.Clock
	timeout  time.Duration
	lifetime time.Duration
	limits   Limits
	// all is the bucket of every callback; requests those of each request.
	all      *rate.Limiter
	requests *buckets
	// overLimit counts the callbacks refused over a rate limit since the
	// last line logged about them; overLog logs at most one a second.
	overLimit atomic.Int64
	overLog   rate.Sometimes
}

// Handler serves Apple Pay's callbacks, POST PathPrefix + name for each
// callback name. It takes a callback only for an applePay message parley
// sent, while that request is open, for a step Apple defines for that
// request, and within the rate limits (see check and Limits); it then
// forwards the body unchanged to the processor and answers Apple with the
// processor's answer:
//
//   - paymentGateway: the processor's {"status": "STATUS_…", …}; when the
//     processor fails, times out or answers without such a status, and when
//     the callback is refused, 200 {"status":"STATUS_FAILURE"}, so that the
//     sheet says the payment failed and nothing is charged.
//   - the others: the processor's JSON object, or {} (no change) when it
//     answers nothing or fails; a refused callback gets a JSON error: 400
//     or 413 when malformed, 404 when it names no applePay message, 409
//     when its request is closed or the step is not one of the request's,
//     429 over a limit.
//
// Every callback forwarded, and every one refused for a closed request or
// a step not in it, emits a message.EventPayment event. Store and Emit must
// not be nil.
func Handler(cfg HandlerConfig) http.Handler {
	if cfg.Store == nil || cfg.Emit == nil {
		panic("applepay: Handler needs Store and Emit")
	}
	h := &handler{HandlerConfig: cfg, store: cfg.Store, clock: cfg.Clock, timeout: cfg.Timeout, lifetime: cfg.Lifetime,
		limits: cfg.Limits.withDefaults(), overLog: rate.Sometimes{Interval: time.Second}}
	if h.HTTP == nil {
		h.HTTP = &http.Client{}
	}
	if h.timeout <= 0 {
		h.timeout = DefaultTimeout
	}
	if h.lifetime <= 0 {
		h.lifetime = DefaultLifetime
	}
	if h.Log == nil {
		h.Log = slog.Default()
	}
	if h.clock == nil {
		h.clock = clock.System{}
	}
	h.all = rate.NewLimiter(h.limits.Rate, h.limits.Burst)
	h.requests = newBuckets(h.limits.RequestRate, h.limits.RequestBurst)
	mux := http.NewServeMux()
	for _, name := range callbacks {
		mux.Handle("POST "+PathPrefix+name, h.callback(name))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, message.Errorf(message.CodeNotFound, "no Apple Pay callback at %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// forwarded is the outcome of forwarding a callback to the processor.
type forwarded struct {
	// status is the processor's HTTP status; 0 when none came.
	status int
	answer []byte
	// problem says why the processor's answer is not used; "" when it is.
	problem string
}

func (h *handler) callback(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		log := h.Log.With("channel", message.Apple, "callback", name)
		if !h.all.AllowN(h.clock.Now(), 1) {
			h.overRate(w, log, name, "all requests")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			log.Warn("apple pay callback not read", "error", err)
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				refuse(w, name, http.StatusRequestEntityTooLarge, message.Errorf(message.CodeTooLarge, "the body is over the limit of %d bytes", MaxBody))
				return
			}
			refuse(w, name, http.StatusBadRequest, message.Errorf(message.CodeInvalidRequest, "the body could not be read"))
			return
		}
		var head struct {
			RequestIdentifier string `json:"requestIdentifier"`
		}
		if err := json.Unmarshal(body, &head); err != nil || head.RequestIdentifier == "" {
			log.Warn("apple pay callback without a requestIdentifier refused")
			refuse(w, name, http.StatusBadRequest, message.Errorf(message.CodeInvalidRequest, "the body must be a JSON object with a requestIdentifier"))
			return
		}
		// parley's request ids are UUIDs, which it makes in lower case;
		// Apple's samples show them in upper case.
		id := strings.ToLower(head.RequestIdentifier)
		if !isUUID(id) {
			log.Warn("apple pay callback for a request id parley does not make refused")
			refuse(w, name, http.StatusNotFound, message.Errorf(message.CodeNotFound, "no Apple Pay request %q: parley's request ids are UUIDs", truncate(head.RequestIdentifier, 64)))
			return
		}
		if !h.requests.allow(id, h.clock.Now()) {
			h.overRate(w, log.With("requestIdentifier", id), name, "one request")
			return
		}
		rec, err := h.store.MessageByPlatformID(ctx, message.Apple, id)
		if err == nil && (rec.Channel != message.Apple || rec.Direction != message.Outbound || rec.Type != message.TypeApplePay) {
			err = store.ErrNotFound
		}
		if errors.Is(err, store.ErrNotFound) {
			log.Warn("apple pay callback for an unknown request refused", "requestIdentifier", id)
			refuse(w, name, http.StatusNotFound, message.Errorf(message.CodeNotFound, "no Apple Pay request %q", head.RequestIdentifier))
			return
		}
		if err != nil {
			log.Error("apple pay callback: the message could not be looked up", "requestIdentifier", id, "error", err)
			refuse(w, name, http.StatusInternalServerError, message.Errorf(message.CodeInternal, "internal error"))
			return
		}
		log = log.With("messageId", rec.ID)

		st, no, err := h.admit(ctx, rec, name)
		if err != nil {
			log.Error("apple pay callback: the state of the request could not be read or written", "error", err)
			refuse(w, name, http.StatusInternalServerError, message.Errorf(message.CodeInternal, "internal error"))
			return
		}
		if no != nil {
			if no.code == CodeRateLimited {
				h.overRate(w, log, name, no.reason)
				return
			}
			log.Warn("apple pay callback refused", "problem", no.reason)
			refuse(w, name, no.status, message.Errorf(no.code, "%s", no.reason))
			h.emit(ctx, log, rec, name, StatusRefused, forwarded{problem: no.reason})
			return
		}

		fwd := h.forward(ctx, name, rec.ID, body)
		answer, status := reply(name, &fwd)
		if name == PaymentGateway {
			// Recorded before Apple hears of it: the orderTracking call
			// that follows a success finds the request paid.
			if err := h.settle(ctx, st, status); err != nil {
				log.Error("apple pay callback: the outcome of the payment was not recorded", "status", status, "error", err)
			}
		}
		writeJSON(w, http.StatusOK, answer)

		if fwd.problem != "" {
			log.Warn("apple pay callback: the processor's answer was not used", "processorStatus", fwd.status, "problem", fwd.problem, "status", status)
		} else {
			log.Info("apple pay callback answered", "processorStatus", fwd.status, "status", status)
		}
		h.emit(ctx, log, rec, name, status, fwd)
	})
}

// overRate refuses a callback over a rate limit, without an event, and
// logs a line about such refusals at most once a second.
func (h *handler) overRate(w http.ResponseWriter, log *slog.Logger, name, what string) {
	n := h.overLimit.Add(1)
	h.overLog.Do(func() {
		log.Warn("apple pay callbacks refused over the rate limit", "limit", what, "refused", n)
		h.overLimit.Add(-n)
	})
	if name != PaymentGateway {
		w.Header().Set("Retry-After", "1")
	}
	refuse(w, name, http.StatusTooManyRequests, message.Errorf(CodeRateLimited, "too many Apple Pay callbacks (%s)", what))
}

func (h *handler) emit(ctx context.Context, log *slog.Logger, rec message.Record, name, status string, fwd forwarded) {
	if err := h.Emit(ctx, event(h.clock.Now(), rec, name, status, fwd)); err != nil {
		log.Error("apple pay callback: the event was not recorded", "error", err)
	}
}

// isUUID reports whether s is a UUID in lower case, the form of the
// request ids parley makes.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// truncate cuts s to at most n bytes, for error texts.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// forward posts body to the processor's URL for the callback name.
func (h *handler) forward(ctx context.Context, name, messageID string, body []byte) forwarded {
	cfg := h.HandlerConfig
	cfg.Timeout = h.timeout
	if cfg.ProcessorURL == "" {
		return forwarded{problem: "no payment processor is configured"}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(cfg.ProcessorURL, "/")+"/"+name, bytes.NewReader(body))
	if err != nil {
		return forwarded{problem: "the processor URL is not valid"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderMessageID, messageID)
	resp, err := cfg.HTTP.Do(req)
	if err != nil {
		return forwarded{problem: transportProblem(ctx, cfg.Timeout, err)}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	switch {
	case err != nil:
		return forwarded{status: resp.StatusCode, problem: transportProblem(ctx, cfg.Timeout, err)}
	case len(answer) > MaxBody:
		return forwarded{status: resp.StatusCode, problem: fmt.Sprintf("the processor's answer is over %d bytes", MaxBody)}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return forwarded{status: resp.StatusCode, problem: fmt.Sprintf("the processor answered %d", resp.StatusCode)}
	}
	return forwarded{status: resp.StatusCode, answer: bytes.TrimSpace(answer)}
}

// transportProblem says why no full answer came, without the URL (it may
// carry credentials).
func transportProblem(ctx context.Context, timeout time.Duration, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("the processor did not answer within %s", timeout)
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	return "the processor could not be reached: " + err.Error()
}

// reply is the answer Apple gets for the callback name, and the status the
// event reports. It sets fwd.problem when the processor answered something
// Apple cannot use.
func reply(name string, fwd *forwarded) (json.RawMessage, string) {
	if name == PaymentGateway {
		if fwd.problem == "" {
			var a struct {
				Status string `json:"status"`
			}
			if json.Unmarshal(fwd.answer, &a) == nil && strings.HasPrefix(a.Status, "STATUS_") {
				return fwd.answer, a.Status
			}
			fwd.problem = `the processor's answer has no Apple Pay "status"`
		}
		return failure, StatusFailure
	}
	if fwd.problem == "" {
		switch {
		case len(fwd.answer) == 0:
			return noChange, StatusForwarded
		case isObject(fwd.answer):
			return fwd.answer, StatusForwarded
		}
		fwd.problem = "the processor's answer is not a JSON object"
	}
	return noChange, StatusProcessorFailed
}

var (
	failure  = json.RawMessage(`{"status":"` + StatusFailure + `"}`)
	noChange = json.RawMessage(`{}`)
)

// detail is the Detail of a payment.callback event.
type detail struct {
	// Step is the callback's name.
	Step string `json:"step"`
	// ProcessorStatus is the processor's HTTP status; 0 when none came.
	ProcessorStatus int `json:"processorStatus"`
	// Problem says why the processor's answer was not used.
	Problem string `json:"problem,omitempty"`
}

func event(now time.Time, rec message.Record, name, status string, fwd forwarded) message.Event {
	d, _ := json.Marshal(detail{Step: name, ProcessorStatus: fwd.status, Problem: fwd.problem})
	return message.Event{
		ID:                message.NewEventID(now),
		Type:              message.EventPayment,
		Time:              now,
		Channel:           message.Apple,
		BusinessID:        rec.BusinessID,
		CustomerID:        rec.CustomerID,
		MessageID:         rec.ID,
		PlatformMessageID: rec.PlatformMessageID,
		Body: &message.Body{
			Type:    message.BodyPayment,
			Payment: &message.PaymentReply{Status: status, Detail: d},
		},
	}
}

// refuse answers a callback parley cannot forward: the payment gateway
// with a failure status (Apple shows the payment as failed), the others
// with a JSON error.
func refuse(w http.ResponseWriter, name string, status int, e *message.Error) {
	if name == PaymentGateway {
		writeJSON(w, http.StatusOK, failure)
		return
	}
	writeError(w, status, e)
}

func writeError(w http.ResponseWriter, status int, e *message.Error) {
	b, _ := json.Marshal(struct {
		Error *message.Error `json:"error"`
	}{e})
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
