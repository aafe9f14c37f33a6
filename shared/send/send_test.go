package send

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
)

// platform is a scripted platform: each Send takes the next answer.
type platform struct {
	mu      sync.Mutex
	answers []error
	sent    []message.Outgoing
}

func (p *platform) Supports(typ string) bool { return typ == message.TypeText }
func (p *platform) Validate(m message.Message) message.Problems {
	var ps message.Problems
	ps.Required("message.text", m.Text)
	ps.MaxLen("message.text", m.Text, 10)
	return ps
}
func (p *platform) Send(_ context.Context, o message.Outgoing) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, o)
	if len(p.answers) > 0 {
		err := p.answers[0]
		p.answers = p.answers[1:]
		if err != nil {
			return "", err
		}
	}
	return "pid-" + o.MessageID, nil
}

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func newSender(t *testing.T, p *platform) (*Sender, *embedded.Store, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(t0)
	st, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Sender{
		Store:     st,
		Platforms: map[message.Channel]Platform{message.WhatsApp: p, message.Apple: p},
		Publisher: bus.Discard{},
		Clock:     clk,
		Retry:     retry.Policy{Attempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }},
	}, st, clk
}

// openWindow records a customer message so that WhatsApp sends are allowed.
func openWindow(t *testing.T, st store.Store, at time.Time) {
	t.Helper()
	err := st.Apply(context.Background(), store.TouchConversation{
		Key:       store.ConversationKey{Channel: message.WhatsApp, BusinessID: "b", CustomerID: "c"},
		InboundAt: at, Window: 24 * time.Hour, Retention: 30 * 24 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func text(ch message.Channel, s string) message.SendRequest {
	return message.SendRequest{Channel: ch, BusinessID: "b", To: "c", Message: message.Message{Type: message.TypeText, Text: s}}
}

func TestRefusals(t *testing.T) {
	sendAt := t0.Add(31 * 24 * time.Hour)
	tests := []struct {
		name      string
		req       message.SendRequest
		wantCode  message.Code
		wantField string
	}{
		{"unknown channel", message.SendRequest{Channel: "sms", BusinessID: "b", To: "c", Message: message.Message{Type: "text", Text: "x"}}, message.CodeInvalidRequest, "channel"},
		{"missing channel", message.SendRequest{BusinessID: "b", To: "c", Message: message.Message{Type: "text", Text: "x"}}, message.CodeInvalidRequest, "channel"},
		{"missing to", message.SendRequest{Channel: "apple", BusinessID: "b", Message: message.Message{Type: "text", Text: "x"}}, message.CodeInvalidRequest, "to"},
		{"missing type", message.SendRequest{Channel: "apple", BusinessID: "b", To: "c"}, message.CodeInvalidMessage, "message.type"},
		{"unknown type", message.SendRequest{Channel: "apple", BusinessID: "b", To: "c", Message: message.Message{Type: "fax"}}, message.CodeInvalidMessage, "message.type"},
		{"empty text", text(message.Apple, ""), message.CodeInvalidMessage, "message.text"},
		{"text over the platform limit", text(message.Apple, "eleven char"), message.CodeInvalidMessage, "message.text"},
		{"a type the channel lacks", message.SendRequest{Channel: "whatsapp", BusinessID: "b", To: "c", Message: message.Message{Type: message.TypeTimePicker}}, message.CodeUnsupportedOnChannel, ""},
		{"a type not sent yet", message.SendRequest{Channel: "apple", BusinessID: "b", To: "c", Message: message.Message{Type: message.TypeList}}, message.CodeUnsupportedOnChannel, ""},
		{"sendAt too far ahead", func() message.SendRequest { r := text(message.Apple, "hi"); r.SendAt = &sendAt; return r }(), message.CodeInvalidRequest, "sendAt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &platform{}
			s, _, _ := newSender(t, p)
			_, err := s.Send(context.Background(), tt.req)
			var e *message.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode {
				t.Fatalf("err = %v, want code %s", err, tt.wantCode)
			}
			if tt.wantField != "" && (len(e.Details) == 0 || e.Details[0].Field != tt.wantField) {
				t.Errorf("details = %v, want field %s", e.Details, tt.wantField)
			}
			if len(p.sent) != 0 {
				t.Errorf("the platform was called %d times for a refused request", len(p.sent))
			}
		})
	}
}

func TestWindowBoundary(t *testing.T) {
	p := &platform{}
	s, st, clk := newSender(t, p)
	ctx := context.Background()
	openWindow(t, st, t0)

	clk.Set(t0.Add(24*time.Hour - time.Nanosecond))
	if _, err := s.Send(ctx, text(message.WhatsApp, "inside")); err != nil {
		t.Fatalf("inside the window: %v", err)
	}
	clk.Set(t0.Add(24 * time.Hour))
	_, err := s.Send(ctx, text(message.WhatsApp, "outside"))
	var e *message.Error
	if !errors.As(err, &e) || e.Code != message.CodeWindowClosed || e.ClosedAt == nil || !e.ClosedAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("at the boundary: %v, want window_closed closed at %s", err, t0.Add(24*time.Hour))
	}
	if !strings.Contains(e.Message, "2026-11-25T09:00:00Z") {
		t.Errorf("the message %q does not say when the window closed", e.Message)
	}
	// Crossing back (the customer wrote again) opens it.
	openWindow(t, st, clk.Now())
	if _, err := s.Send(ctx, text(message.WhatsApp, "again")); err != nil {
		t.Fatalf("after the customer wrote again: %v", err)
	}
	if len(p.sent) != 2 {
		t.Errorf("the platform got %d messages, want 2", len(p.sent))
	}
}

func TestRetriesThenRecordsFailure(t *testing.T) {
	unavailable := &message.Error{Code: message.CodePlatformUnavailable, Message: "503", Retryable: true,
		Platform: &message.PlatformError{HTTPStatus: 503}}
	p := &platform{answers: []error{unavailable, unavailable, unavailable}}
	s, st, _ := newSender(t, p)
	ctx := context.Background()
	_, err := s.Send(ctx, text(message.Apple, "hi"))
	var e *message.Error
	if !errors.As(err, &e) || e.Code != message.CodePlatformUnavailable {
		t.Fatalf("err = %v, want platform_unavailable", err)
	}
	if len(p.sent) != 3 {
		t.Fatalf("tries = %d, want 3", len(p.sent))
	}
	if p.sent[0].PlatformMessageID == "" || p.sent[0].PlatformMessageID != p.sent[2].PlatformMessageID {
		t.Errorf("Apple retries must reuse one message id: %q, %q", p.sent[0].PlatformMessageID, p.sent[2].PlatformMessageID)
	}
	evs, err := st.Events(ctx, "", 10)
	if err != nil || len(evs) != 1 || evs[0].Type != message.EventFailed || evs[0].Error.Code != message.CodePlatformUnavailable {
		t.Fatalf("events = %+v, %v; want one message.failed", evs, err)
	}
	rec, err := st.Message(ctx, evs[0].MessageID)
	if err != nil || rec.Status != message.StatusFailed {
		t.Fatalf("record = %+v, %v; want a failed record", rec, err)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	p := &platform{answers: []error{&message.Error{Code: message.CodePlatformUnavailable, Retryable: true}, nil}}
	s, _, _ := newSender(t, p)
	res, err := s.Send(context.Background(), text(message.Apple, "hi"))
	if err != nil || res.Status != "sent" || len(p.sent) != 2 {
		t.Fatalf("res = %+v, err = %v, tries = %d", res, err, len(p.sent))
	}
}

func TestIdempotency(t *testing.T) {
	rejected := &message.Error{Code: message.CodePlatformRejected, Message: "no", Platform: &message.PlatformError{HTTPStatus: 400, Details: "bad"}}
	unavailable := &message.Error{Code: message.CodePlatformUnavailable, Retryable: true, Platform: &message.PlatformError{HTTPStatus: 503}}
	tests := []struct {
		name       string
		answers    []error
		wantSends  int
		wantSecond message.Code // "" = success
	}{
		{"success is replayed", nil, 1, ""},
		{"a platform refusal is replayed", []error{rejected}, 1, message.CodePlatformRejected},
		{"an outage releases the key", []error{unavailable, unavailable, unavailable, nil}, 4, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &platform{answers: tt.answers}
			s, _, _ := newSender(t, p)
			req := text(message.Apple, "hi")
			req.IdempotencyKey = "k1"
			first, err1 := s.Send(context.Background(), req)
			second, err2 := s.Send(context.Background(), req)
			if len(p.sent) != tt.wantSends {
				t.Errorf("platform calls = %d, want %d", len(p.sent), tt.wantSends)
			}
			if tt.wantSecond == "" {
				if err2 != nil {
					t.Fatalf("second answer: %v", err2)
				}
				if err1 == nil && first != second {
					t.Errorf("answers differ: %+v vs %+v", first, second)
				}
				return
			}
			var e *message.Error
			if !errors.As(err2, &e) || e.Code != tt.wantSecond || err1.Error() != err2.Error() {
				t.Errorf("second = %v, first = %v; want the same %s", err2, err1, tt.wantSecond)
			}
		})
	}
}

func TestReplyToResolvesParleyIDs(t *testing.T) {
	p := &platform{}
	s, _, _ := newSender(t, p)
	ctx := context.Background()
	first, err := s.Send(ctx, text(message.Apple, "first"))
	if err != nil {
		t.Fatal(err)
	}
	for _, replyTo := range []string{first.ID, "wamid.EXTERNAL"} {
		req := text(message.Apple, "second")
		req.Message.ReplyTo = replyTo
		if _, err := s.Send(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.sent[1].ReplyToPlatformID; got != first.PlatformMessageID {
		t.Errorf("replyTo a parley id → %q, want the platform id %q", got, first.PlatformMessageID)
	}
	if got := p.sent[2].ReplyToPlatformID; got != "wamid.EXTERNAL" {
		t.Errorf("replyTo a platform id → %q, want it kept", got)
	}
}

// TestStatusesBeforeTheRecord plays Meta reporting a message's statuses
// before parley has recorded the send: they were kept pending, and the
// record takes them, in order, with one event each.
func TestStatusesBeforeTheRecord(t *testing.T) {
	p := &platform{}
	s, st, _ := newSender(t, p)
	ctx := context.Background()
	openWindow(t, st, t0)
	s.Platforms[message.WhatsApp] = early{p, st}
	res, err := s.Send(ctx, text(message.WhatsApp, "fast"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := st.Message(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	var hist []string
	for _, h := range rec.History {
		hist = append(hist, h.Status)
	}
	if rec.Status != message.StatusDelivered || strings.Join(hist, " ") != "accepted sent delivered" {
		t.Fatalf("record %s, history %v; want delivered after accepted, sent, delivered", rec.Status, hist)
	}
	evs, _ := st.Events(ctx, "", 10)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type+":"+e.Status)
	}
	if got := strings.Join(types, " "); got != "message.sent:accepted message.status:sent message.status:delivered" {
		t.Errorf("events %s", got)
	}
	if ps, _ := st.PendingStatuses(ctx, message.WhatsApp, res.PlatformMessageID); len(ps) != 0 {
		t.Errorf("%d statuses still pending", len(ps))
	}
}

// early is a platform whose statuses arrive before Send returns.
type early struct {
	*platform
	st store.Store
}

func (e early) Send(ctx context.Context, o message.Outgoing) (string, error) {
	pid, err := e.platform.Send(ctx, o)
	for i, s := range []string{message.StatusDelivered, message.StatusSent} {
		at := t0.Add(time.Duration(2-i) * time.Second)
		if err := e.st.Apply(ctx, store.PendStatus{Channel: message.WhatsApp, PlatformMessageID: pid,
			Status: store.PendingStatus{Status: s, At: at, ReceivedAt: at}, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			return "", err
		}
	}
	return pid, err
}

func TestClosedAppleConversation(t *testing.T) {
	p := &platform{}
	s, st, _ := newSender(t, p)
	ctx := context.Background()
	err := st.Apply(ctx, store.TouchConversation{
		Key:      store.ConversationKey{Channel: message.Apple, BusinessID: "b", CustomerID: "c"},
		ClosedAt: t0, Retention: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(ctx, text(message.Apple, "hi"))
	var e *message.Error
	if !errors.As(err, &e) || e.Code != message.CodeConversationClosed || !e.ClosedAt.Equal(t0) {
		t.Fatalf("err = %v, want conversation_closed at %s", err, t0)
	}
}
