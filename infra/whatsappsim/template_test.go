package whatsappsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/whatsapp"
)

// whatsappTestdata is the WhatsApp channel's testdata: the simulator is
// held to the same template cases as parley.
var whatsappTestdata = filepath.Join("..", "..", "shared", "whatsapp", "testdata")

// TestTemplatesAccepted: the request parley renders for each template of
// shared/whatsapp/testdata/templates, written in the shape of Meta's
// published examples, is accepted.
func TestTemplatesAccepted(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(whatsappTestdata, "templates", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no template fixtures: %v", err)
	}
	s := newStack(t, business)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(whatsappTestdata, "out", "template_"+name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			status, got := s.send(t, string(body))
			if status != http.StatusOK || got.Error != nil || len(got.Messages) != 1 {
				t.Fatalf("status %d %+v, want a wamid", status, got.Error)
			}
		})
	}
}

// TestTemplatesRefused: each case parley refuses before sending
// (shared/whatsapp/testdata/template_refusals.json) is refused here with
// Meta's code and details.
func TestTemplatesRefused(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(whatsappTestdata, "template_refusals.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name       string          `json:"name"`
		Components json.RawMessage `json:"components"`
		Meta       struct {
			Code    int    `json:"code"`
			Details string `json:"details"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	s := newStack(t, business)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			status, got := s.send(t, envelope("template", `{"name":"spring_offer","language":{"code":"en_GB"},"components":`+string(tc.Components)+`}`))
			e := got.Error
			switch {
			case status != http.StatusBadRequest || e == nil:
				t.Fatalf("status %d %+v, want 400 with an error", status, e)
			case e.Code != tc.Meta.Code || e.ErrorData.Details != tc.Meta.Details:
				t.Errorf("error (#%d) %q, want (#%d) %q", e.Code, e.ErrorData.Details, tc.Meta.Code, tc.Meta.Details)
			}
		})
	}
}

// TestTemplateTextLimits: the text limits of a template send, at the limit
// and one over.
func TestTemplateTextLimits(t *testing.T) {
	param := func(typ, s string) string { return `{"type":"` + typ + `","` + typ + `":` + quote(s) + `}` }
	tests := []struct {
		name    string
		limit   int
		build   func(s string) string
		details string
	}{
		{"header text", templateHeaderTextLimit, func(s string) string {
			return `{"type":"header","parameters":[` + param("text", s) + `]}`
		}, "Parameter text length invalid. Min length: 1, Max length: 60"},
		{"body text beside a header", templateBodyTextLimit, func(s string) string {
			return `{"type":"header","parameters":[{"type":"text","text":"Hi"}]},{"type":"body","parameters":[` + param("text", s) + `]}`
		}, "Parameter text length invalid. Min length: 1, Max length: 1024"},
		{"body text alone", templateBodyOnlyTextLimit, func(s string) string {
			return `{"type":"body","parameters":[` + param("text", s) + `]}`
		}, "Parameter text length invalid. Min length: 1, Max length: 32768"},
		{"card body text", cardBodyTextLimit, func(s string) string {
			return strings.Replace(mediaCarousel, `"text":"seven courses"`, `"text":`+quote(s), 1)
		}, "Parameter text length invalid. Min length: 1, Max length: 160"},
		{"card body text, two variables", cardBodyTextLimit, func(s string) string {
			half := len([]rune(s)) / 2
			return strings.Replace(mediaCarousel, `{"type":"text","text":"seven courses"}`, param("text", string([]rune(s)[:half]))+","+param("text", string([]rune(s)[half:])), 1)
		}, "Card body text length invalid: its variables hold 161 characters. Max length: 160"},
		{"carousel message body, two variables", templateBodyTextLimit, func(s string) string {
			half := len([]rune(s)) / 2
			return strings.Replace(mediaCarousel, `{"type":"text","text":"Sam"}`, param("text", string([]rune(s)[:half]))+","+param("text", string([]rune(s)[half:])), 1)
		}, "Message body text length invalid: its variables hold 1025 characters. Max length: 1024"},
		{"coupon code", couponCodeLimit, func(s string) string {
			return `{"type":"button","sub_type":"copy_code","index":0,"parameters":[` + param("coupon_code", s) + `]}`
		}, "Coupon code length invalid. Min length: 1, Max length: 15"},
	}
	s := newStack(t, business)
	for _, tt := range tests {
		for _, unit := range []string{"a", "é", "👍"} {
			t.Run(fmt.Sprintf("%s/%s", tt.name, unit), func(t *testing.T) {
				if status, got := s.send(t, template(tt.build(r(unit, tt.limit)))); status != http.StatusOK {
					t.Errorf("at the limit: status %d %+v", status, got.Error)
				}
				status, got := s.send(t, template(tt.build(r(unit, tt.limit+1))))
				if status != http.StatusBadRequest || got.Error == nil || got.Error.Code != 131009 || got.Error.ErrorData.Details != tt.details {
					t.Errorf("one over: status %d %+v, want 131009 %q", status, got.Error, tt.details)
				}
			})
		}
	}
}

// TestTemplateCommerceToGroup: a product carousel's View buttons are
// commerce, which a group does not take; a media carousel goes.
func TestTemplateCommerceToGroup(t *testing.T) {
	s := newStack(t)
	for _, tt := range []struct {
		name, fixture string
		want          int
	}{
		{"product card carousel", "template_product_card_carousel.json", http.StatusBadRequest},
		{"media card carousel", "template_media_card_carousel.json", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(whatsappTestdata, "out", tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var req map[string]any
			json.Unmarshal(body, &req)
			req["recipient_type"], req["to"] = "group", group
			b, _ := json.Marshal(req)
			status, got := s.send(t, string(b))
			if status != tt.want {
				t.Fatalf("status %d %+v, want %d", status, got.Error, tt.want)
			}
			if tt.want != http.StatusOK && !strings.Contains(got.Error.ErrorData.Details, "template.components[1].cards[0].components[1].sub_type spm cannot be sent to a group") {
				t.Errorf("details %q", got.Error.ErrorData.Details)
			}
		})
	}
}

// mediaCarousel is the components of the media card carousel fixture,
// without the brackets that close the list (template adds them).
var mediaCarousel = func() string {
	b, _ := os.ReadFile(filepath.Join(whatsappTestdata, "templates", "media_card_carousel.json"))
	var m struct {
		Components json.RawMessage `json:"components"`
	}
	json.Unmarshal(b, &m)
	var list []json.RawMessage
	json.Unmarshal(m.Components, &list)
	parts := make([]string, len(list))
	for i, c := range list {
		var buf bytes.Buffer
		json.Compact(&buf, c)
		parts[i] = buf.String()
	}
	return strings.Join(parts, ",")
}()

// FuzzTemplateAgreement: parley and the simulator agree on every
// template's components: what one refuses, the other refuses too.
func FuzzTemplateAgreement(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(whatsappTestdata, "templates", "*.json"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		var m struct {
			Components json.RawMessage `json:"components"`
		}
		json.Unmarshal(b, &m)
		f.Add(string(m.Components))
	}
	b, _ := os.ReadFile(filepath.Join(whatsappTestdata, "template_refusals.json"))
	var refusals []struct {
		Components json.RawMessage `json:"components"`
	}
	json.Unmarshal(b, &refusals)
	for _, r := range refusals {
		f.Add(string(r.Components))
	}
	f.Fuzz(func(t *testing.T, components string) {
		var list []json.RawMessage
		if json.Unmarshal([]byte(components), &list) != nil {
			return
		}
		m := message.Message{Type: message.TypeTemplate, Name: "spring_offer", Language: "en_GB", Components: json.RawMessage(components)}
		problems := whatsapp.Validate(m)
		_, err := check([]byte(envelope("template", `{"name":"spring_offer","language":{"code":"en_GB"},"components":`+components+`}`)))
		if (len(problems) == 0) != (err == nil) {
			t.Errorf("components %s:\nparley: %v\nsimulator: %v", components, problems, err)
		}
	})
}

// TestTemplateAgreementMutations: parley and the simulator agree on
// thousands of templates made by changing one or two values of a fixture
// (each removed, emptied, retyped or repeated).
func TestTemplateAgreementMutations(t *testing.T) {
	var seeds []any
	files, _ := filepath.Glob(filepath.Join(whatsappTestdata, "templates", "*.json"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		var m struct {
			Components any `json:"components"`
		}
		json.Unmarshal(b, &m)
		seeds = append(seeds, m.Components)
	}
	rng := rand.New(rand.NewPCG(12, 2026))
	disagreements, accepted := 0, 0
	const n = 5000
	for i := range n {
		components := mutate(rng, clone(seeds[i%len(seeds)]))
		if i%2 == 1 {
			components = mutate(rng, components)
		}
		raw, _ := json.Marshal(components)
		m := message.Message{Type: message.TypeTemplate, Name: "spring_offer", Language: "en_GB", Components: raw}
		problems := whatsapp.Validate(m)
		_, err := check([]byte(envelope("template", `{"name":"spring_offer","language":{"code":"en_GB"},"components":`+string(raw)+`}`)))
		if (len(problems) == 0) != (err == nil) {
			if disagreements++; disagreements <= 10 {
				t.Errorf("components %s:\nparley: %v\nsimulator: %v", raw, problems, err)
			}
		}
		if err == nil {
			accepted++
		}
	}
	// Both answers must be well represented for the agreement to mean
	// something.
	if accepted < n/20 || accepted > n*19/20 {
		t.Errorf("%d of %d mutated templates accepted; the mutations must give both answers", accepted, n)
	}
}

func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// replacements are the values a mutation puts in place of another.
var replacements = []any{nil, "", " ", "x", "0", "10", "TEXT", "Hi\tthere", 0.0, 1.0, -1.0, 10.0, 1.5, 91.0, true,
	[]any{}, map[string]any{}, strings.Repeat("w", 61), strings.Repeat("w", 16), strings.Repeat("w", 161)}

// mutate changes one node of v, picked at random: it removes a key or an
// element, repeats an element, or replaces a value.
func mutate(rng *rand.Rand, v any) any {
	var nodes []func()
	var walk func(parent any, key any, node any)
	walk = func(parent any, key any, node any) {
		switch n := node.(type) {
		case map[string]any:
			keys := make([]string, 0, len(n))
			for k := range n {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				nodes = append(nodes, func() { delete(n, k) })
				walk(n, k, n[k])
			}
			nodes = append(nodes, func() { n["extra"] = "x" })
		case []any:
			for i, child := range n {
				walk(n, i, child)
			}
			if len(n) > 0 {
				if p, ok := parent.(map[string]any); ok {
					nodes = append(nodes, func() { p[key.(string)] = append(n, clone(n[len(n)-1])) })
					nodes = append(nodes, func() { p[key.(string)] = n[1:] })
				}
			}
		}
		if parent != nil {
			nodes = append(nodes, func() {
				r := clone(replacements[rng.IntN(len(replacements))])
				switch p := parent.(type) {
				case map[string]any:
					p[key.(string)] = r
				case []any:
					p[key.(int)] = r
				}
			})
		}
	}
	walk(nil, nil, v)
	nodes[rng.IntN(len(nodes))]()
	return v
}

// TestTemplatesToGroup: each template fixture sent to a group is refused
// by the simulator exactly when parley refuses it for a group (commerce
// and call buttons), and taken otherwise.
func TestTemplatesToGroup(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(whatsappTestdata, "templates", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no template fixtures: %v", err)
	}
	s := newStack(t, business)
	refused := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			var m message.Message
			raw, err := os.ReadFile(f)
			if err != nil || json.Unmarshal(raw, &m) != nil {
				t.Fatalf("read %s: %v", f, err)
			}
			parley := whatsapp.CheckRecipient(group, m)
			body, err := os.ReadFile(filepath.Join(whatsappTestdata, "out", "template_"+name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var req map[string]json.RawMessage
			if err := json.Unmarshal(body, &req); err != nil {
				t.Fatal(err)
			}
			req["recipient_type"], req["to"] = json.RawMessage(`"group"`), json.RawMessage(`"`+group+`"`)
			delete(req, "recipient")
			out, _ := json.Marshal(req)
			status, got := s.send(t, string(out))
			switch {
			case len(parley) > 0:
				refused++
				if status != http.StatusBadRequest || got.Error == nil || !strings.Contains(got.Error.ErrorData.Details, "cannot be sent to a group") {
					t.Errorf("parley refuses (%v); simulator answered %d %+v", parley, status, got.Error)
				}
			case status != http.StatusOK:
				t.Errorf("parley sends it; simulator answered %d %+v", status, got.Error)
			}
		})
	}
	if refused == 0 {
		t.Error("no fixture is refused for a group")
	}
}

// TestAuthenticationTemplates: an authentication template's code (the body
// variable and the URL button's) is at most 15 characters, and a group
// takes no authentication template; Meta refuses both by the template's
// category, which a marketing template of the same shape does not share.
// parley cannot tell the category from the request: it sends, and reports
// Meta's refusal as an invalid message with Meta's details, not retried.
func TestAuthenticationTemplates(t *testing.T) {
	s := newStackWith(t, Config{KnownTemplates: []Template{
		{Name: "sign_in_code", Language: "en_GB", Category: "AUTHENTICATION"},
		{Name: "sign_in_code_one_tap", Language: "en_GB", Category: "AUTHENTICATION"},
		{Name: "sign_in_code_autofill", Language: "en_GB", Category: "AUTHENTICATION"},
		{Name: "parcel_on_its_way", Language: "en_GB", Category: "UTILITY"},
	}})
	for _, name := range []string{"authentication_copy_code", "authentication_one_tap", "authentication_zero_tap"} {
		body, err := os.ReadFile(filepath.Join(whatsappTestdata, "out", "template_"+name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if status, got := s.send(t, string(body)); status != http.StatusOK {
			t.Errorf("%s: status %d %+v, want it sent", name, status, got.Error)
		}
	}
	code := func(name, value string) string {
		return envelope("template", `{"name":"`+name+`","language":{"code":"en_GB"},"components":[{"type":"body","parameters":[{"type":"text","text":`+quote(value)+`}]},`+
			`{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":`+quote(value)+`}]}]}`)
	}
	const details = "template parameter at index 0 exceeds the maximum length in the AUTHENTICATION category (15 characters)."
	for _, unit := range []string{"a", "é", "👍"} {
		t.Run(unit, func(t *testing.T) {
			if status, got := s.send(t, code("sign_in_code", r(unit, authCodeLimit))); status != http.StatusOK {
				t.Errorf("a code at the limit: status %d %+v", status, got.Error)
			}
			status, got := s.send(t, code("sign_in_code", r(unit, authCodeLimit+1)))
			if status != http.StatusBadRequest || got.Error == nil || got.Error.Code != 131009 || got.Error.ErrorData.Details != details {
				t.Errorf("a code one over: status %d %+v, want 131009 %q", status, got.Error, details)
			}
			// The same shape in a utility template is no code.
			if status, got := s.send(t, code("parcel_on_its_way", r(unit, 40))); status != http.StatusOK {
				t.Errorf("a utility template's variable of 40: status %d %+v", status, got.Error)
			}
		})
	}
	var group map[string]any
	json.Unmarshal([]byte(code("sign_in_code", "482913")), &group)
	group["recipient_type"], group["to"] = "group", "Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw"
	b, _ := json.Marshal(group)
	if status, got := s.send(t, string(b)); status != http.StatusBadRequest || got.Error == nil || !strings.Contains(got.Error.ErrorData.Details, "cannot be sent to a group") {
		t.Errorf("an authentication template to a group: status %d %+v, want it refused", status, got.Error)
	}

	// parley sends a 16-character code (the request does not say it is
	// one) and reports Meta's refusal.
	m := message.Message{Type: message.TypeTemplate, Name: "sign_in_code", Language: "en_GB",
		Components: json.RawMessage(`[{"type":"body","parameters":[{"type":"text","text":"A1B2C3D4E5F6G7H8"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"A1B2C3D4E5F6G7H8"}]}]`)}
	if ps := whatsapp.Validate(m); ps != nil {
		t.Fatalf("Validate = %v: parley cannot know the template's category", ps)
	}
	before := len(s.sim.Accepted())
	_, err := s.client(token).Send(context.Background(), message.Outgoing{BusinessID: business, To: customer, Message: m})
	var e *message.Error
	if !errors.As(err, &e) || e.Code != message.CodeInvalidMessage || !strings.Contains(e.Message, "AUTHENTICATION category (15 characters)") || e.Retryable {
		t.Errorf("Send = %v, want an invalid message with Meta's details, not retried", err)
	}
	if n := len(s.sim.Accepted()); n != before {
		t.Errorf("accepted %d messages, want %d", n, before)
	}
}
