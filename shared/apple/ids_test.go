package apple

import (
	"strings"
	"testing"
)

// TestCheckIDs: Apple's business ids are UUIDs and its customers opaque
// urn:mbid: ids; anything else is refused naming the field and the form.
func TestCheckIDs(t *testing.T) {
	const business, customer = "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70", "urn:mbid:AQAAY1x/Wq+Lr0c="
	tests := []struct {
		name, business, to string
		want               string
	}{
		{"Apple's forms", business, customer, ""},
		{"upper-case UUID", strings.ToUpper(business), customer, ""},
		{"long opaque id", business, "urn:mbid:" + strings.Repeat("AQAAY1x/Wq+Lr0c=", 20), ""},

		{"business without hyphens", strings.ReplaceAll(business, "-", ""), customer, "businessId: "},
		{"business as a WhatsApp phone number id", "106540352242922", customer, `businessId: "106540352242922" is not an Apple business id: a UUID`},
		{"business as urn:biz:", "urn:biz:" + business, customer, "businessId: "},
		{"business UUID with a letter past f", "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f7g", customer, "businessId: "},
		{"customer without the prefix", business, "AQAAY1x/Wq+Lr0c=", `to: "AQAAY1x/Wq+Lr0c=" is not an Apple customer id: urn:mbid:`},
		{"customer as a phone number", business, "447700900123", "to: "},
		{"customer with only the prefix", business, "urn:mbid:", "to: "},
		{"customer with a space", business, "urn:mbid:AQAA Y1x", "to: "},
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
