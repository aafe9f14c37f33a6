package functions_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/infra/lambdaemu"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/config"
)

// TestConfigurations starts every function under the Runtime API emulator
// with every documented configuration — Apple Pay on (with its callbacks'
// bounds set) and off (their defaults), re-engagement on and off, the
// secrets in the environment and in Secrets Manager — and has each answer
// a sample event. Every function is given the environment template.yaml
// gives it: the Apple Pay certificate in the secret reaches them all, the
// public URL only the functions that send.
func TestConfigurations(t *testing.T) {
	ctx := context.Background()
	m := startStore(t)
	sm := secretsmanager.NewFromConfig(m.SDKConfig())

	secret, err := apple.DecodeSecret(local.DefaultAppleMSPSecret)
	if err != nil {
		t.Fatal(err)
	}
	wa := httptest.NewServer(whatsappsim.New(whatsappsim.Config{Token: local.DefaultWhatsAppToken, AppSecret: local.DefaultWhatsAppAppSecret}))
	defer wa.Close()
	ap := httptest.NewServer(applesim.New(applesim.Config{MSPID: local.DefaultAppleMSPID, Secret: secret}))
	defer ap.Close()
	certPEM, keyPEM := merchantIdentity(t)

	// The app's endpoint of the event webhooks, and their queue.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer app.Close()
	hookQ, err := sqs.NewFromConfig(m.SDKConfig()).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("parley-hooks.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}

	plain := map[string]string{
		config.AWSEndpoint: m.Endpoint(), config.Table: "parley", config.Bucket: "parley-payloads",
		config.WhatsAppAPIURL: wa.URL + "/v25.0", config.AppleMSPURL: ap.URL + "/v1", config.AppleMSPID: local.DefaultAppleMSPID,
		config.LogLevel: "warn", config.PaymentProcessorURL: "http://127.0.0.1:9/processor",
		config.EventsWebhookURL: app.URL + "/hooks/parley", config.EventsWebhookQueueURL: aws.ToString(hookQ.QueueUrl),
	}
	secrets := map[string]string{
		config.WhatsAppToken: local.DefaultWhatsAppToken, config.WhatsAppAppSecret: local.DefaultWhatsAppAppSecret,
		config.WhatsAppVerifyToken: local.DefaultWhatsAppVerifyToken, config.AppleMSPSecret: local.DefaultAppleMSPSecret,
		config.EventsWebhookSecret: "whsec_cGFybGV5LWNvbmZpZ3VyYXRpb25zLXdlYmhvb2s=",
	}
	applePay := map[string]string{config.ApplePayMerchantID: "merchant.com.example", config.ApplePayDisplayName: "Example",
		config.ApplePayLifetime: "30m", config.ApplePayPaymentAttempts: "3", config.ApplePayCallbacksPerRequest: "100", config.ApplePayCallbackRate: "20"}
	applePaySecrets := map[string]string{config.ApplePayCert: string(certPEM), config.ApplePayKey: string(keyPEM)}
	reengagement := map[string]string{config.Reengagement: `{"106540352242922":{"minutesBefore":60,"template":{"name":"still_there","language":"en_US"}}}`}

	// The functions Apple Pay's callbacks are built for, on the public URL.
	sends := []string{"send", "fallback"}

	for _, name := range functionNames {
		bootstrap := build(t, name)
		ev := sampleEvents[name]
		payload, err := os.ReadFile(filepath.Join("..", "events", ev.file))
		if err != nil {
			t.Fatal(err)
		}
		for _, pay := range []bool{false, true} {
			for _, reengage := range []bool{false, true} {
				for _, fromSM := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/applepay=%v/reengagement=%v/secretsmanager=%v", name, pay, reengage, fromSM), func(t *testing.T) {
						env := map[string]string{}
						inSecret := map[string]string{}
						add := func(vals map[string]string, secret bool) {
							for k, v := range vals {
								if secret && fromSM {
									inSecret[k] = v
								} else {
									env[k] = v
								}
							}
						}
						add(plain, false)
						add(secrets, true)
						if pay {
							add(applePay, false)
							add(applePaySecrets, true)
							if slices.Contains(sends, name) {
								env[config.PublicURL] = "https://webhooks.example.com"
							}
						}
						if reengage {
							add(reengagement, false)
						}
						if fromSM {
							b, _ := json.Marshal(inSecret)
							out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
								Name: aws.String(strings.ReplaceAll(t.Name(), "=", "-")), SecretString: aws.String(string(b))})
							if err != nil {
								t.Fatal(err)
							}
							env[config.SecretsARN] = aws.ToString(out.ARN)
						}
						var vars []string
						for k, v := range env {
							vars = append(vars, k+"="+v)
						}
						var stderr syncBuffer
						emu, err := lambdaemu.Start(ctx, lambdaemu.Config{Bootstrap: bootstrap, Env: vars, FunctionName: name, Timeout: 30 * time.Second, Stderr: &stderr})
						if err != nil {
							t.Fatal(err)
						}
						defer emu.Close()
						res, err := emu.Invoke(ctx, payload)
						if err != nil || res.FunctionError != "" {
							t.Fatalf("invoke: %v %s (stderr: %s)", err, res.Payload, stderr.String())
						}
						if !strings.Contains(string(res.Payload), ev.want) {
							t.Errorf("%s answered %s, want %s", ev.file, res.Payload, ev.want)
						}
					})
				}
			}
		}
	}
}

// merchantIdentity is a self-signed certificate and its key, in PEM, as an
// Apple Pay merchant identity is given to parley.
func merchantIdentity(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "merchant.com.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// TestFunctionsLinkOnlyWhatTheyUse: no Lambda binary links the AWS SDK
// (aws-sdk-go-v2, smithy-go) — its service clients' initialisers alone
// outweigh the size and start-up targets; the functions call AWS through
// shared/awsapi — nor the embedded store, which only the local stack runs
// on; the payload functions send nothing, so link neither the sender nor
// Apple Pay; the webhook function, which only delivers events and parks
// the failures, links neither the store nor the event bus.
func TestFunctionsLinkOnlyWhatTheyUse(t *testing.T) {
	forbidden := []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}
	all := []string{"go.etcd.io/bbolt", "github.com/parleyhq/parley/shared/store/embedded"}
	never := map[string][]string{
		"ingest":   all,
		"send":     all,
		"fallback": all,
		"fetch":    append(slices.Clone(all), "github.com/parleyhq/parley/shared/applepay", "github.com/parleyhq/parley/shared/send"),
		"decode":   append(slices.Clone(all), "github.com/parleyhq/parley/shared/applepay", "github.com/parleyhq/parley/shared/send"),
		"webhook": append(slices.Clone(all), "github.com/parleyhq/parley/shared/store/dynamo", "github.com/parleyhq/parley/shared/awsapi/s3",
			"github.com/parleyhq/parley/shared/bus/eventbridge", "github.com/parleyhq/parley/shared/awsapi/eventbridge"),
	}
	for name, pkgs := range never {
		t.Run(name, func(t *testing.T) {
			deps := deps(t, name)
			for _, p := range pkgs {
				if slices.Contains(deps, p) {
					t.Errorf("functions/%s links %s", name, p)
				}
			}
			for _, p := range deps {
				for _, f := range forbidden {
					if p == f || strings.HasPrefix(p, f+"/") {
						t.Errorf("functions/%s links %s", name, p)
					}
				}
			}
		})
	}
}

// deps lists the packages the Lambda build of functions/name links.
func deps(t *testing.T, name string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./"+name)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/aws/aws-lambda-go/lambda") {
		t.Fatalf("go list -deps ./%s lists no aws-lambda-go: %v", name, deps)
	}
	return deps
}

// TestParleyPackagesStartCheaply: the package initialisers of parley's own
// packages, which run at every cold start of every function that links
// them, allocate little — patterns are compiled and tables built on first
// use — so that a function's init duration is little more than an empty
// aws-lambda-go function's (make bench). Read from the Go runtime's init trace of each built function.
func TestParleyPackagesStartCheaply(t *testing.T) {
	const maxAllocs = 80
	for _, name := range []string{"ingest", "send", "fallback", "fetch", "decode", "webhook"} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(build(t, name))
			// No configuration: the function stops in main, after every
			// package initialiser has run.
			cmd.Env = []string{"GODEBUG=inittrace=1"}
			out, _ := cmd.CombinedOutput()
			seen := 0
			for _, line := range strings.Split(string(out), "\n") {
				// init <package> @0.51 ms, 0.10 ms clock, 8176 bytes, 44 allocs
				f := strings.Fields(line)
				if len(f) < 10 || f[0] != "init" || f[len(f)-1] != "allocs" {
					continue
				}
				seen++
				if !strings.HasPrefix(f[1], "github.com/parleyhq/parley/") {
					continue
				}
				var allocs int
				if _, err := fmt.Sscan(f[len(f)-2], &allocs); err != nil {
					t.Fatalf("init trace line %q: %v", line, err)
				}
				if allocs > maxAllocs {
					t.Errorf("%s allocates %d objects at start-up (at most %d): compile its patterns and build its tables on first use", f[1], allocs, maxAllocs)
				}
			}
			if seen == 0 {
				t.Fatalf("no init trace in the output of %s: %s", name, out)
			}
		})
	}
}
