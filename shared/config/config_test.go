package config

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(overrides map[string]string) func(string) string {
	base := map[string]string{
		WhatsAppAPIURL: "https://graph.facebook.com/v25.0/", WhatsAppToken: "tok", WhatsAppAppSecret: "app",
		WhatsAppVerifyToken: "verify", AppleMSPURL: "https://mspgw.push.apple.com/v1", AppleMSPID: "msp",
		AppleMSPSecret: "c2VjcmV0LWJ5dGVz", Table: "parley", Bucket: "parley-payloads",
	}
	for k, v := range overrides {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func load(t *testing.T, getenv func(string) string, secrets SecretSource) *Env {
	t.Helper()
	e, err := Load(context.Background(), getenv, secrets)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestLoad(t *testing.T) {
	e := load(t, env(nil), nil)
	c := e.Fallback()
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if string(c.Apple.Secret) != "secret-bytes" || c.WhatsApp.APIURL != "https://graph.facebook.com/v25.0" || c.AWS.Table != "parley" {
		t.Fatalf("config = %+v", c)
	}
	if c.ThroughputPerSecond != DefaultThroughputPerSecond || c.Reengagement != nil || c.ApplePay != nil {
		t.Fatalf("throughput %v, re-engagement %v, Apple Pay %v; want the defaults 80, none and off", c.ThroughputPerSecond, c.Reengagement, c.ApplePay)
	}
	if s := load(t, env(nil), nil); s.Store() != StoreEmbedded || s.DataDir() != ".parley" {
		t.Fatalf("the local store defaults to %s in %s", s.Store(), s.DataDir())
	}
	e = load(t, env(map[string]string{ThroughputPerSecond: "12.5",
		Reengagement: `{"106540352242922":{"minutesBefore":60,"template":{"name":"still_there","language":"en_US"}}}`}), nil)
	c = e.Fallback()
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	r := c.Reengagement["106540352242922"]
	if c.ThroughputPerSecond != 12.5 || r.MinutesBefore != 60 || r.Template.Type != "template" || r.Template.Name != "still_there" {
		t.Fatalf("throughput %v, re-engagement %+v", c.ThroughputPerSecond, c.Reengagement)
	}
	if c.Fetch.Local || c.Fetch.AllowHosts != nil || c.Fetch.Timeout != 0 {
		t.Fatalf("fetch %+v, want the strict default", c.Fetch)
	}
	e = load(t, env(map[string]string{FetchLocal: "true", FetchAllowHosts: "cdn.example.com, *.media.example", FetchTimeout: "20s"}), nil)
	f := e.Fetch()
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if !f.Local || len(f.AllowHosts) != 2 || f.AllowHosts[1] != "*.media.example" || f.Timeout != 20*time.Second {
		t.Fatalf("fetch %+v", f)
	}
}

func TestLoadProblems(t *testing.T) {
	everything := func(e *Env) { e.Fallback(); e.Ingest(); e.PayloadFetch(); e.Store() }
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"everything missing names every variable", map[string]string{WhatsAppAPIURL: "", WhatsAppToken: "", AppleMSPSecret: ""},
			[]string{"PARLEY_WHATSAPP_API_URL is required", "PARLEY_WHATSAPP_TOKEN is required", "PARLEY_APPLE_MSP_SECRET is required"}},
		{"not a URL", map[string]string{AppleMSPURL: "mspgw.push.apple.com"}, []string{"PARLEY_APPLE_MSP_URL must be an http(s) URL"}},
		{"secret not Base64", map[string]string{AppleMSPSecret: "not base64!!"}, []string{"PARLEY_APPLE_MSP_SECRET must be Base64"}},
		{"unknown store", map[string]string{StoreKind: "redis"}, []string{`PARLEY_STORE must be "embedded" or "aws"`}},
		{"table and bucket", map[string]string{Table: "", Bucket: ""}, []string{"PARLEY_TABLE is required", "PARLEY_BUCKET is required"}},
		{"log level", map[string]string{LogLevel: "loud"}, []string{"PARLEY_LOG_LEVEL must be"}},
		{"throughput", map[string]string{ThroughputPerSecond: "fast"}, []string{"PARLEY_THROUGHPUT_PER_SECOND must be a number"}},
		{"throughput zero", map[string]string{ThroughputPerSecond: "0"}, []string{"PARLEY_THROUGHPUT_PER_SECOND must be a number of messages per second above 0"}},
		{"fetch local", map[string]string{FetchLocal: "yes"}, []string{"PARLEY_FETCH_LOCAL must be true or false"}},
		{"fetch hosts", map[string]string{FetchAllowHosts: "https://cdn.example.com/"}, []string{`PARLEY_FETCH_ALLOW_HOSTS: "https://cdn.example.com/" is not a host name`}},
		{"fetch timeout", map[string]string{FetchTimeout: "15"}, []string{"PARLEY_FETCH_TIMEOUT must be a duration"}},
		{"idempotency lease shorter than a send", map[string]string{IdempotencyLease: "5s"}, []string{"PARLEY_IDEMPOTENCY_LEASE must be a duration from 30s"}},
		{"send retry budget past the function's timeout", map[string]string{SendRetryBudget: "30s"}, []string{"PARLEY_SEND_RETRY_BUDGET must be a duration from 1s to 25s"}},
		{"re-engagement not JSON", map[string]string{Reengagement: "[1]"}, []string{"PARLEY_REENGAGEMENT must be a JSON object"}},
		{"re-engagement out of the window", map[string]string{Reengagement: `{"106540352242922":{"minutesBefore":1440,"template":{"name":"n","language":"en"}}}`},
			[]string{"PARLEY_REENGAGEMENT: 106540352242922: minutesBefore 1440, it must be 1 to 1439"}},
		{"re-engagement without a template name", map[string]string{Reengagement: `{"1":{"minutesBefore":60,"template":{"language":"en"}}}`},
			[]string{"PARLEY_REENGAGEMENT: 1: template must be a template with a name and a language"}},
		{"payload attempts", map[string]string{PayloadMaxAttempts: "0"}, []string{"PARLEY_PAYLOAD_MAX_ATTEMPTS must be a whole number from 1 to 100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := load(t, env(tt.env), nil)
			everything(e)
			err := e.Err()
			if err == nil {
				t.Fatal("want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("the error spans several lines: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, "not base64!!") {
				t.Errorf("the error repeats a secret's value: %q", msg)
			}
		})
	}
}

func TestLoadFromSecretsManager(t *testing.T) {
	source := func(_ context.Context, arn string) (map[string]string, error) {
		if arn != "arn:aws:secretsmanager:us-east-1:123456789012:secret:parley" {
			t.Errorf("arn = %s", arn)
		}
		return map[string]string{WhatsAppToken: "from-secret", WhatsAppAppSecret: "app-from-secret", AppleMSPSecret: "c2VjcmV0LWJ5dGVz",
			Table: "not-a-secret"}, nil
	}
	e := load(t, env(map[string]string{
		SecretsARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:parley", WhatsAppToken: "", AppleMSPSecret: "", Table: "",
	}), source)
	c := e.Ingest()
	if c.WhatsApp.Token != "from-secret" || c.WhatsAppWebhook.AppSecret != "app" || string(c.Apple.Secret) != "secret-bytes" {
		t.Fatalf("config = %+v: the secret fills what the environment leaves empty, the environment wins", c)
	}
	if err := e.Err(); err == nil || !strings.Contains(err.Error(), "PARLEY_TABLE is required") {
		t.Fatalf("err = %v: only secrets come from the secret", err)
	}
	_, err := Load(context.Background(), env(map[string]string{SecretsARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:parley"}), func(context.Context, string) (map[string]string, error) {
		return nil, errors.New("AccessDeniedException")
	})
	if err == nil || !strings.Contains(err.Error(), "PARLEY_SECRETS_ARN") || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("err = %v, want it to name PARLEY_SECRETS_ARN and what Secrets Manager said", err)
	}
}

func TestApplePay(t *testing.T) {
	e := load(t, env(nil), nil)
	if p := e.ApplePay(); p != nil || e.Err() != nil {
		t.Fatalf("without settings Apple Pay is off: %+v %v", p, e.Err())
	}
	e = load(t, env(map[string]string{ApplePayMerchantID: "merchant.com.example"}), nil)
	e.ApplePay()
	if err := e.Err(); err == nil || !strings.Contains(err.Error(), "PARLEY_APPLEPAY_CERT") || !strings.Contains(err.Error(), "PARLEY_PUBLIC_URL") {
		t.Fatalf("a partial Apple Pay configuration: %v", err)
	}
	e = load(t, env(map[string]string{
		ApplePayMerchantID: "merchant.com.example", ApplePayCert: "CERT", ApplePayKey: "KEY",
		PaymentProcessorURL: "https://pay.example.com/", PublicURL: "https://abc.lambda-url.us-east-1.on.aws/",
	}), nil)
	c, processor := e.Send(), e.PaymentProcessorURL()
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if c.ApplePay.GatewayURL != DefaultApplePayGatewayURL || processor != "https://pay.example.com" ||
		c.PublicURL != "https://abc.lambda-url.us-east-1.on.aws" || c.ApplePay.DisplayName != "merchant.com.example" || c.ApplePay.Domain != "abc.lambda-url.us-east-1.on.aws" {
		t.Fatalf("apple pay = %+v, public url %q", c.ApplePay, c.PublicURL)
	}
}

// TestFunctionsReadOnlyTheirSettings: a setting a function does not use
// can neither stop it nor be required by it. Apple Pay's certificate in
// the secret, as template.yaml tells operators to put it, leaves the
// functions that never send untouched.
func TestFunctionsReadOnlyTheirSettings(t *testing.T) {
	secret := func(context.Context, string) (map[string]string, error) {
		return map[string]string{ApplePayCert: "CERT", ApplePayKey: "KEY", WhatsAppToken: "tok", WhatsAppAppSecret: "app",
			WhatsAppVerifyToken: "verify", AppleMSPSecret: "c2VjcmV0LWJ5dGVz", EventsWebhookSecret: "whsec_cGFybGV5LWxvY2FsLWV2ZW50cy13ZWJob29rLXNlY3JldA=="}, nil
	}
	base := map[string]string{SecretsARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:parley-AbCdEf", ApplePayMerchantID: "merchant.com.example", WhatsAppToken: "", WhatsAppAppSecret: "",
		WhatsAppVerifyToken: "", AppleMSPSecret: "", EventsWebhookURL: "https://app.example.com/hooks/parley",
		EventsWebhookQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/parley-hooks.fifo"}
	for name, read := range Functions {
		t.Run(name, func(t *testing.T) {
			e := load(t, env(base), secret)
			read(e)
			err := e.Err()
			sends := name == "send" || name == "fallback"
			if sends && (err == nil || !strings.Contains(err.Error(), "Apple Pay needs PARLEY_PUBLIC_URL")) {
				t.Errorf("%s sends Apple Pay requests: err = %v, want the public URL asked for", name, err)
			}
			if !sends && err != nil {
				t.Errorf("%s: %v, want no problem with settings it does not use", name, err)
			}
		})
	}
	reads := Reads(Functions["fetch"])
	for _, n := range []string{WhatsAppAppSecret, ApplePayCert, PublicURL, Reengagement} {
		if slices.Contains(reads, n) {
			t.Errorf("fetch reads %s", n)
		}
	}
	if !slices.Contains(Reads(Functions["send"]), ApplePayCert) {
		t.Errorf("send does not read %s", ApplePayCert)
	}
}
