package whatsappsim

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/whatsapp"
)

const (
	freeForm     = `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"text","text":{"body":"Still there?"},"biz_opaque_callback_data":"case-4812"}`
	templateBody = `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"template","template":{"name":"booking_reminder","language":{"code":"en_GB"}}}`
	buttonsBody  = `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"interactive","interactive":{"type":"button","body":{"text":"Keep it?"},"action":{"buttons":[{"type":"reply","reply":{"id":"keep","title":"Keep"}}]}}}`
)

// reactTo is a reaction to wamid; "{wrote}" stands for the customer's
// message.
func reactTo(wamid string) string {
	return `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+447700900123","type":"reaction","reaction":{"message_id":"` + wamid + `","emoji":"👍"}}`
}

func TestWindow(t *testing.T) {
	const never = -1
	tests := []struct {
		name string
		// wrote is how long before the send the customer wrote, or never.
		wrote      time.Duration
		sync       bool
		body       string
		wantStatus int
		wantCode   int
		// wantFailed is the code of the failed status posted after the
		// send, or 0 for none.
		wantFailed int
	}{
		{"inside", 23*time.Hour + 59*time.Minute, false, freeForm, 200, 0, 0},
		{"interactive inside", time.Minute, false, buttonsBody, 200, 0, 0},
		{"never wrote", never, false, freeForm, 200, 0, 131047},
		{"closed at 24 hours", 24 * time.Hour, false, freeForm, 200, 0, 131047},
		{"interactive outside", 25 * time.Hour, false, buttonsBody, 200, 0, 131047},
		{"outside, sync", 25 * time.Hour, true, freeForm, 400, 131047, 0},
		{"never wrote, sync", never, true, buttonsBody, 400, 131047, 0},
		{"inside, sync", time.Hour, true, freeForm, 200, 0, 0},
		{"template outside", 25 * time.Hour, false, templateBody, 200, 0, 0},
		{"template never wrote", never, false, templateBody, 200, 0, 0},
		{"template never wrote, sync", never, true, templateBody, 200, 0, 0},
		{"reaction to the customer's message", time.Hour, false, reactTo("{wrote}"), 200, 0, 0},
		{"reaction to a message of another chat", time.Hour, false, reactTo("wamid.ELSEWHERE"), 200, 0, 131009},
		{"reaction outside", 25 * time.Hour, false, reactTo("{wrote}"), 200, 0, 131047},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStackWith(t, Config{WindowErrorsSync: tt.sync})
			body := tt.body
			if tt.wrote != never {
				body = strings.ReplaceAll(body, "{wrote}", s.customerWrites(t))
				s.clock.Advance(tt.wrote)
			}
			status, got := s.send(t, body)
			s.sim.Flush()
			if status != tt.wantStatus {
				t.Fatalf("status %d %+v, want %d", status, got.Error, tt.wantStatus)
			}
			if tt.wantCode != 0 {
				if got.Error == nil || got.Error.Code != tt.wantCode || got.Error.Message != "(#131047) Re-engagement message" ||
					!strings.Contains(got.Error.ErrorData.Details, "24 hours") {
					t.Errorf("error %+v, want %d", got.Error, tt.wantCode)
				}
				if n := len(s.sim.Accepted()); n != 0 {
					t.Errorf("%d messages accepted, want none", n)
				}
			}
			if tt.wantFailed == 0 {
				if n := s.hooks.count(); n != 0 {
					t.Errorf("%d webhooks posted, want none", n)
				}
				return
			}
			wamid := got.Messages[0].ID
			r, raw := s.hooks.last(t)
			if !whatsapp.ValidSignature(raw, r.Header.Get("X-Hub-Signature-256"), secret) {
				t.Errorf("the failed status is not signed")
			}
			parsed, err := whatsapp.Parse(raw, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(parsed.Items) != 1 {
				t.Fatalf("parsed %+v, want one status", parsed)
			}
			it := parsed.Items[0]
			if it.Kind != message.KindStatus || it.Status != "failed" || it.PlatformMessageID != wamid || it.CustomerID != customer ||
				it.BusinessID != business || it.StatusError == nil || it.StatusError.Code != tt.wantFailed {
				t.Errorf("status %+v (%+v), want failed %d for %s", it, it.StatusError, tt.wantFailed, wamid)
			}
			if body == freeForm && !bytes.Contains(raw, []byte(`"biz_opaque_callback_data":"case-4812"`)) {
				t.Errorf("the status does not echo biz_opaque_callback_data:\n%s", raw)
			}
			if a := s.sim.Accepted(); a[len(a)-1].FailedWith != tt.wantFailed {
				t.Errorf("accepted %+v, want FailedWith %d", a[len(a)-1], tt.wantFailed)
			}
		})
	}
}

func TestRate(t *testing.T) {
	s := newStackWith(t, Config{Rate: 2})
	steps := []struct {
		advance  time.Duration
		wantCode int
	}{
		{0, 0}, {0, 0}, {0, 130429}, // a burst of one second's worth
		{500 * time.Millisecond, 0}, {0, 130429},
		{time.Second, 0}, {0, 0}, {0, 130429},
		{time.Hour, 0}, {0, 0}, {0, 130429}, // the bucket holds no more than a second's worth
	}
	for i, st := range steps {
		s.clock.Advance(st.advance)
		status, got := s.send(t, templateBody)
		switch {
		case st.wantCode == 0 && status != http.StatusOK:
			t.Fatalf("step %d: status %d %+v, want 200", i, status, got.Error)
		case st.wantCode != 0 && (status != http.StatusBadRequest || got.Error == nil || got.Error.Code != st.wantCode ||
			got.Error.Message != "(#130429) Rate limit hit" || got.Error.Type != "OAuthException"):
			t.Fatalf("step %d: status %d %+v, want 400 code %d", i, status, got.Error, st.wantCode)
		}
	}
	// Each number has its own throughput.
	var got graphAnswer
	if status := s.post(t, "/v25.0/106540352242999/messages", "Bearer "+token, templateBody, &got); status != http.StatusOK {
		t.Errorf("another number: status %d %+v", status, got.Error)
	}
	if n := len(s.sim.Accepted()); n != 8 {
		t.Errorf("%d messages accepted, want 8", n)
	}
}

func TestKnownTemplates(t *testing.T) {
	tests := []struct {
		name        string
		template    string
		wantStatus  int
		wantDetails string
	}{
		{"known", `{"name":"booking_reminder","language":{"code":"en_GB"}}`, 200, ""},
		{"other known", `{"name":"hello_world","language":{"code":"en_US"}}`, 200, ""},
		{"unknown name", `{"name":"booking_remindr","language":{"code":"en_GB"}}`, 404, "template name (booking_remindr) does not exist in en_GB"},
		{"unknown language", `{"name":"booking_reminder","language":{"code":"fr"}}`, 404, "template name (booking_reminder) does not exist in fr"},
	}
	s := newStackWith(t, Config{KnownTemplates: []Template{{Name: "booking_reminder", Language: "en_GB"}, {Name: "hello_world", Language: "en_US"}}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := s.send(t, envelope("template", tt.template))
			if status != tt.wantStatus {
				t.Fatalf("status %d %+v, want %d", status, got.Error, tt.wantStatus)
			}
			if tt.wantDetails != "" && (got.Error.Code != 132001 || got.Error.ErrorData.Details != tt.wantDetails ||
				got.Error.Message != "(#132001) Template name does not exist in the translation") {
				t.Errorf("error %+v, want 132001 %q", got.Error, tt.wantDetails)
			}
		})
	}
}
