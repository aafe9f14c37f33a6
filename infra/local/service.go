package local

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/parleyhq/parley/shared/access"
	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/awsenv"
	"github.com/parleyhq/parley/shared/awsenv/adapters"
	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/logs"
	"github.com/parleyhq/parley/shared/payload"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/schedule"
	"github.com/parleyhq/parley/shared/send"
	"github.com/parleyhq/parley/shared/service"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/dynamo"
	"github.com/parleyhq/parley/shared/store/embedded"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// Config is the local stack's configuration: every function's settings,
// and the store to run on.
type Config struct {
	LogLevel string
	// Store is config.StoreEmbedded (in DataDir) or config.StoreAWS (AWS).
	Store               string
	DataDir             string
	AWS                 config.AWS
	Bus                 config.Bus
	Send                config.Send
	WhatsAppWebhook     config.WhatsAppWebhook
	PaymentProcessorURL string
	ApplePayCallbacks   config.ApplePayCallbacks
	ThroughputPerSecond float64
	PayloadQueueURL     string
	PayloadMaxAttempts  int
	Access              access.Scopes
	// EventsWebhook, when set, receives every event from this process.
	EventsWebhook *config.EventsWebhook
}

// loadConfig reads the local stack's configuration from getenv and, when
// PARLEY_SECRETS_ARN is set, from Secrets Manager.
func loadConfig(ctx context.Context, getenv func(string) string) (Config, error) {
	var secrets config.SecretSource
	if getenv(config.SecretsARN) != "" {
		aws, err := awsClient(ctx, getenv(config.AWSEndpoint))
		if err != nil {
			return Config{}, err
		}
		secrets = awsenv.Secrets(aws)
	}
	env, err := config.Load(ctx, getenv, secrets)
	if err != nil {
		return Config{}, err
	}
	c := Config{
		LogLevel: env.LogLevel(),
		Store:    env.Store(),
		Bus:      env.Bus(),
		Send: config.Send{WhatsApp: env.WhatsApp(), Apple: env.AppleGateway(), Fetch: env.Fetch(), RetryBudget: env.SendRetryBudget(), IdempotencyLease: env.IdempotencyLease(), PublicURL: env.PublicURL(),
			ApplePay: env.ApplePay(), Reengagement: env.Reengagement()},
		WhatsAppWebhook:     env.WhatsAppWebhook(),
		PaymentProcessorURL: env.PaymentProcessorURL(),
		ApplePayCallbacks:   env.ApplePayCallbacks(),
		ThroughputPerSecond: env.ThroughputPerSecond(),
		PayloadQueueURL:     env.PayloadQueueURL(),
		PayloadMaxAttempts:  env.PayloadMaxAttempts(),
		Access:              env.Access(),
		EventsWebhook:       env.EventsWebhook(),
	}
	if c.Store == config.StoreAWS {
		c.AWS = env.AWS()
		c.Send.AWS, c.Send.Bus = c.AWS, c.Bus
	} else {
		c.DataDir = env.DataDir()
		c.AWS.Endpoint = env.AWSEndpoint()
	}
	return c, env.Err()
}

// Service is the parley a local stack runs: every use case in one process.
type Service struct {
	Config   Config
	Store    store.Store
	Blobs    store.Blobs
	Sender   *send.Sender
	Ingester *ingest.Ingester
	// Fallback is the job functions/fallback runs on a schedule.
	Fallback *schedule.Job
	// Payload fetches and decodes large payloads and attachments.
	Payload *payload.Service
	// PayloadJobs runs the payload jobs in this process when no queue is
	// configured; nil otherwise.
	PayloadJobs *queue.InProcess
	Publisher   bus.Publisher
	Clock       clock.Clock
	Log         *slog.Logger
	api         http.Handler
	webhooks    http.Handler
	// parking keeps the event webhooks that ran out of attempts; hooks
	// delivers them when PARLEY_EVENTS_WEBHOOK_URL is set.
	parking apphook.Parking
	hooks   *apphook.Dispatcher
	close   func() error
}

// serviceOptions are what tests of the local stack replace.
type serviceOptions struct {
	Clock        clock.Clock
	Log          io.Writer
	Retry        *retry.Policy
	Sleep        func(ctx context.Context, d time.Duration) error
	ApplePayHTTP *http.Client
}

// newService assembles parley on the embedded store, or on DynamoDB and
// S3 (creating the table and bucket on a local endpoint).
func newService(ctx context.Context, cfg Config, o serviceOptions) (*Service, error) {
	s := &Service{Config: cfg, Clock: o.Clock, Log: logs.New(o.Log, cfg.LogLevel), Publisher: bus.Discard{}, close: func() error { return nil }}
	if s.Clock == nil {
		s.Clock = clock.System{}
	}
	switch cfg.Store {
	case config.StoreAWS:
		aws, err := awsClient(ctx, cfg.AWS.Endpoint)
		if err != nil {
			return nil, err
		}
		if cfg.AWS.Endpoint != "" {
			if err := dynamo.CreateTable(ctx, aws, cfg.AWS.Table); err != nil {
				return nil, fmt.Errorf("local: creating table %s: %w", cfg.AWS.Table, err)
			}
			if err := dynamo.CreateBucket(ctx, aws, cfg.AWS.Bucket); err != nil {
				return nil, fmt.Errorf("local: creating bucket %s: %w", cfg.AWS.Bucket, err)
			}
		}
		st := adapters.Store(aws, cfg.AWS, s.Clock)
		s.Store, s.Blobs = st, st
		s.Publisher = adapters.Publisher(aws, cfg.Bus, s.Log)
		s.parking = apphook.Table{Client: dynamodb.New(aws), Name: cfg.AWS.Table}
	default:
		st, err := embedded.Open(cfg.DataDir, s.Clock)
		if err != nil {
			return nil, fmt.Errorf("local: opening the embedded store in %s: %w", cfg.DataDir, err)
		}
		s.Store, s.Blobs = st, st
		s.close = st.Close
		s.parking = apphook.Dir(filepath.Join(cfg.DataDir, "webhooks-failed"))
	}
	if w := cfg.EventsWebhook; w != nil {
		// Every event also goes to the app, from this process.
		post := (&apphook.Client{URL: w.URL, Key: w.Key, Now: s.Clock.Now}).Post
		s.hooks = &apphook.Dispatcher{Post: post, Parking: s.parking, Now: s.Clock.Now, Log: s.Log}
		s.Publisher = bus.Many{s.Publisher, s.hooks}
	}

	p := service.Ports{Store: s.Store, Blobs: s.Blobs, Publisher: s.Publisher, Clock: s.Clock, Log: s.Log}
	opts := service.Options{Retry: o.Retry, ApplePayHTTP: o.ApplePayHTTP}
	var err error
	if s.Sender, err = service.Sender(cfg.Send, p, opts); err != nil {
		return nil, err
	}
	authKeys := service.AuthKeys(cfg.Send.Apple, p)
	s.Ingester = &ingest.Ingester{Store: s.Store, Blobs: s.Blobs, Publisher: s.Publisher, Clock: s.Clock, AuthTokens: authKeys, Log: s.Log,
		Fallbacks: s.Sender}
	policy := retry.Default
	if o.Retry != nil {
		policy = *o.Retry
	}
	a := cfg.Send.Apple
	s.Payload = &payload.Service{Store: s.Store, Blobs: s.Blobs, Publisher: s.Publisher, Clock: s.Clock, Log: s.Log,
		MMCS:       &apple.MMCS{Client: &apple.Client{BaseURL: a.MSPURL, MSPID: a.MSPID, Secret: a.Secret, Now: s.Clock.Now}},
		AuthTokens: authKeys, MaxAttempts: cfg.PayloadMaxAttempts, Retry: payload.RetryPolicy(policy),
		Media: &whatsapp.Client{BaseURL: cfg.Send.WhatsApp.APIURL, Token: cfg.Send.WhatsApp.Token}}
	if cfg.PayloadQueueURL != "" {
		aws, err := awsClient(ctx, cfg.AWS.Endpoint)
		if err != nil {
			return nil, err
		}
		s.Ingester.Payloads = adapters.Queue(aws, cfg.PayloadQueueURL)
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
	s.Fallback = &schedule.Job{Store: s.Store, Sender: s.Sender, Clock: s.Clock, Log: s.Log, PerSecond: cfg.ThroughputPerSecond, Sleep: o.Sleep}
	files, err := service.NewFiles(p, cfg.Send.PublicURL)
	if err != nil {
		return nil, err
	}
	s.Payload.Presign = files.Presign
	s.api = service.API(s.Sender, p, cfg.Send.PublicURL, files, cfg.Access)
	s.webhooks = service.Webhooks(s.Ingester, cfg.WhatsAppWebhook, a, cfg.PaymentProcessorURL, cfg.ApplePayCallbacks, p)
	if s.hooks != nil {
		s.api = service.WithDeliveries(s.api, apphook.Deliveries{Parking: s.parking, Again: s.hooks}, s.Log, cfg.Access)
	}
	return s, nil
}

// API is the send API's handler.
func (s *Service) API() http.Handler { return s.api }

// Webhooks is the webhooks' handler.
func (s *Service) Webhooks() http.Handler { return s.webhooks }

// RunFallback runs the fallback job once, stopping before deadline (zero:
// no limit).
func (s *Service) RunFallback(ctx context.Context, deadline time.Time) (schedule.Report, error) {
	return s.Fallback.Run(ctx, deadline)
}

// Close waits for the payload jobs running in this process, then releases
// the store.
func (s *Service) Close() error {
	if s.PayloadJobs != nil {
		s.PayloadJobs.Wait()
	}
	if s.hooks != nil {
		s.hooks.Close()
	}
	return s.close()
}

// awsClient returns the AWS client of the local stack. On a local endpoint
// (moto) it takes the environment's keys, or test/test; otherwise, since
// the local stack may run against a developer's own account, the region
// and credentials the SDK's default chain resolves (environment, shared
// files, SSO), read once at start.
func awsClient(ctx context.Context, endpoint string) (*awsapi.Client, error) {
	if endpoint != "" {
		return awsapi.FromEnv(os.Getenv, endpoint), nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("local: loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cr, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("local: reading the AWS credentials: %w", err)
	}
	return &awsapi.Client{Region: cfg.Region, Credentials: awsapi.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken}}, nil
}
