package functions_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley/infra/lambdaemu"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/secrets"
)

// The webhooks' secrets before and after a rotation.
var (
	secretsBefore = map[string]string{
		config.WhatsAppToken: local.DefaultWhatsAppToken, config.WhatsAppAppSecret: "app-secret-before-rotation",
		config.WhatsAppVerifyToken: "verify-token-before", config.AppleMSPSecret: base64.StdEncoding.EncodeToString([]byte("apple-msp-secret-before-rotation")),
		config.EventsWebhookSecret: "whsec_" + base64.StdEncoding.EncodeToString([]byte("events-webhook-secret-before-rotation")),
	}
	secretsAfter = map[string]string{
		config.WhatsAppToken: local.DefaultWhatsAppToken, config.WhatsAppAppSecret: "app-secret-after-rotation",
		config.WhatsAppVerifyToken: "verify-token-after", config.AppleMSPSecret: base64.StdEncoding.EncodeToString([]byte("apple-msp-secret-after-rotation!")),
		config.EventsWebhookSecret: "whsec_" + base64.StdEncoding.EncodeToString([]byte("events-webhook-secret-after-rotation!")),
	}
)

// secretReads counts the GetSecretValue calls that reach moto through it.
type secretReads struct {
	n     atomic.Int32
	proxy *httputil.ReverseProxy
}

func (s *secretReads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") == "secretsmanager.GetSecretValue" {
		s.n.Add(1)
	}
	s.proxy.ServeHTTP(w, r)
}

// TestWebhookSecretsFollowARotation: with its secrets in Secrets Manager,
// the ingest function takes the webhooks signed with the rotated secrets
// (WhatsApp's app secret and verify token, Apple's MSP secret) without a
// restart, and refuses those of the old ones once it has read the new;
// forged deliveries read the secret at most once per RecheckInterval. The
// webhook function signs with the rotated events secret once its TTL has
// passed.
func TestWebhookSecretsFollowARotation(t *testing.T) {
	ctx := context.Background()
	m := startStore(t)
	sm := secretsmanager.NewFromConfig(m.SDKConfig())
	doc, _ := json.Marshal(secretsBefore)
	created, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("parley"), SecretString: aws.String(string(doc))})
	if err != nil {
		t.Fatal(err)
	}
	motoURL, _ := url.Parse(m.Endpoint())
	reads := &secretReads{proxy: httputil.NewSingleHostReverseProxy(motoURL)}
	counted := httptest.NewServer(reads)
	defer counted.Close()
	hookQ, err := sqs.NewFromConfig(m.SDKConfig()).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("parley-hooks.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}

	// The app's endpoint verifies with the secret the app holds.
	var app struct {
		sync.Mutex
		secret string
		ids    []string
		errs   []error
	}
	appSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		app.Lock()
		defer app.Unlock()
		key, _ := apphook.ParseSecret(app.secret)
		if err := apphook.Verify(key, r.Header, body, time.Now()); err != nil {
			app.errs = append(app.errs, err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		app.ids = append(app.ids, r.Header.Get(apphook.HeaderID))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer appSrv.Close()
	app.secret = secretsBefore[config.EventsWebhookSecret]

	env := []string{
		"PARLEY_STORE=aws", "PARLEY_TABLE=parley", "PARLEY_BUCKET=parley-payloads", "PARLEY_LOG_LEVEL=warn",
		"PARLEY_WHATSAPP_API_URL=http://127.0.0.1:9/v25.0", "PARLEY_APPLE_MSP_URL=http://127.0.0.1:9/v1",
		"PARLEY_APPLE_MSP_ID=" + local.DefaultAppleMSPID, "PARLEY_SECRETS_ARN=" + aws.ToString(created.ARN),
	}
	start := func(name string, env ...string) *lambdaemu.Emulator {
		t.Helper()
		emu, err := lambdaemu.Start(ctx, lambdaemu.Config{Bootstrap: build(t, name), Env: env, FunctionName: name, Timeout: 30 * time.Second, Stderr: testWriter{t}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { emu.Close() })
		return emu
	}
	// The ingest function reads its secret through the counter.
	ingestFn := start("ingest", append(env, "PARLEY_AWS_ENDPOINT="+counted.URL)...)
	hookFn := start("webhook", append(env, "PARLEY_AWS_ENDPOINT="+m.Endpoint(), "PARLEY_SECRETS_TTL=1m",
		"PARLEY_EVENTS_WEBHOOK_URL="+appSrv.URL+"/hooks/parley", "PARLEY_EVENTS_WEBHOOK_QUEUE_URL="+aws.ToString(hookQ.QueueUrl))...)

	delivery, err := os.ReadFile(filepath.Join("..", "events", "webhook", "sqs-delivery.json"))
	if err != nil {
		t.Fatal(err)
	}
	if a := invoke(t, hookFn, delivery); a.raw != `{"batchItemFailures":null}` {
		t.Fatalf("the events webhook before the rotation: %s", a.raw)
	}
	signedBefore := time.Now()

	type step struct {
		name   string
		event  []byte
		status int
	}
	run := func(steps []step) {
		t.Helper()
		for _, s := range steps {
			if a := invoke(t, ingestFn, s.event); a.StatusCode != s.status {
				t.Errorf("%s: status %d, want %d: %s", s.name, a.StatusCode, s.status, a.Body)
			}
		}
	}
	run([]step{
		{"WhatsApp, the app secret before the rotation", whatsAppSignedWith(t, "wamid.ROT1", secretsBefore[config.WhatsAppAppSecret]), 200},
		{"the handshake, the verify token before the rotation", handshakeWith(t, secretsBefore[config.WhatsAppVerifyToken]), 200},
		{"Apple, the MSP secret before the rotation", appleSignedWith(t, secretsBefore[config.AppleMSPSecret]), 200},
	})
	held := reads.n.Load()

	// The rotation: a new version of the secret.
	doc, _ = json.Marshal(secretsAfter)
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: created.ARN, SecretString: aws.String(string(doc))}); err != nil {
		t.Fatal(err)
	}
	rotated := time.Now()
	run([]step{
		{"WhatsApp, the rotated app secret", whatsAppSignedWith(t, "wamid.ROT2", secretsAfter[config.WhatsAppAppSecret]), 200},
		{"WhatsApp, the old app secret", whatsAppSignedWith(t, "wamid.ROT3", secretsBefore[config.WhatsAppAppSecret]), 401},
		{"the handshake, the rotated verify token", handshakeWith(t, secretsAfter[config.WhatsAppVerifyToken]), 200},
		{"the handshake, the old verify token", handshakeWith(t, secretsBefore[config.WhatsAppVerifyToken]), 403},
		{"Apple, the rotated MSP secret", appleSignedWith(t, secretsAfter[config.AppleMSPSecret]), 200},
		{"Apple, the old MSP secret", appleSignedWith(t, secretsBefore[config.AppleMSPSecret]), 403},
	})
	// Then forged deliveries. The refusals read the secret at most once
	// per RecheckInterval (once, unless this machine is slow).
	for i := range 20 {
		run([]step{{"forged", whatsAppSignedWith(t, fmt.Sprintf("wamid.FORGED%02d", i), fmt.Sprintf("guess-%d", i)), 401}})
	}
	if got, most := reads.n.Load()-held, 1+intervalsSince(rotated); got < 1 || got > most {
		t.Errorf("the rotation and 20 forged deliveries read the secret %d times, want 1 to %d", got, most)
	}

	// A function that has not read the secret again lately: 20 forged
	// deliveries read it once.
	fresh := start("ingest", append(env, "PARLEY_AWS_ENDPOINT="+counted.URL)...)
	if a := invoke(t, fresh, whatsAppSignedWith(t, "wamid.ROT4", secretsAfter[config.WhatsAppAppSecret])); a.StatusCode != 200 {
		t.Fatalf("a new instance, the rotated app secret: %d %s", a.StatusCode, a.Body)
	}
	held = reads.n.Load()
	forged := time.Now()
	for i := range 20 {
		if a := invoke(t, fresh, whatsAppSignedWith(t, fmt.Sprintf("wamid.FORGED%02d", 20+i), fmt.Sprintf("guess-%d", 20+i))); a.StatusCode != 401 {
			t.Errorf("forged: status %d, want 401", a.StatusCode)
		}
	}
	if got, most := reads.n.Load()-held, 1+intervalsSince(forged); got < 1 || got > most {
		t.Errorf("20 forged deliveries read the secret %d times, want 1 to %d", got, most)
	}

	// The events webhook: the app takes the rotated secret only; the
	// function signs with it once its values are older than the TTL.
	app.Lock()
	app.secret = secretsAfter[config.EventsWebhookSecret]
	app.ids, app.errs = nil, nil
	app.Unlock()
	time.Sleep(time.Until(signedBefore.Add(time.Minute + time.Second)))
	if a := invoke(t, hookFn, delivery); a.raw != `{"batchItemFailures":null}` {
		t.Errorf("the events webhook after the rotation: %s", a.raw)
	}
	app.Lock()
	defer app.Unlock()
	if len(app.ids) != 2 || len(app.errs) != 0 {
		t.Errorf("after the rotation, the app took %v and refused %v", app.ids, app.errs)
	}
}

// intervalsSince is how many whole RecheckIntervals have passed since at.
func intervalsSince(at time.Time) int32 {
	return int32(time.Since(at) / secrets.RecheckInterval)
}

// whatsAppSignedWith is the WhatsApp text sample, now, as message id,
// signed with appSecret.
func whatsAppSignedWith(t *testing.T, id, appSecret string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(restamped(t, "ingest/whatsapp-text.json", time.Now(), "wamid.HBgM", id), &ev); err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(ev["body"].(string)))
	ev["headers"].(map[string]any)["x-hub-signature-256"] = "sha256=" + hex.EncodeToString(mac.Sum(nil))
	b, _ := json.Marshal(ev)
	return b
}

// handshakeWith is Meta's verification handshake sample presenting token.
func handshakeWith(t *testing.T, token string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", "ingest", "whatsapp-verify.json"))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), local.DefaultWhatsAppVerifyToken, token))
}

// appleSignedWith is the Apple text sample, now, with a token signed with
// the MSP secret secret (Base64).
func appleSignedWith(t *testing.T, secret string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(restamped(t, "ingest/apple-text.json", time.Now()), &ev); err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(secret)
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": local.DefaultAppleMSPID, "iat": time.Now().Unix()}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	headers := ev["headers"].(map[string]any)
	for k := range headers {
		if strings.EqualFold(k, "authorization") {
			delete(headers, k)
		}
	}
	headers["authorization"] = "Bearer " + token
	b, _ := json.Marshal(ev)
	return b
}
