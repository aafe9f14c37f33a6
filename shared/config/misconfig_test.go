package config

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMalformedSettings: each malformed value is a problem naming its
// setting, never a default used in its place; each well-formed one
// around the edges is taken.
func TestMalformedSettings(t *testing.T) {
	applePay := func(name, value string) map[string]string {
		s := map[string]string{ApplePayMerchantID: "merchant.com.example", ApplePayCert: "CERT", ApplePayKey: "KEY", PublicURL: "https://webhooks.example.com"}
		s[name] = value
		return s
	}
	everything := func(e *Env) {
		for _, read := range Functions {
			read(e)
		}
	}
	tests := []struct {
		name string
		env  map[string]string
		want string // "" when it is no problem
	}{
		{"table of two characters", map[string]string{Table: "pa"}, "PARLEY_TABLE must be a DynamoDB table name"},
		{"table with a slash", map[string]string{Table: "parley/prod"}, "PARLEY_TABLE must be a DynamoDB table name"},
		{"table of every allowed character", map[string]string{Table: "Parley_prod-2.eu"}, ""},
		{"bucket with capitals", map[string]string{Bucket: "Parley-Payloads"}, "PARLEY_BUCKET must be an S3 bucket name"},
		{"bucket with an underscore", map[string]string{Bucket: "parley_payloads"}, "PARLEY_BUCKET must be an S3 bucket name"},
		{"bucket ending in a hyphen", map[string]string{Bucket: "parley-"}, "PARLEY_BUCKET must be an S3 bucket name"},
		{"bucket with two dots together", map[string]string{Bucket: "parley..payloads"}, "PARLEY_BUCKET must be an S3 bucket name"},
		{"bucket as an IP address", map[string]string{Bucket: "10.0.0.1"}, "PARLEY_BUCKET must be an S3 bucket name"},
		{"bucket of 64 characters", map[string]string{Bucket: strings.Repeat("p", 64)}, "PARLEY_BUCKET must be an S3 bucket name"},
		{"bucket of an access point alias", map[string]string{Bucket: "parley-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias"}, ""},
		{"bucket of an Object Lambda alias", map[string]string{Bucket: "parley-abc--ol-s3"}, "PARLEY_BUCKET must be an S3 bucket name"},
		{"bucket with dots", map[string]string{Bucket: "payloads.parley.example"}, ""},
		{"write shards with spaces around", map[string]string{WriteShards: " 4 "}, ""},
		{"write shards in exponent form", map[string]string{WriteShards: "1e9"}, "PARLEY_WRITE_SHARDS must be a whole number from 1 to 64"},
		{"write shards past the limit", map[string]string{WriteShards: "65"}, "PARLEY_WRITE_SHARDS must be a whole number from 1 to 64"},
		{"endpoint without a scheme", map[string]string{AWSEndpoint: "localhost:5000"}, "PARLEY_AWS_ENDPOINT must be an http(s) URL"},
		{"endpoint of another scheme", map[string]string{AWSEndpoint: "tcp://localhost:5000"}, "PARLEY_AWS_ENDPOINT must be an http(s) URL"},
		{"metrics namespace of AWS", map[string]string{MetricsNamespace: "AWS/Lambda"}, "PARLEY_METRICS_NAMESPACE must not begin with AWS/"},
		{"metrics namespace beginning with a colon", map[string]string{MetricsNamespace: ":parley"}, "PARLEY_METRICS_NAMESPACE must be a CloudWatch namespace"},
		{"metrics namespace too long", map[string]string{MetricsNamespace: strings.Repeat("p", 256)}, "PARLEY_METRICS_NAMESPACE must be a CloudWatch namespace"},
		{"metrics namespace with a space and a hash", map[string]string{MetricsNamespace: "parley/prod #1"}, ""},
		{"event bus with a space", map[string]string{EventBus: "parley bus"}, "PARLEY_EVENT_BUS must be the name or ARN of an EventBridge event bus"},
		{"event bus ARN of a rule", map[string]string{EventBus: "arn:aws:events:us-east-1:123456789012:rule/parley"}, "PARLEY_EVENT_BUS must be the name or ARN"},
		{"event bus ARN", map[string]string{EventBus: "arn:aws:events:us-east-1:123456789012:event-bus/parley"}, ""},
		{"events DLQ by name", map[string]string{EventsDLQURL: "parley-events-dlq"}, "PARLEY_EVENTS_DLQ_URL must be an http(s) URL"},
		{"payload queue by name", map[string]string{PayloadQueueURL: "parley-payload"}, "PARLEY_PAYLOAD_QUEUE_URL must be an http(s) URL"},
		{"webhook queue not FIFO", map[string]string{EventsWebhookQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/parley-hooks"}, "PARLEY_EVENTS_WEBHOOK_QUEUE_URL must be the URL of a FIFO queue"},
		{"webhook queue by name", map[string]string{EventsWebhookQueueURL: "parley-hooks.fifo"}, "PARLEY_EVENTS_WEBHOOK_QUEUE_URL must be an http(s) URL"},
		{"throughput NaN", map[string]string{ThroughputPerSecond: "NaN"}, "PARLEY_THROUGHPUT_PER_SECOND must be a number"},
		{"throughput infinite", map[string]string{ThroughputPerSecond: "Inf"}, "PARLEY_THROUGHPUT_PER_SECOND must be a number"},
		{"callback rate NaN", map[string]string{ApplePayCallbackRate: "nan"}, "PARLEY_APPLEPAY_CALLBACK_RATE must be a number"},
		{"public URL in plain http", map[string]string{PublicURL: "http://webhooks.example.com"}, "PARLEY_PUBLIC_URL must be an https URL"},
		{"public URL with a query", map[string]string{PublicURL: "https://webhooks.example.com/?a=b"}, "PARLEY_PUBLIC_URL must have no query or fragment"},
		{"public URL with a password", map[string]string{PublicURL: "https://user:hunter2@webhooks.example.com"}, "PARLEY_PUBLIC_URL must have no user or password"},
		{"public URL on localhost", map[string]string{PublicURL: "http://localhost:8080"}, ""},
		{"public URL on ::1", map[string]string{PublicURL: "http://[::1]:8080"}, ""},
		{"events webhook in plain http", map[string]string{EventsWebhookURL: "http://app.example.com/hooks", EventsWebhookSecret: "whsec_cGFybGV5LWxvY2FsLWV2ZW50cy13ZWJob29rLXNlY3JldA==",
			EventsWebhookQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/hooks.fifo"}, "PARLEY_EVENTS_WEBHOOK_URL must be an https URL"},
		{"events webhook with a query", map[string]string{EventsWebhookURL: "https://app.example.com/hooks?token=abc", EventsWebhookSecret: "whsec_cGFybGV5LWxvY2FsLWV2ZW50cy13ZWJob29rLXNlY3JldA==",
			EventsWebhookQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/hooks.fifo"}, ""},
		{"payment processor in plain http", map[string]string{PaymentProcessorURL: "http://pay.example.com/callbacks"}, "PARLEY_PAYMENT_PROCESSOR_URL must be an https URL"},
		{"payment processor with a query", map[string]string{PaymentProcessorURL: "https://pay.example.com/callbacks?shop=1"}, "PARLEY_PAYMENT_PROCESSOR_URL must have no query or fragment"},
		{"payment processor on this machine", map[string]string{PaymentProcessorURL: "http://127.0.0.1:9/callbacks"}, ""},
		{"Apple Pay domain as a URL", applePay(ApplePayDomain, "https://shop.example.com"), "PARLEY_APPLEPAY_DOMAIN must be the domain name"},
		{"Apple Pay display name too long", applePay(ApplePayDisplayName, strings.Repeat("é", 65)), "PARLEY_APPLEPAY_DISPLAY_NAME must be at most 64 characters"},
		{"Apple Pay display name of 64 characters", applePay(ApplePayDisplayName, strings.Repeat("é", 64)), ""},
		{"Apple Pay merchant id with a space", applePay(ApplePayMerchantID, "merchant com.example"), "PARLEY_APPLEPAY_MERCHANT_ID must be the merchant identifier"},
		{"WhatsApp URL without the version", map[string]string{WhatsAppAPIURL: "https://graph.facebook.com"}, "PARLEY_WHATSAPP_API_URL must end with the Graph API's version"},
		{"WhatsApp URL of the messages endpoint", map[string]string{WhatsAppAPIURL: "https://graph.facebook.com/v25.0/106540352242922/messages"}, "PARLEY_WHATSAPP_API_URL must end with the Graph API's version"},
		{"WhatsApp URL of a proxy", map[string]string{WhatsAppAPIURL: "https://proxy.example.com/graph/v25.0/"}, ""},
		{"fetch hosts of any host", map[string]string{FetchAllowHosts: "*"}, `PARLEY_FETCH_ALLOW_HOSTS: "*" is not a host name`},
		{"fetch hosts with a wildcard inside", map[string]string{FetchAllowHosts: "cdn.*.example.com"}, `PARLEY_FETCH_ALLOW_HOSTS: "cdn.*.example.com" is not a host name`},
		{"fetch hosts with a wildcard without its dot", map[string]string{FetchAllowHosts: "*example.com"}, `PARLEY_FETCH_ALLOW_HOSTS: "*example.com" is not a host name`},
		{"fetch hosts not host names", map[string]string{FetchAllowHosts: "cdn.example.com,{cdn}"}, `PARLEY_FETCH_ALLOW_HOSTS: "{cdn}" is not a host name`},
		{"fetch hosts of an IP address and a Unicode name", map[string]string{FetchAllowHosts: "192.0.2.10, *.bücher.example"}, ""},
		{"Apple MSP URL with a query", map[string]string{AppleMSPURL: "https://mspgw.push.apple.com/v1?x=1"}, "PARLEY_APPLE_MSP_URL must have no query or fragment"},
		{"AWS endpoint with a user", map[string]string{AWSEndpoint: "http://user:hunter2@127.0.0.1:5000"}, "PARLEY_AWS_ENDPOINT must have no user or password"},
		{"payload queue with a fragment", map[string]string{PayloadQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/parley-payload#x"}, "PARLEY_PAYLOAD_QUEUE_URL must have no query or fragment"},
		{"Apple Pay merchant id with a brace", applePay(ApplePayMerchantID, "merchant.{com}.example"), "PARLEY_APPLEPAY_MERCHANT_ID must be the merchant identifier"},
		{"Apple Pay domain with a brace", applePay(ApplePayDomain, "{shop}.example.com"), "PARLEY_APPLEPAY_DOMAIN must be the domain name"},
		{"API access naming a role twice", map[string]string{APIAccess: `{"arn:aws:iam::123456789012:role/shop":["1"],"arn:aws:iam::123456789012:role/shop":["2"]}`},
			"PARLEY_API_ACCESS names arn:aws:iam::123456789012:role/shop twice"},
		{"API access of a business with spaces", map[string]string{APIAccess: `{"arn:aws:iam::123456789012:role/shop":[" 106540352242922"]}`}, `the businessId " 106540352242922" has spaces around it`},
		{"re-engagement of a number twice", map[string]string{Reengagement: `{"1":{"minutesBefore":60,"template":{"name":"n","language":"en"}},"1":{"minutesBefore":30,"template":{"name":"n","language":"en"}}}`},
			"PARLEY_REENGAGEMENT names 1 twice"},
		{"re-engagement followed by more", map[string]string{Reengagement: `{"1":{"minutesBefore":60,"template":{"name":"n","language":"en"}}}{}`},
			"PARLEY_REENGAGEMENT must be a JSON object"},
		{"re-engagement by phone number", map[string]string{Reengagement: `{"+447700900123":{"minutesBefore":60,"template":{"name":"n","language":"en"}}}`},
			`PARLEY_REENGAGEMENT: "+447700900123" is not a WhatsApp phone number id`},
		{"re-engagement with an unknown field", map[string]string{Reengagement: `{"1":{"minutesBefore":60,"template":{"name":"n","language":"en","lang":"en"}}}`},
			`unknown field "lang"`},
		{"re-engagement null", map[string]string{Reengagement: `null`}, ""},
		{"API access with a wildcard", map[string]string{APIAccess: `{"arn:aws:iam::123456789012:role/*":["1"]}`}, "is not the ARN of an IAM role or user"},
		{"API access of a role without a name", map[string]string{APIAccess: `{"arn:aws:iam::123456789012:role/":["1"]}`}, "is not the ARN of an IAM role or user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := map[string]string{EventsWebhookURL: "https://app.example.com/hooks", EventsWebhookSecret: "whsec_cGFybGV5LWxvY2FsLWV2ZW50cy13ZWJob29rLXNlY3JldA==",
				EventsWebhookQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/hooks.fifo"}
			maps.Copy(set, tt.env)
			e := load(t, env(set), nil)
			everything(e)
			err := e.Err()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Err = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats a secret: %v", err)
			}
		})
	}
}

// TestLoadNames: a PARLEY_ variable of the process that parley does not
// know is a problem that suggests the name meant; a setting that some
// other function reads is none.
func TestLoadNames(t *testing.T) {
	t.Setenv("PARLEY_SECRETS_TLL", "10m")
	t.Setenv(ThroughputPerSecond, "20")
	t.Setenv("PARLEY_SOMETHING_ELSE_ENTIRELY", "1")
	getenv := env(map[string]string{"PARLEY_SECRETS_TLL": "10m", ThroughputPerSecond: "20", "PARLEY_SOMETHING_ELSE_ENTIRELY": "1"})
	e := load(t, getenv, nil)
	e.Ingest()
	err := e.Err()
	if err == nil || !strings.Contains(err.Error(), "PARLEY_SECRETS_TLL is not a setting of parley's, did you mean PARLEY_SECRETS_TTL?") {
		t.Fatalf("Err = %v, want the misspelt name and the one meant", err)
	}
	if !strings.Contains(err.Error(), "PARLEY_SOMETHING_ELSE_ENTIRELY is not a setting of parley's;") && !strings.HasSuffix(err.Error(), "PARLEY_SOMETHING_ELSE_ENTIRELY is not a setting of parley's") {
		t.Errorf("Err = %v, want the unknown name without a guess", err)
	}
	if strings.Contains(err.Error(), ThroughputPerSecond) {
		t.Errorf("Err = %v: the fallback function's setting is no problem for ingest", err)
	}
	// The variables of the process that getenv does not give are not the
	// function's.
	e = load(t, env(nil), nil)
	e.Ingest()
	if err := e.Err(); err != nil {
		t.Fatalf("Err = %v, want none", err)
	}
}

// TestNames: Names holds every setting a function reads, and those of the
// local stack.
func TestNames(t *testing.T) {
	want := []string{StoreKind, DataDir, SecretsARN}
	for _, read := range Functions {
		want = append(want, Reads(read)...)
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if got := slices.Sorted(slices.Values(Names)); !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	for _, n := range SecretNames {
		if !slices.Contains(Names, n) {
			t.Errorf("the secret setting %s is not in Names", n)
		}
	}
}

// TestLoadSecretKeys: a key of the secret that is a setting of the
// environment, or misspelt, is a problem; a key that is no PARLEY_ name is
// the operator's own, and ignored; a value blank in the environment leaves
// the secret's.
func TestLoadSecretKeys(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:parley"
	vals := map[string]string{WhatsAppToken: "tok", WhatsAppAppSecret: "app", WhatsAppVerifyToken: "verify", AppleMSPSecret: "c2VjcmV0LWJ5dGVz"}
	source := func(extra map[string]string) SecretSource {
		return func(context.Context, string) (map[string]string, error) {
			v := maps.Clone(vals)
			maps.Copy(v, extra)
			return v, nil
		}
	}
	noSecrets := map[string]string{SecretsARN: arn, WhatsAppToken: " ", WhatsAppAppSecret: "", WhatsAppVerifyToken: "", AppleMSPSecret: ""}
	tests := []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"as given", nil, ""},
		{"an operator's own key", map[string]string{"rotatedBy": "ops"}, ""},
		{"a setting of the environment", map[string]string{Table: "parley"}, "the secret PARLEY_SECRETS_ARN holds PARLEY_TABLE, which is read from the environment only"},
		{"a misspelt key", map[string]string{"PARLEY_WHATSAPP_TOKN": "tok"}, "the secret PARLEY_SECRETS_ARN holds PARLEY_WHATSAPP_TOKN, which is not a setting of parley's, did you mean PARLEY_WHATSAPP_TOKEN?"},
		{"a secret setting missing", map[string]string{WhatsAppToken: ""}, "PARLEY_WHATSAPP_TOKEN is required (in the environment or the secret PARLEY_SECRETS_ARN)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := load(t, env(noSecrets), source(tt.extra))
			c := e.Ingest()
			err := e.Err()
			if tt.want == "" {
				if err != nil || c.WhatsApp.Token != "tok" {
					t.Fatalf("Err = %v, token %q; want none and the secret's token", err, c.WhatsApp.Token)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSecretARN: PARLEY_SECRETS_ARN names a Secrets Manager secret of the
// function's own region and partition, or a secret by name.
func TestSecretARN(t *testing.T) {
	tests := []struct {
		arn, region, want string
	}{
		{"parley", "us-east-1", ""},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:parley-AbCdEf", "us-east-1", ""},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:parley-AbCdEf", "", ""},
		{"arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:parley-AbCdEf", "cn-north-1", ""},
		{"arn:aws-eusc:secretsmanager:eusc-de-east-1:123456789012:secret:parley-AbCdEf", "eusc-de-east-1", ""},
		{"arn:aws:secretsmanager:eusc-de-east-1:123456789012:secret:parley-AbCdEf", "eusc-de-east-1", "names a secret of the partition aws; the region eusc-de-east-1 is in aws-eusc"},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:parley-AbCdEf", "us-east-1", "names a secret of the region eu-west-1; the function runs in us-east-1"},
		{"arn:aws:secretsmanager:cn-north-1:123456789012:secret:parley-AbCdEf", "cn-north-1", "names a secret of the partition aws; the region cn-north-1 is in aws-cn"},
		{"arn:aws:ssm:us-east-1:123456789012:parameter/parley", "us-east-1", "must be the ARN of a Secrets Manager secret"},
		{"arn:aws:secretsmanager:us-east-1:1234:secret:parley", "us-east-1", "must be the ARN of a Secrets Manager secret"},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:", "us-east-1", "must be the ARN of a Secrets Manager secret"},
	}
	for _, tt := range tests {
		err := checkSecretARN(tt.arn, tt.region)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("checkSecretARN(%q, %q) = %v, want %q", tt.arn, tt.region, err, tt.want)
		}
	}
}

// TestREADMESettings: README's table of settings lists every setting
// parley reads, each with the functions that read it.
func TestREADMESettings(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## Configuration\n")
	if start < 0 {
		t.Fatal("README.md has no Configuration section")
	}
	doc = doc[start+1:]
	if end := strings.Index(doc, "\n## "); end >= 0 {
		doc = doc[:end]
	}
	functions := slices.Sorted(maps.Keys(Functions))
	listed := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) < 3 {
			continue
		}
		var readBy []string
		switch by := cells[1]; by {
		case "every function":
			readBy = functions
		case "every function but webhook":
			readBy = slices.DeleteFunc(slices.Clone(functions), func(f string) bool { return f == "webhook" })
		case "the local stack only":
		default:
			readBy = strings.Split(by, ", ")
			slices.Sort(readBy)
		}
		for _, name := range strings.Split(strings.TrimPrefix(cells[0], "| "), ", ") {
			name = strings.Trim(name, "`")
			listed[name] = true
			if name == "PORT" {
				continue
			}
			if !slices.Contains(Names, name) {
				t.Errorf("README lists %s, which is no setting of parley's", name)
				continue
			}
			var want []string
			for _, f := range functions {
				if slices.Contains(Reads(Functions[f]), name) || name == SecretsARN {
					want = append(want, f)
				}
			}
			if !slices.Equal(readBy, want) {
				t.Errorf("README says %s is read by %q; it is read by %v", name, cells[1], want)
			}
		}
	}
	for _, n := range Names {
		if !listed[n] {
			t.Errorf("README's Configuration table does not list %s", n)
		}
	}
}

// TestHostileValues gives every setting, one at a time, values an operator
// or a template might get wrong: no reader panics, and a value that is a
// problem is reported in one line that names its setting.
func TestHostileValues(t *testing.T) {
	values := []string{"", " ", "\t\n", "0", "-1", "+5", "1e309", "NaN", "-Inf", "99999999999999999999", "0x10", "1_000",
		"-5m", "1h0m0.5s", "forever", "{", "[]", "null", `{"":{}}`, `{"a":1}`, "http://", "https://[::1", "%zz", "://x",
		"ftp://example.com", "https://example.com/?q#f", "arn:", "arn:aws:iam::123456789012:role/*", "💥", "true ", "TRUE",
		strings.Repeat("x", 5000), "whsec_", "whsec_!!", "a\x7fb"}
	base := map[string]string{EventsWebhookURL: "https://app.example.com/hooks", EventsWebhookSecret: "whsec_cGFybGV5LWxvY2FsLWV2ZW50cy13ZWJob29rLXNlY3JldA==",
		EventsWebhookQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/hooks.fifo", ApplePayMerchantID: "merchant.com.example",
		ApplePayCert: "CERT", ApplePayKey: "KEY", PublicURL: "https://webhooks.example.com"}
	for _, name := range Names {
		for _, v := range values {
			set := maps.Clone(base)
			set[name] = v
			e, err := Load(context.Background(), env(set), nil)
			if err != nil {
				if name != SecretsARN || strings.Contains(err.Error(), "\n") {
					t.Errorf("%s=%q: Load: %v", name, v, err)
				}
				continue
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s=%q: panic %v", name, v, r)
					}
				}()
				for _, read := range Functions {
					read(e)
				}
				e.Store()
				e.DataDir()
			}()
			if e.Err() == nil {
				continue
			}
			msg := e.Err().Error()
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("%s=%q: the error spans several lines: %q", name, v, msg)
			}
			// Apple Pay's settings go together: a blank one names those
			// missing.
			if !strings.Contains(msg, name) && !strings.Contains(msg, "Apple Pay needs") {
				t.Errorf("%s=%q: the error does not name the setting: %q", name, v, msg)
			}
		}
	}
}

// TestEventsWebhookURLAsGiven: the app's endpoint is posted to exactly as
// set: a trailing slash can be part of its route, and a query's value may
// end in one.
func TestEventsWebhookURLAsGiven(t *testing.T) {
	for _, u := range []string{"https://app.example.com/hooks/", "https://app.example.com/hooks?next=/", "https://app.example.com/"} {
		e := load(t, env(map[string]string{EventsWebhookURL: u, EventsWebhookSecret: "whsec_cGFybGV5LWxvY2FsLWV2ZW50cy13ZWJob29rLXNlY3JldA==",
			EventsWebhookQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/hooks.fifo"}), nil)
		w := e.Webhook()
		if err := e.Err(); err != nil || w.Hook.URL != u {
			t.Errorf("%s: posted to %q (%v), want the URL as set", u, w.Hook.URL, err)
		}
	}
}
