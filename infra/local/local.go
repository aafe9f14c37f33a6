// Package local is parley's local stack: one process serving the send API,
// the webhooks, simulators of the WhatsApp Graph API and of Apple's MSP
// gateway (wired to each other, so a person can send as the business and
// answer as the customer), and the event log. It runs the same service as
// the Lambda functions, on the embedded store by default.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/infra/paysim"
	"github.com/parleyhq/parley/infra/playground"
	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/service"
)

// Credentials the local stack uses when the environment sets none. They
// are shared by the simulators and parley, and by the signed samples in
// events/; they protect nothing.
const (
	DefaultWhatsAppToken       = "local-whatsapp-token"
	DefaultWhatsAppAppSecret   = "local-app-secret"
	DefaultWhatsAppVerifyToken = "local-verify-token"
	DefaultAppleMSPID          = "7d4e2a10-5c3b-4f8e-9a61-0c2b3d4e5f60"
	// DefaultAppleMSPSecret is Base64 of "parley-local-apple-msp-secret-32".
	DefaultAppleMSPSecret = "cGFybGV5LWxvY2FsLWFwcGxlLW1zcC1zZWNyZXQtMzI="
	// DefaultApplePayMerchantID is the local stack's Apple Pay merchant; its
	// merchant sessions come from the Apple Pay simulator, which needs no
	// certificate.
	DefaultApplePayMerchantID = "merchant.dev.parley.local"
)

// Options configure a local stack.
type Options struct {
	// Addr is the address to listen on, e.g. 127.0.0.1:8080; port 0 picks
	// a free one.
	Addr   string
	Getenv func(string) string
	Log    io.Writer
	Clock  clock.Clock
	Retry  *retry.Policy
	// FallbackEvery is how often the fallback job runs, as EventBridge
	// runs functions/fallback in production: 0 means every
	// DefaultFallbackEvery, a negative value never (tests run it).
	FallbackEvery time.Duration
	// Sleep replaces the fallback job's throttling wait.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultFallbackEvery is how often the local stack runs the fallback job.
const DefaultFallbackEvery = 5 * time.Second

// Stack is a running local stack.
type Stack struct {
	URL      string
	Service  *Service
	WhatsApp *whatsappsim.Simulator
	Apple    *applesim.Simulator
	ApplePay *paysim.Simulator
	// App receives event webhooks, at /sim/app/events.
	App *AppReceiver
	srv *http.Server
	// stopping is closed when the server starts shutting down, so that
	// the playground's live streams end.
	stopping <-chan struct{}
	done     chan error
	stopJobs context.CancelFunc
	jobsDone chan struct{}
}

// Start starts a local stack and returns once it accepts requests.
func Start(ctx context.Context, o Options) (*Stack, error) {
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("local: listening on %s: %w", o.Addr, err)
	}
	base := "http://" + ln.Addr().String()
	getenv := withDefaults(o.Getenv, base)
	cfg, err := loadConfig(ctx, getenv)
	if err != nil {
		ln.Close()
		return nil, err
	}
	opts := serviceOptions{Clock: o.Clock, Log: o.Log, Retry: o.Retry, Sleep: o.Sleep}
	if cfg.Send.ApplePay != nil && cfg.Send.ApplePay.MerchantID == DefaultApplePayMerchantID {
		// The simulated merchant-session endpoint is plain HTTP and needs
		// no merchant identity certificate.
		opts.ApplePayHTTP = &http.Client{Timeout: service.PlatformTimeout}
	}
	svc, err := newService(ctx, cfg, opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	log := svc.Log
	now := svc.Clock.Now
	stopping, stop := context.WithCancel(context.Background())
	st := &Stack{
		stopping: stopping.Done(),
		URL:      base,
		Service:  svc,
		WhatsApp: whatsappsim.New(whatsappsim.Config{
			Token: cfg.Send.WhatsApp.Token, AppSecret: cfg.WhatsAppWebhook.AppSecret,
			WebhookURL: base + "/webhooks/whatsapp", Now: now,
		}),
		Apple: applesim.New(applesim.Config{
			MSPID: cfg.Send.Apple.MSPID, Secret: cfg.Send.Apple.Secret,
			WebhookURL: base + "/webhooks/apple/message", Now: now,
		}),
		ApplePay: paysim.New(now),
		App:      &AppReceiver{Key: appKey(cfg), Now: now},
		done:     make(chan error, 1),
	}
	st.srv = &http.Server{Handler: st.routes(), ReadHeaderTimeout: 10 * time.Second}
	st.srv.RegisterOnShutdown(stop)
	go func() { st.done <- st.srv.Serve(ln) }()
	st.runFallback(o.FallbackEvery)
	if cfg.Send.Fetch.Local {
		log.Warn("callers' URLs may be plain http and loopback addresses (" + config.FetchLocal + "=true, the local stack's default); never in production")
	}
	log.Info("local stack ready", "url", base, "store", cfg.Store)
	return st, nil
}

// runFallback runs the fallback job every period until Close.
func (st *Stack) runFallback(every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	st.stopJobs, st.jobsDone = cancel, make(chan struct{})
	if every < 0 {
		close(st.jobsDone)
		return
	}
	if every == 0 {
		every = DefaultFallbackEvery
	}
	go func() {
		defer close(st.jobsDone)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := st.Service.RunFallback(ctx, time.Time{}); err != nil && ctx.Err() == nil {
					st.Service.Log.Error("fallback run failed", "error", err)
				}
			}
		}
	}()
}

func (st *Stack) routes() http.Handler {
	mux := http.NewServeMux()
	api := st.Service.API()
	mux.Handle("/v1/", api)
	mux.Handle("/webhooks/", st.Service.Webhooks())
	mux.Handle("/sim/whatsapp/", http.StripPrefix("/sim/whatsapp", st.WhatsApp))
	mux.Handle("/sim/apple/", http.StripPrefix("/sim/apple", st.Apple))
	mux.Handle("/sim/applepay/", http.StripPrefix("/sim/applepay", st.ApplePay))
	mux.Handle("/sim/app/", http.StripPrefix("/sim/app", st.App))
	mux.Handle("/", playground.Handler(playground.Config{Events: st.Service.Store.Events, Conversation: st.Service.Store.Conversation, Done: st.stopping, Log: st.Service.Log}))
	return mux
}

// Wait blocks until the stack stops and returns why.
func (st *Stack) Wait() error {
	err := <-st.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops the stack, letting requests in flight finish.
func (st *Stack) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := st.srv.Shutdown(ctx)
	st.stopJobs()
	<-st.jobsDone
	return errors.Join(err, st.Service.Close())
}

// withDefaults fills what a local stack needs and the environment leaves
// unset: the simulators' URLs on this stack and the local credentials.
func withDefaults(getenv func(string) string, base string) func(string) string {
	defaults := map[string]string{
		config.WhatsAppAPIURL:      base + "/sim/whatsapp/v25.0",
		config.WhatsAppToken:       DefaultWhatsAppToken,
		config.WhatsAppAppSecret:   DefaultWhatsAppAppSecret,
		config.WhatsAppVerifyToken: DefaultWhatsAppVerifyToken,
		config.AppleMSPURL:         base + "/sim/apple/v1",
		config.AppleMSPID:          DefaultAppleMSPID,
		config.AppleMSPSecret:      DefaultAppleMSPSecret,
		config.PublicURL:           base,
		// The simulators and the tests' file servers are plain http on
		// 127.0.0.1.
		config.FetchLocal:          "true",
		config.PaymentProcessorURL: base + "/sim/applepay/processor",
	}
	// Apple Pay runs on the simulator unless the environment names a real
	// merchant.
	if strings.TrimSpace(getenv(config.ApplePayMerchantID)) == "" {
		defaults[config.ApplePayMerchantID] = DefaultApplePayMerchantID
		defaults[config.ApplePayCert] = "simulated"
		defaults[config.ApplePayKey] = "simulated"
		defaults[config.ApplePayGatewayURL] = base + "/sim/applepay/paymentSession"
	}
	return func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return defaults[name]
	}
}
