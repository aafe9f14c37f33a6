package applesim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/apple"
)

// TestSentAttachmentsChecked: the gateway takes a text's attachments only
// when each names a blob uploaded to MMCS, as it was uploaded.
func TestSentAttachmentsChecked(t *testing.T) {
	sim := New(Config{MSPID: mspID, Secret: secret, Now: func() time.Time { return now }})
	base := mount(t, sim)
	mmcs := &apple.MMCS{Client: newClient(base, secret)}
	file := []byte("%PDF-1.7 an invoice")
	att, err := mmcs.UploadAttachment(context.Background(), business, "invoice.pdf", "application/pdf", bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		typ     string
		body    string
		change  func(a map[string]any)
		problem string // "" = accepted
	}{
		{"as uploaded", "text", "Your invoice \uFFFC", nil, ""},
		{"legacy key names", "text", "\uFFFC", func(a map[string]any) {
			a["mmcs-url"], a["mime-type"], a["decryption-key"] = a["url"], a["mimeType"], a["key"]
			delete(a, "url")
			delete(a, "mimeType")
			delete(a, "key")
		}, ""},
		{"no U+FFFC", "text", "Your invoice", nil, "one U+FFFC per attachment"},
		{"unknown url", "text", "\uFFFC", func(a map[string]any) { a["url"] = "https://p01-content.icloud.com/Mnone" }, "names no uploaded file"},
		{"wrong size", "text", "\uFFFC", func(a map[string]any) { a["size"] = "1" }, "is not the uploaded size"},
		{"size as a number", "text", "\uFFFC", func(a map[string]any) { a["size"] = len(file) }, "size is required"},
		{"wrong owner", "text", "\uFFFC", func(a map[string]any) { a["owner"] = "someone-else" }, "owner does not match"},
		{"bad key", "text", "\uFFFC", func(a map[string]any) { a["key"] = "0011" }, `"00" and 64 hex digits`},
		{"no name", "text", "\uFFFC", func(a map[string]any) { delete(a, "name") }, "name is required"},
		{"on a rich link", "richLink", "\uFFFC", nil, "text messages only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a map[string]any
			b, _ := json.Marshal(att)
			_ = json.Unmarshal(b, &a)
			if tt.change != nil {
				tt.change(a)
			}
			id := "0f6d1d8e-4a1b-4a2e-9c7d-5b1e2f3a4c5d"
			msg := map[string]any{"v": 1, "id": id, "type": tt.typ, "sourceId": business, "destinationId": customer, "body": tt.body, "attachments": []any{a}}
			if tt.typ == "richLink" {
				msg["richLinkData"] = map[string]any{"url": "https://example.com", "title": "x", "assets": map[string]any{"image": map[string]any{"data": "iVBORw0KGgo=", "mimeType": "image/png"}}}
			}
			raw, _ := json.Marshal(msg)
			tok, err := apple.MintToken(secret, mspID, now)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("POST", base+"/v1/message", bytes.NewReader(raw))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("id", id)
			req.Header.Set("Source-Id", business)
			req.Header.Set("Destination-Id", customer)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var answer bytes.Buffer
			_, _ = answer.ReadFrom(res.Body)
			res.Body.Close()
			switch {
			case tt.problem == "" && res.StatusCode != http.StatusOK:
				t.Fatalf("refused: %d %s", res.StatusCode, answer.String())
			case tt.problem != "" && (res.StatusCode != http.StatusBadRequest || !strings.Contains(answer.String(), tt.problem)):
				t.Fatalf("answer %d %q, want 400 saying %q", res.StatusCode, answer.String(), tt.problem)
			}
		})
	}
}
