package whatsapp

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

const (
	business = "106540352242922"
	customer = "447700900123"
)

var received = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func TestParse(t *testing.T) {
	tests := []struct {
		file string
		want Parsed
	}{
		{"text.json", Parsed{Items: []message.InboundItem{{
			Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
			PlatformMessageID: "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhggQTFCMkMzRDRFNUY2QTdCOEM5RDBFMUYyQTNCNEM1RDYA",
			At:                unix(1760000000),
			Body:              &message.Body{Type: "text", Text: "Is the 14:00 slot still free? Café au lait 👍"},
		}}}},
		{"text_reply.json", Parsed{Items: []message.InboundItem{{
			Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
			PlatformMessageID: "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0VCMEQ0RjFBNkM3QjhEOUUwRjEA",
			At:                unix(1760000100),
			Body:              &message.Body{Type: "text", Text: "Yes, Friday works"},
			ReplyToPlatformID: "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSOUE4QjdDNkQ1RTRGM0EyQjFDAA==",
		}}}},
		{"statuses.json", Parsed{Items: []message.InboundItem{
			{Kind: message.KindStatus, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
				PlatformMessageID: "wamid.OUR_TEXT_1", At: unix(1760000010), Status: "sent"},
			{Kind: message.KindStatus, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
				PlatformMessageID: "wamid.OUR_TEXT_1", At: unix(1760000020), Status: "delivered"},
			{Kind: message.KindStatus, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
				PlatformMessageID: "wamid.OUR_TEXT_1", At: unix(1760000030), Status: "read"},
			{Kind: message.KindStatus, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
				PlatformMessageID: "wamid.OUR_TEXT_2", At: unix(1760090000), Status: "failed",
				StatusError: &message.PlatformError{Code: 131047, Message: "Re-engagement message",
					Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}},
		}}},
		{"unsupported.json", Parsed{Items: []message.InboundItem{{
			Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
			PlatformMessageID: "wamid.A9", At: unix(1760000800), Body: &message.Body{Type: "unsupported"},
		}}}},
		{"mixed.json", Parsed{
			Items: []message.InboundItem{
				{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
					PlatformMessageID: "wamid.M1", At: unix(1760000000), Body: &message.Body{Type: "text", Text: "first"}},
				{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
					PlatformMessageID: "wamid.M5", At: received, Body: &message.Body{Type: "text", Text: "no timestamp"}},
				{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
					PlatformMessageID: "wamid.M6", At: unix(1760000006), Body: &message.Body{Type: "unsupported"}},
				{Kind: message.KindStatus, Channel: message.WhatsApp, BusinessID: business, CustomerID: customer,
					PlatformMessageID: "wamid.OUR_1", At: unix(1760000010), Status: "read"},
				{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: "106540352242923", CustomerID: "16505551234",
					PlatformMessageID: "wamid.OTHER_NUMBER", At: unix(1760000030), Body: &message.Body{Type: "text", Text: "to the second number"}},
			},
			Skipped: []Skipped{
				{"entry[0].changes[0].value.messages[1]", "id is missing"},
				{"entry[0].changes[0].value.messages[2]", `timestamp "soon" is not Unix seconds`},
				{"entry[0].changes[0].value.messages[3]", "text.body is missing"},
				{"entry[0].changes[0].value.statuses[1]", "recipient_id is missing"},
				{"entry[0].changes[0].value.statuses[2]", "id: unexpected JSON number"},
				{"entry[1]", "a JSON string where an object was expected"},
				{"entry[2].changes[0]", "value.metadata.phone_number_id is missing"},
				{"entry[2].changes[1]", `field "account_update" is not handled`},
				{"entry[2].changes[2].value.errors[0]", "error 130429 for the whole change: Rate limit hit"},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Parse(readFixture(t, tt.file), received)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got.Items, tt.want.Items) {
				t.Errorf("items:\n got %s\nwant %s", items(got.Items), items(tt.want.Items))
			}
			if !reflect.DeepEqual(got.Skipped, tt.want.Skipped) {
				t.Errorf("skipped:\n got %q\nwant %q", got.Skipped, tt.want.Skipped)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty", ``, "invalid JSON"},
		{"not json", `<html>hello</html>`, "invalid JSON"},
		{"truncated", `{"object":"whatsapp_business_account","entry":[`, "unexpected end of JSON input"},
		{"array", `[{"object":"whatsapp_business_account"}]`, "a JSON array where an object was expected"},
		{"other object", `{"object":"page","entry":[]}`, `object is "page", not "whatsapp_business_account"`},
		{"no object", `{"entry":[]}`, "object is missing"},
		{"entry not a list", `{"object":"whatsapp_business_account","entry":{}}`, "entry: unexpected JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body), received)
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestParseEmptyEnvelope(t *testing.T) {
	got, err := Parse([]byte(`{"object":"whatsapp_business_account","entry":[],"extra":{"x":1}}`), received)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(got.Items) != 0 || len(got.Skipped) != 0 {
		t.Errorf("Parse = %+v, want nothing", got)
	}
}

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := Parse(body, received)
		if err != nil {
			return
		}
		for i, it := range got.Items {
			switch {
			case it.Kind == "":
				t.Errorf("item %d has no Kind: %+v", i, it)
			case it.PlatformMessageID == "":
				t.Errorf("item %d has no PlatformMessageID: %+v", i, it)
			case it.BusinessID == "" || it.CustomerID == "":
				t.Errorf("item %d has no business or customer: %+v", i, it)
			case it.Channel != message.WhatsApp:
				t.Errorf("item %d has channel %q", i, it.Channel)
			case it.Kind == message.KindMessage && it.Body == nil:
				t.Errorf("message item %d has no Body: %+v", i, it)
			case it.Kind == message.KindStatus && it.Status == "":
				t.Errorf("status item %d has no Status: %+v", i, it)
			}
		}
	})
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// items prints items with their bodies and errors, not pointers.
func items(its []message.InboundItem) string {
	var b strings.Builder
	for _, it := range its {
		fmt.Fprintf(&b, "\n  %s %s→%s %s at=%s status=%q replyTo=%q",
			it.Kind, it.CustomerID, it.BusinessID, it.PlatformMessageID, it.At.Format(time.RFC3339), it.Status, it.ReplyToPlatformID)
		if it.Body != nil {
			fmt.Fprintf(&b, " body=%+v", *it.Body)
		}
		if it.StatusError != nil {
			fmt.Fprintf(&b, " error=%+v", *it.StatusError)
		}
	}
	return b.String()
}
