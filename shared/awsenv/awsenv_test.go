package awsenv_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/infra/whatsappsim"
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
	_, client, err := awsenv.Load(ctx, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	wa, _ := awsenv.PlatformHTTP(client, func(k string) string { return env[k] }, 5*time.Minute, 10*time.Second)
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
	wa, _ = awsenv.PlatformHTTP(client, func(k string) string { return env[k] }, 5*time.Minute, 10*time.Second)
	c = &whatsapp.Client{BaseURL: sim.URL + "/v25.0", Token: "EAAG-from-the-environment", HTTP: wa}
	if _, err := c.Send(ctx, o); message.AsError(err).Code != message.CodeUnauthorized {
		t.Errorf("a token from the environment: %v, want it used as it is (and refused)", err)
	}
}
