package channel_test

import (
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/whatsapp"
)

var now = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// TestRegistry: linking a channel package registers it once, by its name.
func TestRegistry(t *testing.T) {
	names := channel.Names()
	if len(names) != 2 || names[0] != message.Apple || names[1] != message.WhatsApp {
		t.Fatalf("Names() = %v, want [apple whatsapp]", names)
	}
	for _, n := range names {
		if c, ok := channel.Lookup(n); !ok || c.Name() != n {
			t.Errorf("Lookup(%s) = %v, %v", n, c, ok)
		}
	}
	if _, ok := channel.Lookup("sms"); ok {
		t.Error("Lookup(sms) found a channel that is not linked")
	}
	defer func() {
		if recover() == nil {
			t.Error("registering whatsapp twice did not panic")
		}
	}()
	channel.Register(whatsapp.Channel{})
}

// TestAnswers pins what each channel answers to the port.
func TestAnswers(t *testing.T) {
	tests := []struct {
		ch          channel.Channel
		native      []string
		foreign     []string
		window      time.Duration
		retention   time.Duration
		aliases     bool
		maxAge      time.Duration
		namesSent   bool
		windowCode  int
		windowMeans message.Code
	}{
		{whatsapp.Channel{}, []string{message.TypeTemplate, message.TypeList, message.TypeReaction, message.TypeImage}, []string{message.TypeTimePicker, message.TypeApplePay, message.TypeTyping},
			24 * time.Hour, 30 * 24 * time.Hour, true, 7*24*time.Hour + 12*time.Hour, false, 131047, message.CodeWindowClosed},
		{apple.Channel{}, []string{message.TypeTimePicker, message.TypeApplePay, message.TypeTyping, message.TypeList}, []string{message.TypeTemplate, message.TypeReaction, message.TypeProduct},
			0, 365 * 24 * time.Hour, false, 0, true, 131047, message.CodePlatformRejected},
	}
	for _, tt := range tests {
		t.Run(string(tt.ch.Name()), func(t *testing.T) {
			for _, typ := range tt.native {
				if !tt.ch.Native(typ) {
					t.Errorf("Native(%s) = false", typ)
				}
			}
			for _, typ := range tt.foreign {
				if tt.ch.Native(typ) {
					t.Errorf("Native(%s) = true", typ)
				}
			}
			if got := tt.ch.Window(); got != tt.window {
				t.Errorf("Window() = %s, want %s", got, tt.window)
			}
			if got := tt.ch.Retention(); got != tt.retention {
				t.Errorf("Retention() = %s, want %s", got, tt.retention)
			}
			if got := tt.ch.Aliases(); got != tt.aliases {
				t.Errorf("Aliases() = %v", got)
			}
			if got := tt.ch.MaxItemAge(); got != tt.maxAge {
				t.Errorf("MaxItemAge() = %s, want %s", got, tt.maxAge)
			}
			if a, b := tt.ch.MessageID(), tt.ch.MessageID(); (a != "") != tt.namesSent || tt.namesSent && a == b {
				t.Errorf("MessageID() = %q then %q; want a fresh id each time: %v", a, b, tt.namesSent)
			}
			if got := tt.ch.FailureCode(&message.PlatformError{Code: tt.windowCode}); got != tt.windowMeans {
				t.Errorf("FailureCode(%d) = %s, want %s", tt.windowCode, got, tt.windowMeans)
			}
		})
	}
}

// TestGates: WhatsApp takes only a template once the window is closed;
// Apple takes nothing into a conversation the customer closed.
func TestGates(t *testing.T) {
	text := message.Message{Type: message.TypeText, Text: "hi"}
	tmpl := message.Message{Type: message.TypeTemplate, Name: "hello", Language: "en"}
	req := func(ch message.Channel, m message.Message) message.SendRequest {
		return message.SendRequest{Channel: ch, BusinessID: "b", To: "c", Message: m}
	}
	open := message.Conversation{LastInboundAt: now.Add(-time.Hour), WindowClosesAt: now.Add(23 * time.Hour)}
	lapsed := message.Conversation{LastInboundAt: now.Add(-25 * time.Hour)}
	closed := message.Conversation{Closed: true, ClosedAt: now.Add(-time.Minute)}
	tests := []struct {
		name  string
		ch    channel.Channel
		req   message.SendRequest
		conv  message.Conversation
		known bool
		want  message.Code
	}{
		{"whatsapp, window open", whatsapp.Channel{}, req(message.WhatsApp, text), open, true, ""},
		{"whatsapp, window closed", whatsapp.Channel{}, req(message.WhatsApp, text), lapsed, true, message.CodeWindowClosed},
		{"whatsapp, never written", whatsapp.Channel{}, req(message.WhatsApp, text), message.Conversation{}, false, message.CodeWindowClosed},
		{"whatsapp, a template with the window closed", whatsapp.Channel{}, req(message.WhatsApp, tmpl), lapsed, true, ""},
		{"apple, open", apple.Channel{}, req(message.Apple, text), message.Conversation{}, false, ""},
		{"apple, closed by the customer", apple.Channel{}, req(message.Apple, text), closed, true, message.CodeConversationClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ch.Gate(tt.req, tt.conv, tt.known, now)
			var e *message.Error
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Gate = %v, want nil", err)
			case tt.want != "" && (!errors.As(err, &e) || e.Code != tt.want):
				t.Errorf("Gate = %v, want %s", err, tt.want)
			}
		})
	}
}

// TestFallbackForms: each channel takes its own form of fallback and names
// the field of the other.
func TestFallbackForms(t *testing.T) {
	m := &message.Message{Type: message.TypeText, Text: "hi"}
	tmpl := &message.Message{Name: "hello", Language: "en"}
	tests := []struct {
		name      string
		ch        channel.Channel
		fb        message.Fallback
		wantField string
		wantErr   string
	}{
		{"whatsapp takes a template", whatsapp.Channel{}, message.Fallback{Template: tmpl}, "fallback.template", ""},
		{"whatsapp refuses a message", whatsapp.Channel{}, message.Fallback{Message: m}, "", "fallback.message"},
		{"whatsapp refuses a template of another type", whatsapp.Channel{}, message.Fallback{Template: m}, "", "fallback.template.type"},
		{"apple takes a message", apple.Channel{}, message.Fallback{Message: m}, "fallback.message", ""},
		{"apple refuses a template", apple.Channel{}, message.Fallback{Template: tmpl}, "", "fallback.template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := tt.fb
			field, err := tt.ch.Fallback(&fb)
			if tt.wantErr != "" {
				var e *message.Error
				if !errors.As(err, &e) || e.Code != message.CodeInvalidRequest || len(e.Details) != 1 || e.Details[0].Field != tt.wantErr {
					t.Fatalf("Fallback = %q, %v; want an invalid_request naming %s", field, err, tt.wantErr)
				}
				return
			}
			if err != nil || field != tt.wantField {
				t.Fatalf("Fallback = %q, %v; want %q", field, err, tt.wantField)
			}
			if fb.Template != nil && fb.Template.Type != message.TypeTemplate {
				t.Errorf("the template's type is %q, want it set to template", fb.Template.Type)
			}
		})
	}
}

// TestUploadsFitTheChannels: POST /v1/uploads takes every file a channel
// sends, and no name Apple's attachments would refuse.
func TestUploadsFitTheChannels(t *testing.T) {
	if want := max(apple.MaxBlob, whatsapp.MaxDocumentSize); message.MaxUploadSize != want {
		t.Errorf("MaxUploadSize = %d, want the largest file a channel sends, %d", message.MaxUploadSize, want)
	}
	if message.MaxUploadName != apple.MaxAttachmentName {
		t.Errorf("MaxUploadName = %d, want Apple's attachment name limit %d", message.MaxUploadName, apple.MaxAttachmentName)
	}
	if apple.UploadPrefix != message.UploadPrefix || whatsapp.UploadPrefix != message.UploadPrefix {
		t.Errorf("the channels take uploads under %q and %q, the API gives them under %q", apple.UploadPrefix, whatsapp.UploadPrefix, message.UploadPrefix)
	}
}

// TestCustomerID: a WhatsApp phone number written as Meta takes it in a
// send's "to" names the customer by the wa_id Meta's webhooks carry; every
// other id, and every Apple id, is kept as given.
func TestCustomerID(t *testing.T) {
	tests := []struct {
		ch       channel.Channel
		to, want string
	}{
		{whatsapp.Channel{}, "447700900123", "447700900123"},
		{whatsapp.Channel{}, "+447700900123", "447700900123"},
		{whatsapp.Channel{}, "+44 7700 900123", "447700900123"},
		{whatsapp.Channel{}, "+1 (650) 555-1234", "16505551234"},
		{whatsapp.Channel{}, "GB.13491208655302741918", "GB.13491208655302741918"},
		{whatsapp.Channel{}, "US.ENT.11815799212886844830", "US.ENT.11815799212886844830"},
		{whatsapp.Channel{}, "Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw", "Y2FwaV9ncm91cDo0NDc3MDA5MDAxMjM6MTIwMzYzNDA0Njk0MjMzODIw"},
		{whatsapp.Channel{}, "12+34", "12+34"},
		{whatsapp.Channel{}, "+", "+"},
		{whatsapp.Channel{}, "( )", "( )"},
		{whatsapp.Channel{}, "sam@example.com", "sam@example.com"},
		{apple.Channel{}, "urn:mbid:AQAAY1x/Wq+Lr0c=", "urn:mbid:AQAAY1x/Wq+Lr0c="},
		{apple.Channel{}, "+44 7700 900123", "+44 7700 900123"},
	}
	for _, tt := range tests {
		if got := tt.ch.CustomerID(tt.to); got != tt.want {
			t.Errorf("%s CustomerID(%q) = %q, want %q", tt.ch.Name(), tt.to, got, tt.want)
		}
	}
}
