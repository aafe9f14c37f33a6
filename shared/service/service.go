// Package service builds the use cases that send and the webhooks' handler
// from their settings and the ports they run on. functions/send,
// functions/fallback, functions/ingest and the local stack start from here,
// so that they run the same code; the caller brings the store and the event
// publisher (DynamoDB and EventBridge in Lambda, the embedded store
// locally), so nothing here links an AWS client or a store adapter.
package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/shared/access"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/appleauth"
	"github.com/parleyhq/parley/shared/applepay"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/httpapi"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/metrics"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/safefetch"
	"github.com/parleyhq/parley/shared/send"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// PlatformTimeout bounds one call to a platform (Apple's samples use 10 s).
const PlatformTimeout = 10 * time.Second

// Ports are what the use cases run on. Store, Blobs and Publisher are
// required; a nil Clock is the system's, a nil Log slog's default, nil
// Metrics records none.
type Ports struct {
	Store     store.Store
	Blobs     store.Blobs
	Publisher bus.Publisher
	Clock     clock.Clock
	Log       *slog.Logger
	Metrics   *metrics.Recorder
	// Secrets gives, by name (config.WhatsAppAppSecret, …), the webhooks'
	// verification secrets that follow a rotation (awsenv.WebhookSecrets);
	// when it is nil or gives nil, the configured value serves.
	Secrets func(name string) channel.Secret
}

func (p Ports) withDefaults() Ports {
	if p.Clock == nil {
		p.Clock = clock.System{}
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	if p.Publisher == nil {
		p.Publisher = bus.Discard{}
	}
	return p
}

// Options are what callers may replace; zero values take the defaults.
type Options struct {
	// HTTP is the client for platform calls.
	HTTP *http.Client
	// WhatsAppHTTP and AppleHTTP, when set, replace HTTP for one platform
	// (clients that take their credentials from the secret).
	WhatsAppHTTP, AppleHTTP *http.Client
	// WhatsAppMediaHTTP, when set, carries WhatsApp media uploads
	// (awsenv.MediaHTTP: the secret's token, no overall timeout).
	WhatsAppMediaHTTP *http.Client
	// Retry is the retry policy of platform calls.
	Retry *retry.Policy
	// ApplePayHTTP replaces the merchant-identity TLS client of Apple Pay's
	// merchant-session calls (the local stack's gateway simulator).
	ApplePayHTTP *http.Client
}

func (o Options) httpClient() *http.Client {
	if o.HTTP != nil {
		return o.HTTP
	}
	return &http.Client{Timeout: PlatformTimeout}
}

func (o Options) platformHTTP(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return o.httpClient()
}

func (o Options) retry() retry.Policy {
	if o.Retry != nil {
		return *o.Retry
	}
	return retry.Default
}

// AuthKeys keeps the private keys of Apple authentication requests, sealed
// with the MSP secret.
func AuthKeys(a config.Apple, p Ports) *appleauth.Keys {
	p = p.withDefaults()
	return &appleauth.Keys{Blobs: p.Blobs, Secret: a.Secret, Clock: p.Clock}
}

// Sender builds the use case that sends on both channels.
func Sender(cfg config.Send, p Ports, o Options) (*send.Sender, error) {
	p = p.withDefaults()
	fetch := safefetch.New(safefetch.Config{AllowLocal: cfg.Fetch.Local, AllowHosts: cfg.Fetch.AllowHosts, Timeout: cfg.Fetch.Timeout, Log: p.Log})
	ac := &apple.Client{BaseURL: cfg.Apple.MSPURL, MSPID: cfg.Apple.MSPID, Secret: cfg.Apple.Secret, HTTP: o.platformHTTP(o.AppleHTTP), Now: p.Clock.Now,
		AuthKey: AuthKeys(cfg.Apple, p).New, PayBaseURL: cfg.PublicURL, Attachment: uploadedFile(p.Blobs), Fetch: fetch}
	if pay := cfg.ApplePay; pay != nil {
		payHTTP := o.ApplePayHTTP
		if payHTTP == nil {
			var err error
			if payHTTP, err = applepay.NewHTTPClient(pay.CertPEM, pay.KeyPEM, PlatformTimeout); err != nil {
				return nil, fmt.Errorf("config: %s and %s must be the Apple Pay merchant identity certificate and its key, in PEM: %w", config.ApplePayCert, config.ApplePayKey, err)
			}
		}
		sessions := &applepay.MerchantSessions{GatewayURL: pay.GatewayURL, MerchantIdentifier: pay.MerchantID,
			DomainName: pay.Domain, DisplayName: pay.DisplayName, HTTP: payHTTP}
		ac.MerchantSession = sessions.Session
	}
	s := WhatsAppSender(cfg.WhatsApp, p, o)
	// Media messages read callers' URLs and uploaded files, and upload them
	// to Meta.
	wa := s.Platforms[message.WhatsApp].(whatsAppPlatform)
	wa.Fetch, wa.Uploaded = fetch, uploadedMedia(p.Blobs)
	if cfg.RetryBudget > 0 && o.Retry == nil {
		s.Retry.Budget = cfg.RetryBudget
	}
	s.IdempotencyLease = cfg.IdempotencyLease
	s.Platforms[message.Apple] = applePlatform{ac, p.Metrics}
	if len(cfg.Reengagement) > 0 {
		s.Reengagement = map[string]send.Reengagement{}
		for _, id := range slices.Sorted(maps.Keys(cfg.Reengagement)) {
			r := cfg.Reengagement[id]
			// A template WhatsApp would refuse would fail every re-engagement.
			if ps := whatsapp.Validate(r.Template); len(ps) > 0 {
				return nil, fmt.Errorf("config: %s: %s: template: %v", config.Reengagement, id, ps)
			}
			s.Reengagement[id] = send.Reengagement{Before: time.Duration(r.MinutesBefore) * time.Minute, Template: r.Template}
		}
	}
	return s, nil
}

// WhatsAppSender builds a sender on WhatsApp alone: the webhooks' sender
// of the fallbacks of messages that fail late with window_closed, which
// only WhatsApp has.
func WhatsAppSender(cfg config.WhatsApp, p Ports, o Options) *send.Sender {
	p = p.withDefaults()
	return &send.Sender{
		Store: p.Store,
		Platforms: map[message.Channel]send.Platform{
			message.WhatsApp: whatsAppPlatform{&whatsapp.Client{BaseURL: cfg.APIURL, Token: cfg.Token, HTTP: o.platformHTTP(o.WhatsAppHTTP), MediaHTTP: o.WhatsAppMediaHTTP}, p.Metrics},
		},
		Publisher: p.Publisher,
		Clock:     p.Clock,
		Retry:     o.retry(),
		Log:       p.Log,
	}
}

// Files make the URLs of stored files that the API and events carry.
type Files struct {
	// Presign makes them.
	Presign httpapi.Presigner
	// Served serves them when the blob store cannot presign (the embedded
	// store); nil otherwise.
	Served *httpapi.Files
}

// NewFiles returns the blob store's own presigned URLs (S3) when it makes
// them, or else URLs signed with a fresh secret and served by the send API
// at publicURL: the URLs of an earlier run stop working, and GET
// /v1/messages/{id}/media gives new ones.
func NewFiles(p Ports, publicURL string) (Files, error) {
	p = p.withDefaults()
	if ps, ok := p.Blobs.(httpapi.Presigner); ok {
		return Files{Presign: ps}, nil
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Files{}, err
	}
	f := &httpapi.Files{Blobs: p.Blobs, Secret: secret, BaseURL: publicURL, Now: p.Clock.Now}
	return Files{Presign: f, Served: f}, nil
}

// API is the send API's handler.
// scopes limits each caller to its businesses (nil: no limit).
func API(s *send.Sender, p Ports, publicURL string, files Files, scopes access.Scopes) http.Handler {
	p = p.withDefaults()
	mux := http.NewServeMux()
	media := httpapi.Media(p.Store, files.Presign, files.Served, p.Clock.Now, p.Log, scopes)
	mux.Handle("GET /v1/messages/{id}/media", media)
	if files.Served != nil {
		mux.Handle("GET /v1/files/", media)
	}
	mux.Handle("/", httpapi.API(Metered{s, p.Metrics}, p.Store, &httpapi.Uploads{Blobs: p.Blobs, BaseURL: publicURL, Now: p.Clock.Now}, p.Log, scopes))
	return mux
}

// WithDeliveries adds to api the routes of the event webhooks that ran out
// of attempts (GET /v1/webhook-deliveries, POST …/{id}/redrive).
func WithDeliveries(api http.Handler, d httpapi.Deliveries, log *slog.Logger, scopes access.Scopes) http.Handler {
	mux := http.NewServeMux()
	h := httpapi.WebhookDeliveries(d, log, scopes)
	mux.Handle("/v1/webhook-deliveries", h)
	mux.Handle("/v1/webhook-deliveries/", h)
	mux.Handle("/", api)
	return mux
}

// Webhooks is the webhooks' handler: the platforms' webhooks, verified
// with wh and a, and Apple Pay's callbacks, forwarded to processorURL
// within the bounds of pay.
func Webhooks(in *ingest.Ingester, wh config.WhatsAppWebhook, a config.Apple, processorURL string, pay config.ApplePayCallbacks, p Ports) http.Handler {
	p = p.withDefaults()
	mux := http.NewServeMux()
	mux.Handle("/webhooks/", httpapi.Webhooks(in, []channel.Webhook{
		whatsapp.Webhook{AppSecret: p.secret(config.WhatsAppAppSecret, wh.AppSecret), VerifyToken: p.secret(config.WhatsAppVerifyToken, wh.VerifyToken)},
		apple.Webhook{MSPID: a.MSPID, Secret: p.secret(config.AppleMSPSecret, base64.StdEncoding.EncodeToString(a.Secret))},
	}, p.Clock, p.Log))
	mux.Handle(applepay.PathPrefix, applepay.Handler(applepay.HandlerConfig{
		ProcessorURL: processorURL,
		Store:        p.Store,
		Emit:         emitter(p),
		Lifetime:     pay.Lifetime,
		Limits:       payLimits(pay),
		Log:          p.Log,
		Clock:        p.Clock,
	}))
	return p.Metrics.Webhooks(mux)
}

// payLimits are the limits of pay; its zero fields keep applepay's
// defaults. A callback rate comes with bursts of twice as many.
func payLimits(pay config.ApplePayCallbacks) applepay.Limits {
	l := applepay.Limits{PaymentAttempts: pay.PaymentAttempts, PerRequest: pay.PerRequest}
	if pay.Rate > 0 {
		l.Rate, l.Burst = rate.Limit(pay.Rate), max(1, int(2*pay.Rate))
	}
	return l
}

// secret is the verification secret name, configured as value.
func (p Ports) secret(name, value string) channel.Secret {
	if p.Secrets != nil {
		if s := p.Secrets(name); s != nil {
			return s
		}
	}
	return channel.Fixed(value)
}

// Metered is a sender that records what its sends come to: refusals for a
// closed window, fallbacks sent in place of the message.
type Metered struct {
	*send.Sender
	Metrics *metrics.Recorder
}

// Send sends req (see send.Sender.Send) and records its outcome.
func (m Metered) Send(ctx context.Context, req message.SendRequest) (message.SendResult, error) {
	res, err := m.Sender.Send(ctx, req)
	m.Metrics.SendOutcome(ctx, req.Channel, res.Status, err)
	return res, err
}

// SendClaimed sends a claimed scheduled item (see send.Sender.SendClaimed)
// and records its outcome.
func (m Metered) SendClaimed(ctx context.Context, sc store.Scheduled) (message.SendResult, error) {
	res, err := m.Sender.SendClaimed(ctx, sc)
	m.Metrics.SendOutcome(ctx, sc.Request.Channel, res.Status, err)
	return res, err
}

// uploadedFile opens a file uploaded through POST /v1/uploads, for the
// Apple client's attachments.
func uploadedFile(blobs store.Blobs) func(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	return func(ctx context.Context, key string) (io.ReadCloser, int64, error) {
		rc, info, err := blobs.GetBlob(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil, 0, fmt.Errorf("%s: %w", key, apple.ErrNoUpload)
		}
		if err != nil {
			return nil, 0, err
		}
		return rc, info.Size, nil
	}
}

// uploadedMedia opens a file uploaded through POST /v1/uploads, with its
// content type, for the WhatsApp client's media messages.
func uploadedMedia(blobs store.Blobs) func(ctx context.Context, key string) (io.ReadCloser, int64, string, error) {
	return func(ctx context.Context, key string) (io.ReadCloser, int64, string, error) {
		rc, info, err := blobs.GetBlob(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil, 0, "", fmt.Errorf("%s: %w", key, whatsapp.ErrNoUpload)
		}
		if err != nil {
			return nil, 0, "", err
		}
		return rc, info.Size, info.ContentType, nil
	}
}

// emitter records an event in the log, then publishes it.
func emitter(p Ports) func(ctx context.Context, ev message.Event) error {
	return func(ctx context.Context, ev message.Event) error {
		if err := p.Store.Apply(ctx, store.AppendEvent{Event: ev, ExpiresAt: p.Clock.Now().Add(ingest.EventRetention)}); err != nil {
			return err
		}
		if err := p.Publisher.Publish(ctx, ev); err != nil {
			p.Log.Error("publishing an event failed; it stays in the event log", "event_id", ev.ID, "error", err)
		}
		return nil
	}
}

type whatsAppPlatform struct {
	*whatsapp.Client
	metrics *metrics.Recorder
}

// Send sends o and records the call.
func (p whatsAppPlatform) Send(ctx context.Context, o message.Outgoing) (string, error) {
	start := time.Now()
	id, err := p.Client.Send(ctx, o)
	p.metrics.Platform(ctx, message.WhatsApp, o.Message.Type, start, err)
	return id, err
}

func (whatsAppPlatform) Supports(typ string) bool                    { return whatsapp.Supports(typ) }
func (whatsAppPlatform) Validate(m message.Message) message.Problems { return whatsapp.Validate(m) }
func (whatsAppPlatform) Adapt(m message.Message, c message.Conversation, adapt bool) (message.Message, *message.Adaptation, error) {
	return whatsapp.Adapt(m, c, adapt)
}

type applePlatform struct {
	*apple.Client
	metrics *metrics.Recorder
}

// Send sends o and records the call.
func (p applePlatform) Send(ctx context.Context, o message.Outgoing) (string, error) {
	start := time.Now()
	id, err := p.Client.Send(ctx, o)
	p.metrics.Platform(ctx, message.Apple, o.Message.Type, start, err)
	return id, err
}

func (applePlatform) Supports(typ string) bool                    { return apple.Supports(typ) }
func (applePlatform) Validate(m message.Message) message.Problems { return apple.Validate(m) }
func (applePlatform) Adapt(m message.Message, c message.Conversation, adapt bool) (message.Message, *message.Adaptation, error) {
	return apple.Adapt(m, c, adapt)
}
