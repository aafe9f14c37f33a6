package dynamodb

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestAttributeValueJSON writes every member type and reads it back: the
// JSON is DynamoDB's (its API reference's AttributeValue examples, in our
// own values), and reading it gives the value written.
func TestAttributeValueJSON(t *testing.T) {
	tests := []struct {
		name string
		v    AttributeValue
		json string
	}{
		{"string", S("Sam Okafor"), `{"S":"Sam Okafor"}`},
		{"empty string", S(""), `{"S":""}`},
		{"string to escape", S("line 1\n\"quoted\"\t\\ <b>&\u2028"), `{"S":"line 1\n\"quoted\"\t\\ \u003cb\u003e\u0026\u2028"}`},
		{"control characters", S("\x00\x1f"), `{"S":"\u0000\u001f"}`},
		{"non-ASCII", S("Zoë 🙂 東京"), `{"S":"Zoë 🙂 東京"}`},
		{"number", N("42"), `{"N":"42"}`},
		{"negative decimal", N("-3.25"), `{"N":"-3.25"}`},
		{"38 digits, beyond float64 and int64", N("12345678901234567890123456789012345678"), `{"N":"12345678901234567890123456789012345678"}`},
		{"exponent", N("1.5E+125"), `{"N":"1.5E+125"}`},
		{"binary", B("parley answer \x00\xff"), `{"B":"cGFybGV5IGFuc3dlciAA/w=="}`},
		{"empty binary", B{}, `{"B":""}`},
		{"true", BOOL(true), `{"BOOL":true}`},
		{"false", BOOL(false), `{"BOOL":false}`},
		{"null", NULL(true), `{"NULL":true}`},
		{"list of every scalar", L{S("a"), N("1"), B("b"), BOOL(false), NULL(true)},
			`{"L":[{"S":"a"},{"N":"1"},{"B":"Yg=="},{"BOOL":false},{"NULL":true}]}`},
		{"empty list", L{}, `{"L":[]}`},
		{"map, keys in order", M{"zeta": S("z"), "alpha": N("7"), "mid": BOOL(true)},
			`{"M":{"alpha":{"N":"7"},"mid":{"BOOL":true},"zeta":{"S":"z"}}}`},
		{"empty map", M{}, `{"M":{}}`},
		{"nested lists and maps", M{"rows": L{M{"id": S("slot:0900"), "tags": SS{"am", "van"}}, L{N("1"), L{}}}},
			`{"M":{"rows":{"L":[{"M":{"id":{"S":"slot:0900"},"tags":{"SS":["am","van"]}}},{"L":[{"N":"1"},{"L":[]}]}]}}}`},
		{"string set", SS{"LIST", "TIME"}, `{"SS":["LIST","TIME"]}`},
		{"number set", NS{"1", "2.5", "-30"}, `{"NS":["1","2.5","-30"]}`},
		{"binary set", BS{[]byte("x"), []byte("yz")}, `{"BS":["eA==","eXo="]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.json {
				t.Errorf("JSON\n got %s\nwant %s", got, tt.json)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON %s", got)
			}
			back, err := UnmarshalValue([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tt.v) {
				t.Errorf("read back %#v, want %#v", back, tt.v)
			}
		})
	}
}

// TestStringMatchesEncodingJSON: appendString escapes as encoding/json
// does, so that what DynamoDB stores is the string given, whatever it
// holds (invalid UTF-8 becomes U+FFFD, as encoding/json makes it).
func TestStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "<>&", "\u2028\u2029", "bad \xff utf-8 \xc3", "Zoë 🙂", strings.Repeat("é\"", 100)} {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want, _ := json.Marshal(s)
		var wantS string
		json.Unmarshal(want, &wantS)
		if got != wantS {
			t.Errorf("%q read back as %q, want %q", s, got, wantS)
		}
	}
}

// TestItemJSON reads an item as DynamoDB sends it and writes it back.
func TestItemJSON(t *testing.T) {
	doc := `{
		"PK": {"S": "CONV#whatsapp#106540352242922#447700900123"},
		"SK": {"S": "CAPS"},
		"atNs": {"N": "1931419613000000000"},
		"capabilities": {"L": [{"S": "LIST"}, {"S": "TIME"}]},
		"answer": {"B": "eyJpZCI6Im1zZ18xIn0="},
		"routing": {"M": {"queue": {"S": "billing"}, "priority": {"N": "2"}, "vip": {"BOOL": true}, "note": {"NULL": true}}},
		"tags": {"SS": ["a", "b"]}, "scores": {"NS": ["1", "99999999999999999999999999999999999999"]}, "keys": {"BS": ["AQI="]}
	}`
	var it Item
	if err := json.Unmarshal([]byte(doc), &it); err != nil {
		t.Fatal(err)
	}
	want := Item{
		"PK": S("CONV#whatsapp#106540352242922#447700900123"), "SK": S("CAPS"),
		"atNs":         N("1931419613000000000"),
		"capabilities": L{S("LIST"), S("TIME")},
		"answer":       B(`{"id":"msg_1"}`),
		"routing":      M{"queue": S("billing"), "priority": N("2"), "vip": BOOL(true), "note": NULL(true)},
		"tags":         SS{"a", "b"}, "scores": NS{"1", "99999999999999999999999999999999999999"}, "keys": BS{{1, 2}},
	}
	if !reflect.DeepEqual(it, want) {
		t.Fatalf("item\n got %#v\nwant %#v", it, want)
	}
	out, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	var again Item
	if err := json.Unmarshal(out, &again); err != nil || !reflect.DeepEqual(again, want) {
		t.Errorf("round trip: %v, %#v", err, again)
	}

	// White space anywhere, and escapes of every kind.
	var spaced Item
	if err := json.Unmarshal([]byte(" {\n\t\"k\" : { \"S\" : \"caf\\u00e9 \\ud83d\\ude42 \\\"q\\\" \\/ \\n\" } ,\r\n \"l\":{\"L\":[ ]} } "), &spaced); err != nil {
		t.Fatal(err)
	}
	if want := (Item{"k": S("café 🙂 \"q\" / \n"), "l": L{}}); !reflect.DeepEqual(spaced, want) {
		t.Errorf("spaced item %#v, want %#v", spaced, want)
	}

	var none Item
	if err := json.Unmarshal([]byte(`null`), &none); err != nil || none != nil {
		t.Errorf("null: %v, %#v", err, none)
	}
}

func TestItemJSONRefusesWhatIsNoValue(t *testing.T) {
	for _, doc := range []string{
		`{"a": {}}`,
		`{"a": {"X": "1"}}`,
		`{"a": {"L": [{"S": "ok"}, {}]}}`,
		`{"a": {"M": {"b": {}}}}`,
		`{"a": {"S": 1}}`,
		`{"a": {"B": "not base64!"}}`,
		`{"a": {"S": "x", "N": "1"}}`,
		`{"a": {"BOOL": "true"}}`,
		`{"a": {"L": [{"S": "x"},]}}`,
		`{"a": {"S": "bad \q escape"}}`,
		`{"a": {"S": "raw
newline"}}`,
		`{"a": {"S": "unterminated}}`,
		`{"a": {"S": "x"}} trailing`,
		`{"a": {"S": "x"}`,
		`[]`,
		``,
	} {
		var it Item
		if err := json.Unmarshal([]byte(doc), &it); err == nil {
			t.Errorf("%s read as %#v, want an error", doc, it)
		}
	}
	var it Item
	err := json.Unmarshal([]byte(`{"a": {"M": {"b": {}}}}`), &it)
	if !errors.Is(err, errNoMember) || !strings.Contains(err.Error(), `"b"`) || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("error %v, want one naming the attributes a and b", err)
	}
}

func TestMarshalRefusesNilValue(t *testing.T) {
	if _, err := json.Marshal(L{S("a"), nil}); !errors.Is(err, errNoMember) {
		t.Errorf("a list holding nil: %v", err)
	}
	_, err := json.Marshal(struct{ Values Item }{Item{":now": N("1"), ":e": nil}})
	if !errors.Is(err, errNoMember) || !strings.Contains(err.Error(), `":e"`) {
		t.Errorf("an item with an attribute without a value: %v, want an error naming it", err)
	}
}

// FuzzItemJSON: whatever the decoder accepts is valid JSON, and reads back
// the same after writing it again.
func FuzzItemJSON(f *testing.F) {
	for _, seed := range []string{
		`{"PK":{"S":"CONV#whatsapp#1#2"},"atNs":{"N":"1931419613000000000"},"caps":{"L":[{"S":"LIST"}]}}`,
		`{"b":{"B":"AAEC"},"t":{"BOOL":true},"z":{"NULL":true},"m":{"M":{"k":{"NS":["1","2.5"]}}},"ss":{"SS":["q"]},"bs":{"BS":["/w=="]}}`,
		`{"s":{"S":"caf\u00e9 \"x\""}}`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var it Item
		if err := json.Unmarshal(b, &it); err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		out, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		var again Item
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("%s does not read back: %v", out, err)
		}
		if !reflect.DeepEqual(it, again) {
			t.Fatalf("read back\n%#v\nwant\n%#v", again, it)
		}
	})
}
