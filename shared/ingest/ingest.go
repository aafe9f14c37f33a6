// Package ingest is the use case behind the webhooks: each verified, parsed
// inbound item is deduplicated, refreshes the conversation (its window, its
// closed state and device capabilities, as its channel keeps them), is
// stored with its event in one atomic write, and only then is the event
// published. It asks the channel (shared/channel) what differs between
// channels, and knows no Lambda, HTTP handler or AWS type.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/channel"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/queue"
	"github.com/parleyhq/parley/shared/store"
)

// Retention periods of what ingest writes.
const (
	// DedupeRetention outlives the platforms' redelivery horizons
	// (WhatsApp retries for up to 7 days): it is longer than every
	// channel's MaxItemAge.
	DedupeRetention  = 8 * 24 * time.Hour
	MessageRetention = 90 * 24 * time.Hour
	EventRetention   = 7 * 24 * time.Hour
	// InlineBodyLimit is the largest text kept inside a message item; longer
	// bodies go to the blob store (DynamoDB items are capped at 400 KB).
	InlineBodyLimit = 64 << 10
	// StatusGrace is how long after a status's own time parley expects
	// the message it concerns to be recorded: a platform can report a
	// status before the send that produced it has finished recording.
	// Within it a status of an unknown message is kept pending and applied
	// when the send is recorded; after it, the status is kept as one for a
	// message parley did not send.
	StatusGrace = 2 * time.Minute
	// maxConflicts bounds the retries of a message update that raced with
	// another one: a status update of a message races only with the other
	// statuses of the same message (sent, delivered, read, failed), so a
	// few suffice. Conversation updates never conflict.
	maxConflicts = 8
)

// TokenDecrypter opens the encrypted token of an Apple authentication
// reply with the private key kept for the request.
type TokenDecrypter interface {
	Decrypt(ctx context.Context, requestID, token string) (string, error)
}

// Ingester stores inbound items. Store, Publisher and Clock are required;
// Blobs is needed only for bodies over InlineBodyLimit, AuthTokens only for
// Apple authentication replies.
type Ingester struct {
	Store      store.Store
	Blobs      store.Blobs
	Publisher  bus.Publisher
	Clock      clock.Clock
	AuthTokens TokenDecrypter
	// Fallbacks, when set, sends the fallback template of a message whose
	// failed status says window_closed.
	Fallbacks FallbackTrigger
	// Payloads, when set, is sent a fetch job for each payload an inbound
	// message refers to (a large interactive reply, attachments); the
	// message is stored payload_pending, and its message.received event
	// comes once the payloads are in (shared/payload). Without it such a
	// message is stored as it came.
	Payloads queue.Sender
	Log      *slog.Logger
}

// FallbackTrigger sends the fallback of a message that failed with
// window_closed after it was sent; it sends at most once per message.
type FallbackTrigger interface {
	TriggerFallback(ctx context.Context, rec message.Record) error
}

// Result counts what Ingest did.
type Result struct {
	Stored     int // new items stored with their event
	Duplicates int // items seen before, acknowledged and ignored
	Pending    int // statuses kept until their message is recorded
	Rejected   int // items that were not valid, recorded as item.rejected events
}

// Ingest stores every item: those of one conversation in order, different
// conversations in parallel. It returns an error if any item could not be
// stored durably; the items stored stay stored and are recognised as
// duplicates when the platform delivers the webhook again.
func (in *Ingester) Ingest(ctx context.Context, items []message.InboundItem) (Result, error) {
	// The items of one conversation are stored in order; conversations
	// go in parallel, so that a large batch (Meta sends statuses by the
	// thousand) finishes well inside the function's timeout.
	items, stored := in.skipStored(ctx, items)
	groups := conversationGroups(items)
	wctx, cancel := reserveAfterWrites(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		total = Result{Duplicates: stored}
		errs  []error
	)
	work := make(chan []message.InboundItem)
	var wg sync.WaitGroup
	for range min(len(groups), MaxParallel) {
		wg.Go(func() {
			for g := range work {
				res, err := in.ingestInOrder(ctx, wctx, g)
				mu.Lock()
				total.Stored += res.Stored
				total.Duplicates += res.Duplicates
				total.Pending += res.Pending
				total.Rejected += res.Rejected
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	for _, g := range groups {
		work <- g
	}
	close(work)
	wg.Wait()
	return total, errors.Join(errs...)
}

// PrecheckMin is how many statuses a delivery must carry for Ingest to ask
// the store, in bulk, which of them it already stored (store.ClaimChecker)
// before storing the rest: a large batch Meta delivers again after a
// timeout then costs one read per hundred statuses already stored, instead
// of two requests each, and every delivery gets further than the last.
const PrecheckMin = 100

// skipStored returns items without the statuses whose claims are live —
// stored by an earlier delivery — and how many it left out. It asks only
// for a delivery of PrecheckMin statuses or more, and only for statuses
// that would be stored (not rejected); when the store cannot tell, every
// item is kept and stored as usual, duplicates found one by one.
func (in *Ingester) skipStored(ctx context.Context, items []message.InboundItem) ([]message.InboundItem, int) {
	cc, ok := in.Store.(store.ClaimChecker)
	if !ok {
		return items, 0
	}
	now := in.Clock.Now()
	keys := make([]string, len(items))
	var asked []string
	for i, it := range items {
		if it.Kind != message.KindStatus {
			continue
		}
		if ch, ok := channel.Lookup(it.Channel); !ok || problem(ch, it, now) != "" {
			continue
		}
		keys[i] = statusClaim(it, now).Key
		asked = append(asked, keys[i])
	}
	if len(asked) < PrecheckMin {
		return items, 0
	}
	claimed, err := cc.Claimed(ctx, asked)
	if err != nil {
		in.log().Warn("checking which statuses are already stored failed; storing each", "statuses", len(asked), "error", err)
		return items, 0
	}
	kept := make([]message.InboundItem, 0, len(items))
	for i, it := range items {
		if keys[i] != "" && claimed[keys[i]] {
			continue
		}
		kept = append(kept, it)
	}
	if n := len(items) - len(kept); n > 0 {
		in.log().Info("statuses already stored skipped", "skipped", n, "of", len(items))
	}
	return kept, len(items) - len(kept)
}

// statusClaim is the claim a status is stored under: one per platform
// message and status.
func statusClaim(it message.InboundItem, now time.Time) store.Claim {
	return claim(it, now, "status", it.Status)
}

// conversationGroups splits items into groups that may be stored in
// parallel, each in the order given. Items that share an id of their
// conversation stay in one group: a WhatsApp customer can be named by a
// phone number in one item and by a business-scoped user id, or both, in
// the next, and their touches must not race.
func conversationGroups(items []message.InboundItem) [][]message.InboundItem {
	parent := make([]int, len(items))
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	first := map[store.ConversationKey]int{}
	for i, it := range items {
		parent[i] = i
		ids := append([]string{it.CustomerID}, it.Customer.IDs()...)
		for _, id := range ids {
			k := store.ConversationKey{Channel: it.Channel, BusinessID: it.BusinessID, CustomerID: id}
			j, seen := first[k]
			if !seen {
				first[k] = i
				continue
			}
			if a, b := find(i), find(j); a != b {
				parent[max(a, b)] = min(a, b)
			}
		}
	}
	var groups [][]message.InboundItem
	index := map[int]int{}
	for i, it := range items {
		r := find(i)
		g, ok := index[r]
		if !ok {
			g = len(groups)
			index[r] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], it)
	}
	return groups
}

// MaxParallel is how many conversations of one webhook are stored at once.
const MaxParallel = 32

// PublishReserve is the time Ingest keeps, of its context's deadline, for
// what follows a write: reading back the claim of a write whose answer was
// lost, and publishing the item's event. The writes end that much (at most
// a third of the time left) before the deadline. Without it, a write whose
// answer came too late (at the function's timeout) would leave its item
// stored but not acknowledged, and the redelivery, a duplicate, would
// publish nothing.
const PublishReserve = 3 * time.Second

// reserveAfterWrites returns the context of the writes: ctx, ending
// PublishReserve (at most a third of the time left) before it.
func reserveAfterWrites(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, deadline.Add(-min(PublishReserve, time.Until(deadline)/3)))
}

// ingestInOrder stores items one after the other, writing under wctx and
// publishing under ctx; it stops at the first that cannot be stored.
func (in *Ingester) ingestInOrder(ctx, wctx context.Context, items []message.InboundItem) (Result, error) {
	var res Result
	for _, it := range items {
		ev, err := in.one(wctx, it)
		switch {
		case errors.Is(err, store.ErrDuplicate):
			res.Duplicates++
			in.log().Info("duplicate delivery ignored", "channel", it.Channel, "kind", it.Kind, "platform_message_id", shortID(it.PlatformMessageID))
		case err != nil:
			return res, fmt.Errorf("ingest: %s %s %s: %w", it.Channel, it.Kind, shortID(it.PlatformMessageID), err)
		case ev.Type == message.EventRejected:
			res.Rejected++
			in.publish(ctx, ev)
		case it.Kind == message.KindStatus && ev.Type == "":
			res.Pending++
			in.log().Info("status kept until its message is recorded", "channel", it.Channel, "status", it.Status, "platform_message_id", shortID(it.PlatformMessageID))
		default:
			res.Stored++
			in.log().Info("inbound stored", "channel", it.Channel, "kind", it.Kind, "event", ev.Type,
				"message_id", ev.MessageID, "platform_message_id", shortID(it.PlatformMessageID))
			if ev.Type == "" {
				// A message waiting for its payloads: its event comes later.
				continue
			}
			in.publish(ctx, ev)
		}
	}
	return res, nil
}

// publish publishes a stored item's event, even when the request's
// context has just ended (see resolveTimeout): the item is stored, and its
// redelivery will find it a duplicate and publish nothing.
func (in *Ingester) publish(ctx context.Context, ev message.Event) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resolveTimeout)
	defer cancel()
	if err := in.Publisher.Publish(pctx, ev); err != nil {
		in.log().Error("publishing an event failed; it stays in the event log", "event_id", ev.ID, "error", err)
	}
}

func (in *Ingester) one(ctx context.Context, it message.InboundItem) (message.Event, error) {
	ch, ok := channel.Lookup(it.Channel)
	if !ok {
		return message.Event{}, fmt.Errorf("no %q channel is linked", it.Channel)
	}
	if why := problem(ch, it, in.Clock.Now()); why != "" {
		return in.reject(ctx, it, why)
	}
	for attempt := 0; ; attempt++ {
		var ev message.Event
		var err error
		switch it.Kind {
		case message.KindMessage:
			ev, err = in.message(ctx, ch, it)
		case message.KindStatus:
			ev, err = in.status(ctx, it)
		case message.KindTypingStart, message.KindTypingEnd:
			ev, err = in.typing(ctx, it)
		case message.KindClose:
			ev, err = in.close(ctx, ch, it)
		case message.KindNotice:
			ev, err = in.notice(ctx, it)
		default:
			return message.Event{}, fmt.Errorf("unknown item kind %q", it.Kind)
		}
		if errors.Is(err, store.ErrConflict) && attempt < maxConflicts {
			continue
		}
		return ev, err
	}
}

func (in *Ingester) newEvent(typ string, it message.InboundItem) message.Event {
	now := in.Clock.Now()
	return message.Event{
		ID: message.NewEventID(now), Type: typ, Time: now, PlatformTime: it.PlatformTime,
		Channel: it.Channel, BusinessID: it.BusinessID, CustomerID: it.CustomerID,
		Customer: it.Customer, GroupID: it.GroupID,
		PlatformMessageID: it.PlatformMessageID,
	}
}

func claim(it message.InboundItem, now time.Time, parts ...string) store.Claim {
	key := "IN#" + string(it.Channel) + "#" + it.PlatformMessageID
	if len(parts) > 0 {
		key += "#" + strings.Join(parts, "#")
	}
	return store.Claim{Key: key, ExpiresAt: now.Add(DedupeRetention)}
}

// owned is c with its owner: an id of the batch that takes it.
func owned(c store.Claim, owner string) store.Claim {
	c.Owner = owner
	return c
}

// resolveTimeout bounds the read that learns whether a batch whose answer
// was lost was applied, and publishing an event after it: they go on when
// the request's context has ended (a deadline met while the store held
// its answer), since the platform would otherwise be told to deliver
// again an item that is stored, whose event would then never be
// published.
const resolveTimeout = 10 * time.Second

// apply writes ws, whose first write is the item's claim, owned by the
// batch. When the store fails in a way that leaves the outcome unknown
// (its answer lost, cut off, damaged or late: the batch may have been
// applied), the claim's owner tells: the batch's own means it was applied,
// and the item is stored. Without that, the webhook would be answered 500
// and its redelivery found a duplicate, so the item's event would never be
// published.
func (in *Ingester) apply(ctx context.Context, ws ...store.Write) error {
	err := in.Store.Apply(ctx, ws...)
	if err == nil || !unknownOutcome(err) {
		return err
	}
	c, ok := ws[0].(store.Claim)
	owners, can := in.Store.(store.ClaimOwners)
	if !ok || c.Owner == "" || !can {
		return err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resolveTimeout)
	defer cancel()
	owner, rerr := owners.ClaimOwner(rctx, c.Key)
	if rerr != nil || owner != c.Owner {
		return err
	}
	in.log().Warn("the store's answer was lost, but the write was applied", "claim", shortID(c.Key), "error", err)
	return nil
}

// unknownOutcome reports whether a failed Apply may have been applied:
// any failure but the store's own refusals, which apply nothing.
func unknownOutcome(err error) bool {
	for _, refusal := range []error{store.ErrDuplicate, store.ErrConflict, store.ErrRecorded, store.ErrPending, store.ErrNotFound} {
		if errors.Is(err, refusal) {
			return false
		}
	}
	return true
}

// touch is what it tells of its conversation: a message or a close at
// its time, with the window and retention of its channel. Touches commute
// (see store.TouchConversation), so concurrent deliveries of one customer
// never conflict, and a late redelivery never moves the conversation
// backwards.
func touch(ch channel.Channel, it message.InboundItem, at time.Time) store.TouchConversation {
	t := store.TouchConversation{
		Key:          store.ConversationKey{Channel: it.Channel, BusinessID: it.BusinessID, CustomerID: it.CustomerID},
		Capabilities: it.Capabilities,
		Routing:      it.Routing,
		Window:       ch.Window(),
		Retention:    ch.Retention(),
	}
	if it.Kind == message.KindClose {
		t.ClosedAt = at
	} else {
		t.InboundAt = at
	}
	return t
}

// On a channel with aliases (channel.Channel.Aliases) a customer may be
// known by several ids: on WhatsApp by phone number, business-scoped user
// id (BSUID), parent BSUID, or several of them. Their conversation is kept
// under one key: the
// BSUID when the message has one, else the id given. Every other id of
// the customer is an alias: the same touch is written under it too, with
// an "aliasOf" register naming the key. So a read by any id finds the
// window at once, and its AliasOf says where the messages are
// (store.ResolveConversation). A conversation first kept under a phone
// number (before BSUIDs) becomes an alias of the BSUID conversation the
// first time both ids arrive together; its earlier messages keep their
// key. A message without a BSUID or without a phone number costs one
// read: to follow the alias its id may be, or to learn the ids to mirror.
// A parent BSUID (shared across portfolios, rare) may miss the touches of
// messages that do not name it: reads by a parent id follow its alias.

// identity returns the key of it's conversation and the touches that
// record the message there and under each other id of the customer.
func (in *Ingester) identity(ctx context.Context, ch channel.Channel, it message.InboundItem, at time.Time) (string, []store.Write, error) {
	base := touch(ch, it, at)
	if !ch.Aliases() {
		return it.CustomerID, []store.Write{base}, nil
	}
	fields := map[string]string{}
	if it.GroupID != "" {
		// A group's message opens the group's window; the participant is
		// not the conversation's customer.
		fields[store.FieldGroupChat] = "true"
		base.Fields = fields
		base.Key.CustomerID = it.GroupID
		return it.GroupID, []store.Write{base}, nil
	}
	c := it.Customer
	if c == nil {
		c = &message.Customer{WaID: it.CustomerID}
	}
	for name, v := range store.CustomerFields(c) {
		if v != "" {
			fields[name] = v
		}
	}
	// The ids to write the touch under: the message's, and, when it lacks
	// the phone number (a customer with a username), those the
	// conversation already knows, read once, so that each alias keeps the
	// window of every message.
	ids := c.IDs()
	key := c.UserID
	if key == "" || c.WaID == "" {
		read := key
		if read == "" {
			read = c.ID()
		}
		conv, err := in.Store.Conversation(ctx, store.ConversationKey{Channel: it.Channel, BusinessID: it.BusinessID, CustomerID: read})
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return "", nil, err
		default:
			if key == "" && conv.AliasOf != "" {
				key = conv.AliasOf
			}
			ids = append(ids, conv.Customer.IDs()...)
		}
		if key == "" {
			key = read
		}
	}
	base.Key.CustomerID = key
	base.Fields = fields
	ws := []store.Write{base}
	done := map[string]bool{key: true}
	for _, id := range ids {
		if done[id] {
			continue
		}
		done[id] = true
		alias := base
		alias.Key.CustomerID = id
		alias.Fields = map[string]string{store.FieldAliasOf: key}
		for name, v := range fields {
			alias.Fields[name] = v
		}
		ws = append(ws, alias)
	}
	return key, ws, nil
}

// message stores a customer's message and refreshes the conversation.
func (in *Ingester) message(ctx context.Context, ch channel.Channel, it message.InboundItem) (message.Event, error) {
	now := in.Clock.Now()
	at := it.At
	if at.IsZero() {
		at = now
	}
	key, touches, err := in.identity(ctx, ch, it, at)
	if err != nil {
		return message.Event{}, err
	}
	it.CustomerID = key

	body := it.Body
	if body == nil {
		body = &message.Body{Type: "unsupported"}
	}
	rec := message.Record{
		ID: message.NewMessageID(), Channel: it.Channel, BusinessID: it.BusinessID, CustomerID: it.CustomerID,
		Direction: message.Inbound, PlatformMessageID: it.PlatformMessageID, Type: body.Type,
		// Ordered by when parley received it, like the messages it sends:
		// platform times have whole seconds only.
		Status: message.StatusReceived, CreatedAt: now, UpdatedAt: now, Version: 1,
		History: []message.StatusChange{{Status: message.StatusReceived, At: now}},
	}
	rec.Routing = it.Routing
	stored := *body
	if stored.Auth != nil && stored.Auth.EncryptedToken != "" {
		a, err := OpenAuth(ctx, in.AuthTokens, it.ReplyToPlatformID, *stored.Auth)
		if err != nil {
			in.log().Warn("an authentication token could not be decrypted", "channel", it.Channel, "platform_message_id", shortID(it.PlatformMessageID), "error", err)
		}
		stored.Auth = a
	}
	if len(body.Text) > InlineBodyLimit {
		ref, err := in.putBody(ctx, it, body.Text)
		if err != nil {
			return message.Event{}, err
		}
		rec.BodyRef = ref
		stored.Text = ""
		stored.Ref = ref
	}
	rec.Body = &stored

	if len(it.Payloads) > 0 && in.Payloads != nil {
		// The jobs go first: a job that runs before the message is stored
		// is retried, and a job sent for a webhook delivered again finds
		// its work done.
		for _, p := range it.Payloads {
			j := queue.Job{Channel: it.Channel, BusinessID: it.BusinessID, CustomerID: it.CustomerID, PlatformMessageID: it.PlatformMessageID, Payload: &p}
			if err := in.Payloads.Send(ctx, j); err != nil {
				return message.Event{}, fmt.Errorf("queueing a payload: %w", err)
			}
		}
		rec.Status = message.StatusPayloadPending
		rec.History = []message.StatusChange{{Status: message.StatusPayloadPending, At: now}}
		return message.Event{MessageID: rec.ID}, in.apply(ctx, slices.Concat([]store.Write{
			owned(claim(it, now), rec.ID),
			store.PutMessage{Message: rec, ExpiresAt: now.Add(MessageRetention)},
		}, touches)...)
	}

	ev := in.newEvent(message.EventReceived, it)
	if it.EventType != "" {
		// A message the platform could not render: failed, with its
		// error, kept all the same.
		ev.Type = it.EventType
		if it.StatusError != nil {
			ev.Error = statusError(it)
		}
	}
	ev.MessageID = rec.ID
	ev.Routing = it.Routing
	ev.Body = &stored
	if err := in.correlate(ctx, it, &ev); err != nil {
		return message.Event{}, err
	}
	if r := stored.Reaction; r != nil && r.PlatformMessageID != "" {
		if orig, err := in.Store.MessageByPlatformID(ctx, it.Channel, r.PlatformMessageID); err == nil {
			reaction := *r
			reaction.MessageID = orig.ID
			stored.Reaction = &reaction
		}
	}
	return ev, in.apply(ctx, slices.Concat([]store.Write{
		owned(claim(it, now), ev.ID),
		store.PutMessage{Message: rec, ExpiresAt: now.Add(MessageRetention)},
		store.AppendEvent{Event: ev, ExpiresAt: now.Add(EventRetention)},
	}, touches)...)
}

// OpenAuth opens the token of an authentication reply with the key d keeps
// for requestID. A token that cannot be opened gives an auth body with an
// error, and the decryption error to log: the reply is kept, never dropped.
// With a nil d the body's error says parley has no key store.
func OpenAuth(ctx context.Context, d TokenDecrypter, requestID string, a message.AuthReply) (*message.AuthReply, error) {
	enc := a.EncryptedToken
	a.EncryptedToken = ""
	if d == nil {
		a.Error = "parley has no key store for authentication replies"
		return &a, nil
	}
	token, err := d.Decrypt(ctx, requestID, enc)
	if err != nil {
		a.Error = "the token could not be decrypted: " + err.Error()
		return &a, err
	}
	a.Token = token
	return &a, nil
}

// staleWindow is how many of a conversation's latest messages are searched
// for a newer interactive message than the one a reply answers.
const staleWindow = 20

// correlate names the parley message a reply answers and flags a reply to
// an older interactive message than the latest one sent to the customer
// (they re-opened an old list and picked again). A reply to an interactive
// message parley has no record of is kept and flagged unmatched.
func (in *Ingester) correlate(ctx context.Context, it message.InboundItem, ev *message.Event) error {
	if it.ReplyToPlatformID == "" {
		return nil
	}
	orig, err := in.Store.MessageByPlatformID(ctx, it.Channel, it.ReplyToPlatformID)
	if errors.Is(err, store.ErrNotFound) {
		ev.Unmatched = it.Body != nil && isAnswer(it.Body.Type)
		if ev.Unmatched {
			ev.ReplyToPlatformID = it.ReplyToPlatformID
		}
		return nil
	}
	if err != nil {
		return err
	}
	ev.InReplyTo = orig.ID
	if orig.Direction != message.Outbound || !message.Interactive(orig.Type) {
		return nil
	}
	recent, err := in.Store.RecentMessages(ctx, store.ConversationKey{Channel: it.Channel, BusinessID: it.BusinessID, CustomerID: it.CustomerID}, staleWindow)
	if err != nil {
		return err
	}
	for _, r := range recent {
		if r.ID != orig.ID && r.Direction == message.Outbound && message.Interactive(r.Type) && r.CreatedAt.After(orig.CreatedAt) {
			ev.Stale = true
			break
		}
	}
	return nil
}

// isAnswer reports whether a body answers an interactive message.
func isAnswer(bodyType string) bool {
	switch bodyType {
	case message.BodySelection, message.BodyTimeslot, message.BodyLocation, message.BodyFlow, message.BodyAuth, message.BodyPayment, message.BodyCustom, message.BodyCallPermission:
		return true
	}
	return false
}

func (in *Ingester) putBody(ctx context.Context, it message.InboundItem, text string) (string, error) {
	if in.Blobs == nil {
		return "", errors.New("a message body is over the inline limit and no blob store is configured")
	}
	key := fmt.Sprintf("payloads/inbound/%s/%s.txt", it.Channel, KeySegment(it.PlatformMessageID))
	err := in.Blobs.PutBlob(ctx, key, strings.NewReader(text), "text/plain; charset=utf-8",
		map[string]string{"channel": string(it.Channel), "platform-message-id": it.PlatformMessageID})
	if err != nil {
		return "", fmt.Errorf("storing a large body: %w", err)
	}
	return key, nil
}

// statusRank orders statuses; a message never moves backwards.
var statusRank = map[string]int{
	message.StatusAccepted: 1, message.StatusSent: 2, message.StatusDelivered: 3, message.StatusRead: 4, "played": 4, message.StatusFailed: 5,
}

// status applies a platform's status report to the message it concerns.
func (in *Ingester) status(ctx context.Context, it message.InboundItem) (message.Event, error) {
	now := in.Clock.Now()
	ev := in.newEvent(message.EventStatus, it)
	ev.Status = it.Status
	ev.StatusDetail = it.StatusDetail
	if it.StatusError != nil {
		ev.Error = statusError(it)
	}
	writes := []store.Write{owned(statusClaim(it, now), ev.ID)}

	rec, err := in.Store.MessageByPlatformID(ctx, it.Channel, it.PlatformMessageID)
	switch {
	case errors.Is(err, store.ErrNotFound) && (it.At.IsZero() || now.Sub(it.At) < StatusGrace):
		at := it.At
		if at.IsZero() {
			at = now
		}
		err := in.apply(ctx, writes[0], store.PendStatus{Channel: it.Channel, PlatformMessageID: it.PlatformMessageID,
			Status:    store.PendingStatus{Status: it.Status, At: at, Error: it.StatusError, ReceivedAt: now},
			ExpiresAt: now.Add(DedupeRetention)})
		if errors.Is(err, store.ErrRecorded) {
			// The send was recorded in between: apply the status to it.
			return message.Event{}, store.ErrConflict
		}
		return message.Event{}, err
	case errors.Is(err, store.ErrNotFound):
		in.log().Warn("status for a message parley did not send", "channel", it.Channel, "platform_message_id", shortID(it.PlatformMessageID), "status", it.Status)
	case err != nil:
		return message.Event{}, err
	default:
		ev.MessageID = rec.ID
		ev.CustomerID = rec.CustomerID
		prev := rec.Version
		at := it.At
		if at.IsZero() {
			at = now
		}
		applyStatus(&rec, message.StatusChange{Status: it.Status, At: at, Error: it.StatusError}, ev.Error, now)
		rec.Version = prev + 1
		writes = append(writes, store.PutMessage{Message: rec, PrevVersion: prev, ExpiresAt: now.Add(MessageRetention)})
	}
	writes = append(writes, store.AppendEvent{Event: ev, ExpiresAt: now.Add(EventRetention)})
	if err := in.apply(ctx, writes...); err != nil {
		return message.Event{}, err
	}
	if in.Fallbacks != nil && rec.Fallback != nil && ev.Error != nil && ev.Error.Code == message.CodeWindowClosed {
		if err := in.Fallbacks.TriggerFallback(ctx, rec); err != nil {
			in.log().Error("sending a fallback template failed", "message_id", rec.ID, "error", err)
		}
	}
	return ev, nil
}

// applyStatus moves rec on with a status: its history grows, and its
// status changes only forwards.
func applyStatus(rec *message.Record, c message.StatusChange, e *message.Error, now time.Time) {
	rec.History = append(rec.History, c)
	if statusRank[c.Status] > statusRank[rec.Status] {
		rec.Status = c.Status
	}
	if c.Status == message.StatusFailed {
		rec.Error = e
	}
	rec.UpdatedAt = now
}

// ApplyPending applies to rec, a message being recorded, the statuses the
// platform reported before it was (store.PendStatus): in the order of
// their times, each moving rec's status only forwards. It returns their
// events, one per status.
func ApplyPending(rec *message.Record, pending []store.PendingStatus, now time.Time) []message.Event {
	ps := slices.Clone(pending)
	slices.SortStableFunc(ps, func(a, b store.PendingStatus) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return statusRank[a.Status] - statusRank[b.Status]
	})
	evs := make([]message.Event, 0, len(ps))
	for _, p := range ps {
		ev := message.Event{
			ID: message.NewEventID(now), Type: message.EventStatus, Time: now,
			Channel: rec.Channel, BusinessID: rec.BusinessID, CustomerID: rec.CustomerID,
			MessageID: rec.ID, PlatformMessageID: rec.PlatformMessageID, Status: p.Status,
		}
		if p.Error != nil {
			ev.Error = platformError(rec.Channel, p.Error)
		}
		applyStatus(rec, message.StatusChange{Status: p.Status, At: p.At, Error: p.Error}, ev.Error, now)
		evs = append(evs, ev)
	}
	return evs
}

// statusError turns a failed status's platform error into an API error,
// with the code its channel gives it.
func statusError(it message.InboundItem) *message.Error {
	return platformError(it.Channel, it.StatusError)
}

func platformError(name message.Channel, pe *message.PlatformError) *message.Error {
	code := message.CodePlatformRejected
	if ch, ok := channel.Lookup(name); ok {
		code = ch.FailureCode(pe)
	}
	text := pe.Message
	if pe.Details != "" {
		text = pe.Details
	}
	return &message.Error{Code: code, Message: text, Platform: pe}
}

// notice records an item that is only an event (a preference change, an
// error Meta reported for a whole change).
func (in *Ingester) notice(ctx context.Context, it message.InboundItem) (message.Event, error) {
	now := in.Clock.Now()
	ev := in.newEvent(it.EventType, it)
	ev.Body = it.Body
	if it.StatusError != nil {
		ev.Error = statusError(it)
	}
	return ev, in.apply(ctx, owned(claim(it, now), ev.ID), store.AppendEvent{Event: ev, ExpiresAt: now.Add(EventRetention)})
}

func (in *Ingester) typing(ctx context.Context, it message.InboundItem) (message.Event, error) {
	now := in.Clock.Now()
	ev := in.newEvent(message.EventTyping, it)
	ev.Status = "started"
	if it.Kind == message.KindTypingEnd {
		ev.Status = "ended"
	}
	return ev, in.apply(ctx, owned(claim(it, now), ev.ID), store.AppendEvent{Event: ev, ExpiresAt: now.Add(EventRetention)})
}

// close records that a customer closed the conversation (Apple). A close
// older than the customer's latest message is history: the conversation
// reads as open (see store.TouchConversation).
func (in *Ingester) close(ctx context.Context, ch channel.Channel, it message.InboundItem) (message.Event, error) {
	now := in.Clock.Now()
	at := it.At
	if at.IsZero() {
		at = now
	}
	ev := in.newEvent(message.EventClosed, it)
	return ev, in.apply(ctx, owned(claim(it, now), ev.ID), touch(ch, it, at), store.AppendEvent{Event: ev, ExpiresAt: now.Add(EventRetention)})
}

// shortID keeps a log line short whatever id a webhook carried.
func shortID(id string) string {
	if len(id) > 80 {
		return fmt.Sprintf("%.80q… (%d bytes)", id, len(id))
	}
	return id
}

func (in *Ingester) log() *slog.Logger {
	if in.Log == nil {
		return slog.Default()
	}
	return in.Log
}

// KeySegment keeps a platform id usable as one segment of an object key.
func KeySegment(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
