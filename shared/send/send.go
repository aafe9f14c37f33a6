// Package send is the use case behind POST /v1/messages: validate, claim the
// idempotency key, check the conversation (the channel's gate: a closed
// window, a closed conversation), deliver with retries, record the message
// and its event. It asks the channel (shared/channel) what differs between
// channels, and knows no Lambda, HTTP handler or AWS type.
package send

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/ingest"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/requestid"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/store"
)

// Platform is the sending side of one channel.
type Platform interface {
	// Supports reports whether parley can send messages of type typ here.
	Supports(typ string) bool
	// Validate checks m against the platform's limits.
	Validate(m message.Message) message.Problems
	// Send delivers o and returns the platform's id for it. Errors are
	// *message.Error; Retryable ones may be tried again.
	Send(ctx context.Context, o message.Outgoing) (platformID string, err error)
}

// Adapter is implemented by platforms that fit a message to the
// conversation: to the customer's device (Apple's capability-list), or, when
// the request allows it, to the closest form the channel has.
type Adapter interface {
	// Adapt returns what to send in conv: m itself, or with adapt another
	// form and what was changed. Errors are *message.Error
	// (unsupported_on_channel, unsupported_on_device).
	Adapt(m message.Message, conv message.Conversation, adapt bool) (message.Message, *message.Adaptation, error)
}

// RecipientChecker is implemented by platforms whose limits depend on the
// recipient (WhatsApp groups take fewer message types than customers).
type RecipientChecker interface {
	// CheckRecipient checks to and, for it, m; problems name the field.
	CheckRecipient(to string, m message.Message) message.Problems
}

// IDChecker is implemented by platforms whose ids have forms: a request
// naming a business or recipient in another form is refused before
// anything is read or claimed.
type IDChecker interface {
	// CheckIDs checks businessID and to; problems name the field.
	CheckIDs(businessID, to string) message.Problems
}

// Retention periods of what a send writes.
const (
	MessageRetention     = 90 * 24 * time.Hour
	EventRetention       = 7 * 24 * time.Hour
	IdempotencyRetention = 24 * time.Hour
)

// Sender sends messages. Store, Platforms, Publisher and Clock are
// required. A channel is sent on when it has a platform here and its
// package is linked (channel.Lookup): the channel's rules gate what is
// sent, the platform sends it.
type Sender struct {
	Store     store.Store
	Platforms map[message.Channel]Platform
	Publisher bus.Publisher
	Clock     clock.Clock
	Retry     retry.Policy
	Log       *slog.Logger
	// Reengagement holds the re-engagement rules of WhatsApp businesses,
	// by phone number id; a business without one gets none.
	Reengagement map[string]Reengagement
	// IdempotencyLease is how long a request holds its idempotency key
	// before its outcome is recorded; 0 means DefaultIdempotencyLease.
	IdempotencyLease time.Duration
	// MaxScheduleAhead is how far ahead sendAt may lie; 0 means
	// DefaultMaxScheduleAhead.
	MaxScheduleAhead time.Duration
}

// Send sends req and returns what happened. Errors are *message.Error.
// The same idempotency key with the same request returns the first answer
// without sending again. A request with a future sendAt is stored and
// answered "scheduled"; one whose sendAt has passed is sent now, and the
// answer's notice says so.
func (s *Sender) Send(ctx context.Context, req message.SendRequest) (message.SendResult, error) {
	ch, p, fb, err := s.check(&req)
	if err != nil {
		return message.SendResult{}, err
	}
	d := delivery{req: req, ch: ch, p: p, fb: fb}
	if req.SendAt != nil && !req.SendAt.After(s.Clock.Now()) {
		d.notice = fmt.Sprintf("sendAt %s is not in the future, so the message was sent now", req.SendAt.UTC().Format(time.RFC3339))
		d.req.SendAt = nil
	}
	if req.IdempotencyKey == "" {
		return s.dispatch(ctx, d)
	}

	key := idempotencyKey(req)
	hash := requestHash(req)
	now := s.Clock.Now()
	idem := store.Idempotency{Key: key, Lease: message.NewUUID(), RequestHash: hash, ExpiresAt: now.Add(s.lease())}
	err = s.Store.Apply(ctx, store.CreateIdempotency{Idempotency: idem})
	if errors.Is(err, store.ErrDuplicate) {
		return s.replay(ctx, key, hash)
	}
	if err != nil {
		return message.SendResult{}, s.internal("claiming the idempotency key", err)
	}

	d.idem = &idem
	res, err := s.dispatch(ctx, d)
	if err != nil && message.AsError(err).Platform == nil {
		// Refused before the platform was tried (a platform's answer
		// always carries Platform): free the key for a later try.
		s.release(ctx, idem)
	}
	return res, err
}

// DefaultIdempotencyLease is how long a request holds its idempotency key
// before its outcome is recorded: longer than the send function may run
// (29 s), so that a live request never loses its key, and short enough
// that a request that died leaves the key free within seconds.
const DefaultIdempotencyLease = 30 * time.Second

func (s *Sender) lease() time.Duration {
	if s.IdempotencyLease > 0 {
		return s.IdempotencyLease
	}
	return DefaultIdempotencyLease
}

// release frees a key this request holds, trying three times; when the
// store stays down the claim ends with its lease anyway.
func (s *Sender) release(ctx context.Context, idem store.Idempotency) {
	var err error
	for try := range 3 {
		if try > 0 {
			time.Sleep(time.Duration(try) * 100 * time.Millisecond)
		}
		err = s.Store.Apply(ctx, store.DeleteIdempotency{Key: idem.Key, Lease: idem.Lease})
		if err == nil || errors.Is(err, store.ErrConflict) {
			return
		}
	}
	s.log().Error("releasing an idempotency key failed; it is free again when its lease ends",
		"key_hash", idem.RequestHash[:12], "lease_ends", idem.ExpiresAt, "error", err)
}

// dispatch schedules d or delivers it now.
func (s *Sender) dispatch(ctx context.Context, d delivery) (message.SendResult, error) {
	if d.req.SendAt != nil {
		return s.schedule(ctx, d)
	}
	return s.deliver(ctx, d)
}

// check validates req and finds its channel, platform and fallback. It
// writes req.To as the channel names the customer (Channel.CustomerID).
func (s *Sender) check(req *message.SendRequest) (channel.Channel, Platform, *message.Fallback, error) {
	if ps := req.Validate(); len(ps) > 0 {
		return nil, nil, nil, requestError(ps)
	}
	if err := s.checkSendAt(*req); err != nil {
		return nil, nil, nil, err
	}
	ch, p, err := s.platform(req.Channel)
	if err != nil {
		return nil, nil, nil, err
	}
	req.To = ch.CustomerID(req.To)
	if ic, ok := p.(IDChecker); ok {
		if ps := ic.CheckIDs(req.BusinessID, req.To); len(ps) > 0 {
			return nil, nil, nil, requestError(ps)
		}
	}
	fb, err := parseFallback(*req, ch, p)
	if err != nil {
		return nil, nil, nil, err
	}
	if req.Adapt {
		// The form to send is chosen once the conversation is known.
		return ch, p, fb, nil
	}
	return ch, p, fb, checkType(ch, p, req.Message, false)
}

// platform returns the channel named name and the platform that sends on
// it.
func (s *Sender) platform(name message.Channel) (channel.Channel, Platform, error) {
	p, ok := s.Platforms[name]
	ch, linked := channel.Lookup(name)
	if !ok || !linked {
		return nil, nil, &message.Error{Code: message.CodeUnsupportedOnChannel, Message: fmt.Sprintf("parley has no %s platform configured", name)}
	}
	return ch, p, nil
}

// checkType refuses a message the platform cannot send as it is.
func checkType(c channel.Channel, p Platform, m message.Message, adaptTried bool) error {
	ch := c.Name()
	if !c.Native(m.Type) {
		hint := `; set "adapt": true to send the closest form it has`
		if adaptTried {
			hint = " and parley has no closer form for this message"
		}
		return &message.Error{Code: message.CodeUnsupportedOnChannel,
			Message: fmt.Sprintf("%s has no %q message%s", ch, m.Type, hint)}
	}
	if !p.Supports(m.Type) {
		return &message.Error{Code: message.CodeUnsupportedOnChannel,
			Message: fmt.Sprintf("parley does not send %q messages on %s yet", m.Type, ch)}
	}
	if ps := p.Validate(m); len(ps) > 0 {
		return message.Invalid(ps)
	}
	return nil
}

// checkRecipient refuses a recipient the platform cannot take, or one
// that cannot take m.
func checkRecipient(p Platform, to string, m message.Message) error {
	rc, ok := p.(RecipientChecker)
	if !ok {
		return nil
	}
	if ps := rc.CheckRecipient(to, m); len(ps) > 0 {
		return message.Invalid(ps)
	}
	return nil
}

// delivery is one message on its way: a request, or a scheduled item that
// a fallback run claimed (job).
type delivery struct {
	req    message.SendRequest
	ch     channel.Channel
	p      Platform
	fb     *message.Fallback
	idem   *store.Idempotency
	notice string
	job    *job
}

// job is what a scheduled delivery adds: the message id chosen when it was
// scheduled, the record written then (none for a re-engagement), the write
// that removes the scheduled item with the outcome, and for a
// re-engagement the window close it was planned against.
type job struct {
	id          string
	prev        *message.Record
	done        store.Write
	fallbackFor string
	reengage    time.Time
}

// deliver checks the conversation, sends and records. When d.idem is not
// nil, the idempotency key's answer is written with the record (or the key
// released when the outcome is not one to keep). No try starts once the
// key's lease has ended. For a job, a refusal found before sending is
// recorded as the message's failure too.
func (s *Sender) deliver(ctx context.Context, d delivery) (message.SendResult, error) {
	req := d.req
	key := store.ConversationKey{Channel: req.Channel, BusinessID: req.BusinessID, CustomerID: req.To}
	// Any id of the customer reaches their conversation (store/alias.go).
	conv, err := store.ResolveConversation(ctx, s.Store, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return message.SendResult{}, s.internal("reading the conversation", err)
	}
	known := err == nil
	out := message.Outgoing{MessageID: message.NewMessageID(), BusinessID: req.BusinessID, To: req.To, Message: req.Message}
	if d.job != nil {
		out.MessageID = d.job.id
		if !d.job.reengage.IsZero() && conv.WindowClosesAt.After(d.job.reengage) {
			// The customer wrote since: no re-engagement is needed.
			if err := s.Store.Apply(ctx, d.job.done); err != nil {
				return message.SendResult{}, s.internal("removing an answered re-engagement", err)
			}
			return message.SendResult{}, ErrAnswered
		}
	}
	// Every line logged from here on names the message.
	ctx = requestid.WithMessageID(ctx, out.MessageID)
	msg, adapted, fellBack, err := s.prepare(d, conv, known)
	if err == nil {
		err = checkRecipient(d.p, req.To, msg)
	}
	if err != nil {
		if d.job != nil {
			return s.record(ctx, d, conv, out, "", err, nil, false)
		}
		return message.SendResult{}, err
	}
	out.Message = msg
	// A channel whose sender names the message gets its id now, so that
	// every try carries the same one.
	out.PlatformMessageID = d.ch.MessageID()
	if msg.ReplyTo != "" {
		out.ReplyToPlatformID = s.platformID(ctx, req.Channel, msg.ReplyTo)
	}
	if out.Message.Type == message.TypeReaction && out.Message.MessageID != "" {
		out.Message.MessageID = s.platformID(ctx, req.Channel, out.Message.MessageID)
	}

	var pid string
	sendErr := s.Retry.Do(ctx, func(ctx context.Context, attempt int) error {
		if d.idem != nil && !s.Clock.Now().Before(d.idem.ExpiresAt) {
			// Another request may hold the key now: sending could double.
			return &message.Error{Code: message.CodeConflict, Platform: &message.PlatformError{},
				Message: "the request took longer than its idempotency lease; nothing more was sent, retry with the same key"}
		}
		var err error
		pid, err = d.p.Send(ctx, out)
		if err != nil {
			s.log().Warn("send attempt failed", "message_id", out.MessageID, "channel", req.Channel, "attempt", attempt, "error", err)
		}
		return err
	})
	if out.Message.Type == message.TypeTyping {
		return signalResult(req.Channel, pid, sendErr)
	}
	return s.record(ctx, d, conv, out, pid, sendErr, adapted, fellBack)
}

// signalResult answers a typing indicator: sent, or the platform's error.
// Nothing is recorded: no message, no event, no idempotency answer (a
// typing indicator takes no key).
func signalResult(ch message.Channel, pid string, err error) (message.SendResult, error) {
	if err != nil {
		return message.SendResult{}, message.AsError(err)
	}
	return message.SendResult{Status: message.StatusSent, Channel: ch, PlatformMessageID: pid}, nil
}

// prepare chooses what to send in conv: the message, adapted to the
// channel or device, or the request's fallback when the message cannot go
// (a window is closed; a device cannot show the type).
func (s *Sender) prepare(d delivery, conv message.Conversation, known bool) (message.Message, *message.Adaptation, bool, error) {
	req := d.req
	if err := d.ch.Gate(req, conv, known, s.Clock.Now()); err != nil {
		if e := message.AsError(err); e.Code == message.CodeWindowClosed && d.fb != nil && d.fb.Template != nil {
			return *d.fb.Template, nil, true, nil
		}
		return message.Message{}, nil, false, err
	}
	msg, adapted := req.Message, (*message.Adaptation)(nil)
	if a, ok := d.p.(Adapter); ok {
		var err error
		if msg, adapted, err = a.Adapt(req.Message, conv, req.Adapt); err != nil {
			if e := message.AsError(err); e.Code != message.CodeUnsupportedOnDevice || d.fb == nil || d.fb.Message == nil {
				return message.Message{}, nil, false, err
			}
			fm, fa, ferr := a.Adapt(*d.fb.Message, conv, false)
			if ferr != nil {
				return message.Message{}, nil, false, ferr
			}
			return fm, fa, true, nil
		}
	}
	if req.Adapt || adapted != nil {
		if err := checkType(d.ch, d.p, msg, req.Adapt); err != nil {
			return message.Message{}, nil, false, err
		}
	}
	return msg, adapted, false, nil
}

// platformID resolves replyTo: a parley message id becomes the platform's
// id of that message; anything else is taken to be a platform id already.
func (s *Sender) platformID(ctx context.Context, ch message.Channel, replyTo string) string {
	if !strings.HasPrefix(replyTo, "msg_") {
		return replyTo
	}
	rec, err := s.Store.Message(ctx, replyTo)
	if err != nil || rec.PlatformMessageID == "" {
		return replyTo
	}
	return rec.PlatformMessageID
}

// record stores the outcome of a delivery and emits its event: it builds
// the record and event, writes them with the idempotency key's answer,
// then announces the outcome.
func (s *Sender) record(ctx context.Context, d delivery, conv message.Conversation, out message.Outgoing, pid string, sendErr error, adapted *message.Adaptation, fellBack bool) (message.SendResult, error) {
	o := s.outcome(d, conv, out, pid, sendErr, adapted, fellBack)
	writes := s.recordWrites(d, o, conv)
	answer, keep := s.keyAnswer(d, o)
	if keep {
		writes = append(writes, answer)
	}
	wctx, cancel := reserveForAnswer(ctx)
	pending, err := s.writeRecord(wctx, writes)
	cancel()
	if err != nil {
		return s.recordFailed(ctx, o, answer, keep, err)
	}
	if d.idem != nil && !keep {
		s.release(ctx, *d.idem)
	}
	return s.announce(ctx, o, pending)
}

// AnswerReserve is the time a send keeps, of its context's deadline, to
// write its idempotency key's answer on its own when the record cannot be
// written (a write stalled, DynamoDB's answers lost): the record's write
// ends that much before the deadline. Without the answer, the key is free
// again when its lease ends, and a retry with it would send the message
// again.
const AnswerReserve = 2 * time.Second

// reserveForAnswer returns ctx ending AnswerReserve (at most half the time
// left) before ctx does.
func reserveForAnswer(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, deadline.Add(-min(AnswerReserve, time.Until(deadline)/2)))
}

// sendOutcome is what one delivery came to: the record and event to
// write, and the caller's answer.
type sendOutcome struct {
	rec         message.Record
	prevVersion int64
	ev          message.Event
	result      message.SendResult
	// err is the caller's error; nil when the platform accepted the
	// message.
	err *message.Error
}

// outcome builds the record, event and answer of a delivery.
func (s *Sender) outcome(d delivery, conv message.Conversation, out message.Outgoing, pid string, sendErr error, adapted *message.Adaptation, fellBack bool) sendOutcome {
	req := d.req
	now := s.Clock.Now()
	customerID := req.To
	if conv.CustomerID != "" {
		customerID = conv.CustomerID
	}
	o := sendOutcome{rec: message.Record{
		ID: out.MessageID, Channel: req.Channel, BusinessID: req.BusinessID, CustomerID: customerID,
		Direction: message.Outbound, PlatformMessageID: pid, Type: out.Message.Type, Message: &out.Message,
		Status: message.StatusAccepted, CreatedAt: now, UpdatedAt: now, Version: 1,
	}}
	if d.job != nil {
		o.rec.FallbackFor = d.job.fallbackFor
		if p := d.job.prev; p != nil {
			o.rec.CreatedAt, o.rec.History, o.rec.Version, o.prevVersion = p.CreatedAt, p.History, p.Version+1, p.Version
		}
	}
	if !fellBack && d.fb != nil && d.fb.Template != nil {
		// Kept for a window_closed failure the platform reports later.
		o.rec.Fallback = d.fb
	}
	o.ev = message.Event{
		ID: message.NewEventID(now), Type: message.EventSent, Time: now,
		Channel: req.Channel, BusinessID: req.BusinessID, CustomerID: customerID,
		MessageID: o.rec.ID, PlatformMessageID: pid, Status: message.StatusAccepted,
	}
	if sendErr != nil {
		o.err = message.AsError(sendErr)
		o.rec.Status, o.ev.Type = message.StatusFailed, message.EventFailed
		if o.err.Code == message.CodeDeliveryUnknown {
			// The platform may have it: say so, and where to look.
			unknown := *o.err
			unknown.MessageID = o.rec.ID
			o.err = &unknown
			o.rec.Status, o.ev.Type = message.StatusUnknown, message.EventUnknown
		}
		o.rec.Error = o.err
		o.rec.PlatformMessageID = out.PlatformMessageID
		o.ev.Status = o.rec.Status
		o.ev.Error = o.err
		o.ev.PlatformMessageID = ""
	}
	change := message.StatusChange{Status: o.rec.Status, At: now}
	if o.err != nil && o.err.Platform != nil {
		change.Error = o.err.Platform
	}
	o.rec.History = append(slices.Clip(o.rec.History), change)
	o.result = message.SendResult{ID: o.rec.ID, Status: "sent", Channel: req.Channel, PlatformMessageID: pid, Adapted: adapted, Notice: d.notice}
	if fellBack {
		o.result.Status = StatusFallbackSent
	}
	return o
}

// recordWrites are the writes of an outcome: the record, its event, the
// job's removal and a re-engagement to schedule.
func (s *Sender) recordWrites(d delivery, o sendOutcome, conv message.Conversation) []store.Write {
	now := s.Clock.Now()
	writes := []store.Write{
		store.PutMessage{Message: o.rec, PrevVersion: o.prevVersion, ExpiresAt: now.Add(MessageRetention)},
		store.AppendEvent{Event: o.ev, ExpiresAt: now.Add(EventRetention)},
	}
	if d.job != nil && d.job.done != nil {
		writes = append(writes, d.job.done)
	}
	if o.err == nil {
		if w, ok := s.reengagement(d.ch, o.rec, conv, now); ok {
			writes = append(writes, w)
		}
	}
	return writes
}

// keyAnswer is the idempotency key's answer to keep for an outcome, and
// whether there is one: a send, the platform's refusal, or an unknown
// outcome. Other outcomes release the key.
func (s *Sender) keyAnswer(d delivery, o sendOutcome) (store.PutIdempotency, bool) {
	if d.idem == nil {
		return store.PutIdempotency{}, false
	}
	var outcome error
	if o.err != nil {
		outcome = o.err
	}
	answer, ok := recordable(o.result, outcome)
	if !ok {
		return store.PutIdempotency{}, false
	}
	kept := *d.idem
	kept.MessageID, kept.Answer = o.rec.ID, answer
	kept.ExpiresAt = s.Clock.Now().Add(IdempotencyRetention)
	return store.PutIdempotency{Idempotency: kept}, true
}

// recordFailed answers a delivery whose record could not be written. The
// platform has been tried; the key's answer is written on its own, tried
// three times, so that a retry of the request cannot send the message
// twice.
func (s *Sender) recordFailed(ctx context.Context, o sendOutcome, answer store.PutIdempotency, keep bool, err error) (message.SendResult, error) {
	s.log().Error("recording a sent message failed", "message_id", o.rec.ID, "channel", o.rec.Channel,
		"platform_message_id", o.rec.PlatformMessageID, "error", err)
	if keep {
		var ierr error
		for try := range 3 {
			if try > 0 {
				time.Sleep(time.Duration(try) * 100 * time.Millisecond)
			}
			if ierr = s.Store.Apply(ctx, answer); ierr == nil {
				break
			}
		}
		if ierr != nil {
			s.log().Error("recording an idempotency answer failed; the key is free again when its lease ends",
				"message_id", o.rec.ID, "lease_ends", answer.Idempotency.ExpiresAt, "error", ierr)
		}
	}
	if o.err != nil {
		return message.SendResult{}, o.err
	}
	// The platform has the message: the caller still learns its id.
	return o.result, nil
}

// announce publishes a recorded outcome's event, and those of the statuses
// applied with it, and answers the caller.
func (s *Sender) announce(ctx context.Context, o sendOutcome, pending []message.Event) (message.SendResult, error) {
	for _, ev := range append([]message.Event{o.ev}, pending...) {
		if err := s.Publisher.Publish(ctx, ev); err != nil {
			s.log().Error("publishing an event failed; it stays in the event log", "event_id", ev.ID, "message_id", o.rec.ID, "error", err)
		}
	}
	for _, pe := range pending {
		// The platform failed the message with window_closed before it
		// was recorded: its fallback goes now, as it would have from the
		// status.
		if pe.Error != nil && pe.Error.Code == message.CodeWindowClosed && o.rec.Fallback != nil {
			if err := s.TriggerFallback(ctx, o.rec); err != nil {
				s.log().Error("sending a fallback template failed", "message_id", o.rec.ID, "error", err)
			}
			break
		}
	}
	if o.err != nil {
		s.log().Warn("message failed", "message_id", o.rec.ID, "channel", o.rec.Channel, "code", o.err.Code)
		return message.SendResult{}, o.err
	}
	s.log().Info("message sent", "message_id", o.rec.ID, "channel", o.rec.Channel, "platform_message_id", o.rec.PlatformMessageID, "status", o.result.Status)
	return o.result, nil
}

// maxPendingRounds bounds the rewrites of a record whose statuses keep
// arriving while it is written: a message has only a handful of statuses.
const maxPendingRounds = 8

// writeRecord writes a record's batch, whose first write is the record.
// When the platform reported statuses of the message before the record was
// written, the store keeps them pending and refuses the record
// (store.ErrPending): they are applied to it, in order, with an event each,
// and the batch written again. It returns those events.
func (s *Sender) writeRecord(ctx context.Context, writes []store.Write) ([]message.Event, error) {
	pm := writes[0].(store.PutMessage)
	rest := writes[1:]
	var evs []message.Event
	for round := 0; ; round++ {
		err := s.Store.Apply(ctx, writes...)
		if !errors.Is(err, store.ErrPending) || round == maxPendingRounds {
			return evs, err
		}
		pending, err := s.Store.PendingStatuses(ctx, pm.Message.Channel, pm.Message.PlatformMessageID)
		if err != nil {
			return nil, err
		}
		rec := pm.Message
		rec.History = slices.Clone(rec.History)
		now := s.Clock.Now()
		evs = ingest.ApplyPending(&rec, pending, now)
		writes = append([]store.Write{store.PutMessage{Message: rec, PrevVersion: pm.PrevVersion, ExpiresAt: pm.ExpiresAt, Pending: len(pending)}}, rest...)
		for _, ev := range evs {
			writes = append(writes, store.AppendEvent{Event: ev, ExpiresAt: now.Add(EventRetention)})
		}
	}
}

// answer is what an idempotency key keeps of the first request.
type answer struct {
	Result *message.SendResult `json:"result,omitempty"`
	Error  *message.Error      `json:"error,omitempty"`
}

// recordable reports whether an outcome is final for its idempotency key:
// a send, or a platform's definite refusal. Errors found before delivery,
// and failures that a later try may cure, are not.
func recordable(res message.SendResult, err error) ([]byte, bool) {
	a := answer{}
	if err == nil {
		a.Result = &res
	} else {
		e := message.AsError(err)
		if e.Platform == nil || e.Retryable || e.Code == message.CodePlatformUnavailable || e.Code == message.CodeConflict {
			return nil, false
		}
		a.Error = e
	}
	b, err := json.Marshal(a)
	return b, err == nil
}

func (s *Sender) replay(ctx context.Context, key, hash string) (message.SendResult, error) {
	idem, err := s.Store.Idempotency(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return message.SendResult{}, &message.Error{Code: message.CodeConflict, Message: "a request with this idempotencyKey was just completed or released; retry"}
	}
	if err != nil {
		return message.SendResult{}, s.internal("reading the idempotency key", err)
	}
	if idem.RequestHash != hash {
		return message.SendResult{}, &message.Error{Code: message.CodeInvalidRequest,
			Message: "idempotencyKey was already used for a different request; use a new key",
			Details: message.Problems{{Field: "idempotencyKey", Problem: "already used for a different request"}}}
	}
	if len(idem.Answer) == 0 {
		return message.SendResult{}, &message.Error{Code: message.CodeConflict,
			Message: "the first request with this idempotencyKey is still being processed; retry shortly"}
	}
	var a answer
	if err := json.Unmarshal(idem.Answer, &a); err != nil {
		return message.SendResult{}, s.internal("decoding the idempotency answer", err)
	}
	if a.Error != nil {
		return message.SendResult{}, a.Error
	}
	return *a.Result, nil
}

func (s *Sender) internal(what string, err error) error {
	s.log().Error(what+" failed", "error", err)
	return &message.Error{Code: message.CodeInternal, Message: what + " failed; nothing was sent"}
}

func (s *Sender) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// idempotencyKey is the store key of a request's idempotency key: channel,
// business and key joined by '#', each escaped (url.PathEscape turns '#'
// into %23 and '%' into %25), so that no business id or key passes for
// another: business "111#k" with key "x" and business "111" with key "k#x"
// stay apart.
func idempotencyKey(req message.SendRequest) string {
	return url.PathEscape(string(req.Channel)) + "#" + url.PathEscape(req.BusinessID) + "#" + url.PathEscape(req.IdempotencyKey)
}

// requestHash identifies a request for its idempotency key: the same key
// must come with the same request.
func requestHash(req message.SendRequest) string {
	req.IdempotencyKey = ""
	b, _ := json.Marshal(req)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// requestError sorts validation problems: those about the message are
// invalid_message, the rest invalid_request.
func requestError(ps message.Problems) *message.Error {
	for _, p := range ps {
		if !strings.HasPrefix(p.Field, "message.") {
			return &message.Error{Code: message.CodeInvalidRequest, Message: "the request is not valid: " + ps.Error(), Details: ps}
		}
	}
	return message.Invalid(ps)
}
