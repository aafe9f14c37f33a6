package secrets_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/awsapi"
	smapi "github.com/parleyhq/parley/shared/awsapi/secretsmanager"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/secrets"
	"github.com/parleyhq/parley/shared/whatsapp"
)

const (
	tokenName = "PARLEY_WHATSAPP_TOKEN"
	appleName = "PARLEY_APPLE_MSP_SECRET"
	mspID     = "7d4e2a10-5c3b-4f8e-9a61-0c2b3d4e5f60"
)

var (
	oldAppleSecret = []byte("old-msp-secret-of-thirty-two-by!")
	newAppleSecret = []byte("new-msp-secret-of-thirty-two-by!")
)

// secretsManager is a Secrets Manager on moto holding parley's secret: c
// (the SDK's client) administers it, read (parley's) reads it.
type secretsManager struct {
	c    *secretsmanager.Client
	read *smapi.Client
	arn  string
}

func newSecretsManager(t *testing.T, vals map[string]string) *secretsManager {
	t.Helper()
	srv := moto.StartT(t)
	c := secretsmanager.NewFromConfig(srv.SDKConfig())
	b, _ := json.Marshal(vals)
	out, err := c.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("parley"), SecretString: aws.String(string(b))})
	if err != nil {
		t.Fatal(err)
	}
	return &secretsManager{c: c, read: smapi.New(awsapi.FromEnv(func(string) string { return "" }, srv.Endpoint())), arn: *out.ARN}
}

// rotate puts a new version of the secret, as a rotation does.
func (s *secretsManager) rotate(t *testing.T, vals map[string]string) {
	t.Helper()
	b, _ := json.Marshal(vals)
	if _, err := s.c.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(s.arn), SecretString: aws.String(string(b))}); err != nil {
		t.Fatal(err)
	}
}

// TestCacheTimeToLive: values are kept for the TTL; a refused value is read
// again at once, a value already replaced is not; a failed re-read keeps the
// values held.
func TestCacheTimeToLive(t *testing.T) {
	sm := newSecretsManager(t, map[string]string{tokenName: "EAAG-1"})
	clk := clock.NewManual(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	var reads atomic.Int32
	read := secrets.SecretsManager(sm.read, sm.arn)
	cache := &secrets.Cache{TTL: 5 * time.Minute, Now: clk.Now, Read: func(ctx context.Context) (map[string]string, error) {
		reads.Add(1)
		return read(ctx)
	}}
	ctx := context.Background()
	value := func(refused string) string {
		t.Helper()
		v, err := cache.Value(ctx, tokenName, refused)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	steps := []struct {
		name    string
		do      func()
		refused string
		want    string
		reads   int32
	}{
		{"first read", nil, "", "EAAG-1", 1},
		{"rotated, within the TTL", func() { sm.rotate(t, map[string]string{tokenName: "EAAG-2"}) }, "", "EAAG-1", 1},
		{"the platform refused the value held", nil, "EAAG-1", "EAAG-2", 2},
		{"a late refusal of the replaced value", nil, "EAAG-1", "EAAG-2", 2},
		{"rotated, the TTL passes", func() { sm.rotate(t, map[string]string{tokenName: "EAAG-3"}); clk.Advance(5 * time.Minute) }, "", "EAAG-3", 3},
		{"the secret is gone: the values held stay", func() {
			if _, err := sm.c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(sm.arn), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
				t.Fatal(err)
			}
			clk.Advance(6 * time.Minute)
		}, "", "EAAG-3", 4},
		{"still gone: no read until RecheckInterval passes", nil, "", "EAAG-3", 4},
		{"a refusal meanwhile: no read either", nil, "EAAG-3", "EAAG-3", 4},
		{"RecheckInterval passes: read again", func() { clk.Advance(secrets.RecheckInterval) }, "", "EAAG-3", 5},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		if got := value(s.refused); got != s.want || reads.Load() != s.reads {
			t.Errorf("%s: %s after %d reads, want %s after %d", s.name, got, reads.Load(), s.want, s.reads)
		}
	}
	if _, err := cache.Value(ctx, "PARLEY_NOT_THERE", ""); err == nil || !strings.Contains(err.Error(), "PARLEY_NOT_THERE") {
		t.Errorf("a missing name: %v, want an error naming it", err)
	}
}

// TestValuesFillTheCache: the values read at start-up are those the
// credentials then take, without a read of their own until the TTL passes;
// a secret that cannot be read is the reader's error.
func TestValuesFillTheCache(t *testing.T) {
	sm := newSecretsManager(t, map[string]string{tokenName: "EAAG-1"})
	clk := clock.NewManual(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	var reads atomic.Int32
	read := secrets.SecretsManager(sm.read, sm.arn)
	cache := &secrets.Cache{TTL: 5 * time.Minute, Now: clk.Now, Read: func(ctx context.Context) (map[string]string, error) {
		reads.Add(1)
		return read(ctx)
	}}
	ctx := context.Background()
	vals, err := cache.Values(ctx)
	if err != nil || vals[tokenName] != "EAAG-1" {
		t.Fatalf("the values at start-up: %v, %v", vals, err)
	}
	vals[tokenName] = "changed by the caller"
	sm.rotate(t, map[string]string{tokenName: "EAAG-2"})
	if v, err := cache.Value(ctx, tokenName, ""); v != "EAAG-1" || err != nil || reads.Load() != 1 {
		t.Errorf("within the TTL: %q, %v after %d reads, want EAAG-1 after 1", v, err, reads.Load())
	}
	clk.Advance(5 * time.Minute)
	if vals, err := cache.Values(ctx); vals[tokenName] != "EAAG-2" || err != nil || reads.Load() != 2 {
		t.Errorf("after the TTL: %v, %v after %d reads, want EAAG-2 after 2", vals, err, reads.Load())
	}

	missing := &secrets.Cache{Read: secrets.SecretsManager(sm.read, sm.arn+"-not-there")}
	var notFound *awsapi.Error
	if _, err := missing.Values(ctx); !errors.As(err, &notFound) || notFound.Code != "ResourceNotFoundException" {
		t.Errorf("a secret that does not exist: %v, want AWS's ResourceNotFoundException", err)
	}
}

// TestCheckFollowsARotation: a check that the value held does not match
// reads the secret again and matches the new value; the replaced value is
// refused from then on; requests that match nothing (forgeries) read the
// secret at most once per RecheckInterval, whatever their number.
func TestCheckFollowsARotation(t *testing.T) {
	const name = "PARLEY_WHATSAPP_APP_SECRET"
	sm := newSecretsManager(t, map[string]string{name: "app-secret-1"})
	clk := clock.NewManual(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	var reads atomic.Int32
	read := secrets.SecretsManager(sm.read, sm.arn)
	cache := &secrets.Cache{TTL: 5 * time.Minute, Now: clk.Now, Read: func(ctx context.Context) (map[string]string, error) {
		reads.Add(1)
		return read(ctx)
	}}
	ctx := context.Background()
	signedWith := func(secret string) func(string) bool {
		return func(v string) bool { return v == secret }
	}
	steps := []struct {
		name   string
		do     func()
		signed string
		want   bool
		reads  int32
	}{
		{"signed with the value held", nil, "app-secret-1", true, 1},
		{"rotated: signed with the new value", func() { sm.rotate(t, map[string]string{name: "app-secret-2"}) }, "app-secret-2", true, 2},
		{"signed with the replaced value", nil, "app-secret-1", false, 2},
		{"forged, within the interval", nil, "forged", false, 2},
		{"the interval passes: forged", func() { clk.Advance(secrets.RecheckInterval) }, "forged", false, 3},
		{"forged again at once", nil, "forged", false, 3},
		{"rotated within the interval: refused until it passes", func() { sm.rotate(t, map[string]string{name: "app-secret-3"}) }, "app-secret-3", false, 3},
		{"the interval passes: the new value", func() { clk.Advance(secrets.RecheckInterval) }, "app-secret-3", true, 4},
		{"the TTL passes: read again", func() { clk.Advance(5 * time.Minute) }, "app-secret-3", true, 5},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		if got := cache.Check(ctx, name, signedWith(s.signed)); got != s.want || reads.Load() != s.reads {
			t.Errorf("%s: %v after %d reads, want %v after %d", s.name, got, reads.Load(), s.want, s.reads)
		}
	}
	// Many forgeries at once: one read per interval.
	clk.Advance(secrets.RecheckInterval)
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if cache.Check(ctx, name, signedWith("forged")) {
				t.Error("a forged request matched")
			}
		})
	}
	wg.Wait()
	if reads.Load() != 6 {
		t.Errorf("200 forged requests read the secret %d times, want once", reads.Load()-5)
	}
	// A name the secret does not hold matches nothing.
	if cache.Check(ctx, "PARLEY_NOT_THERE", func(string) bool { return true }) {
		t.Error("a name the secret does not hold matched")
	}
}

// TestCheckWithoutTheSecret: while the secret cannot be read and no value
// is held, every check is refused, and the secret is read at most once per
// RecheckInterval whatever the number of requests.
func TestCheckWithoutTheSecret(t *testing.T) {
	sm := newSecretsManager(t, map[string]string{tokenName: "EAAG-1"})
	clk := clock.NewManual(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	var reads atomic.Int32
	read := secrets.SecretsManager(sm.read, sm.arn+"-not-there")
	cache := &secrets.Cache{Now: clk.Now, Read: func(ctx context.Context) (map[string]string, error) {
		reads.Add(1)
		return read(ctx)
	}}
	for round, want := range []int32{1, 2} {
		for range 50 {
			if cache.Check(context.Background(), tokenName, func(string) bool { return true }) {
				t.Fatal("a check passed without the secret")
			}
		}
		if reads.Load() != want {
			t.Errorf("round %d: %d reads of the secret, want %d", round, reads.Load(), want)
		}
		clk.Advance(secrets.RecheckInterval)
	}
}

// counting counts the requests that reach the platform.
type counting struct{ n atomic.Int32 }

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestRotatedWhatsAppToken: Meta refuses the token parley holds (401, code
// 190) once it is rotated; parley reads the secret again and sends once
// with the new token. Without a rotation, the refusal stands after one
// request.
func TestRotatedWhatsAppToken(t *testing.T) {
	sm := newSecretsManager(t, map[string]string{tokenName: "EAAG-old"})
	sim := whatsappsim.New(whatsappsim.Config{Token: "EAAG-new"})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	cache := &secrets.Cache{Read: secrets.SecretsManager(sm.read, sm.arn)}
	base := &counting{}
	client := &whatsapp.Client{BaseURL: srv.URL + "/v25.0", Token: "EAAG-old", HTTP: &http.Client{Transport: &secrets.Transport{
		Base: base, Cache: cache, Name: tokenName,
		Authorize: func(r *http.Request, v string) error { r.Header.Set("Authorization", "Bearer "+v); return nil },
	}}}
	o := message.Outgoing{MessageID: "msg_1", BusinessID: "106540352242922", To: "447700900123",
		Message: message.Message{Type: message.TypeTemplate, Name: "hello_world", Language: "en_US"}}

	_, err := client.Send(context.Background(), o)
	if e := message.AsError(err); e.Code != message.CodeUnauthorized || base.n.Load() != 1 {
		t.Fatalf("before the rotation: %v after %d requests, want unauthorized after 1", err, base.n.Load())
	}
	sm.rotate(t, map[string]string{tokenName: "EAAG-new"})
	base.n.Store(0)
	wamid, err := client.Send(context.Background(), o)
	if err != nil || wamid == "" || base.n.Load() != 2 {
		t.Fatalf("after the rotation: %q %v after %d requests, want a wamid after 2", wamid, err, base.n.Load())
	}
	resp, err := http.Get(srv.URL + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var accepted []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&accepted); err != nil || len(accepted) != 1 {
		t.Errorf("the simulator accepted %d messages (%v), want 1", len(accepted), err)
	}
}

// TestRotatedAppleSecret: Apple refuses a token signed with the old secret
// (403); parley reads the secret again and signs with the new one.
func TestRotatedAppleSecret(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	sm := newSecretsManager(t, map[string]string{appleName: b64(oldAppleSecret)})
	sim := applesim.New(applesim.Config{MSPID: mspID, Secret: newAppleSecret})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	cache := &secrets.Cache{Read: secrets.SecretsManager(sm.read, sm.arn)}
	if _, err := cache.Value(context.Background(), appleName, ""); err != nil {
		t.Fatal(err)
	}
	sm.rotate(t, map[string]string{appleName: b64(newAppleSecret)})
	base := &counting{}
	client := &apple.Client{BaseURL: srv.URL + "/v1", MSPID: mspID, Secret: oldAppleSecret, HTTP: &http.Client{Transport: &secrets.Transport{
		Base: base, Cache: cache, Name: appleName, Refused: []int{http.StatusUnauthorized, http.StatusForbidden},
		Authorize: func(r *http.Request, v string) error {
			if r.Header.Get("Authorization") == "" {
				return nil
			}
			key, err := apple.DecodeSecret(v)
			if err != nil {
				return err
			}
			tok, err := apple.MintToken(key, mspID, time.Now())
			r.Header.Set("Authorization", "Bearer "+tok)
			return err
		},
	}}}
	o := message.Outgoing{MessageID: "msg_2", BusinessID: "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70", To: "urn:mbid:AQAAY1x/Wq+Lr0c=",
		PlatformMessageID: message.NewUUID(), Message: message.Message{Type: message.TypeText, Text: "Your order has shipped"}}
	if _, err := client.Send(context.Background(), o); err != nil || base.n.Load() != 2 {
		t.Fatalf("send: %v after %d requests, want success after 2", err, base.n.Load())
	}
	if got := sim.Messages(""); len(got) != 1 {
		t.Errorf("the simulator received %d messages, want 1", len(got))
	}
}

// TestSecretsManagerReader: the secret's JSON object is read from its
// string value or, stored as bytes, from its binary value; anything else
// is refused with a reason that shows no value.
func TestSecretsManagerReader(t *testing.T) {
	sm := newSecretsManager(t, map[string]string{tokenName: "EAAG-1"})
	ctx := context.Background()
	put := func(in *secretsmanager.CreateSecretInput) string {
		out, err := sm.c.CreateSecret(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return *out.ARN
	}
	cases := []struct {
		name    string
		arn     string
		want    string
		wantErr string
	}{
		{"a string", sm.arn, "EAAG-1", ""},
		{"bytes", put(&secretsmanager.CreateSecretInput{Name: aws.String("bytes"), SecretBinary: []byte(`{"PARLEY_WHATSAPP_TOKEN":"EAAG-b"}`)}), "EAAG-b", ""},
		{"not an object", put(&secretsmanager.CreateSecretInput{Name: aws.String("plain"), SecretString: aws.String("EAAG-plain")}), "", "not a JSON object of strings"},
	}
	for _, c := range cases {
		vals, err := secrets.SecretsManager(sm.read, c.arn)(ctx)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), "EAAG") {
				t.Errorf("%s: %v, want an error saying %q without the value", c.name, err, c.wantErr)
			}
		case err != nil || vals[tokenName] != c.want:
			t.Errorf("%s: %v %v, want %s", c.name, vals, err, c.want)
		}
	}
}
