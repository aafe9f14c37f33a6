// Package config is parley's one configuration loader. A function reads the
// settings it uses, and only those, from the environment (and, in
// production, a Secrets Manager secret); every missing or malformed one is
// reported in one line at start-up.
package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/shared/access"
	"github.com/parleyhq/parley/shared/apphook"
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
	WriteShards         = "PARLEY_WRITE_SHARDS"
	FetchLocal          = "PARLEY_FETCH_LOCAL"
	FetchAllowHosts     = "PARLEY_FETCH_ALLOW_HOSTS"
	FetchTimeout        = "PARLEY_FETCH_TIMEOUT"
	MetricsNamespace    = "PARLEY_METRICS_NAMESPACE"
	APIAccess           = "PARLEY_API_ACCESS"
	SecretsTTL          = "PARLEY_SECRETS_TTL"
	SendRetryBudget     = "PARLEY_SEND_RETRY_BUDGET"
	// The app's own event webhook (signed HTTP POSTs beside EventBridge).
	EventsWebhookURL      = "PARLEY_EVENTS_WEBHOOK_URL"
	EventsWebhookSecret   = "PARLEY_EVENTS_WEBHOOK_SECRET"
	EventsWebhookQueueURL = "PARLEY_EVENTS_WEBHOOK_QUEUE_URL"
	IdempotencyLease      = "PARLEY_IDEMPOTENCY_LEASE"
)

// Names are every setting parley reads, by any function or the local
// stack.
var Names = []string{
	WhatsAppAPIURL, WhatsAppToken, WhatsAppAppSecret, WhatsAppVerifyToken, AppleMSPURL, AppleMSPID, AppleMSPSecret,
	Table, Bucket, StoreKind, AWSEndpoint, DataDir, SecretsARN, EventBus, EventsDLQURL, LogLevel, PublicURL,
	ApplePayMerchantID, ApplePayDomain, ApplePayDisplayName, ApplePayGatewayURL, ApplePayCert, ApplePayKey,
	PaymentProcessorURL, Reengagement, ThroughputPerSecond, PayloadQueueURL, PayloadMaxAttempts, WriteShards,
	FetchLocal, FetchAllowHosts, FetchTimeout, MetricsNamespace, APIAccess, SecretsTTL, SendRetryBudget,
	EventsWebhookURL, EventsWebhookSecret, EventsWebhookQueueURL, IdempotencyLease,
	ApplePayLifetime, ApplePayPaymentAttempts, ApplePayCallbacksPerRequest, ApplePayCallbackRate,
}

// DefaultApplePayGatewayURL is Apple Pay's merchant-session endpoint.
const DefaultApplePayGatewayURL = "https://apple-pay-gateway.apple.com/paymentservices/paymentSession"

// SecretNames are the variables that may come from the Secrets Manager
// secret named by PARLEY_SECRETS_ARN (a JSON object keyed by these names).
var SecretNames = []string{WhatsAppToken, WhatsAppAppSecret, WhatsAppVerifyToken, AppleMSPSecret, ApplePayCert, ApplePayKey, EventsWebhookSecret}

// SecretSource fetches a Secrets Manager secret: a JSON object whose keys
// are SecretNames.
type SecretSource func(ctx context.Context, arn string) (map[string]string, error)

// Env reads settings. Each reader records what is missing or malformed
// and returns the zero value for it; Err then reports every problem in one
// line that names the settings, never a secret's value.
type Env struct {
	get      func(string) string
	problems []string
	// fromSecret is set when the secret settings may come from the secret.
	fromSecret bool
}

// Load returns the settings of getenv. When PARLEY_SECRETS_ARN is set, the
// values of the secret it names fill the variables of SecretNames that the
// environment leaves empty or blank. A PARLEY_ variable of the process's
// environment that is no setting of parley's (a misspelt name), and a key
// of the secret that is no secret setting, are problems: a typo never
// leaves a setting at its default unnoticed.
func Load(ctx context.Context, getenv func(string) string, secrets SecretSource) (*Env, error) {
	e := &Env{get: getenv}
	for _, kv := range os.Environ() {
		// Only the names getenv also gives: the process's own
		// environment, not a test's.
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "PARLEY_") && !slices.Contains(Names, name) && getenv(name) != "" {
			e.problem("%s is not a setting of parley's%s", name, didYouMean(name, Names))
		}
	}
	arn := strings.TrimSpace(getenv(SecretsARN))
	if arn == "" {
		return e, nil
	}
	if err := checkSecretARN(arn, getenv("AWS_REGION")); err != nil {
		return nil, fmt.Errorf("config: %s %v", SecretsARN, err)
	}
	if secrets == nil {
		return nil, fmt.Errorf("config: %s is set but no Secrets Manager client is available", SecretsARN)
	}
	vals, err := secrets(ctx, arn)
	if err != nil {
		return nil, fmt.Errorf("config: reading the secret %s: %w", SecretsARN, err)
	}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		switch {
		case slices.Contains(SecretNames, k):
		case slices.Contains(Names, k):
			e.problem("the secret %s holds %s, which is read from the environment only", SecretsARN, k)
		case strings.HasPrefix(k, "PARLEY_"):
			e.problem("the secret %s holds %s, which is not a setting of parley's%s", SecretsARN, k, didYouMean(k, SecretNames))
		}
	}
	e.fromSecret = true
	e.get = func(name string) string {
		if v := getenv(name); strings.TrimSpace(v) != "" {
			return v
		}
		if slices.Contains(SecretNames, name) {
			return vals[name]
		}
		return ""
	}
	return e, nil
}

// checkSecretARN checks PARLEY_SECRETS_ARN when it is an ARN rather than a
// secret's name: a Secrets Manager secret of the partition and region the
// function runs in (region; "" when unknown), where its client reads.
func checkSecretARN(arn, region string) error {
	if !strings.HasPrefix(arn, "arn:") {
		return nil
	}
	f := strings.SplitN(arn, ":", 7)
	if len(f) != 7 || f[2] != "secretsmanager" || f[3] == "" || len(f[4]) != 12 || strings.Trim(f[4], "0123456789") != "" || f[5] != "secret" || f[6] == "" {
		return errors.New("must be the ARN of a Secrets Manager secret, arn:aws:secretsmanager:<region>:<account>:secret:<name>")
	}
	if region == "" {
		return nil
	}
	if f[3] != region {
		return fmt.Errorf("names a secret of the region %s; the function runs in %s and reads the secrets of its own region", f[3], region)
	}
	if want := partition(region); f[1] != want {
		return fmt.Errorf("names a secret of the partition %s; the region %s is in %s", f[1], region, want)
	}
	return nil
}

// partition returns the AWS partition of region.
func partition(region string) string {
	for _, p := range []struct{ prefix, partition string }{
		{"cn-", "aws-cn"}, {"eusc-", "aws-eusc"}, {"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"}, {"us-iso-", "aws-iso"},
		{"eu-isoe-", "aws-iso-e"}, {"us-isof-", "aws-iso-f"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

// didYouMean returns ", did you mean X?" for the name of names nearest to
// name, when one is near enough to be a typo of it; "" otherwise.
func didYouMean(name string, names []string) string {
	best, dist := "", 4
	for _, n := range names {
		if d := editDistance(name, n); d < dist {
			best, dist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return ", did you mean " + best + "?"
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Err reports every problem found so far, or nil.
func (e *Env) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return fmt.Errorf("config: %s", strings.Join(e.problems, "; "))
}

// Reads returns the names of the variables read reads, sorted: what a
// function's configuration consists of.
func Reads(read func(*Env)) []string {
	seen := map[string]bool{}
	read(&Env{get: func(name string) string { seen[name] = true; return "" }})
	return slices.Sorted(maps.Keys(seen))
}

// problem records a problem once, however many readers come across it.
func (e *Env) problem(format string, args ...any) {
	if p := fmt.Sprintf(format, args...); !slices.Contains(e.problems, p) {
		e.problems = append(e.problems, p)
	}
}

// optional returns name's value, trimmed; "" when unset.
func (e *Env) optional(name string) string { return strings.TrimSpace(e.get(name)) }

func (e *Env) required(name string) string {
	v := e.optional(name)
	switch {
	case v != "":
	case e.fromSecret && slices.Contains(SecretNames, name):
		e.problem("%s is required (in the environment or the secret %s)", name, SecretsARN)
	default:
		e.problem("%s is required", name)
	}
	return v
}

// url returns name's value as an http(s) URL without a trailing slash;
// "" when unset and not required.
func (e *Env) url(name string, required bool) string {
	v := e.optional(name)
	if v == "" {
		if required {
			e.problem("%s is required", name)
		}
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		e.problem("%s must be an http(s) URL", name)
		return ""
	}
	return strings.TrimRight(v, "/")
}

// reachableURL reads name as baseURL does, and holds it to what a URL the
// platforms or the app's servers reach must be (see reachable).
func (e *Env) reachableURL(name string, required bool) string {
	return e.reachable(name, e.baseURL(name, required))
}

// baseURL reads name as url does: a URL parley adds paths to, or that
// takes none (a queue's), so it has no user, query or fragment.
func (e *Env) baseURL(name string, required bool) string {
	v := e.url(name, required)
	if u, err := url.Parse(v); v != "" && err == nil {
		switch {
		case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
			e.problem("%s must have no query or fragment", name)
			return ""
		case u.User != nil:
			e.problem("%s must have no user or password", name)
			return ""
		}
	}
	return v
}

// reachable checks v, the URL name gives, as one that leaves this machine
// must be: https, plain http only to this machine (the local stack,
// tests).
func (e *Env) reachable(name, v string) string {
	if u, err := url.Parse(v); v != "" && err == nil && u.Scheme == "http" && !loopback(u.Hostname()) {
		e.problem("%s must be an https URL (plain http only to localhost)", name)
		return ""
	}
	return v
}

// hostName reports whether s is a host name: labels of letters, digits
// and hyphens between dots.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") ||
			strings.IndexFunc(label, func(r rune) bool { return r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) }) >= 0 {
			return false
		}
	}
	return true
}

// loopback reports whether host is this machine.
func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// LogLevel is the least severe level logged: debug, info (the default),
// warn or error.
func (e *Env) LogLevel() string {
	v := strings.ToLower(e.optional(LogLevel))
	switch v {
	case "", "debug", "info", "warn", "error":
	default:
		e.problem("%s must be debug, info, warn or error", LogLevel)
	}
	return v
}

// AWS is where parley's AWS resources are.
type AWS struct {
	Table  string
	Bucket string
	// Endpoint replaces AWS's endpoints (a local moto server); "" in
	// production.
	Endpoint string
	// Shards is how many partitions the event log and the due index are
	// written over (store/dynamo.Config.Shards).
	Shards int
}

// AWS reads the table, the bucket, the optional local endpoint and the
// number of write shards (default 1; it may grow, never shrink).
func (e *Env) AWS() AWS {
	a := AWS{Table: e.table(), Bucket: e.required(Bucket), Endpoint: e.AWSEndpoint(), Shards: 1}
	if a.Bucket != "" && !bucketName(a.Bucket) {
		e.problem("%s must be an S3 bucket name: 3 to 63 lowercase letters, digits, '-' and '.', beginning and ending with a letter or digit, not an IP address", Bucket)
	}
	if v := e.optional(WriteShards); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			e.problem("%s must be a whole number from 1 to 64", WriteShards)
		}
		a.Shards = n
	}
	return a
}

// table reads the DynamoDB table's name.
func (e *Env) table() string {
	v := e.required(Table)
	if v != "" && !tableName(v) {
		e.problem("%s must be a DynamoDB table name: 3 to 255 letters, digits, '_', '-' and '.'", Table)
	}
	return v
}

// tableName reports whether s is a name DynamoDB accepts for a table.
func tableName(s string) bool {
	return len(s) >= 3 && len(s) <= 255 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == ""
}

// bucketName reports whether s is a name S3 accepts for a general purpose
// bucket in the object operations parley makes: a bucket's name, or an
// access point's alias (…-s3alias), which S3 takes in its place.
func bucketName(s string) bool {
	if len(s) < 3 || len(s) > 63 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") != "" || strings.Contains(s, "..") {
		return false
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(s, p) {
			return false
		}
	}
	for _, x := range []string{"--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(s, x) {
			return false
		}
	}
	return true
}

// AWSEndpoint reads the optional local AWS endpoint.
func (e *Env) AWSEndpoint() string { return e.baseURL(AWSEndpoint, false) }

// Bus is where events are published; empty Name publishes none.
// WebhookQueueURL, when set, also queues every event for the webhook
// function (the app's signed HTTP webhook, AWS).
type Bus struct {
	WebhookQueueURL string
	Name            string
	// DLQURL is the queue of events EventBridge refused.
	DLQURL string
}

// Bus reads the event bus and its dead-letter queue.
func (e *Env) Bus() Bus {
	b := Bus{Name: e.optional(EventBus), DLQURL: e.baseURL(EventsDLQURL, false), WebhookQueueURL: e.baseURL(EventsWebhookQueueURL, false)}
	b.WebhookQueueURL = e.fifo(EventsWebhookQueueURL, b.WebhookQueueURL)
	if b.Name != "" && !eventBus(b.Name) {
		e.problem("%s must be the name or ARN of an EventBridge event bus: letters, digits, '.', '-', '_' and '/'", EventBus)
	}
	return b
}

// fifo checks v, the queue URL name gives, as that of a FIFO queue, whose
// name ends in .fifo: the events of a conversation keep their order in it.
func (e *Env) fifo(name, v string) string {
	if v != "" && !strings.HasSuffix(v, ".fifo") {
		e.problem("%s must be the URL of a FIFO queue (its name ends in .fifo)", name)
		return ""
	}
	return v
}

// eventBus reports whether s is a name or ARN EventBridge accepts for an
// event bus.
func eventBus(s string) bool {
	if strings.HasPrefix(s, "arn:") {
		f := strings.SplitN(s, ":", 6)
		if len(f) != 6 || f[2] != "events" || !strings.HasPrefix(f[5], "event-bus/") {
			return false
		}
		s = strings.TrimPrefix(f[5], "event-bus/")
	}
	return s != "" && len(s) <= 256 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") == ""
}

// EventsWebhook is the app's endpoint for events, signed with Key (the
// secret's bytes).
type EventsWebhook struct {
	URL string
	Key []byte
}

// EventsWebhook reads the app's endpoint: URL and secret, both or neither;
// nil when neither is set.
func (e *Env) EventsWebhook() *EventsWebhook {
	u, secret := e.optional(EventsWebhookURL), e.optional(EventsWebhookSecret)
	if u == "" && secret == "" {
		return nil
	}
	if u == "" || secret == "" {
		e.problem("%s and %s go together: set both or neither", EventsWebhookURL, EventsWebhookSecret)
		return nil
	}
	w := &EventsWebhook{}
	if e.url(EventsWebhookURL, true) != "" {
		// Posted to as set: a trailing slash may be part of its route.
		w.URL = u
	}
	key, err := apphook.ParseSecret(secret)
	if err != nil {
		e.problem("%s %v", EventsWebhookSecret, err)
	}
	w.Key = key
	return w
}

// WhatsApp is what sending on WhatsApp needs.
type WhatsApp struct {
	APIURL string
	Token  string
}

// WhatsApp reads the Graph API's URL and the access token.
func (e *Env) WhatsApp() WhatsApp {
	w := WhatsApp{APIURL: e.baseURL(WhatsAppAPIURL, true), Token: e.required(WhatsAppToken)}
	if u, err := url.Parse(w.APIURL); w.APIURL != "" && err == nil && !graphVersion(u.Path[strings.LastIndex(u.Path, "/")+1:]) {
		e.problem("%s must end with the Graph API's version, e.g. https://graph.facebook.com/v25.0", WhatsAppAPIURL)
	}
	return w
}

// graphVersion reports whether s is a Graph API version, e.g. v25.0.
func graphVersion(s string) bool {
	major, minor, ok := strings.Cut(strings.TrimPrefix(s, "v"), ".")
	digits := func(d string) bool { return d != "" && strings.Trim(d, "0123456789") == "" }
	return ok && strings.HasPrefix(s, "v") && digits(major) && digits(minor)
}

// WhatsAppWebhook is what verifying Meta's webhooks needs.
type WhatsAppWebhook struct {
	AppSecret   string
	VerifyToken string
}

// WhatsAppWebhook reads the app secret and the verify token.
func (e *Env) WhatsAppWebhook() WhatsAppWebhook {
	return WhatsAppWebhook{AppSecret: e.required(WhatsAppAppSecret), VerifyToken: e.required(WhatsAppVerifyToken)}
}

// Apple is parley's identity at Apple's gateway, and the gateway's URL when
// the function calls it.
type Apple struct {
	MSPURL string
	MSPID  string
	Secret []byte // Base64-decoded
}

// AppleGateway reads what calling Apple's gateway needs: its URL, the MSP
// id and the secret.
func (e *Env) AppleGateway() Apple {
	a := e.AppleIdentity()
	a.MSPURL = e.baseURL(AppleMSPURL, true)
	return a
}

// AppleIdentity reads the MSP id and the secret: what verifying Apple's
// webhooks and opening sealed auth keys need.
func (e *Env) AppleIdentity() Apple {
	a := Apple{MSPID: e.required(AppleMSPID)}
	if s := e.required(AppleMSPSecret); s != "" {
		key, err := apple.DecodeSecret(s)
		if err != nil {
			e.problem("%s must be Base64, as Apple issues it", AppleMSPSecret)
		}
		a.Secret = key
	}
	return a
}

// PublicURL reads where the platforms reach parley's webhooks (the ingest
// Function URL); "" when unset.
func (e *Env) PublicURL() string { return e.url(PublicURL, false) }

// reachablePublicURL reads PublicURL as Apple and the callers of the API
// reach it: https, but for localhost.
func (e *Env) reachablePublicURL() string { return e.reachableURL(PublicURL, false) }

// PaymentProcessorURL reads where Apple Pay's callbacks are forwarded (the
// business's payment processor; each callback's name is added to its path,
// so it has no query); "" refuses them.
func (e *Env) PaymentProcessorURL() string { return e.baseURL(PaymentProcessorURL, false) }

// ApplePay is the configuration of Apple Pay requests.
type ApplePay struct {
	MerchantID  string
	Domain      string
	DisplayName string
	GatewayURL  string
	CertPEM     []byte
	KeyPEM      []byte
}

// ApplePay reads the Apple Pay settings: all or none of the required ones.
// It is nil when Apple Pay is off. Apple Pay's callback endpoints live on
// the public URL, so that is required with it.
func (e *Env) ApplePay() *ApplePay {
	required := []string{ApplePayMerchantID, ApplePayCert, ApplePayKey, PublicURL}
	var set, missing []string
	for _, n := range required {
		if e.optional(n) != "" {
			set = append(set, n)
		} else {
			missing = append(missing, n)
		}
	}
	p := &ApplePay{
		MerchantID:  e.optional(ApplePayMerchantID),
		Domain:      e.optional(ApplePayDomain),
		DisplayName: e.optional(ApplePayDisplayName),
		GatewayURL:  e.url(ApplePayGatewayURL, false),
		CertPEM:     []byte(e.get(ApplePayCert)),
		KeyPEM:      []byte(e.get(ApplePayKey)),
	}
	if len(set) == 0 || (len(set) == 1 && set[0] == PublicURL) {
		return nil
	}
	if len(missing) > 0 {
		e.problem("Apple Pay needs %s too (or none of %s)", strings.Join(missing, ", "), strings.Join(required[:3], ", "))
		return nil
	}
	if p.Domain != "" && (!hostName(p.Domain) || !strings.Contains(p.Domain, ".")) {
		e.problem("%s must be the domain name verified for the merchant, e.g. shop.example.com (no scheme or path)", ApplePayDomain)
	}
	if utf8.RuneCountInString(p.DisplayName) > 64 {
		e.problem("%s must be at most 64 characters, as Apple Pay shows it", ApplePayDisplayName)
	}
	if strings.Trim(p.MerchantID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != "" {
		e.problem("%s must be the merchant identifier Apple issued, e.g. merchant.com.example", ApplePayMerchantID)
	}
	if p.GatewayURL == "" {
		p.GatewayURL = DefaultApplePayGatewayURL
	}
	if p.DisplayName == "" {
		p.DisplayName = p.MerchantID
	}
	if p.Domain == "" {
		if u, err := url.Parse(e.optional(PublicURL)); err == nil {
			p.Domain = u.Hostname()
		}
	}
	return p
}

// ReengagementRule is one business's entry in PARLEY_REENGAGEMENT: send
// Template MinutesBefore the window closes on an unanswered interactive
// message.
type ReengagementRule struct {
	MinutesBefore int             `json:"minutesBefore"`
	Template      message.Message `json:"template"`
}

// Reengagement reads PARLEY_REENGAGEMENT: a JSON object from WhatsApp
// phone number id to {"minutesBefore", "template": {"name", "language",
// "components"}}. None by default.
func (e *Env) Reengagement() map[string]ReengagementRule {
	v := e.optional(Reengagement)
	if v == "" {
		return nil
	}
	if k := duplicateKey(v); k != "" {
		e.problem("%s names %s twice: give each phone number id one rule", Reengagement, k)
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	var rules map[string]ReengagementRule
	err := dec.Decode(&rules)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("something follows the object")
	}
	if err != nil {
		e.problem(`%s must be a JSON object {"<phone number id>": {"minutesBefore": 60, "template": {"name", "language", "components"}}}: %v`, Reengagement, err)
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(rules)) {
		r := rules[id]
		if id == "" || strings.Trim(id, "0123456789") != "" {
			e.problem("%s: %q is not a WhatsApp phone number id (the digits Meta gives the business number, not the number itself)", Reengagement, id)
		}
		if r.MinutesBefore < 1 || r.MinutesBefore > 1439 {
			e.problem("%s: %s: minutesBefore %d, it must be 1 to 1439 (the window lasts 24 hours)", Reengagement, id, r.MinutesBefore)
		}
		if r.Template.Type == "" {
			r.Template.Type = message.TypeTemplate
		}
		if r.Template.Type != message.TypeTemplate || r.Template.Name == "" || r.Template.Language == "" {
			e.problem("%s: %s: template must be a template with a name and a language", Reengagement, id)
		}
		rules[id] = r
	}
	return rules
}

// DefaultThroughputPerSecond is WhatsApp Cloud API's default throughput
// per business number.
const DefaultThroughputPerSecond = 80

// ThroughputPerSecond reads the messages per second each business number
// may send from the fallback job (default 80).
func (e *Env) ThroughputPerSecond() float64 {
	v := e.optional(ThroughputPerSecond)
	if v == "" {
		return DefaultThroughputPerSecond
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || !(n > 0 && n <= 1000) {
		e.problem("%s must be a number of messages per second above 0, at most 1000", ThroughputPerSecond)
	}
	return n
}

// PayloadQueueURL reads the SQS queue of fetch jobs; "" runs them in the
// process (the local stack).
func (e *Env) PayloadQueueURL() string { return e.baseURL(PayloadQueueURL, false) }

// DefaultPayloadMaxAttempts is the queues' maxReceiveCount in template.yaml.
const DefaultPayloadMaxAttempts = 5

// PayloadMaxAttempts reads the delivery of a payload job on which a
// failure is final (default 5).
func (e *Env) PayloadMaxAttempts() int {
	v := e.optional(PayloadMaxAttempts)
	if v == "" {
		return DefaultPayloadMaxAttempts
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		e.problem("%s must be a whole number from 1 to 100", PayloadMaxAttempts)
	}
	return n
}

// Store kinds.
const (
	StoreEmbedded = "embedded"
	StoreAWS      = "aws"
)

// Store reads which store the local stack runs on: StoreEmbedded (the
// default) or StoreAWS.
func (e *Env) Store() string {
	switch v := e.optional(StoreKind); v {
	case "":
		return StoreEmbedded
	case StoreEmbedded, StoreAWS:
		return v
	default:
		e.problem("%s must be %q or %q", StoreKind, StoreEmbedded, StoreAWS)
		return ""
	}
}

// DataDir reads the embedded store's directory (default .parley).
func (e *Env) DataDir() string {
	if v := e.optional(DataDir); v != "" {
		return v
	}
	return ".parley"
}

// MetricsNamespace reads the CloudWatch namespace of the metrics written as
// Embedded Metric Format lines to standard output; "" writes none (the
// local stack).
func (e *Env) MetricsNamespace() string {
	v := e.optional(MetricsNamespace)
	switch {
	case strings.HasPrefix(v, "AWS/"):
		e.problem("%s must not begin with AWS/, which CloudWatch keeps for AWS's own metrics", MetricsNamespace)
	case len(v) > 255 || strings.HasPrefix(v, ":") || strings.IndexFunc(v, func(r rune) bool { return r < ' ' || r > '~' }) >= 0:
		e.problem("%s must be a CloudWatch namespace: at most 255 printable ASCII characters, not beginning with ':'", MetricsNamespace)
	}
	return v
}

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

// Fetch reads the settings of the fetching of callers' URLs.
func (e *Env) Fetch() Fetch {
	var f Fetch
	switch v := e.optional(FetchLocal); v {
	case "", "false":
	case "true":
		f.Local = true
	default:
		e.problem("%s must be true or false", FetchLocal)
	}
	for h := range strings.SplitSeq(e.get(FetchAllowHosts), ",") {
		if h = strings.TrimSpace(h); h != "" {
			if rest, _ := strings.CutPrefix(h, "*."); !hostName(rest) {
				e.problem("%s: %q is not a host name (give names like cdn.example.com or *.example.com)", FetchAllowHosts, h)
			}
			f.AllowHosts = append(f.AllowHosts, h)
		}
	}
	if v := e.optional(FetchTimeout); v != "" {
		d, err := time.ParseDuration(v)
		// Under a second, every fetch of a file would time out.
		if err != nil || d < time.Second || d > 10*time.Minute {
			e.problem("%s must be a duration from 1s to 10m, e.g. 15s", FetchTimeout)
		}
		f.Timeout = d
	}
	return f
}

// Access reads which businesses each caller of the send API (an IAM
// principal) may act for; nil lets every caller act for every business.
func (e *Env) Access() access.Scopes {
	v := e.get(APIAccess)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	if k := duplicateKey(v); k != "" {
		e.problem("%s names %s twice: give all its businessIds in one entry", APIAccess, k)
		return nil
	}
	scopes, err := access.Parse(v)
	if err != nil {
		e.problem("%s %v", APIAccess, err)
	}
	for _, p := range slices.Sorted(maps.Keys(scopes)) {
		for _, id := range scopes[p] {
			if id != strings.TrimSpace(id) {
				e.problem("%s: %s: the businessId %q has spaces around it, and would match no business", APIAccess, p, id)
			}
		}
	}
	return scopes
}

// duplicateKey returns a key that the JSON object v holds twice, of which
// a decoder would keep the last alone; "" when there is none, or v is not
// an object.
func duplicateKey(v string) string {
	dec := json.NewDecoder(strings.NewReader(v))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		k, _ := t.(string)
		if seen[k] {
			return k
		}
		seen[k] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return ""
		}
	}
	return ""
}

// MaxSendRetryBudget is the largest SendRetryBudget: it leaves the send
// function (29 s) time to check, record and answer.
const MaxSendRetryBudget = 25 * time.Second

// DefaultSecretsTTL is how long the secret's values are kept by default.
const DefaultSecretsTTL = 5 * time.Minute

// SecretsTTL reads how long the values of PARLEY_SECRETS_ARN's secret are
// kept before they are read again (default 5 minutes; 1 minute to 1 hour).
func (e *Env) SecretsTTL() time.Duration {
	v := e.optional(SecretsTTL)
	if v == "" {
		return DefaultSecretsTTL
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute || d > time.Hour {
		e.problem("%s must be a duration from 1m to 1h, e.g. 5m", SecretsTTL)
	}
	return d
}

// SendRetryBudget reads the cap on a send's tries and waits together; 0
// means retry.DefaultBudget.
func (e *Env) SendRetryBudget() time.Duration {
	v := e.optional(SendRetryBudget)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	// Under a second, every send would run out of time on its first try.
	if err != nil || d < time.Second || d > MaxSendRetryBudget {
		e.problem("%s must be a duration from 1s to %s (the send function's timeout is 29s), e.g. 20s", SendRetryBudget, MaxSendRetryBudget)
	}
	return d
}

// IdempotencyLease reads how long a send holds its idempotency key before
// its outcome is recorded; 0 means the send package's default (30 s).
func (e *Env) IdempotencyLease() time.Duration {
	v := e.optional(IdempotencyLease)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 30*time.Second || d > 15*time.Minute {
		e.problem("%s must be a duration from 30s (longer than the send function may run) to 15m", IdempotencyLease)
	}
	return d
}
