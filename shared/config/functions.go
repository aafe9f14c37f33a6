package config

import (
	"time"

	"github.com/parleyhq/parley/shared/access"
)

// What each Lambda function reads. A function validates only these, so a
// setting it does not use can neither stop it nor be required by it; the
// template test holds template.yaml to the same lists (see Reads).

// Ingest is the configuration of functions/ingest: the webhooks, Apple
// Pay's callbacks, the payload queue, and WhatsApp sends for the fallbacks
// of messages that fail late with window_closed.
type Ingest struct {
	LogLevel            string
	MetricsNamespace    string
	SecretsTTL          time.Duration
	AWS                 AWS
	Bus                 Bus
	WhatsApp            WhatsApp
	WhatsAppWebhook     WhatsAppWebhook
	Apple               Apple
	PaymentProcessorURL string
	ApplePayCallbacks   ApplePayCallbacks
	PayloadQueueURL     string
}

// Ingest reads the configuration of functions/ingest.
func (e *Env) Ingest() Ingest {
	return Ingest{
		LogLevel:            e.LogLevel(),
		MetricsNamespace:    e.MetricsNamespace(),
		SecretsTTL:          e.SecretsTTL(),
		AWS:                 e.AWS(),
		Bus:                 e.Bus(),
		WhatsApp:            e.WhatsApp(),
		WhatsAppWebhook:     e.WhatsAppWebhook(),
		Apple:               e.AppleIdentity(),
		PaymentProcessorURL: e.reachable(PaymentProcessorURL, e.PaymentProcessorURL()), // payments go over TLS only
		ApplePayCallbacks:   e.ApplePayCallbacks(),
		PayloadQueueURL:     e.PayloadQueueURL(),
	}
}

// Send is the configuration of a function that sends: functions/send and
// functions/fallback.
type Send struct {
	LogLevel         string
	MetricsNamespace string
	SecretsTTL       time.Duration
	AWS              AWS
	Bus              Bus
	WhatsApp         WhatsApp
	Apple            Apple
	// Fetch is how the URLs callers give (attachments, images) are fetched.
	Fetch Fetch
	// RetryBudget caps a send's tries and waits together; 0 means
	// retry.DefaultBudget.
	RetryBudget time.Duration
	// IdempotencyLease is how long a send holds its idempotency key; 0
	// means the default.
	IdempotencyLease time.Duration
	// PublicURL is the webhooks' URL, where Apple Pay's callbacks arrive.
	PublicURL    string
	ApplePay     *ApplePay
	Reengagement map[string]ReengagementRule
}

// SendAPI is the configuration of functions/send.
type SendAPI struct {
	Send
	// Access limits each caller to the businesses it names.
	Access access.Scopes
}

// SendAPI reads the configuration of functions/send.
func (e *Env) SendAPI() SendAPI {
	return SendAPI{Send: e.Send(), Access: e.Access()}
}

// Send reads what sending needs: the part of the configuration that
// functions/send and functions/fallback share.
func (e *Env) Send() Send {
	return Send{
		LogLevel:         e.LogLevel(),
		MetricsNamespace: e.MetricsNamespace(),
		SecretsTTL:       e.SecretsTTL(),
		AWS:              e.AWS(),
		Bus:              e.Bus(),
		WhatsApp:         e.WhatsApp(),
		Apple:            e.AppleGateway(),
		Fetch:            e.Fetch(),
		RetryBudget:      e.SendRetryBudget(),
		IdempotencyLease: e.IdempotencyLease(),
		PublicURL:        e.reachablePublicURL(),
		ApplePay:         e.ApplePay(),
		Reengagement:     e.Reengagement(),
	}
}

// Fallback is the configuration of functions/fallback.
type Fallback struct {
	Send
	ThroughputPerSecond float64
}

// Fallback reads the configuration of functions/fallback.
func (e *Env) Fallback() Fallback {
	return Fallback{Send: e.Send(), ThroughputPerSecond: e.ThroughputPerSecond()}
}

// PayloadDecode is the configuration of functions/decode.
type PayloadDecode struct {
	LogLevel         string
	MetricsNamespace string
	SecretsTTL       time.Duration
	AWS              AWS
	Bus              Bus
	Apple            Apple
	MaxAttempts      int
}

// PayloadDecode reads the configuration of functions/decode.
func (e *Env) PayloadDecode() PayloadDecode {
	return PayloadDecode{
		LogLevel:         e.LogLevel(),
		MetricsNamespace: e.MetricsNamespace(),
		SecretsTTL:       e.SecretsTTL(),
		AWS:              e.AWS(),
		Bus:              e.Bus(),
		Apple:            e.AppleGateway(),
		MaxAttempts:      e.PayloadMaxAttempts(),
	}
}

// PayloadFetch is the configuration of functions/fetch: decode's, and
// WhatsApp's Graph API for customers' media.
type PayloadFetch struct {
	PayloadDecode
	WhatsApp WhatsApp
}

// PayloadFetch reads the configuration of functions/fetch.
func (e *Env) PayloadFetch() PayloadFetch {
	return PayloadFetch{PayloadDecode: e.PayloadDecode(), WhatsApp: e.WhatsApp()}
}

// Webhook is the configuration of functions/webhook: the app's endpoint
// and its secret (kept for SecretsTTL when it comes from the secret), the
// FIFO queue of the events, and the table where the deliveries that ran
// out of attempts are parked.
type Webhook struct {
	LogLevel         string
	MetricsNamespace string
	SecretsTTL       time.Duration
	AWS              AWS
	Hook             EventsWebhook
	QueueURL         string
}

// Webhook reads the configuration of functions/webhook, which requires the
// endpoint, its secret and the queue.
func (e *Env) Webhook() Webhook {
	// Of AWS, it uses the table alone (where deliveries are parked).
	w := Webhook{LogLevel: e.LogLevel(), MetricsNamespace: e.MetricsNamespace(), SecretsTTL: e.SecretsTTL(),
		AWS: AWS{Table: e.table(), Endpoint: e.AWSEndpoint(), Shards: 1}, QueueURL: e.fifo(EventsWebhookQueueURL, e.baseURL(EventsWebhookQueueURL, true))}
	if h := e.EventsWebhook(); h != nil {
		w.Hook = *h
		// The events carry customers' messages: over TLS only.
		w.Hook.URL = e.reachable(EventsWebhookURL, h.URL)
	} else if e.optional(EventsWebhookURL) == "" && e.optional(EventsWebhookSecret) == "" {
		e.problem("%s and %s are required", EventsWebhookURL, EventsWebhookSecret)
	}
	return w
}

// Functions maps each Lambda function to the reader of its configuration.
var Functions = map[string]func(*Env){
	"ingest":   func(e *Env) { e.Ingest() },
	"send":     func(e *Env) { e.SendAPI() },
	"fallback": func(e *Env) { e.Fallback() },
	"fetch":    func(e *Env) { e.PayloadFetch() },
	"decode":   func(e *Env) { e.PayloadDecode() },
	"webhook":  func(e *Env) { e.Webhook() },
}
