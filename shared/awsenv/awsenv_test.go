package awsenv_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/awsenv"
	"github.com/parleyhq/parley/shared/config"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// TestPlatformHTTPFollowsTheSecret: a function started with the token of
// the secret keeps sending after the secret is rotated; a token set in the
// environment is used as it is.
func TestPlatformHTTPFollowsTheSecret(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	sm := secretsmanager.NewFromConfig(m.SDKConfig())
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("parley"), SecretString: aws.String(`{"PARLEY_WHATSAPP_TOKEN":"EAAG-rotated"}`)})
	if err != nil {
		t.Fatal(err)
	}
	simulator := whatsappsim.New(whatsappsim.Config{Token: "EAAG-rotated"})
	sim := httptest.NewServer(simulator)
	defer sim.Close()
	o := message.Outgoing{MessageID: "msg_1", BusinessID: "106540352242922", To: "447700900123",
		Message: message.Message{Type: message.TypeTemplate, Name: "hello_world", Language: "en_US"}}

	env := map[string]string{config.SecretsARN: *out.ARN, config.AWSEndpoint: m.Endpoint()}
	_, a, err := awsenv.Load(ctx, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	wa, _ := a.PlatformHTTP(10 * time.Second)
	// The token read at start-up, before the rotation.
	c := &whatsapp.Client{BaseURL: sim.URL + "/v25.0", Token: "EAAG-started-with", HTTP: wa}
	if _, err := c.Send(ctx, o); err != nil {
		t.Errorf("after a rotation: %v", err)
	}
	// Media go through their own client, with the secret's token too: a
	// customer's file is downloaded and a file uploaded after the rotation.
	c.MediaHTTP = awsenv.MediaHTTP(wa)
	file := simulator.PutMedia(o.BusinessID, "image/jpeg", []byte("a photo of the parcel"))
	info, err := c.Media(ctx, file.ID)
	if err != nil {
		t.Fatalf("resolving a media id after a rotation: %v", err)
	}
	body, err := c.Download(ctx, info.URL)
	if err != nil {
		t.Fatalf("downloading a media file after a rotation: %v", err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if string(got) != "a photo of the parcel" {
		t.Errorf("downloaded %q", got)
	}
	if _, err := c.UploadMedia(ctx, o.BusinessID, "application/pdf", "invoice.pdf", strings.NewReader("%PDF-1.7 invoice")); err != nil {
		t.Errorf("uploading a media file after a rotation: %v", err)
	}

	env[config.WhatsAppToken] = "EAAG-from-the-environment"
	wa, _ = a.PlatformHTTP(10 * time.Second)
	c = &whatsapp.Client{BaseURL: sim.URL + "/v25.0", Token: "EAAG-from-the-environment", HTTP: wa}
	if _, err := c.Send(ctx, o); message.AsError(err).Code != message.CodeUnauthorized {
		t.Errorf("a token from the environment: %v, want it used as it is (and refused)", err)
	}
}

// TestAFreshInstanceReadsTheSecretOnce: a function reads its secret at
// start-up, and its first webhook check, WhatsApp send and events webhook
// key take their values from that read — one GetSecretValue in all, where
// each credential used to read the secret again. A setting in the
// environment still wins over the secret's.
func TestAFreshInstanceReadsTheSecretOnce(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	sm := secretsmanager.NewFromConfig(m.SDKConfig())
	hookSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("events-webhook-secret-of-32-bytes"))
	doc, _ := json.Marshal(map[string]string{config.WhatsAppToken: "EAAG-from-the-secret", config.WhatsAppAppSecret: "app-secret-from-the-secret",
		config.WhatsAppVerifyToken: "verify-token-from-the-secret", config.EventsWebhookSecret: hookSecret})
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("parley"), SecretString: aws.String(string(doc))})
	if err != nil {
		t.Fatal(err)
	}
	// Every call to moto goes through a counter of the secret's reads.
	var reads atomic.Int32
	motoURL, _ := url.Parse(m.Endpoint())
	proxy := httputil.NewSingleHostReverseProxy(motoURL)
	counted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "secretsmanager.GetSecretValue" {
			reads.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	defer counted.Close()
	sim := httptest.NewServer(whatsappsim.New(whatsappsim.Config{Token: "EAAG-from-the-secret"}))
	defer sim.Close()

	vars := map[string]string{config.SecretsARN: *out.ARN, config.AWSEndpoint: counted.URL,
		config.WhatsAppVerifyToken: "verify-token-from-the-environment"}
	env, a, err := awsenv.Load(ctx, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := env.WhatsApp().Token; got != "EAAG-from-the-secret" {
		t.Errorf("the token read at start-up: %q", got)
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("start-up read the secret %d times, want 1", n)
	}

	secrets := a.WebhookSecrets()
	appSecret := secrets(config.WhatsAppAppSecret)
	if appSecret == nil || !appSecret(ctx, func(v string) bool { return v == "app-secret-from-the-secret" }) {
		t.Error("the first webhook was not verified with the secret's app secret")
	}
	if secrets(config.WhatsAppVerifyToken) != nil {
		t.Error("the verify token set in the environment was taken from the secret")
	}
	wa, _ := a.PlatformHTTP(10 * time.Second)
	c := &whatsapp.Client{BaseURL: sim.URL + "/v25.0", Token: env.WhatsApp().Token, HTTP: wa}
	o := message.Outgoing{MessageID: "msg_1", BusinessID: "106540352242922", To: "447700900123",
		Message: message.Message{Type: message.TypeTemplate, Name: "hello_world", Language: "en_US"}}
	if _, err := c.Send(ctx, o); err != nil {
		t.Errorf("the first send, with the secret's token: %v", err)
	}
	key, err := a.EventsWebhookKey()(ctx)
	if want, _ := apphook.ParseSecret(hookSecret); err != nil || !bytes.Equal(key, want) {
		t.Errorf("the events webhook's key: %x, %v", key, err)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("start-up, a webhook check, a send and the events key read the secret %d times, want 1", n)
	}
}
