package functions_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/parleyhq/parley/infra/lambdaemu"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/shared/config"
)

// TestAFreshIngestReadsItsSecretOnce: an ingest instance whose webhook
// secrets are in Secrets Manager reads the secret once, at start-up, and
// verifies its first WhatsApp delivery, Meta's handshake and Apple's first
// delivery with the values read then.
func TestAFreshIngestReadsItsSecretOnce(t *testing.T) {
	ctx := context.Background()
	m := startStore(t)
	doc, _ := json.Marshal(secretsBefore)
	created, err := secretsmanager.NewFromConfig(m.SDKConfig()).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("parley"), SecretString: aws.String(string(doc))})
	if err != nil {
		t.Fatal(err)
	}
	motoURL, _ := url.Parse(m.Endpoint())
	reads := &secretReads{proxy: httputil.NewSingleHostReverseProxy(motoURL)}
	counted := httptest.NewServer(reads)
	defer counted.Close()
	emu, err := lambdaemu.Start(ctx, lambdaemu.Config{Bootstrap: build(t, "ingest"), FunctionName: "ingest", Timeout: 30 * time.Second, Stderr: testWriter{t}, Env: []string{
		"PARLEY_TABLE=parley", "PARLEY_BUCKET=parley-payloads", "PARLEY_LOG_LEVEL=warn", "PARLEY_AWS_ENDPOINT=" + counted.URL,
		"PARLEY_WHATSAPP_API_URL=http://127.0.0.1:9/v25.0", "PARLEY_APPLE_MSP_ID=" + local.DefaultAppleMSPID,
		"PARLEY_SECRETS_ARN=" + aws.ToString(created.ARN),
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	for _, s := range []struct {
		name  string
		event []byte
	}{
		{"a WhatsApp delivery", whatsAppSignedWith(t, "wamid.ONCE1", secretsBefore[config.WhatsAppAppSecret])},
		{"Meta's handshake", handshakeWith(t, secretsBefore[config.WhatsAppVerifyToken])},
		{"an Apple delivery", appleSignedWith(t, secretsBefore[config.AppleMSPSecret])},
	} {
		if a := invoke(t, emu, s.event); a.StatusCode != 200 {
			t.Errorf("%s: status %d: %s", s.name, a.StatusCode, a.Body)
		}
	}
	if n := reads.n.Load(); n != 1 {
		t.Errorf("start-up and the first deliveries read the secret %d times, want 1", n)
	}
}
