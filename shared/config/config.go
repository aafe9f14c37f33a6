// Package config is parley's one configuration loader: it reads the
// environment (and, in production, a Secrets Manager secret), checks every
// value and reports every problem in one line at start-up.
package config

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/access"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/message"
)

// Environment variable names.
const (
	WhatsAppAPIURL      = "PARLEY_WHATSAPP_API_URL"
	WhatsAppToken       = "PARLEY_WHATSAPP_TOKEN"
	WhatsAppAppSecret   = "PARLEY_WHATSAPP_APP_SECRET"
	WhatsAppVerifyToken = "PARLEY_WHATSAPP_VERIFY_TOKEN"
	AppleMSPURL         = "PARLEY_APPLE_MSP_URL"
	AppleMSPID          = "PARLEY_APPLE_MSP_ID"
	AppleMSPSecret      = "PARLEY_APPLE_MSP_SECRET"
	Table               = "PARLEY_TABLE"
	Bucket              = "PARLEY_BUCKET"
	StoreKind           = "PARLEY_STORE"
	AWSEndpoint         = "PARLEY_AWS_ENDPOINT"
	DataDir             = "PARLEY_DATA_DIR"
	SecretsARN          = "PARLEY_SECRETS_ARN"
	EventBus            = "PARLEY_EVENT_BUS"
	EventsDLQURL        = "PARLEY_EVENTS_DLQ_URL"
	LogLevel            = "PARLEY_LOG_LEVEL"
	PublicURL           = "PARLEY_PUBLIC_URL"
	ApplePayMerchantID  = "PARLEY_APPLEPAY_MERCHANT_ID"
	ApplePayDomain      = "PARLEY_APPLEPAY_DOMAIN"
	ApplePayDisplayName = "PARLEY_APPLEPAY_DISPLAY_NAME"
	ApplePayGatewayURL  = "PARLEY_APPLEPAY_GATEWAY_URL"
	ApplePayCert        = "PARLEY_APPLEPAY_CERT"
	ApplePayKey         = "PARLEY_APPLEPAY_KEY"
	PaymentProcessorURL = "PARLEY_PAYMENT_PROCESSOR_URL"
	Reengagement        = "PARLEY_REENGAGEMENT"
	ThroughputPerSecond = "PARLEY_THROUGHPUT_PER_SECOND"
	PayloadQueueURL     = "PARLEY_PAYLOAD_QUEUE_URL"
	PayloadMaxAttempts  = "PARLEY_PAYLOAD_MAX_ATTEMPTS"
	FetchLocal          = "PARLEY_FETCH_LOCAL"
	FetchAllowHosts     = "PARLEY_FETCH_ALLOW_HOSTS"
	FetchTimeout        = "PARLEY_FETCH_TIMEOUT"
	MetricsNamespace    = "PARLEY_METRICS_NAMESPACE"
	APIAccess           = "PARLEY_API_ACCESS"
	SendRetryBudget     = "PARLEY_SEND_RETRY_BUDGET"
)

// DefaultApplePayGatewayURL is Apple Pay's merchant-session endpoint.
const DefaultApplePayGatewayURL = "https://apple-pay-gateway.apple.com/paymentservices/paymentSession"

// Names lists every environment variable parley reads.
var Names = []string{
	WhatsAppAPIURL, WhatsAppToken, WhatsAppAppSecret, WhatsAppVerifyToken,
	AppleMSPURL, AppleMSPID, AppleMSPSecret,
	Table, Bucket, StoreKind, AWSEndpoint, DataDir,
	SecretsARN, EventBus, EventsDLQURL, LogLevel, PublicURL,
	ApplePayMerchantID, ApplePayDomain, ApplePayDisplayName, ApplePayGatewayURL, ApplePayCert, ApplePayKey,
	PaymentProcessorURL, Reengagement, ThroughputPerSecond, PayloadQueueURL, PayloadMaxAttempts,
	FetchLocal, FetchAllowHosts, FetchTimeout, SendRetryBudget,
	MetricsNamespace, APIAccess,
}

// SecretNames are the variables that may come from the Secrets Manager
// secret named by PARLEY_SECRETS_ARN (a JSON object keyed by these names).
var SecretNames = []string{WhatsAppToken, WhatsAppAppSecret, WhatsAppVerifyToken, AppleMSPSecret, ApplePayCert, ApplePayKey}

// Known reports whether name is a variable parley reads.
func Known(name string) bool {
	for _, n := range Names {
		if n == name {
			return true
		}
	}
	return false
}

// Store kinds.
const (
	StoreEmbedded = "embedded"
	StoreAWS      = "aws"
)

// Config is parley's checked configuration.
type Config struct {
	WhatsAppAPIURL      string
	WhatsAppToken       string
	WhatsAppAppSecret   string
	WhatsAppVerifyToken string
	AppleMSPURL         string
	AppleMSPID          string
	AppleMSPSecret      []byte // Base64-decoded
	Store               string // StoreEmbedded or StoreAWS
	Table               string
	Bucket              string
	AWSEndpoint         string
	DataDir             string
	EventBus            string
	EventsDLQURL        string
	LogLevel            string
	// PublicURL is where the platforms reach parley's webhooks (the ingest
	// Function URL); Apple Pay's callback endpoints are built on it.
	PublicURL string
	// ApplePay is set when Apple Pay requests can be sent.
	ApplePay *ApplePay
	// PaymentProcessorURL is where Apple Pay's callbacks are forwarded
	// (the business's payment processor); empty refuses them.
	PaymentProcessorURL string
	// Reengagement holds the re-engagement rules of WhatsApp businesses, by
	// phone number id (none by default).
	Reengagement map[string]ReengagementRule
	// ThroughputPerSecond is the messages per second each business number
	// may send from the fallback job (default 80).
	ThroughputPerSecond float64
	// PayloadQueueURL is the SQS queue of fetch jobs (functions/fetch);
	// empty on the embedded store, where they run in-process.
	PayloadQueueURL string
	// PayloadMaxAttempts is the delivery of a payload job on which a
	// failure is final (the queues' maxReceiveCount; default 5).
	PayloadMaxAttempts int
	// Fetch is how parley fetches the URLs callers give it (attachments,
	// images).
	Fetch Fetch
	// MetricsNamespace is the CloudWatch namespace of the metrics written
	// as Embedded Metric Format lines to standard output; empty writes
	// none (the local stack).
	MetricsNamespace string
	// Access limits each caller of the send API (an IAM principal) to the
	// businesses it names; nil lets every caller act for every business.
	Access access.Scopes
	// SendRetryBudget caps a send's tries and waits together (default
	// retry.DefaultBudget), inside the send function's 29-second timeout.
	SendRetryBudget time.Duration
}

// MaxSendRetryBudget is the largest SendRetryBudget: it leaves the send
// function (29 s) time to check, record and answer.
const MaxSendRetryBudget = 25 * time.Second

// Fetch configures the fetching of callers' URLs (shared/safefetch).
type Fetch struct {
	// Local also allows plain http and loopback addresses: the local
	// stack's simulators and test servers. Never in production.
	Local bool
	// AllowHosts, when set, are the only hosts fetched.
	AllowHosts []string
	// Timeout caps one fetch; 0 means safefetch's default.
	Timeout time.Duration
}

// ReengagementRule is one business's entry in PARLEY_REENGAGEMENT: send
// Template MinutesBefore the window closes on an unanswered interactive
// message.
type ReengagementRule struct {
	MinutesBefore int             `json:"minutesBefore"`
	Template      message.Message `json:"template"`
}

// DefaultThroughputPerSecond is WhatsApp Cloud API's default throughput
// per business number.
const DefaultThroughputPerSecond = 80

// reengagement reads PARLEY_REENGAGEMENT: a JSON object from WhatsApp
// phone number id to {"minutesBefore", "template": {"name", "language",
// "components"}}.
func reengagement(v string, problems *[]string) map[string]ReengagementRule {
	if v == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	var rules map[string]ReengagementRule
	if err := dec.Decode(&rules); err != nil {
		*problems = append(*problems, Reengagement+` must be a JSON object {"<phone number id>": {"minutesBefore": 60, "template": {"name", "language", "components"}}}: `+err.Error())
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(rules)) {
		r := rules[id]
		if r.MinutesBefore < 1 || r.MinutesBefore > 1439 {
			*problems = append(*problems, fmt.Sprintf("%s: %s: minutesBefore %d, it must be 1 to 1439 (the window lasts 24 hours)", Reengagement, id, r.MinutesBefore))
		}
		if r.Template.Type == "" {
			r.Template.Type = message.TypeTemplate
		}
		if r.Template.Type != message.TypeTemplate || r.Template.Name == "" || r.Template.Language == "" {
			*problems = append(*problems, fmt.Sprintf("%s: %s: template must be a template with a name and a language", Reengagement, id))
		}
		rules[id] = r
	}
	return rules
}

// ApplePay is the configuration of Apple Pay requests.
type ApplePay struct {
	MerchantID  string
	Domain      string
	DisplayName string
	GatewayURL  string
	CertPEM     []byte
	KeyPEM      []byte
}

// SecretSource fetches a Secrets Manager secret: a JSON object whose keys
// are SecretNames.
type SecretSource func(ctx context.Context, arn string) (map[string]string, error)

// Load reads the configuration from getenv. When PARLEY_SECRETS_ARN is set,
// the secret values it holds fill the variables of SecretNames that the
// environment leaves empty. The error names every missing or malformed
// variable, never a secret's value.
func Load(ctx context.Context, getenv func(string) string, secrets SecretSource) (Config, error) {
	get := getenv
	if arn := getenv(SecretsARN); arn != "" {
		if secrets == nil {
			return Config{}, fmt.Errorf("config: %s is set but no Secrets Manager client is available", SecretsARN)
		}
		vals, err := secrets(ctx, arn)
		if err != nil {
			return Config{}, fmt.Errorf("config: reading the secret %s: %w", SecretsARN, err)
		}
		get = func(name string) string {
			if v := getenv(name); v != "" {
				return v
			}
			return vals[name]
		}
	}

	var problems []string
	need := func(name string) string {
		v := strings.TrimSpace(get(name))
		if v == "" {
			problems = append(problems, name+" is required")
		}
		return v
	}
	urlOf := func(name string) string {
		v := need(name)
		if v == "" {
			return ""
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, name+" must be an http(s) URL")
			return ""
		}
		return strings.TrimRight(v, "/")
	}

	c := Config{
		WhatsAppAPIURL:      urlOf(WhatsAppAPIURL),
		WhatsAppToken:       need(WhatsAppToken),
		WhatsAppAppSecret:   need(WhatsAppAppSecret),
		WhatsAppVerifyToken: need(WhatsAppVerifyToken),
		AppleMSPURL:         urlOf(AppleMSPURL),
		AppleMSPID:          need(AppleMSPID),
		Store:               strings.TrimSpace(get(StoreKind)),
		AWSEndpoint:         strings.TrimSpace(get(AWSEndpoint)),
		DataDir:             strings.TrimSpace(get(DataDir)),
		EventBus:            strings.TrimSpace(get(EventBus)),
		EventsDLQURL:        strings.TrimSpace(get(EventsDLQURL)),
		LogLevel:            strings.ToLower(strings.TrimSpace(get(LogLevel))),
	}
	if s := need(AppleMSPSecret); s != "" {
		key, err := apple.DecodeSecret(s)
		if err != nil {
			problems = append(problems, AppleMSPSecret+" must be Base64, as Apple issues it")
		}
		c.AppleMSPSecret = key
	}
	switch c.Store {
	case "":
		c.Store = StoreEmbedded
	case StoreEmbedded, StoreAWS:
	default:
		problems = append(problems, fmt.Sprintf("%s must be %q or %q", StoreKind, StoreEmbedded, StoreAWS))
	}
	if c.Store == StoreAWS {
		c.Table = need(Table)
		c.Bucket = need(Bucket)
	}
	if c.Store == StoreEmbedded && c.DataDir == "" {
		c.DataDir = ".parley"
	}
	if c.AWSEndpoint != "" {
		if u, err := url.Parse(c.AWSEndpoint); err != nil || u.Host == "" {
			problems = append(problems, AWSEndpoint+" must be a URL")
		}
	}
	if v := strings.TrimSpace(get(PublicURL)); v != "" {
		c.PublicURL = urlOf(PublicURL)
	}
	c.ApplePay = applePay(get, urlOf, &problems)
	if strings.TrimSpace(get(PaymentProcessorURL)) != "" {
		c.PaymentProcessorURL = urlOf(PaymentProcessorURL)
	}
	c.Reengagement = reengagement(strings.TrimSpace(get(Reengagement)), &problems)
	c.ThroughputPerSecond = DefaultThroughputPerSecond
	if v := strings.TrimSpace(get(ThroughputPerSecond)); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n <= 0 || n > 1000 {
			problems = append(problems, ThroughputPerSecond+" must be a number of messages per second above 0, at most 1000")
		}
		c.ThroughputPerSecond = n
	}
	c.PayloadQueueURL = strings.TrimSpace(get(PayloadQueueURL))
	c.MetricsNamespace = strings.TrimSpace(get(MetricsNamespace))
	if scopes, err := access.Parse(get(APIAccess)); err != nil {
		problems = append(problems, APIAccess+" "+err.Error())
	} else {
		c.Access = scopes
	}
	c.PayloadMaxAttempts = 5
	if v := strings.TrimSpace(get(PayloadMaxAttempts)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			problems = append(problems, PayloadMaxAttempts+" must be a whole number from 1 to 100")
		}
		c.PayloadMaxAttempts = n
	}
	c.Fetch = fetch(get, &problems)
	if v := strings.TrimSpace(get(SendRetryBudget)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > MaxSendRetryBudget {
			problems = append(problems, fmt.Sprintf("%s must be a duration above 0, at most %s (the send function's timeout is 29s), e.g. 20s", SendRetryBudget, MaxSendRetryBudget))
		}
		c.SendRetryBudget = d
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		problems = append(problems, LogLevel+" must be debug, info, warn or error")
	}
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("config: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// fetch reads the settings of the fetching of callers' URLs.
func fetch(get func(string) string, problems *[]string) Fetch {
	var f Fetch
	switch v := strings.TrimSpace(get(FetchLocal)); v {
	case "", "false":
	case "true":
		f.Local = true
	default:
		*problems = append(*problems, FetchLocal+" must be true or false")
	}
	for h := range strings.SplitSeq(get(FetchAllowHosts), ",") {
		if h = strings.TrimSpace(h); h != "" {
			if strings.ContainsAny(h, "/:@ ") {
				*problems = append(*problems, fmt.Sprintf("%s: %q is not a host name (give names like cdn.example.com or *.example.com)", FetchAllowHosts, h))
			}
			f.AllowHosts = append(f.AllowHosts, h)
		}
	}
	if v := strings.TrimSpace(get(FetchTimeout)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 10*time.Minute {
			*problems = append(*problems, FetchTimeout+" must be a duration above 0, at most 10m, e.g. 15s")
		}
		f.Timeout = d
	}
	return f
}

// applePay reads the Apple Pay settings: all or none of the required ones.
func applePay(get func(string) string, urlOf func(string) string, problems *[]string) *ApplePay {
	required := []string{ApplePayMerchantID, ApplePayCert, ApplePayKey, PublicURL}
	var set, missing []string
	for _, n := range required {
		if strings.TrimSpace(get(n)) != "" {
			set = append(set, n)
		} else {
			missing = append(missing, n)
		}
	}
	if len(set) == 0 || (len(set) == 1 && set[0] == PublicURL) {
		return nil
	}
	if len(missing) > 0 {
		*problems = append(*problems, "Apple Pay needs "+strings.Join(missing, ", ")+" too (or none of "+strings.Join(required[:3], ", ")+")")
		return nil
	}
	p := &ApplePay{
		MerchantID:  strings.TrimSpace(get(ApplePayMerchantID)),
		Domain:      strings.TrimSpace(get(ApplePayDomain)),
		DisplayName: strings.TrimSpace(get(ApplePayDisplayName)),
		GatewayURL:  DefaultApplePayGatewayURL,
		CertPEM:     []byte(get(ApplePayCert)),
		KeyPEM:      []byte(get(ApplePayKey)),
	}
	if strings.TrimSpace(get(ApplePayGatewayURL)) != "" {
		p.GatewayURL = urlOf(ApplePayGatewayURL)
	}
	if p.DisplayName == "" {
		p.DisplayName = p.MerchantID
	}
	if p.Domain == "" {
		if u, err := url.Parse(strings.TrimSpace(get(PublicURL))); err == nil {
			p.Domain = u.Hostname()
		}
	}
	return p
}
