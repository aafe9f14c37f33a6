package whatsapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/message"
)

// templateCase is a template message of testdata/templates, written in the
// shape of one of Meta's published send examples.
type templateCase struct {
	name string
	msg  message.Message
}

func templateCases(t testing.TB) []templateCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "templates", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no template fixtures: %v", err)
	}
	var out []templateCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m message.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, templateCase{strings.TrimSuffix(filepath.Base(f), ".json"), m})
	}
	return out
}

// TestTemplates: every component, button and parameter type Meta
// documents for sending is accepted and passed to WhatsApp exactly as
// given, in testdata/out/template_<name>.json.
func TestTemplates(t *testing.T) {
	for _, tc := range templateCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			if ps := Validate(tc.msg); ps != nil {
				t.Fatalf("Validate = %v, want no problems", ps)
			}
			got, err := Render(out(tc.msg))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			file := filepath.Join("testdata", "out", "template_"+tc.name+".json")
			if *update {
				var pretty bytes.Buffer
				json.Indent(&pretty, got, "", "  ")
				pretty.WriteByte('\n')
				if err := os.WriteFile(file, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, golden); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("Render =\n%s\nwant (%s)\n%s", got, file, want.Bytes())
			}
			// The components go out as they came in.
			var req struct {
				Template struct {
					Components json.RawMessage `json:"components"`
				} `json:"template"`
			}
			json.Unmarshal(got, &req)
			var sent, given bytes.Buffer
			json.Compact(&sent, req.Template.Components)
			json.Compact(&given, tc.msg.Components)
			if !bytes.Equal(sent.Bytes(), given.Bytes()) {
				t.Errorf("components sent\n%s\nwant them as given\n%s", sent.Bytes(), given.Bytes())
			}
		})
	}
}

// templateRefusal is a case of testdata/template_refusals.json: components
// Meta refuses, the problems parley reports and what Meta answers (the
// WhatsApp simulator's tests read the same file).
type templateRefusal struct {
	Name       string          `json:"name"`
	Components json.RawMessage `json:"components"`
	Problems   []string        `json:"problems"`
}

// TestTemplateRefusals: what Meta refuses is refused before sending, each
// problem naming the field and the rule or limit.
func TestTemplateRefusals(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "template_refusals.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []templateRefusal
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			m := message.Message{Type: message.TypeTemplate, Name: "spring_offer", Language: "en_GB", Components: tc.Components}
			var got []string
			for _, p := range Validate(m) {
				got = append(got, p.Field+": "+p.Problem)
			}
			if strings.Join(got, "\n") != strings.Join(tc.Problems, "\n") {
				t.Errorf("Validate =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.Problems, "\n  "))
			}
			if _, err := Render(out(m)); err == nil {
				t.Error("Render sent it")
			}
		})
	}
}

// TestTemplateCommerceToGroup: a product carousel's View buttons, a
// catalog, multi-product or order button are commerce, and a call button
// is calling, none of which a WhatsApp group takes; every other fixture
// (a media carousel among them) goes.
func TestTemplateCommerceToGroup(t *testing.T) {
	for _, tc := range templateCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckRecipient(group, tc.msg)
			var want message.Problems
			switch tc.name {
			case "product_card_carousel":
				for j := range 3 {
					want.Add(fmt.Sprintf("message.components[1].cards[%d].components[1].sub_type", j), `"spm" buttons cannot be sent to a WhatsApp group: groups take no commerce messages`)
				}
			case "catalog":
				want.Add("message.components[1].sub_type", `"catalog" buttons cannot be sent to a WhatsApp group: groups take no commerce messages`)
			case "multi_product":
				want.Add("message.components[2].sub_type", `"mpm" buttons cannot be sent to a WhatsApp group: groups take no commerce messages`)
			case "order_details":
				want.Add("message.components[2].sub_type", `"order_details" buttons cannot be sent to a WhatsApp group: groups take no commerce messages (an order to pay)`)
			case "voice_call":
				want.Add("message.components[1].sub_type", `"voice_call" buttons cannot be sent to a WhatsApp group: groups take no calling`)
			}
			if !equalProblems(got, want) {
				t.Errorf("CheckRecipient = %v, want %v", got, want)
			}
		})
	}
}

func equalProblems(a, b message.Problems) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// TestTemplateFaultsBounded: a template of a megabyte of faulty
// components, buttons or cards is refused with at most MaxProblems
// problems listed (and one saying the rest are not), not one per fault.
func TestTemplateFaultsBounded(t *testing.T) {
	for name, comps := range map[string]string{
		"empty components": "[" + strings.Repeat("{},", 340000) + "{}]",
		"unknown buttons":  "[" + strings.Repeat(`{"type":"button","sub_type":"x"},`, 30000) + "{}]",
		"faulty cards":     `[{"type":"carousel","cards":[` + strings.Repeat(`{"card_index":0,"components":[{"x":1}]},`, 20000) + `{}]}]`,
		"blank parameters": `[{"type":"body","parameters":[` + strings.Repeat(`{"type":"text"},`, 60000) + `{}]}]`,
	} {
		t.Run(name, func(t *testing.T) {
			ps := Validate(message.Message{Type: message.TypeTemplate, Name: "spring_offer", Language: "en_GB", Components: json.RawMessage(comps)})
			if len(ps) != message.MaxProblems+1 {
				t.Fatalf("%d problems, want %d listed and one saying the rest are not", len(ps), message.MaxProblems+1)
			}
			if last := ps[len(ps)-1]; !strings.Contains(last.Problem, "not listed") {
				t.Errorf("last problem %v, want one saying the rest are not listed", last)
			}
		})
	}
}
