package samples

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// TestRestampedSamplesVerify: every signed sample of events/ingest, signed
// again at a time well after it was written, verifies as parley verifies it
// at that time; the samples of a bad signature and of a missing token stay
// refused; the other events are left as they are.
func TestRestampedSamplesVerify(t *testing.T) {
	at := time.Now().Add(400 * 24 * time.Hour).Truncate(time.Second)
	secret, err := apple.DecodeSecret(local.DefaultAppleMSPSecret)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "events", "*", "*.json"))
	if len(files) < 10 {
		t.Fatalf("found %d samples", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			orig, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Restamp(orig, at)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.LambdaFunctionURLRequest
			if err := json.Unmarshal(out, &ev); err != nil {
				t.Fatal(err)
			}
			body := []byte(ev.Body)
			if ev.IsBase64Encoded {
				body, _ = base64.StdEncoding.DecodeString(ev.Body)
			}
			h := http.Header{}
			for k, v := range ev.Headers {
				h.Set(k, v)
			}
			switch {
			case ev.RawPath == "/webhooks/whatsapp" && ev.RequestContext.HTTP.Method == http.MethodPost:
				valid := whatsapp.ValidSignature(body, h.Get("X-Hub-Signature-256"), local.DefaultWhatsAppAppSecret)
				if valid == strings.Contains(name, "bad-signature") {
					t.Fatalf("signature valid = %v", valid)
				}
				if valid && !strings.Contains(string(body), `"timestamp":"`+strconv.FormatInt(at.Unix(), 10)+`"`) {
					t.Errorf("the items keep their old timestamps: %.300s", body)
				}
			case ev.RawPath == "/webhooks/apple/message":
				err := apple.VerifyToken(h.Get("Authorization"), secret, local.DefaultAppleMSPID, at)
				if strings.Contains(name, "no-auth") {
					if err != apple.ErrNoAuthorization {
						t.Fatalf("VerifyToken = %v, want no authorization", err)
					}
				} else if err != nil {
					t.Fatalf("VerifyToken: %v", err)
				}
				if err := apple.VerifyToken(h.Get("Authorization"), secret, local.DefaultAppleMSPID, time.Now()); err == nil {
					t.Error("the restamped token still verifies a year earlier")
				}
			default:
				if string(out) != string(orig) {
					t.Error("an event that is not a signed webhook was changed")
				}
			}
		})
	}
}

// TestRestampReplaces: replacements reach the body and headers, and the
// result is signed over the edited body.
func TestRestampReplaces(t *testing.T) {
	at := time.Now()
	for _, tt := range []struct{ file, old, new string }{
		{"whatsapp-text.json", "wamid.HBgM", "wamid.FRESH"},
		{"apple-text.json", "5c1e8d2a-7f3b-4e6a-9d0c-1b2a3c4d5e6f", "5c1e8d2a-7f3b-4e6a-9d0c-000000000000"},
	} {
		orig, err := os.ReadFile(filepath.Join("..", "..", "events", "ingest", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		out, err := Restamp(orig, at, tt.old, tt.new)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.LambdaFunctionURLRequest
		json.Unmarshal(out, &ev)
		body := []byte(ev.Body)
		h := http.Header{}
		for k, v := range ev.Headers {
			h.Set(k, v)
		}
		if ev.IsBase64Encoded {
			raw, _ := base64.StdEncoding.DecodeString(ev.Body)
			if body, err = apple.ReadBody(strings.NewReader(string(raw)), "gzip", 1<<20, 1<<20); err != nil {
				t.Fatal(err)
			}
			if h.Get("id") != tt.new {
				t.Errorf("%s: header id %q", tt.file, h.Get("id"))
			}
		} else if !whatsapp.ValidSignature(body, h.Get("X-Hub-Signature-256"), local.DefaultWhatsAppAppSecret) {
			t.Errorf("%s: not signed over the edited body", tt.file)
		}
		if strings.Contains(string(body), tt.old) || !strings.Contains(string(body), tt.new) {
			t.Errorf("%s: body %s", tt.file, body)
		}
	}
}
