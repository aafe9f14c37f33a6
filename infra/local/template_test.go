package local

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/clock"
)

// TestWhatsAppTemplates sends every template of
// shared/whatsapp/testdata/templates (each in the shape of one of Meta's
// published examples) through the send API to a customer whose window is
// closed: each reaches the simulator with its components as written. What
// Meta refuses is refused with the field before anything leaves.
func TestWhatsAppTemplates(t *testing.T) {
	st := startStack(t, "embedded", clock.NewManual(start))
	testdata := filepath.Join("..", "..", "shared", "whatsapp", "testdata")
	files, err := filepath.Glob(filepath.Join(testdata, "templates", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no template fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			json.Unmarshal(b, &m)
			res := sendWhatsApp(t, st, m, false)
			var accepted []struct {
				WAMID   string          `json:"wamid"`
				Request json.RawMessage `json:"request"`
			}
			call(t, "GET", st.URL+"/sim/whatsapp/messages", nil, &accepted)
			var got *json.RawMessage
			for _, a := range accepted {
				if a.WAMID == res.PlatformMessageID {
					got = &a.Request
				}
			}
			if got == nil {
				t.Fatalf("the simulator did not accept %s", res.PlatformMessageID)
			}
			var req struct {
				Template struct {
					Components json.RawMessage `json:"components"`
				} `json:"template"`
			}
			json.Unmarshal(*got, &req)
			var sent, given bytes.Buffer
			json.Compact(&sent, req.Template.Components)
			c, _ := json.Marshal(m["components"])
			json.Compact(&given, c)
			if !bytes.Equal(sent.Bytes(), given.Bytes()) {
				t.Errorf("components received\n%s\nwant\n%s", sent.Bytes(), given.Bytes())
			}
		})
	}

	var e apiError
	code := call(t, "POST", st.URL+"/v1/messages", map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer,
		"message": map[string]any{"type": "template", "name": "tasting_menus", "language": "en_GB", "components": []any{
			map[string]any{"type": "carousel", "cards": []any{map[string]any{"card_index": 0, "components": []any{
				map[string]any{"type": "header", "parameters": []any{map[string]any{"type": "image", "image": map[string]any{"id": "1402299281192839"}}}}}}}}}}}, &e)
	if code != http.StatusBadRequest || e.Error.Code != "invalid_message" || len(e.Error.Details) != 1 || e.Error.Details[0].Field != "message.components[0].cards" {
		t.Fatalf("a carousel of one card: %d %+v", code, e)
	}
}
