// Package awsenv is a Lambda function's AWS side of start-up: its AWS
// client, the function's settings with the secret filled in from Secrets
// Manager, its logger and metrics, and the platforms' HTTP clients that
// follow the secret. The AWS client goes to a local endpoint (moto) when
// PARLEY_AWS_ENDPOINT names one. awsenv/adapters builds the AWS adapters of
// the store, publisher and queue ports.
package awsenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/apphook"
	applemsp "github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/secretsmanager"
	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/logs"
	"github.com/parleyhq/parley/shared/metrics"
	"github.com/parleyhq/parley/shared/requestid"
	"github.com/parleyhq/parley/shared/secrets"
)

// AWS is a function's AWS side: its client and, when PARLEY_SECRETS_ARN
// names a secret, the function's one cache of that secret. Every
// credential taken from the secret — the platforms' tokens, the webhooks'
// verification secrets, the events webhook's key — goes through that
// cache, which starts with the values Load read: a fresh instance reads
// the secret once, not once more per credential on its first invocations.
type AWS struct {
	// Client is the function's AWS client, shared by every adapter.
	Client *awsapi.Client
	getenv func(string) string
	// secret is nil without PARLEY_SECRETS_ARN.
	secret *secrets.Cache
}

// Load returns a function's settings (see config.Load) and its AWS side:
// the region and credentials Lambda puts in the environment
// (awsapi.FromEnv), pointed at PARLEY_AWS_ENDPOINT when it is set. The
// secret PARLEY_SECRETS_ARN names is read from Secrets Manager into the
// cache the credentials share, which keeps its values for
// PARLEY_SECRETS_TTL.
func Load(ctx context.Context, getenv func(string) string) (*config.Env, *AWS, error) {
	a := &AWS{Client: awsapi.FromEnv(getenv, getenv(config.AWSEndpoint)), getenv: getenv}
	var source config.SecretSource
	if arn := strings.TrimSpace(getenv(config.SecretsARN)); arn != "" {
		a.secret = &secrets.Cache{Read: secrets.SecretsManager(secretsmanager.New(a.Client), arn)}
		source = func(ctx context.Context, _ string) (map[string]string, error) { return a.secret.Values(ctx) }
	}
	env, err := config.Load(ctx, getenv, source)
	if err != nil {
		return nil, nil, err
	}
	if a.secret != nil {
		a.secret.TTL = env.SecretsTTL()
	}
	return env, a, nil
}

// Secrets reads secrets from Secrets Manager.
func Secrets(aws *awsapi.Client) config.SecretSource {
	return func(ctx context.Context, arn string) (map[string]string, error) {
		return secrets.SecretsManager(secretsmanager.New(aws), arn)(ctx)
	}
}

// Observe returns a function's logger and metrics, both written to w (the
// function's standard output): JSON log lines that carry the invocation's
// request, trace and message ids (see requestid.Lambda), and metrics as
// Embedded Metric Format lines under namespace — none when it is empty.
// The two share one lock, so that their lines never interleave.
func Observe(w io.Writer, level, namespace string) (*slog.Logger, *metrics.Recorder) {
	lw := &lineWriter{w: w}
	log := slog.New(requestid.Handler(logs.New(lw, level).Handler()))
	if namespace == "" {
		return log, nil
	}
	return log, &metrics.Recorder{Namespace: namespace, W: lw, Properties: requestid.Fields}
}

// lineWriter serialises writes of whole lines.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// MediaHTTP is the client of WhatsApp media downloads and uploads beside
// wa, the WhatsApp client of PlatformHTTP: the same token, read from the
// secret (so a rotation reaches media too), without wa's overall timeout,
// since a 100 MB file takes what it takes, but with a bound on the wait
// for an answer. It is nil when wa takes its token from the environment:
// the WhatsApp client's own media client then serves.
func MediaHTTP(wa *http.Client) *http.Client {
	t, ok := wa.Transport.(*secrets.Transport)
	if !ok {
		return nil
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.ResponseHeaderTimeout = 30 * time.Second
	media := *t
	media.Base = base
	return &http.Client{Transport: &media}
}

// PlatformHTTP returns the HTTP clients of calls to WhatsApp's Graph API
// and Apple's MSP gateway. A credential that comes from the secret rather
// than the environment — the WhatsApp token, the Apple MSP secret — is
// taken from the function's cache of the secret, which reads it again
// at once when the platform refuses it (WhatsApp 401, Apple 401 or 403),
// so a rotation reaches running functions without a restart. timeout
// bounds each call.
func (a *AWS) PlatformHTTP(timeout time.Duration) (whatsApp, apple *http.Client) {
	whatsApp, apple = &http.Client{Timeout: timeout}, &http.Client{Timeout: timeout}
	cache, getenv := a.secret, a.getenv
	if cache == nil {
		return whatsApp, apple
	}
	if strings.TrimSpace(getenv(config.WhatsAppToken)) == "" {
		whatsApp.Transport = &secrets.Transport{Cache: cache, Name: config.WhatsAppToken,
			Authorize: func(r *http.Request, token string) error {
				r.Header.Set("Authorization", "Bearer "+token)
				return nil
			}}
	}
	if strings.TrimSpace(getenv(config.AppleMSPSecret)) == "" {
		mspID := getenv(config.AppleMSPID)
		apple.Transport = &secrets.Transport{Cache: cache, Name: config.AppleMSPSecret,
			Refused: []int{http.StatusUnauthorized, http.StatusForbidden},
			Authorize: func(r *http.Request, secret string) error {
				// Only the gateway's own calls carry a token; MMCS
				// uploads and downloads go as they are.
				if r.Header.Get("Authorization") == "" {
					return nil
				}
				key, err := applemsp.DecodeSecret(secret)
				if err != nil {
					return err
				}
				token, err := applemsp.MintToken(key, mspID, time.Now())
				if err != nil {
					return err
				}
				r.Header.Set("Authorization", "Bearer "+token)
				return nil
			}}
	}
	return whatsApp, apple
}

// WebhookSecrets returns the verification secrets of the webhooks that
// come from the secret PARLEY_SECRETS_ARN names rather than the
// environment, for service.Ports.Secrets: each is checked against the
// function's cache of the secret, and a request that does not match the
// value held has it read again (at most once per secrets.RecheckInterval)
// before it is refused, so a rotation reaches running functions without a
// restart. It is nil without the secret.
func (a *AWS) WebhookSecrets() func(name string) channel.Secret {
	cache, getenv := a.secret, a.getenv
	if cache == nil {
		return nil
	}
	return func(name string) channel.Secret {
		if strings.TrimSpace(getenv(name)) != "" {
			return nil
		}
		return func(ctx context.Context, match func(string) bool) bool { return cache.Check(ctx, name, match) }
	}
}

// EventsWebhookKey returns the key that signs the events webhook when it
// comes from the secret PARLEY_SECRETS_ARN names rather than the
// environment: its current value in the function's cache of the secret, so
// a rotation reaches running functions without a restart. It is nil
// otherwise.
func (a *AWS) EventsWebhookKey() func(ctx context.Context) ([]byte, error) {
	cache := a.secret
	if cache == nil || strings.TrimSpace(a.getenv(config.EventsWebhookSecret)) != "" {
		return nil
	}
	return func(ctx context.Context) ([]byte, error) {
		v, err := cache.Value(ctx, config.EventsWebhookSecret, "")
		if err != nil {
			return nil, err
		}
		key, err := apphook.ParseSecret(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%s %v", config.EventsWebhookSecret, err)
		}
		return key, nil
	}
}
