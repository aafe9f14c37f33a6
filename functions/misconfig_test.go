package functions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/infra/lambdaemu"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/config"
)

// functionNames are the Lambda functions, in template.yaml's order.
var functionNames = []string{"ingest", "send", "fallback", "fetch", "decode", "webhook"}

// sampleEvents are the event each function answers with no more than the
// configuration of the tests, and what its answer then holds.
var sampleEvents = map[string]struct{ file, want string }{
	"ingest":   {"ingest/whatsapp-verify.json", `"body":"1158201444"`},
	"send":     {"send/get-message.json", `"statusCode":404`},
	"fallback": {"fallback/scheduled.json", `"claimed":0`},
	"fetch":    {"fetch/sqs-job.json", `"batchItemFailures":[{"itemIdentifier":"5f8c2a1e-7b3d-4c9e-a1f0-2b3c4d5e6f70"}]`},
	"decode":   {"decode/s3-object-created.json", `null`},
	"webhook":  {"webhook/sqs-delivery.json", `"batchItemFailures":null`},
}

// all is a misconfiguration's functions when every function must stop.
var all = functionNames

// A misconfiguration is what an operator with a typo, or a template with a
// wrong parameter, gives the functions.
type misconfig struct {
	name string
	// set replaces or adds variables of the environment ("" sets one
	// empty); unset removes them.
	set   map[string]string
	unset []string
	// secret, when not "", is the value of a Secrets Manager secret that
	// PARLEY_SECRETS_ARN names; the secret settings then leave the
	// environment, to be read from it.
	secret string
	// stop are the functions that must refuse to start; nil means those
	// that read one of the variables of set or unset.
	stop []string
	// run are the functions started; nil means every one.
	run []string
	// says is what their one line says besides the function's name.
	says []string
}

// TestMisconfiguration starts every built function under the Runtime API
// emulator with one misconfiguration at a time: each function that reads
// the setting exits at start-up with one line naming it and what is wrong
// — no panic, no stack trace, no secret's value — and every other function
// starts and answers its sample event.
func TestMisconfiguration(t *testing.T) {
	ctx := context.Background()
	m := startStore(t)
	sm := secretsmanager.NewFromConfig(m.SDKConfig())
	sq := sqs.NewFromConfig(m.SDKConfig())
	hookQ, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("parley-hooks.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}

	secret, err := apple.DecodeSecret(local.DefaultAppleMSPSecret)
	if err != nil {
		t.Fatal(err)
	}
	wa := httptest.NewServer(whatsappsim.New(whatsappsim.Config{Token: local.DefaultWhatsAppToken, AppSecret: local.DefaultWhatsAppAppSecret}))
	defer wa.Close()
	ap := httptest.NewServer(applesim.New(applesim.Config{MSPID: local.DefaultAppleMSPID, Secret: secret}))
	defer ap.Close()
	const hookSecret = "whsec_cGFybGV5LW1pc2NvbmZpZy13ZWJob29rLXNlY3JldA=="
	hookKey, err := apphook.ParseSecret(hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if apphook.Verify(hookKey, r.Header, body, time.Now()) != nil {
			refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer app.Close()
	certPEM, keyPEM := merchantIdentity(t)

	// What every function is given: each reads its own part, and ignores
	// the rest.
	base := map[string]string{
		config.AWSEndpoint: m.Endpoint(), config.Table: "parley", config.Bucket: "parley-payloads",
		config.WhatsAppAPIURL: wa.URL + "/v25.0", config.AppleMSPURL: ap.URL + "/v1", config.AppleMSPID: local.DefaultAppleMSPID,
		config.LogLevel: "warn", config.PaymentProcessorURL: "http://127.0.0.1:9/processor",
		config.EventsWebhookURL: app.URL + "/hooks/parley", config.EventsWebhookQueueURL: aws.ToString(hookQ.QueueUrl),
		config.WhatsAppToken: local.DefaultWhatsAppToken, config.WhatsAppAppSecret: local.DefaultWhatsAppAppSecret,
		config.WhatsAppVerifyToken: local.DefaultWhatsAppVerifyToken, config.AppleMSPSecret: local.DefaultAppleMSPSecret,
		config.EventsWebhookSecret: hookSecret,
	}
	// The values no start-up line may repeat.
	secretValues := []string{local.DefaultWhatsAppToken, local.DefaultWhatsAppAppSecret, local.DefaultWhatsAppVerifyToken,
		local.DefaultAppleMSPSecret, hookSecret, "hunter2"}
	// inSecret is the secret holding the values base gives the secret
	// settings, with changes.
	inSecret := func(change map[string]string) string {
		vals := map[string]string{}
		for _, n := range config.SecretNames {
			if v, ok := base[n]; ok {
				vals[n] = v
			}
		}
		for k, v := range change {
			if v == "" {
				delete(vals, k)
			} else {
				vals[k] = v
			}
		}
		b, _ := json.Marshal(vals)
		return string(b)
	}
	reengagement := func(rule string) string { return `{"106540352242922":` + rule + `}` }
	applePay := func(set map[string]string) map[string]string {
		s := map[string]string{config.ApplePayMerchantID: "merchant.com.example", config.PublicURL: "https://webhooks.example.com",
			config.ApplePayCert: string(certPEM), config.ApplePayKey: string(keyPEM)}
		maps.Copy(s, set)
		return s
	}
	sends := []string{"send", "fallback"}
	none := []string{}

	cases := []misconfig{
		// The store.
		{name: "table empty", set: map[string]string{config.Table: ""}, says: []string{"PARLEY_TABLE is required"}},
		{name: "table blank", set: map[string]string{config.Table: " \t "}, says: []string{"PARLEY_TABLE is required"}},
		{name: "table with a space", set: map[string]string{config.Table: "parley prod"}, says: []string{"PARLEY_TABLE", "DynamoDB table name"}},
		{name: "table name too short", set: map[string]string{config.Table: "pa"}, says: []string{"PARLEY_TABLE", "3 to 255"}},
		{name: "table given as an ARN", set: map[string]string{config.Table: "arn:aws:dynamodb:us-east-1:123456789012:table/parley"}, says: []string{"PARLEY_TABLE", "DynamoDB table name"}},
		{name: "bucket with capitals", set: map[string]string{config.Bucket: "Parley_Payloads"}, says: []string{"PARLEY_BUCKET", "S3 bucket name"}},
		{name: "bucket given as a URL", set: map[string]string{config.Bucket: "s3://parley-payloads"}, says: []string{"PARLEY_BUCKET", "S3 bucket name"}},
		{name: "bucket like an IP address", set: map[string]string{config.Bucket: "192.168.5.4"}, says: []string{"PARLEY_BUCKET", "S3 bucket name"}},
		{name: "write shards zero", set: map[string]string{config.WriteShards: "0"}, says: []string{"PARLEY_WRITE_SHARDS must be a whole number from 1 to 64"}},
		{name: "write shards negative", set: map[string]string{config.WriteShards: "-1"}, says: []string{"PARLEY_WRITE_SHARDS must be a whole number from 1 to 64"}},
		{name: "write shards huge", set: map[string]string{config.WriteShards: "1e9"}, says: []string{"PARLEY_WRITE_SHARDS must be a whole number from 1 to 64"}},
		{name: "write shards with a space around", set: map[string]string{config.WriteShards: " 4 "}, stop: none},
		{name: "AWS endpoint without a scheme", set: map[string]string{config.AWSEndpoint: strings.TrimPrefix(m.Endpoint(), "http://")}, says: []string{"PARLEY_AWS_ENDPOINT must be an http(s) URL"}},

		// Observability.
		{name: "log level verbose", set: map[string]string{config.LogLevel: "verbose"}, says: []string{"PARLEY_LOG_LEVEL must be debug, info, warn or error"}},
		{name: "log level in capitals", set: map[string]string{config.LogLevel: "WARN"}, stop: none},
		{name: "log level debug", set: map[string]string{config.LogLevel: "debug"}, stop: none},
		{name: "metrics namespace of AWS", set: map[string]string{config.MetricsNamespace: "AWS/Lambda"}, says: []string{"PARLEY_METRICS_NAMESPACE", "AWS/"}},
		{name: "metrics namespace not ASCII", set: map[string]string{config.MetricsNamespace: "parley—prod"}, says: []string{"PARLEY_METRICS_NAMESPACE", "CloudWatch namespace"}},
		{name: "metrics namespace with a space", set: map[string]string{config.MetricsNamespace: "parley prod"}, stop: none},

		// The event bus and the queues.
		{name: "event bus with a space", set: map[string]string{config.EventBus: "parley bus"}, says: []string{"PARLEY_EVENT_BUS", "event bus"}},
		{name: "events DLQ given by name", set: map[string]string{config.EventsDLQURL: "parley-events-dlq"}, says: []string{"PARLEY_EVENTS_DLQ_URL must be an http(s) URL"}},
		{name: "webhook queue not FIFO", set: map[string]string{config.EventsWebhookQueueURL: strings.TrimSuffix(aws.ToString(hookQ.QueueUrl), ".fifo")},
			says: []string{"PARLEY_EVENTS_WEBHOOK_QUEUE_URL must be the URL of a FIFO queue"}},
		{name: "webhook queue given by name", set: map[string]string{config.EventsWebhookQueueURL: "parley-hooks.fifo"}, says: []string{"PARLEY_EVENTS_WEBHOOK_QUEUE_URL must be an http(s) URL"}},
		{name: "payload queue given as an ARN", set: map[string]string{config.PayloadQueueURL: "arn:aws:sqs:us-east-1:123456789012:parley-payload"}, says: []string{"PARLEY_PAYLOAD_QUEUE_URL must be an http(s) URL"}},
		{name: "payload attempts zero", set: map[string]string{config.PayloadMaxAttempts: "0"}, says: []string{"PARLEY_PAYLOAD_MAX_ATTEMPTS must be a whole number from 1 to 100"}},
		{name: "payload attempts not a number", set: map[string]string{config.PayloadMaxAttempts: "five"}, says: []string{"PARLEY_PAYLOAD_MAX_ATTEMPTS must be a whole number from 1 to 100"}},

		// The platforms.
		{name: "WhatsApp URL without a scheme", set: map[string]string{config.WhatsAppAPIURL: "graph.facebook.com/v25.0"}, says: []string{"PARLEY_WHATSAPP_API_URL must be an http(s) URL"}},
		{name: "WhatsApp URL without the version", set: map[string]string{config.WhatsAppAPIURL: wa.URL}, says: []string{"PARLEY_WHATSAPP_API_URL must end with the Graph API's version"}},
		{name: "WhatsApp token blank", set: map[string]string{config.WhatsAppToken: "  "}, says: []string{"PARLEY_WHATSAPP_TOKEN is required"}},
		{name: "WhatsApp app secret empty", set: map[string]string{config.WhatsAppAppSecret: ""}, says: []string{"PARLEY_WHATSAPP_APP_SECRET is required"}},
		{name: "Apple MSP URL of another scheme", set: map[string]string{config.AppleMSPURL: "ftp://mspgw.push.apple.com/v1"}, says: []string{"PARLEY_APPLE_MSP_URL must be an http(s) URL"}},
		{name: "Apple MSP id missing", unset: []string{config.AppleMSPID}, says: []string{"PARLEY_APPLE_MSP_ID is required"}},
		{name: "Apple MSP secret not Base64", set: map[string]string{config.AppleMSPSecret: "hunter2!!"}, says: []string{"PARLEY_APPLE_MSP_SECRET must be Base64"}},

		// The public URL and Apple Pay.
		{name: "public URL without a scheme", set: map[string]string{config.PublicURL: "webhooks.example.com"}, stop: sends, says: []string{"PARLEY_PUBLIC_URL must be an http(s) URL"}},
		{name: "public URL in plain http", set: map[string]string{config.PublicURL: "http://webhooks.example.com"}, stop: sends, says: []string{"PARLEY_PUBLIC_URL", "https"}},
		{name: "public URL with a query", set: map[string]string{config.PublicURL: "https://webhooks.example.com/?stage=prod"}, stop: sends, says: []string{"PARLEY_PUBLIC_URL", "query"}},
		{name: "public URL in plain http on this machine", set: map[string]string{config.PublicURL: "http://127.0.0.1:8080"}, stop: none},
		{name: "Apple Pay without its certificate", set: applePay(map[string]string{config.ApplePayCert: "", config.ApplePayKey: ""}), stop: sends,
			says: []string{"Apple Pay needs PARLEY_APPLEPAY_CERT, PARLEY_APPLEPAY_KEY too"}},
		{name: "Apple Pay certificate without its key", set: applePay(map[string]string{config.ApplePayKey: ""}), stop: sends,
			says: []string{"Apple Pay needs PARLEY_APPLEPAY_KEY too"}},
		{name: "Apple Pay certificate not PEM", set: applePay(map[string]string{config.ApplePayCert: "hunter2"}), stop: sends,
			says: []string{"PARLEY_APPLEPAY_CERT", "PEM"}},
		{name: "Apple Pay key of another certificate", set: applePay(map[string]string{config.ApplePayCert: string(otherCert(t))}), stop: sends,
			says: []string{"PARLEY_APPLEPAY_KEY", "does not match"}},
		{name: "Apple Pay gateway without a scheme", set: applePay(map[string]string{config.ApplePayGatewayURL: "apple-pay-gateway.apple.com"}), stop: sends,
			says: []string{"PARLEY_APPLEPAY_GATEWAY_URL must be an http(s) URL"}},
		{name: "Apple Pay lifetime negative", set: map[string]string{config.ApplePayLifetime: "-5m"}, says: []string{"PARLEY_APPLEPAY_LIFETIME must be a duration from 1m to 24h"}},
		{name: "Apple Pay payment attempts negative", set: map[string]string{config.ApplePayPaymentAttempts: "-1"}, says: []string{"PARLEY_APPLEPAY_PAYMENT_ATTEMPTS must be a whole number from 1 to 10"}},
		{name: "Apple Pay callbacks per request absurd", set: map[string]string{config.ApplePayCallbacksPerRequest: "99999999999999999999"}, says: []string{"PARLEY_APPLEPAY_CALLBACKS_PER_REQUEST must be a whole number from 10 to 1000"}},
		{name: "Apple Pay callback rate NaN", set: map[string]string{config.ApplePayCallbackRate: "NaN"}, says: []string{"PARLEY_APPLEPAY_CALLBACK_RATE must be a number"}},
		{name: "Apple Pay callback rate infinite", set: map[string]string{config.ApplePayCallbackRate: "+Inf"}, says: []string{"PARLEY_APPLEPAY_CALLBACK_RATE must be a number"}},
		{name: "payment processor in plain http", set: map[string]string{config.PaymentProcessorURL: "http://pay.example.com/callbacks"}, says: []string{"PARLEY_PAYMENT_PROCESSOR_URL must be an https URL"}},
		{name: "Apple Pay domain given as a URL", set: applePay(map[string]string{config.ApplePayDomain: "https://shop.example.com"}), stop: sends,
			says: []string{"PARLEY_APPLEPAY_DOMAIN must be the domain name"}},
		{name: "payment processor without a scheme", set: map[string]string{config.PaymentProcessorURL: "pay.example.com/callbacks"}, says: []string{"PARLEY_PAYMENT_PROCESSOR_URL must be an http(s) URL"}},

		// Sending.
		{name: "throughput NaN", set: map[string]string{config.ThroughputPerSecond: "NaN"}, says: []string{"PARLEY_THROUGHPUT_PER_SECOND must be a number"}},
		{name: "throughput negative", set: map[string]string{config.ThroughputPerSecond: "-80"}, says: []string{"PARLEY_THROUGHPUT_PER_SECOND must be a number"}},
		{name: "re-engagement not JSON", set: map[string]string{config.Reengagement: "{"}, says: []string{"PARLEY_REENGAGEMENT must be a JSON object"}},
		{name: "re-engagement followed by more", set: map[string]string{config.Reengagement: reengagement(`{"minutesBefore":60,"template":{"name":"still_there","language":"en_US"}}`) + ` {}`},
			says: []string{"PARLEY_REENGAGEMENT must be a JSON object", "something follows the object"}},
		{name: "re-engagement template with an unknown field", set: map[string]string{config.Reengagement: reengagement(`{"minutesBefore":60,"template":{"name":"still_there","language":"en_US","colour":"red"}}`)},
			says: []string{"PARLEY_REENGAGEMENT must be a JSON object", "colour"}},
		{name: "re-engagement rule with an unknown field", set: map[string]string{config.Reengagement: reengagement(`{"minutes":60,"template":{"name":"still_there","language":"en_US"}}`)},
			says: []string{"PARLEY_REENGAGEMENT must be a JSON object", `unknown field "minutes"`}},
		{name: "re-engagement rule null", set: map[string]string{config.Reengagement: reengagement(`null`)},
			says: []string{"PARLEY_REENGAGEMENT: 106540352242922: minutesBefore 0"}},
		{name: "re-engagement by a phone number rather than its id", set: map[string]string{config.Reengagement: `{"+44 7700 900123":{"minutesBefore":60,"template":{"name":"still_there","language":"en_US"}}}`},
			says: []string{"PARLEY_REENGAGEMENT", "phone number id"}},
		{name: "re-engagement template WhatsApp would refuse", set: map[string]string{config.Reengagement: reengagement(`{"minutesBefore":60,"template":{"name":"still_there","language":"en_US","components":[{"type":"bodyy"}]}}`)},
			says: []string{"PARLEY_REENGAGEMENT: 106540352242922: template", "message.components"}},
		{name: "API access not JSON", set: map[string]string{config.APIAccess: "arn:aws:iam::123456789012:role/shop-app"}, says: []string{"PARLEY_API_ACCESS must be a JSON object"}},
		{name: "API access with a short account", set: map[string]string{config.APIAccess: `{"arn:aws:iam::12345:role/shop-app":["106540352242922"]}`},
			says: []string{"PARLEY_API_ACCESS", "is not the ARN of an IAM role or user"}},
		{name: "API access with a wildcard", set: map[string]string{config.APIAccess: `{"arn:aws:iam::123456789012:role/*":["106540352242922"]}`},
			says: []string{"PARLEY_API_ACCESS", "is not the ARN of an IAM role or user"}},
		{name: "API access naming no one", set: map[string]string{config.APIAccess: `{}`}, says: []string{"PARLEY_API_ACCESS names no principal"}},
		{name: "API access naming a role twice", set: map[string]string{config.APIAccess: `{"arn:aws:iam::123456789012:role/shop-app":["106540352242922"],"arn:aws:iam::123456789012:role/shop-app":["9f8e7d6c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"]}`},
			says: []string{"PARLEY_API_ACCESS names arn:aws:iam::123456789012:role/shop-app twice"}},
		{name: "re-engagement of a number twice", set: map[string]string{config.Reengagement: `{"106540352242922":{"minutesBefore":60,"template":{"name":"still_there","language":"en_US"}},"106540352242922":{"minutesBefore":30,"template":{"name":"still_there","language":"en_US"}}}`},
			says: []string{"PARLEY_REENGAGEMENT names 106540352242922 twice"}},
		{name: "fetch hosts of any host", set: map[string]string{config.FetchAllowHosts: "*"}, says: []string{"PARLEY_FETCH_ALLOW_HOSTS", "is not a host name"}},
		{name: "fetch local yes", set: map[string]string{config.FetchLocal: "yes"}, says: []string{"PARLEY_FETCH_LOCAL must be true or false"}},
		{name: "fetch timeout zero", set: map[string]string{config.FetchTimeout: "0"}, says: []string{"PARLEY_FETCH_TIMEOUT must be a duration from 1s to 10m"}},
		{name: "fetch timeout of a nanosecond", set: map[string]string{config.FetchTimeout: "1ns"}, says: []string{"PARLEY_FETCH_TIMEOUT must be a duration from 1s to 10m"}},
		{name: "fetch hosts as URLs", set: map[string]string{config.FetchAllowHosts: "https://cdn.example.com/"}, says: []string{"PARLEY_FETCH_ALLOW_HOSTS", "is not a host name"}},
		{name: "send retry budget past the timeout", set: map[string]string{config.SendRetryBudget: "30s"}, says: []string{"PARLEY_SEND_RETRY_BUDGET must be a duration from 1s to 25s"}},
		{name: "send retry budget of a millisecond", set: map[string]string{config.SendRetryBudget: "1ms"}, says: []string{"PARLEY_SEND_RETRY_BUDGET must be a duration from 1s to 25s"}},
		{name: "idempotency lease shorter than a send", set: map[string]string{config.IdempotencyLease: "5s"}, says: []string{"PARLEY_IDEMPOTENCY_LEASE must be a duration from 30s"}},

		// The app's event webhook.
		{name: "events webhook in plain http", set: map[string]string{config.EventsWebhookURL: "http://app.example.com/hooks/parley"}, says: []string{"PARLEY_EVENTS_WEBHOOK_URL", "https"}},
		{name: "events webhook secret without its prefix", set: map[string]string{config.EventsWebhookSecret: strings.TrimPrefix(hookSecret, "whsec_")}, says: []string{"PARLEY_EVENTS_WEBHOOK_SECRET"}},
		{name: "events webhook queue missing", unset: []string{config.EventsWebhookQueueURL}, stop: []string{"webhook"}, says: []string{"PARLEY_EVENTS_WEBHOOK_QUEUE_URL is required"}},

		// The secret and its time to live.
		{name: "secrets TTL not a duration", set: map[string]string{config.SecretsTTL: "abc"}, says: []string{"PARLEY_SECRETS_TTL must be a duration from 1m to 1h"}},
		{name: "secrets TTL negative", set: map[string]string{config.SecretsTTL: "-5m"}, says: []string{"PARLEY_SECRETS_TTL must be a duration from 1m to 1h"}},
		{name: "secrets TTL zero", set: map[string]string{config.SecretsTTL: "0"}, says: []string{"PARLEY_SECRETS_TTL must be a duration from 1m to 1h"}},
		{name: "secrets ARN in another region", set: map[string]string{config.SecretsARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:parley-AbCdEf"}, stop: all,
			says: []string{"PARLEY_SECRETS_ARN", "eu-west-1", "us-east-1"}},
		{name: "secrets ARN in another partition", set: map[string]string{config.SecretsARN: "arn:aws-cn:secretsmanager:us-east-1:123456789012:secret:parley-AbCdEf"}, stop: all,
			says: []string{"PARLEY_SECRETS_ARN", "aws-cn"}},
		{name: "secrets ARN of a parameter", set: map[string]string{config.SecretsARN: "arn:aws:ssm:us-east-1:123456789012:parameter/parley"}, stop: all,
			says: []string{"PARLEY_SECRETS_ARN", "Secrets Manager secret"}},
		{name: "secrets TTL not a duration with a secret", secret: inSecret(nil), set: map[string]string{config.SecretsTTL: "5"}, stop: all,
			says: []string{"PARLEY_SECRETS_TTL must be a duration from 1m to 1h"}},
		{name: "secret not JSON", secret: "hunter2", stop: all, says: []string{"PARLEY_SECRETS_ARN", "not a JSON object"}},
		{name: "secret without the WhatsApp token", secret: inSecret(map[string]string{config.WhatsAppToken: ""}),
			stop: []string{"ingest", "send", "fallback", "fetch"}, says: []string{"PARLEY_WHATSAPP_TOKEN is required"}},
		{name: "secret settings blank in the environment", secret: inSecret(nil), set: map[string]string{config.WhatsAppToken: " ", config.WhatsAppAppSecret: "",
			config.WhatsAppVerifyToken: "\t", config.AppleMSPSecret: " ", config.EventsWebhookSecret: "\n"}, stop: none},
		{name: "secret with an extra key", secret: inSecret(map[string]string{"rotated-by": "hunter2"}), stop: none},
		{name: "secret with a misspelt key", secret: inSecret(map[string]string{config.WhatsAppToken: "", "PARLEY_WHATSAPP_TOKN": local.DefaultWhatsAppToken}), stop: all,
			says: []string{"PARLEY_WHATSAPP_TOKN", "PARLEY_WHATSAPP_TOKEN"}},
		{name: "secret with a setting of the environment", secret: inSecret(map[string]string{config.Table: "parley"}), stop: all,
			says: []string{"PARLEY_TABLE", "environment"}},
		{name: "secret with values ending in a newline", secret: inSecret(map[string]string{config.WhatsAppVerifyToken: local.DefaultWhatsAppVerifyToken + "\n",
			config.WhatsAppAppSecret: local.DefaultWhatsAppAppSecret + "\n", config.EventsWebhookSecret: hookSecret + "\n", config.WhatsAppToken: local.DefaultWhatsAppToken + "\n"}), stop: none},
		{name: "secret with the Apple Pay certificate and not its key", secret: inSecret(map[string]string{config.ApplePayCert: string(certPEM)}),
			set: map[string]string{config.ApplePayMerchantID: "merchant.com.example", config.PublicURL: "https://webhooks.example.com"}, stop: sends,
			says: []string{"Apple Pay needs PARLEY_APPLEPAY_KEY too"}},
		{name: "secret with Apple Pay", secret: inSecret(map[string]string{config.ApplePayCert: string(certPEM), config.ApplePayKey: string(keyPEM)}),
			set: map[string]string{config.ApplePayMerchantID: "merchant.com.example", config.PublicURL: "https://webhooks.example.com"}, stop: none},

		// Names no function knows.
		{name: "secrets ARN misspelt", set: map[string]string{"PARLEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:parley-AbCdEf"}, stop: all,
			says: []string{"PARLEY_SECRET_ARN is not a setting", "PARLEY_SECRETS_ARN"}},
		{name: "secrets TTL misspelt", set: map[string]string{"PARLEY_SECRETS_TLL": "10m"}, stop: all, says: []string{"PARLEY_SECRETS_TLL is not a setting", "PARLEY_SECRETS_TTL"}},
		{name: "a setting of the local stack", set: map[string]string{config.StoreKind: "aws", config.DataDir: "/tmp/parley"}, stop: none},
		{name: "a setting of another function", set: map[string]string{config.ThroughputPerSecond: "20", config.APIAccess: `{"arn:aws:iam::123456789012:role/shop-app":["106540352242922"]}`,
			config.PayloadMaxAttempts: "3", config.ApplePayCallbackRate: "20"}, stop: none},
	}

	// Every setting a function reads, blank: a required one stops the
	// functions that read it, naming it; any other leaves its default.
	// (Without PARLEY_AWS_ENDPOINT the functions would call AWS itself.)
	required := map[string][]string{
		config.Table: all, config.Bucket: all, config.WhatsAppAPIURL: all, config.WhatsAppToken: all,
		config.WhatsAppAppSecret: all, config.WhatsAppVerifyToken: all, config.AppleMSPID: all, config.AppleMSPSecret: all,
		config.AppleMSPURL: all, config.EventsWebhookURL: all, config.EventsWebhookSecret: all, config.EventsWebhookQueueURL: {"webhook"},
	}
	for _, n := range config.Names {
		var readers, stop []string
		for _, fn := range functionNames {
			if slices.Contains(config.Reads(config.Functions[fn]), n) {
				readers = append(readers, fn)
				if slices.Contains(required[n], fn) {
					stop = append(stop, fn)
				}
			}
		}
		if len(readers) == 0 || n == config.AWSEndpoint {
			continue
		}
		cases = append(cases, misconfig{name: "blank " + n, set: map[string]string{n: " \t "}, run: readers, stop: append([]string{}, stop...), says: []string{n}})
	}

	for _, name := range functionNames {
		build(t, name)
	}
	secrets := 0
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			env := maps.Clone(base)
			if c.secret != "" {
				secrets++
				out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(fmt.Sprintf("parley-misconfig-%d", secrets)), SecretString: aws.String(c.secret)})
				if err != nil {
					t.Fatal(err)
				}
				env[config.SecretsARN] = aws.ToString(out.ARN)
				for _, n := range config.SecretNames {
					delete(env, n)
				}
			}
			maps.Copy(env, c.set)
			for _, k := range c.unset {
				delete(env, k)
			}
			stop := c.stop
			if stop == nil {
				for _, fn := range functionNames {
					reads := config.Reads(config.Functions[fn])
					for _, k := range slices.Concat(slices.Collect(maps.Keys(c.set)), c.unset) {
						if slices.Contains(reads, k) && !slices.Contains(stop, fn) {
							stop = append(stop, fn)
						}
					}
				}
				if len(stop) == 0 {
					t.Fatal("no function reads the settings of the case: give stop")
				}
			}
			for _, fn := range functionNames {
				if c.run != nil && !slices.Contains(c.run, fn) {
					continue
				}
				t.Run(fn, func(t *testing.T) {
					if slices.Contains(stop, fn) {
						refusesToStart(t, fn, env, c.says, secretValues)
					} else {
						answers(t, fn, env, secretValues)
					}
				})
			}
		})
	}
	if n := refused.Load(); n > 0 {
		t.Errorf("the app refused %d event webhooks: their signature did not match its secret", n)
	}
}

// refusesToStart runs function fn with env and checks that it exits at
// start-up with one line that names the function and says each of says,
// and never repeats a value of secrets.
func refusesToStart(t *testing.T, fn string, env map[string]string, says, secrets []string) {
	t.Helper()
	var stdout, stderr syncBuffer
	emu, err := lambdaemu.Start(context.Background(), lambdaemu.Config{Bootstrap: build(t, fn), Env: environ(env), FunctionName: fn,
		Timeout: 30 * time.Second, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	res, err := emu.Invoke(context.Background(), []byte(`{}`))
	if err == nil {
		t.Fatalf("%s started and answered %s %s, want it to stop at start-up", fn, res.FunctionError, res.Payload)
	}
	if !errors.Is(err, lambdaemu.ErrExited) && !errors.Is(err, lambdaemu.ErrInit) {
		t.Fatalf("%s: %v, want an exit at start-up", fn, err)
	}
	out := strings.TrimSpace(stderr.String())
	if lines := strings.Split(out, "\n"); len(lines) != 1 {
		t.Errorf("%s wrote %d lines, want one:\n%s", fn, len(lines), out)
	}
	if !strings.HasPrefix(out, fn+": ") {
		t.Errorf("%s's line %q does not start with its name", fn, out)
	}
	for _, s := range says {
		if !strings.Contains(out, s) {
			t.Errorf("%s's line %q does not say %q", fn, out, s)
		}
	}
	if _, problems, ok := strings.Cut(out, "config: "); ok {
		ps := strings.Split(problems, "; ")
		if slices.Sort(ps); len(slices.Compact(ps)) != len(strings.Split(problems, "; ")) {
			t.Errorf("%s's line %q says a problem twice", fn, out)
		}
	}
	for _, bad := range []string{"panic", "goroutine ", ".go:"} {
		if strings.Contains(out, bad) {
			t.Errorf("%s's line %q holds %q", fn, out, bad)
		}
	}
	for _, s := range secrets {
		if strings.Contains(out+stdout.String(), s) {
			t.Errorf("%s's output repeats the secret value %q: %s", fn, s, out)
		}
	}
}

// answers runs function fn with env and checks that it answers its sample
// event, and logs no value of secrets.
func answers(t *testing.T, fn string, env map[string]string, secrets []string) {
	t.Helper()
	ev := sampleEvents[fn]
	payload, err := os.ReadFile(filepath.Join("..", "events", ev.file))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	emu, err := lambdaemu.Start(context.Background(), lambdaemu.Config{Bootstrap: build(t, fn), Env: environ(env), FunctionName: fn,
		Timeout: 30 * time.Second, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	res, err := emu.Invoke(context.Background(), payload)
	if err != nil || res.FunctionError != "" {
		t.Fatalf("%s: %v %s (stderr: %s)", fn, err, res.Payload, stderr.String())
	}
	if !strings.Contains(string(res.Payload), ev.want) {
		t.Errorf("%s answered %s with %s, want %s", fn, ev.file, res.Payload, ev.want)
	}
	emu.Close()
	for _, s := range secrets {
		if strings.Contains(stdout.String()+stderr.String(), s) {
			t.Errorf("%s logged the secret value %q:\n%s%s", fn, s, stdout.String(), stderr.String())
		}
	}
}

// environ is env as KEY=value lines.
func environ(env map[string]string) []string {
	var vars []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		vars = append(vars, k+"="+env[k])
	}
	return vars
}

// otherCert is a certificate of a key other than merchantIdentity's.
func otherCert(t *testing.T) []byte {
	cert, _ := merchantIdentity(t)
	return cert
}
