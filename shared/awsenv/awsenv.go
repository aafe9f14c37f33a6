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

// Load returns a function's settings (see config.Load) and its AWS
// client: the region and credentials Lambda puts in the environment
// (awsapi.FromEnv), pointed at PARLEY_AWS_ENDPOINT when it is set. The
// secret PARLEY_SECRETS_ARN names is read from Secrets Manager.
func Load(ctx context.Context, getenv func(string) string) (*config.Env, *awsapi.Client, error) {
	aws := awsapi.FromEnv(getenv, getenv(config.AWSEndpoint))
	env, err := config.Load(ctx, getenv, Secrets(aws))
	return env, aws, err
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
// taken from a cache of the secret that keeps it for ttl and reads it again
// at once when the platform refuses it (WhatsApp 401, Apple 401 or 403),
// so a rotation reaches running functions without a restart. timeout
// bounds each call.
func PlatformHTTP(aws *awsapi.Client, getenv func(string) string, ttl, timeout time.Duration) (whatsApp, apple *http.Client) {
	whatsApp, apple = &http.Client{Timeout: timeout}, &http.Client{Timeout: timeout}
	arn := strings.TrimSpace(getenv(config.SecretsARN))
	if arn == "" {
		return whatsApp, apple
	}
	cache := &secrets.Cache{TTL: ttl, Read: secrets.SecretsManager(secretsmanager.New(aws), arn)}
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
// environment, for service.Ports.Secrets: each is checked against a cache
// of the secret that keeps its values for ttl, and a request that does not
// match the value held has it read again (at most once per
// secrets.RecheckInterval) before it is refused, so a rotation reaches
// running functions without a restart. It is nil without the secret.
func WebhookSecrets(aws *awsapi.Client, getenv func(string) string, ttl time.Duration) func(name string) channel.Secret {
	arn := strings.TrimSpace(getenv(config.SecretsARN))
	if arn == "" {
		return nil
	}
	cache := &secrets.Cache{TTL: ttl, Read: secrets.SecretsManager(secretsmanager.New(aws), arn)}
	return func(name string) channel.Secret {
		if strings.TrimSpace(getenv(name)) != "" {
			return nil
		}
		return func(ctx context.Context, match func(string) bool) bool { return cache.Check(ctx, name, match) }
	}
}

// EventsWebhookKey returns the key that signs the events webhook when it
// comes from the secret PARLEY_SECRETS_ARN names rather than the
// environment: its current value, kept for ttl, so a rotation reaches
// running functions without a restart. It is nil otherwise.
func EventsWebhookKey(aws *awsapi.Client, getenv func(string) string, ttl time.Duration) func(ctx context.Context) ([]byte, error) {
	arn := strings.TrimSpace(getenv(config.SecretsARN))
	if arn == "" || strings.TrimSpace(getenv(config.EventsWebhookSecret)) != "" {
		return nil
	}
	cache := &secrets.Cache{TTL: ttl, Read: secrets.SecretsManager(secretsmanager.New(aws), arn)}
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
