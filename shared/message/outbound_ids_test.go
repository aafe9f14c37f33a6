package message

import (
	"strings"
	"testing"
)

// TestSendRequestIDs: ids are bounded and carry no control characters
// (NUL, CR, LF reached the platforms before), whatever the channel.
func TestSendRequestIDs(t *testing.T) {
	base := SendRequest{Channel: WhatsApp, BusinessID: "106540352242922", To: "447700900123", Message: Message{Type: TypeText, Text: "hi"}}
	tests := []struct {
		name        string
		edit        func(*SendRequest)
		field, want string
	}{
		{"valid", func(*SendRequest) {}, "", ""},
		{"a 100,000-character businessId", func(r *SendRequest) { r.BusinessID = strings.Repeat("1", 100_000) }, "businessId", "100000 characters, the limit is 64"},
		{"NUL in businessId", func(r *SendRequest) { r.BusinessID = "1065\x00" }, "businessId", "control character U+0000 at byte 4"},
		{"CR LF in to", func(r *SendRequest) { r.To = "4477\r\nX-Injected: 1" }, "to", "control character U+000D at byte 4"},
		{"a long to", func(r *SendRequest) { r.To = strings.Repeat("a", 513) }, "to", "513 characters, the limit is 512"},
		{"a tab in the idempotency key", func(r *SendRequest) { r.IdempotencyKey = "order\t1" }, "idempotencyKey", "control character U+0009"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.edit(&r)
			ps := r.Validate()
			if tt.field == "" {
				if len(ps) != 0 {
					t.Fatalf("problems %v, want none", ps)
				}
				return
			}
			if len(ps) != 1 || ps[0].Field != tt.field || !strings.Contains(ps[0].Problem, tt.want) {
				t.Errorf("problems %v, want one on %s saying %q", ps, tt.field, tt.want)
			}
		})
	}
}
