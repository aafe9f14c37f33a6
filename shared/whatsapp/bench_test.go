package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkRenderValidate(b *testing.B) {
	for _, name := range []string{"text", "rich_link", "list", "buttons", "reaction", "product", "product_list",
		"location_request", "cta_url", "template"} {
		var found bool
		for _, c := range renderCases {
			if c.name != name {
				continue
			}
			found = true
			b.Run(c.out.Message.Type, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Render(c.out); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		if !found {
			b.Fatalf("no render case %q", name)
		}
	}
}

const benchSecret = "app-secret"

// batch100 is a webhook of 100 messages of every type parley reads, taken
// in turn from the fixtures, and its signature.
func batch100(b *testing.B) (body []byte, signature string) {
	b.Helper()
	var pool []json.RawMessage
	for _, name := range []string{"text.json", "text_reply.json", "list_reply.json", "button_reply.json", "button_quick_reply.json",
		"location.json", "order.json", "reaction.json", "nfm_reply.json", "unsupported.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		var env struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Messages []json.RawMessage `json:"messages"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			b.Fatal(err)
		}
		pool = append(pool, env.Entry[0].Changes[0].Value.Messages...)
	}
	msgs := make([]json.RawMessage, 100)
	for i := range msgs {
		msgs[i] = pool[i%len(pool)]
	}
	body, err := json.Marshal(map[string]any{
		"object": webhookObject,
		"entry": []any{map[string]any{"id": "102290129340398", "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]string{"display_phone_number": "15550783881", "phone_number_id": business},
			"contacts":          []any{map[string]any{"profile": map[string]string{"name": "Sam Rivera"}, "wa_id": customer}},
			"messages":          msgs,
		}}}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(benchSecret))
	mac.Write(body)
	return body, "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// BenchmarkParseBatch100 is what the webhook does with a batch: check its
// signature and parse it.
func BenchmarkParseBatch100(b *testing.B) {
	body, sig := batch100(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !ValidSignature(body, sig, benchSecret) {
			b.Fatal("signature")
		}
		p, err := Parse(body, received)
		if err != nil || len(p.Items) != 100 {
			b.Fatalf("Parse = %d items, %v", len(p.Items), err)
		}
	}
}

// BenchmarkParseFloor100 is the least any parser of the same batch does:
// check the signature and decode the JSON generically.
func BenchmarkParseFloor100(b *testing.B) {
	body, sig := batch100(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !ValidSignature(body, sig, benchSecret) {
			b.Fatal("signature")
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseEach100 reads the same batch part by part, as Parse does
// when the one-pass read fails.
func BenchmarkParseEach100(b *testing.B) {
	body, sig := batch100(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !ValidSignature(body, sig, benchSecret) {
			b.Fatal("signature")
		}
		p, err := parseEach(body, received)
		if err != nil || len(p.Items) != 100 {
			b.Fatalf("parseEach = %d items, %v", len(p.Items), err)
		}
	}
}
