package send

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// StatusFallbackSent is the answer's status when the request's fallback
// was sent instead of its message.
const StatusFallbackSent = "fallback_sent"

// DefaultMaxScheduleAhead is how far ahead sendAt may lie by default.
const DefaultMaxScheduleAhead = 30 * 24 * time.Hour

// ErrAnswered: a re-engagement was not sent because the customer wrote
// since it was planned.
var ErrAnswered = errors.New("send: the customer wrote since the re-engagement was planned")

// Reengagement is a business's rule on a channel with a customer-service
// window (WhatsApp): Before the window closes on an interactive message
// still unanswered, send Template.
type Reengagement struct {
	Before   time.Duration
	Template message.Message
}

func (s *Sender) maxAhead() time.Duration {
	if s.MaxScheduleAhead > 0 {
		return s.MaxScheduleAhead
	}
	return DefaultMaxScheduleAhead
}

// checkSendAt refuses a sendAt too far ahead.
func (s *Sender) checkSendAt(req message.SendRequest) error {
	if req.SendAt == nil {
		return nil
	}
	limit := s.maxAhead()
	if ahead := req.SendAt.Sub(s.Clock.Now()); ahead > limit {
		p := fmt.Sprintf("%s is %s ahead, the limit is %s", req.SendAt.UTC().Format(time.RFC3339), roundDays(ahead), roundDays(limit))
		return &message.Error{Code: message.CodeInvalidRequest, Message: "sendAt: " + p, Details: message.Problems{{Field: "sendAt", Problem: p}}}
	}
	return nil
}

// roundDays writes d in days when it is a day or more.
func roundDays(d time.Duration) string {
	if d >= 24*time.Hour {
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	}
	return d.Round(time.Second).String()
}

// parseFallback reads and checks req's fallback: {"template": {…}} on
// WhatsApp, {"message": {…}} on Apple, as the channel takes it.
func parseFallback(req message.SendRequest, ch channel.Channel, p Platform) (*message.Fallback, error) {
	if len(req.Fallback) == 0 || string(req.Fallback) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(req.Fallback))
	dec.DisallowUnknownFields()
	var fb message.Fallback
	if err := dec.Decode(&fb); err != nil {
		return nil, channel.FieldError("fallback", `must be {"template": {"name", "language", "components"}} (WhatsApp) or {"message": {…}} (Apple): `+err.Error())
	}
	switch {
	case fb.Template != nil && fb.Message != nil:
		return nil, channel.FieldError("fallback", "holds both template and message; give one")
	case fb.Template == nil && fb.Message == nil:
		return nil, channel.FieldError("fallback", "is empty; give template (WhatsApp) or message (Apple)")
	}
	field, err := ch.Fallback(&fb)
	if err != nil {
		return nil, err
	}
	m := fb.Message
	if fb.Template != nil {
		m = fb.Template
	}
	if err := checkType(ch, p, *m, false); err != nil {
		return nil, renamed(err, field)
	}
	return &fb, nil
}

// renamed moves the problems a platform found in a fallback from
// "message…" to the fallback's own field.
func renamed(err error, field string) error {
	e := *message.AsError(err)
	e.Details = nil
	for _, p := range message.AsError(err).Details {
		p.Field = field + strings.TrimPrefix(p.Field, "message")
		e.Details = append(e.Details, p)
	}
	e.Message = field + ": " + e.Message
	e.Code = message.CodeInvalidRequest
	return &e
}

// schedule stores d's request to be sent at its sendAt: its message record
// (status scheduled) and its scheduled item, in one write.
func (s *Sender) schedule(ctx context.Context, d delivery) (message.SendResult, error) {
	req := d.req
	now := s.Clock.Now()
	at := req.SendAt.UTC()
	id := message.NewMessageID()
	msg := req.Message
	rec := message.Record{
		ID: id, Channel: req.Channel, BusinessID: req.BusinessID, CustomerID: req.To, Direction: message.Outbound,
		Type: msg.Type, Message: &msg, Fallback: d.fb, Status: message.StatusScheduled,
		History:   []message.StatusChange{{Status: message.StatusScheduled, At: now}},
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	stored := req
	stored.IdempotencyKey = ""
	sc := store.Scheduled{ID: id, Kind: store.ScheduledSend, DueAt: at, Request: stored, CreatedAt: now, Version: 1,
		ExpiresAt: at.Add(MessageRetention)}
	result := message.SendResult{ID: id, Status: message.StatusScheduled, Channel: req.Channel, SendAt: &at}
	writes := []store.Write{
		store.PutMessage{Message: rec, ExpiresAt: at.Add(MessageRetention)},
		store.PutScheduled{Item: sc},
	}
	if d.idem != nil {
		answer, _ := recordable(result, nil)
		kept := *d.idem
		kept.MessageID, kept.Answer = id, answer
		kept.ExpiresAt = now.Add(IdempotencyRetention)
		writes = append(writes, store.PutIdempotency{Idempotency: kept})
	}
	if err := s.Store.Apply(ctx, writes...); err != nil {
		return message.SendResult{}, s.internal("storing a scheduled message", err)
	}
	s.log().Info("message scheduled", "message_id", id, "channel", req.Channel, "send_at", at)
	return result, nil
}

// Cancel cancels a scheduled message that no fallback run has taken yet,
// and returns its record. Errors are *message.Error: not_found, or
// conflict when it is no longer waiting.
func (s *Sender) Cancel(ctx context.Context, id string) (message.Record, error) {
	rec, err := s.Store.Message(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return message.Record{}, message.Errorf(message.CodeNotFound, "no message %q", id)
	}
	if err != nil {
		return message.Record{}, s.internal("reading the message", err)
	}
	notWaiting := message.Errorf(message.CodeConflict, "message %s is %s; only a scheduled message that is not being sent can be cancelled", id, rec.Status)
	if rec.Status != message.StatusScheduled {
		return message.Record{}, notWaiting
	}
	sc, err := s.Store.Scheduled(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && sc.Claimed {
		notWaiting.Message = fmt.Sprintf("message %s is being sent now; it can no longer be cancelled", id)
		return message.Record{}, notWaiting
	}
	if err != nil {
		return message.Record{}, s.internal("reading the scheduled message", err)
	}
	now := s.Clock.Now()
	prev := rec.Version
	rec.Status, rec.UpdatedAt, rec.Version = message.StatusCancelled, now, prev+1
	rec.History = append(rec.History, message.StatusChange{Status: message.StatusCancelled, At: now})
	err = s.Store.Apply(ctx,
		store.DeleteScheduled{ID: id, PrevVersion: sc.Version},
		store.PutMessage{Message: rec, PrevVersion: prev, ExpiresAt: now.Add(MessageRetention)})
	if errors.Is(err, store.ErrConflict) {
		notWaiting.Message = fmt.Sprintf("message %s is being sent now; it can no longer be cancelled", id)
		return message.Record{}, notWaiting
	}
	if err != nil {
		return message.Record{}, s.internal("cancelling the message", err)
	}
	s.log().Info("scheduled message cancelled", "message_id", id)
	return rec, nil
}

// SendClaimed sends a scheduled item that a fallback run has claimed (at
// version sc.Version) and removes it with the outcome. Refusals found
// before sending (window_closed, conversation_closed,
// unsupported_on_device…) are recorded as the message's failure, with a
// message.failed event. A re-engagement whose customer wrote since is
// dropped with ErrAnswered.
func (s *Sender) SendClaimed(ctx context.Context, sc store.Scheduled) (message.SendResult, error) {
	req := sc.Request
	req.SendAt = nil
	ch, p, err := s.platform(req.Channel)
	if err != nil {
		return message.SendResult{}, err
	}
	j := &job{id: sc.ID, done: store.DeleteScheduled{ID: sc.ID, PrevVersion: sc.Version}}
	var fb *message.Fallback
	switch sc.Kind {
	case store.ScheduledReengage:
		j.reengage = sc.WindowClosesAt
		j.fallbackFor = sc.About
	default:
		prev := s.scheduledRecord(sc)
		j.prev = &prev
		var err error
		if fb, err = parseFallback(req, ch, p); err != nil {
			return s.record(ctx, delivery{req: req, ch: ch, p: p, job: j}, message.Conversation{}, outgoing(sc), "", err, nil, false)
		}
	}
	return s.deliver(ctx, delivery{req: req, ch: ch, p: p, fb: fb, job: j})
}

// Abandon records a claimed item whose run stopped before recording its
// outcome (its lease ran out) as failed, and removes it: parley does not
// send it again, since it may have gone out. A store failure is logged and
// leaves the item for the next run.
func (s *Sender) Abandon(ctx context.Context, sc store.Scheduled) {
	req := sc.Request
	j := &job{id: sc.ID, done: store.DeleteScheduled{ID: sc.ID, PrevVersion: sc.Version}}
	if sc.Kind != store.ScheduledReengage {
		prev := s.scheduledRecord(sc)
		j.prev = &prev
	}
	e := &message.Error{Code: message.CodeInternal,
		Message: "the fallback run that took this message stopped before recording the outcome; it may have been sent, so parley does not send it again"}
	// record answers e whether or not it could store the failure.
	_, _ = s.record(ctx, delivery{req: req, job: j}, message.Conversation{}, outgoing(sc), "", e, nil, false)
}

// scheduledRecord is the record written when sc was scheduled.
func (s *Sender) scheduledRecord(sc store.Scheduled) message.Record {
	return message.Record{CreatedAt: sc.CreatedAt, Version: 1,
		History: []message.StatusChange{{Status: message.StatusScheduled, At: sc.CreatedAt}}}
}

func outgoing(sc store.Scheduled) message.Outgoing {
	return message.Outgoing{MessageID: sc.ID, BusinessID: sc.Request.BusinessID, To: sc.Request.To, Message: sc.Request.Message}
}

// TriggerFallback sends the fallback template of a message that the
// platform failed with window_closed after it was accepted (only a channel
// whose fallback is a template keeps one). It sends at most once per
// message, whoever calls it how often: a claim is taken before sending.
func (s *Sender) TriggerFallback(ctx context.Context, rec message.Record) error {
	if rec.Fallback == nil || rec.Fallback.Template == nil {
		return nil
	}
	ch, p, err := s.platform(rec.Channel)
	if err != nil {
		return fmt.Errorf("send: no %s platform", rec.Channel)
	}
	now := s.Clock.Now()
	err = s.Store.Apply(ctx, store.Claim{Key: "FALLBACK#" + rec.ID, ExpiresAt: now.Add(MessageRetention)})
	if errors.Is(err, store.ErrDuplicate) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("send: claiming the fallback of %s: %w", rec.ID, err)
	}
	req := message.SendRequest{Channel: rec.Channel, BusinessID: rec.BusinessID, To: rec.CustomerID, Message: *rec.Fallback.Template}
	res, err := s.deliver(ctx, delivery{req: req, ch: ch, p: p, job: &job{id: message.NewMessageID(), fallbackFor: rec.ID}})
	if err != nil {
		return err
	}
	s.log().Info("fallback template sent after a late window_closed", "message_id", rec.ID, "fallback_id", res.ID)
	return nil
}

// reengagement returns the scheduled item that re-engages the customer
// of rec, an interactive message just sent on a channel with a window,
// when its business has a rule and the window closes late enough.
func (s *Sender) reengagement(ch channel.Channel, rec message.Record, conv message.Conversation, now time.Time) (store.Write, bool) {
	rule, ok := s.Reengagement[rec.BusinessID]
	if !ok || ch == nil || ch.Window() == 0 || rec.FallbackFor != "" || !message.Interactive(rec.Type) || rec.Type == message.TypeTemplate || conv.WindowClosesAt.IsZero() {
		return nil, false
	}
	due := conv.WindowClosesAt.Add(-rule.Before)
	if !due.After(now) {
		return nil, false
	}
	sc := store.Scheduled{
		ID: message.NewMessageID(), Kind: store.ScheduledReengage, DueAt: due, About: rec.ID, WindowClosesAt: conv.WindowClosesAt,
		Request:   message.SendRequest{Channel: rec.Channel, BusinessID: rec.BusinessID, To: rec.CustomerID, Message: rule.Template},
		CreatedAt: now, Version: 1, ExpiresAt: due.Add(MessageRetention),
	}
	return store.PutScheduled{Item: sc}, true
}
