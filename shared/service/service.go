// Package service assembles parley from its configuration: the store
// adapter, the platform clients, the event publisher and the use cases. The
// Lambda functions and the local stack all start from here, so that they run
// the same code.
package service

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/appleauth"
	"github.com/parleyhq/parley/shared/applepay"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/httpapi"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/logs"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/payload"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/safefetch"
	"github.com/parleyhq/parley/shared/schedule"
	"github.com/parleyhq/parley/shared/send"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/dynamo"
	"github.com/parleyhq/parley/shared/store/embedded"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// PlatformTimeout bounds one call to a platform (Apple's samples use 10 s).
const PlatformTimeout = 10 * time.Second

// Options are what callers may replace; zero values take the defaults.
type Options struct {
	Clock clock.Clock
	Log   *slog.Logger
	// HTTP is the client for platform calls.
	HTTP *http.Client
	// Retry is the retry policy of platform calls.
	Retry *retry.Policy
	// CreateResources creates the table and bucket when they are missing
	// (the local stack against moto); never in production.
	CreateResources bool
	// ApplePayHTTP replaces the merchant-identity TLS client of Apple Pay's
	// merchant-session calls (the local stack's gateway simulator).
	ApplePayHTTP *http.Client
	// Sleep replaces the fallback job's throttling wait (tests with a
	// manual clock).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Service is an assembled parley.
type Service struct {
	Config   config.Config
	Store    store.Store
	Blobs    store.Blobs
	Sender   *send.Sender
	Ingester *ingest.Ingester
	// Fallback is the job functions/fallback runs on a schedule.
	Fallback *schedule.Job
	AuthKeys *appleauth.Keys
	// Payload fetches and decodes large payloads and attachments
	// (functions/fetch and functions/decode).
	Payload *payload.Service
	// PayloadJobs runs the payload jobs in this process when no queue is
	// configured (the local stack); nil otherwise.
	PayloadJobs *queue.InProcess
	Publisher   bus.Publisher
	Clock       clock.Clock
	Log         *slog.Logger
	close       func() error
	// uploads serves POST /v1/uploads; one per Service, since the local
	// PUT route remembers the slots it handed out.
	uploads *httpapi.Uploads
	// files signs and serves the URLs of stored files when the blob store
	// cannot presign them (the local stack); presign makes those URLs.
	files   *httpapi.Files
	presign httpapi.Presigner
}

// New assembles parley from cfg.
func New(ctx context.Context, cfg config.Config, opts Options) (*Service, error) {
	s := &Service{Config: cfg, Clock: opts.Clock, Log: opts.Log, close: func() error { return nil }}
	if s.Clock == nil {
		s.Clock = clock.System{}
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	httpc := opts.HTTP
	if httpc == nil {
		httpc = &http.Client{Timeout: PlatformTimeout}
	}
	policy := retry.Default
	if cfg.SendRetryBudget > 0 {
		policy.Budget = cfg.SendRetryBudget
	}
	if opts.Retry != nil {
		policy = *opts.Retry
	}

	var publisher bus.Publisher = bus.Discard{}
	switch cfg.Store {
	case config.StoreAWS:
		awscfg, err := AWSConfig(ctx, cfg.AWSEndpoint)
		if err != nil {
			return nil, err
		}
		ddb, s3c, err := dynamo.NewClients(ctx, cfg.AWSEndpoint, awscfg.Region)
		if err != nil {
			return nil, fmt.Errorf("service: AWS clients: %w", err)
		}
		if opts.CreateResources {
			if err := dynamo.CreateTable(ctx, ddb, cfg.Table); err != nil {
				return nil, fmt.Errorf("service: creating table %s: %w", cfg.Table, err)
			}
			if err := dynamo.CreateBucket(ctx, s3c, cfg.Bucket); err != nil {
				return nil, fmt.Errorf("service: creating bucket %s: %w", cfg.Bucket, err)
			}
		}
		st := dynamo.New(dynamo.Config{DynamoDB: ddb, S3: s3c, Table: cfg.Table, Bucket: cfg.Bucket, Clock: s.Clock})
		s.Store, s.Blobs = st, st
		if cfg.EventBus != "" {
			publisher = &bus.EventBridge{
				Client: eventbridge.NewFromConfig(awscfg, endpoint[eventbridge.Options](cfg.AWSEndpoint, func(o *eventbridge.Options, u *string) { o.BaseEndpoint = u })),
				Bus:    cfg.EventBus,
				DLQ:    sqs.NewFromConfig(awscfg, endpoint[sqs.Options](cfg.AWSEndpoint, func(o *sqs.Options, u *string) { o.BaseEndpoint = u })),
				DLQURL: cfg.EventsDLQURL,
				Log:    s.Log,
			}
		}
	default:
		st, err := embedded.Open(cfg.DataDir, s.Clock)
		if err != nil {
			return nil, fmt.Errorf("service: opening the embedded store in %s: %w", cfg.DataDir, err)
		}
		s.Store, s.Blobs = st, st
		s.close = st.Close
	}

	s.Publisher = publisher
	s.AuthKeys = &appleauth.Keys{Blobs: s.Blobs, Secret: cfg.AppleMSPSecret, Clock: s.Clock}
	appleClient := &apple.Client{BaseURL: cfg.AppleMSPURL, MSPID: cfg.AppleMSPID, Secret: cfg.AppleMSPSecret, HTTP: httpc, Now: s.Clock.Now,
		AuthKey: s.AuthKeys.New, PayBaseURL: cfg.PublicURL, Attachment: s.uploadedFile,
		Fetch: safefetch.New(safefetch.Config{AllowLocal: cfg.Fetch.Local, AllowHosts: cfg.Fetch.AllowHosts, Timeout: cfg.Fetch.Timeout, Log: s.Log})}
	s.uploads = &httpapi.Uploads{Blobs: s.Blobs, BaseURL: cfg.PublicURL, Now: s.Clock.Now}
	if cfg.ApplePay != nil {
		payHTTP := opts.ApplePayHTTP
		if payHTTP == nil {
			var err error
			if payHTTP, err = applepay.NewHTTPClient(cfg.ApplePay.CertPEM, cfg.ApplePay.KeyPEM, PlatformTimeout); err != nil {
				return nil, fmt.Errorf("service: the Apple Pay merchant identity certificate: %w", err)
			}
		}
		sessions := &applepay.MerchantSessions{GatewayURL: cfg.ApplePay.GatewayURL, MerchantIdentifier: cfg.ApplePay.MerchantID,
			DomainName: cfg.ApplePay.Domain, DisplayName: cfg.ApplePay.DisplayName, HTTP: payHTTP}
		appleClient.MerchantSession = sessions.Session
	}

	wa := &whatsapp.Client{BaseURL: cfg.WhatsAppAPIURL, Token: cfg.WhatsAppToken, HTTP: httpc}
	s.Sender = &send.Sender{
		Store: s.Store,
		Platforms: map[message.Channel]send.Platform{
			message.WhatsApp: whatsAppPlatform{wa},
			message.Apple:    applePlatform{appleClient},
		},
		Publisher: publisher,
		Clock:     s.Clock,
		Retry:     policy,
		Log:       s.Log,
	}
	if len(cfg.Reengagement) > 0 {
		s.Sender.Reengagement = map[string]send.Reengagement{}
		for id, r := range cfg.Reengagement {
			s.Sender.Reengagement[id] = send.Reengagement{Before: time.Duration(r.MinutesBefore) * time.Minute, Template: r.Template}
		}
	}
	s.Ingester = &ingest.Ingester{Store: s.Store, Blobs: s.Blobs, Publisher: publisher, Clock: s.Clock, AuthTokens: s.AuthKeys, Log: s.Log,
		Fallbacks: s.Sender}
	s.Payload = &payload.Service{Store: s.Store, Blobs: s.Blobs, MMCS: &apple.MMCS{Client: appleClient}, Publisher: publisher,
		Clock: s.Clock, Log: s.Log, AuthTokens: s.AuthKeys, MaxAttempts: cfg.PayloadMaxAttempts, Retry: payloadPolicy(policy), Media: wa}
	if cfg.PayloadQueueURL != "" {
		awscfg, err := AWSConfig(ctx, cfg.AWSEndpoint)
		if err != nil {
			return nil, err
		}
		s.Ingester.Payloads = &queue.SQS{URL: cfg.PayloadQueueURL,
			Client: sqs.NewFromConfig(awscfg, endpoint[sqs.Options](cfg.AWSEndpoint, func(o *sqs.Options, u *string) { o.BaseEndpoint = u }))}
	} else {
		// No queue: the jobs run in this process, and a fetch hands its raw
		// object straight to decode, as the bucket's notification would.
		s.PayloadJobs = &queue.InProcess{Attempts: s.Payload.MaxAttempts, Log: s.Log, Handle: func(ctx context.Context, j queue.Job) error {
			if j.Key != "" {
				return s.Payload.Decode(ctx, j.Key, j.Attempt)
			}
			return s.Payload.Fetch(ctx, j)
		}}
		s.Ingester.Payloads, s.Payload.Decodes = s.PayloadJobs, s.PayloadJobs
	}
	if p, ok := s.Blobs.(httpapi.Presigner); ok {
		s.presign = p
	} else {
		// A fresh secret each start: URLs of an earlier run stop working,
		// and GET /v1/messages/{id}/media gives new ones.
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		s.files = &httpapi.Files{Blobs: s.Blobs, Secret: secret, BaseURL: cfg.PublicURL, Now: s.Clock.Now}
		s.presign = s.files
	}
	s.Payload.Presign = s.presign
	s.Fallback = &schedule.Job{Store: s.Store, Sender: s.Sender, Clock: s.Clock, Log: s.Log, PerSecond: cfg.ThroughputPerSecond, Sleep: opts.Sleep}
	return s, nil
}

// payloadPolicy is the send policy without its budget: a payload job may
// take its function's whole time to move 100 MB.
func payloadPolicy(p retry.Policy) retry.Policy {
	p.Budget = 0
	return p
}

// API is the send API's handler.
func (s *Service) API() http.Handler {
	mux := http.NewServeMux()
	media := httpapi.Media(s.Store, s.presign, s.files, s.Clock.Now, s.Log, s.Config.Access)
	mux.Handle("GET /v1/messages/{id}/media", media)
	if s.files != nil {
		mux.Handle("GET /v1/files/", media)
	}
	mux.Handle("/", httpapi.API(s.Sender, s.Store, s.uploads, s.Log, s.Config.Access))
	return mux
}

// RunFallback runs the fallback job once, stopping before deadline (zero:
// no limit).
func (s *Service) RunFallback(ctx context.Context, deadline time.Time) (schedule.Report, error) {
	return s.Fallback.Run(ctx, deadline)
}

// Webhooks is the webhooks' handler: the platforms' webhooks and Apple
// Pay's callbacks.
func (s *Service) Webhooks() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/webhooks/", httpapi.Webhooks(s.Ingester, httpapi.WebhookSecrets{
		WhatsAppAppSecret:   s.Config.WhatsAppAppSecret,
		WhatsAppVerifyToken: s.Config.WhatsAppVerifyToken,
		AppleMSPID:          s.Config.AppleMSPID,
		AppleSecret:         s.Config.AppleMSPSecret,
	}, s.Clock, s.Log))
	mux.Handle(applepay.PathPrefix, applepay.Handler(applepay.HandlerConfig{
		ProcessorURL: s.Config.PaymentProcessorURL,
		Lookup: func(ctx context.Context, requestID string) (message.Record, error) {
			return s.Store.MessageByPlatformID(ctx, message.Apple, requestID)
		},
		Emit:  s.emit,
		Log:   s.Log,
		Clock: s.Clock,
	}))
	return mux
}

// uploadedFile opens a file uploaded through POST /v1/uploads, for the
// Apple client's attachments.
func (s *Service) uploadedFile(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	rc, info, err := s.Blobs.GetBlob(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, fmt.Errorf("%s: %w", key, apple.ErrNoUpload)
	}
	if err != nil {
		return nil, 0, err
	}
	return rc, info.Size, nil
}

// emit records an event in the log, then publishes it.
func (s *Service) emit(ctx context.Context, ev message.Event) error {
	if err := s.Store.Apply(ctx, store.AppendEvent{Event: ev, ExpiresAt: s.Clock.Now().Add(ingest.EventRetention)}); err != nil {
		return err
	}
	if err := s.Publisher.Publish(ctx, ev); err != nil {
		s.Log.Error("publishing an event failed; it stays in the event log", "event_id", ev.ID, "error", err)
	}
	return nil
}

// Close waits for the payload jobs running in this process, then releases
// the store.
func (s *Service) Close() error {
	if s.PayloadJobs != nil {
		s.PayloadJobs.Wait()
	}
	return s.close()
}

type whatsAppPlatform struct{ *whatsapp.Client }

func (whatsAppPlatform) Supports(typ string) bool                    { return whatsapp.Supports(typ) }
func (whatsAppPlatform) Validate(m message.Message) message.Problems { return whatsapp.Validate(m) }
func (whatsAppPlatform) Adapt(m message.Message, c message.Conversation, adapt bool) (message.Message, *message.Adaptation, error) {
	return whatsapp.Adapt(m, c, adapt)
}

type applePlatform struct{ *apple.Client }

func (applePlatform) Supports(typ string) bool                    { return apple.Supports(typ) }
func (applePlatform) Validate(m message.Message) message.Problems { return apple.Validate(m) }
func (applePlatform) Adapt(m message.Message, c message.Conversation, adapt bool) (message.Message, *message.Adaptation, error) {
	return apple.Adapt(m, c, adapt)
}

// AWSConfig loads the AWS SDK configuration; with a local endpoint (moto)
// it falls back to static test credentials and us-east-1.
func AWSConfig(ctx context.Context, endpointURL string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if endpointURL != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("service: loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

// endpoint points a client at a local endpoint when one is set.
func endpoint[O any](url string, set func(*O, *string)) func(*O) {
	return func(o *O) {
		if url != "" {
			set(o, aws.String(url))
		}
	}
}

// FromEnv assembles the parley of a Lambda function: its configuration
// from the environment (see LoadConfig), JSON logs on stdout.
func FromEnv(ctx context.Context) (*Service, error) {
	cfg, err := LoadConfig(ctx, os.Getenv)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg, Options{Log: logs.New(os.Stdout, cfg.LogLevel)})
}

// LoadConfig reads the configuration from getenv and, when
// PARLEY_SECRETS_ARN is set, from AWS Secrets Manager.
func LoadConfig(ctx context.Context, getenv func(string) string) (config.Config, error) {
	return config.Load(ctx, getenv, func(ctx context.Context, arn string) (map[string]string, error) {
		awscfg, err := AWSConfig(ctx, getenv(config.AWSEndpoint))
		if err != nil {
			return nil, err
		}
		c := secretsmanager.NewFromConfig(awscfg, endpoint[secretsmanager.Options](getenv(config.AWSEndpoint), func(o *secretsmanager.Options, u *string) { o.BaseEndpoint = u }))
		out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return nil, err
		}
		if out.SecretString == nil {
			return nil, errors.New("the secret has no string value")
		}
		vals := map[string]string{}
		if err := json.Unmarshal([]byte(*out.SecretString), &vals); err != nil {
			return nil, errors.New("the secret is not a JSON object of strings")
		}
		return vals, nil
	})
}
