package whatsapp

import (
	"strings"
	"testing"
)

// TestCheckIDs: every form Meta's examples use is taken; anything else is
// refused naming the field and the forms.
func TestCheckIDs(t *testing.T) {
	const business = "106540352242922"
	tests := []struct {
		name, business, to string
		want               string // "" when taken, else the field and a part of the problem
	}{
		{"phone number", business, "447700900123", ""},
		{"phone number with a plus", business, "+16315551181", ""},
		{"phone number of 15 digits", business, "123456789012345", ""},
		{"business-scoped user id", business, "GB.13491208655302741918", ""},
		{"parent business-scoped user id", business, "US.ENT.11815799212886844830", ""},
		{"group id", business, "Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw", ""},
		{"URL-safe group id", business, "Y2FwaV9ncm91cDo0-_", ""},

		{"phone number of 16 digits", business, "1234567890123456", "to: 16 digits, a phone number has at most 15"},
		{"phone number with spaces, unwritten", business, "+44 7700 900123", `to: "+44 7700 900123" is not a WhatsApp recipient`},
		{"phone number with spaces, as the send path writes it", business, Channel{}.CustomerID("+44 7700 900123"), ""},
		{"phone number with hyphens and parentheses, as the send path writes it", business, Channel{}.CustomerID("+1 (631) 555-1181"), ""},
		{"an Apple customer", business, "urn:mbid:AQAAY1x/Wq+Lr0c=", "to: "},
		{"an email address", business, "sam@example.com", "to: "},
		{"group id too long", business, strings.Repeat("g", 257), "to: 257 characters, a group id has at most 256"},
		{"business as a phone number with a plus", "+106540352242922", "447700900123", `businessId: "+106540352242922" is not a WhatsApp phone number id`},
		{"business as an Apple UUID", "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70", "447700900123", "businessId: "},
		{"business id too long", strings.Repeat("1", 33), "447700900123", "businessId: "},
		{"phone number with two pluses", business, Channel{}.CustomerID("++447700900123"), `to: "++447700900123" is not a WhatsApp recipient`},
		{"phone number with a plus inside", business, Channel{}.CustomerID("44+7700900123"), `to: "44+7700900123" is not a WhatsApp recipient`},
		{"phone number with a slash", business, Channel{}.CustomerID("+44/7700900123"), `to: "+44/7700900123" is not a WhatsApp recipient`},
		{"phone number in full-width digits", business, Channel{}.CustomerID("＋４４７７００９００１２３"), "to: "},
		{"phone number with Arabic-Indic digits", business, Channel{}.CustomerID("+٤٤7700900123"), "to: "},
		{"phone number with a zero-width space", business, Channel{}.CustomerID("+44\u200b7700900123"), "to: "},
		{"business-scoped user id in full-width letters", business, "ＧＢ.13491208655302741918", "to: "},
		{"business-scoped user id in Greek capitals", business, "ΑΒ.13491208655302741918", "to: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := CheckIDs(tt.business, tt.to)
			if tt.want == "" {
				if len(ps) > 0 {
					t.Fatalf("refused: %v", ps)
				}
				return
			}
			if len(ps) != 1 || !strings.Contains(ps[0].Field+": "+ps[0].Problem, tt.want) {
				t.Fatalf("problems %v, want one with %q", ps, tt.want)
			}
		})
	}
}
