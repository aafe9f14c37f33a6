package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/bus"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func newIngester(t *testing.T) (*Ingester, *embedded.Store, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(t0)
	st, err := embedded.Open(t.TempDir(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Ingester{Store: st, Blobs: st, Publisher: bus.Discard{}, Clock: clk}, st, clk
}

func waText(id, text string, at time.Time) message.InboundItem {
	return message.InboundItem{Kind: message.KindMessage, Channel: message.WhatsApp, BusinessID: "b", CustomerID: "c",
		PlatformMessageID: id, At: at, Body: &message.Body{Type: "text", Text: text}}
}

var waKey = store.ConversationKey{Channel: message.WhatsApp, BusinessID: "b", CustomerID: "c"}

func ingest(t *testing.T, in *Ingester, items ...message.InboundItem) Result {
	t.Helper()
	res, err := in.Ingest(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestLateRedeliveryNeverShrinksTheWindow(t *testing.T) {
	in, st, clk := newIngester(t)
	clk.Set(t0.Add(2 * time.Hour))
	ingest(t, in, waText("wamid.NEW", "new", t0.Add(2*time.Hour)))
	// Meta delivers an older message late (it retries for days).
	ingest(t, in, waText("wamid.OLD", "old", t0))
	conv, err := st.Conversation(context.Background(), waKey)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(26 * time.Hour); !conv.WindowClosesAt.Equal(want) || !conv.LastInboundAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("window closes %s (last inbound %s), want %s", conv.WindowClosesAt, conv.LastInboundAt, want)
	}
}

func TestDuplicatesAreAcknowledgedOnce(t *testing.T) {
	in, st, _ := newIngester(t)
	item := waText("wamid.A", "hi", t0)
	if r := ingest(t, in, item, item); r.Stored != 1 || r.Duplicates != 1 {
		t.Fatalf("result %+v, want 1 stored and 1 duplicate", r)
	}
	evs, _ := st.Events(context.Background(), "", 10)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
}

func TestConcurrentMessagesOfOneConversationAllStored(t *testing.T) {
	in, st, _ := newIngester(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := in.Ingest(context.Background(), []message.InboundItem{waText(fmt.Sprintf("wamid.%d", i), "hi", t0.Add(time.Duration(i)*time.Second))}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	recs, err := st.RecentMessages(context.Background(), waKey, 20)
	if err != nil || len(recs) != 8 {
		t.Fatalf("%d messages stored (%v), want 8", len(recs), err)
	}
	conv, _ := st.Conversation(context.Background(), waKey)
	if !conv.LastInboundAt.Equal(t0.Add(7 * time.Second)) {
		t.Errorf("last inbound %s, want the latest message's time", conv.LastInboundAt)
	}
}

func sentMessage(t *testing.T, st store.Store, pid string) message.Record {
	t.Helper()
	rec := message.Record{ID: "msg_" + pid, Channel: message.WhatsApp, BusinessID: "b", CustomerID: "c", Direction: message.Outbound,
		PlatformMessageID: pid, Type: "text", Status: message.StatusAccepted, CreatedAt: t0, UpdatedAt: t0, Version: 1}
	if err := st.Apply(context.Background(), store.PutMessage{Message: rec}); err != nil {
		t.Fatal(err)
	}
	return rec
}

func status(pid, s string, code int) message.InboundItem {
	it := message.InboundItem{Kind: message.KindStatus, Channel: message.WhatsApp, BusinessID: "b", CustomerID: "c", PlatformMessageID: pid, Status: s, At: t0}
	if code != 0 {
		it.StatusError = &message.PlatformError{Code: code, Message: "Re-engagement message"}
	}
	return it
}

func TestStatuses(t *testing.T) {
	in, st, clk := newIngester(t)
	ctx := context.Background()
	rec := sentMessage(t, st, "wamid.OUT")
	// read arrives before delivered (Meta does not order them); delivered
	// is kept in the history but the status stays read.
	r := ingest(t, in, status("wamid.OUT", "sent", 0), status("wamid.OUT", "read", 0), status("wamid.OUT", "delivered", 0), status("wamid.OUT", "read", 0))
	if r.Stored != 3 || r.Duplicates != 1 {
		t.Fatalf("result %+v, want 3 stored, 1 duplicate (the second read)", r)
	}
	got, _ := st.Message(ctx, rec.ID)
	if got.Status != message.StatusRead || len(got.History) != 3 {
		t.Fatalf("status %s with %d history entries, want read with 3", got.Status, len(got.History))
	}

	rec2 := sentMessage(t, st, "wamid.LATE")
	ingest(t, in, status("wamid.LATE", "failed", 131047))
	got, _ = st.Message(ctx, rec2.ID)
	if got.Status != message.StatusFailed || got.Error == nil || got.Error.Code != message.CodeWindowClosed {
		t.Fatalf("after a 131047 failure: %+v, want failed with window_closed", got)
	}

	// A status may come before the send that produced it is recorded: it
	// is acknowledged and kept pending, with no event yet...
	before, _ := st.Events(ctx, "", 100)
	if r := ingest(t, in, status("wamid.EARLY", "read", 0), status("wamid.EARLY", "delivered", 0), status("wamid.EARLY", "read", 0)); r.Pending != 2 || r.Duplicates != 1 {
		t.Fatalf("statuses before their send: %+v, want 2 pending and 1 duplicate", r)
	}
	if evs, _ := st.Events(ctx, "", 100); len(evs) != len(before) {
		t.Fatalf("a pending status gave an event")
	}
	// ...and applied, in order, when the send is recorded.
	pending, err := st.PendingStatuses(ctx, message.WhatsApp, "wamid.EARLY")
	if err != nil || len(pending) != 2 {
		t.Fatalf("PendingStatuses: %v, %v", pending, err)
	}
	early := message.Record{ID: "msg_early", Channel: message.WhatsApp, BusinessID: "b", CustomerID: "c", Direction: message.Outbound,
		PlatformMessageID: "wamid.EARLY", Type: "text", Status: message.StatusAccepted, CreatedAt: t0, UpdatedAt: t0, Version: 1}
	if err := st.Apply(ctx, store.PutMessage{Message: early}); !errors.Is(err, store.ErrPending) {
		t.Fatalf("recording the send without its pending statuses: %v, want ErrPending", err)
	}
	evs := ApplyPending(&early, pending, clk.Now())
	if early.Status != message.StatusRead || len(early.History) != 2 || early.History[0].Status != message.StatusDelivered || len(evs) != 2 {
		t.Fatalf("after the pending statuses: %+v, %d events", early, len(evs))
	}
	if err := st.Apply(ctx, store.PutMessage{Message: early, Pending: len(pending)}); err != nil {
		t.Fatal(err)
	}
	// A status that comes after the grace period for a message parley has
	// no record of is kept as a status of a message parley did not send.
	clk.Advance(StatusGrace)
	ingest(t, in, status("wamid.UNKNOWN", "delivered", 0))
	evs, _ = st.Events(ctx, "", 100)
	last := evs[len(evs)-1]
	if last.Type != message.EventStatus || last.MessageID != "" || last.PlatformMessageID != "wamid.UNKNOWN" {
		t.Fatalf("status for an unknown message: %+v", last)
	}
}

func TestAppleCloseAndReturn(t *testing.T) {
	in, st, clk := newIngester(t)
	ctx := context.Background()
	key := store.ConversationKey{Channel: message.Apple, BusinessID: "b", CustomerID: "urn:mbid:x"}
	item := func(kind, id string, at time.Time) message.InboundItem {
		it := message.InboundItem{Kind: kind, Channel: message.Apple, BusinessID: "b", CustomerID: "urn:mbid:x", PlatformMessageID: id, At: at,
			Capabilities: []string{"LIST", "TIME"}}
		if kind == message.KindMessage {
			it.Body = &message.Body{Type: "text", Text: "hi"}
		}
		return it
	}
	ingest(t, in, item(message.KindMessage, "a1", t0), item(message.KindTypingStart, "a2", t0), item(message.KindClose, "a3", t0.Add(time.Minute)))
	conv, err := st.Conversation(ctx, key)
	if err != nil || !conv.Closed || !conv.ClosedAt.Equal(t0.Add(time.Minute)) || strings.Join(conv.Capabilities, ",") != "LIST,TIME" {
		t.Fatalf("after close: %+v %v", conv, err)
	}
	clk.Advance(time.Hour)
	ingest(t, in, item(message.KindMessage, "a4", t0.Add(time.Hour)))
	conv, _ = st.Conversation(ctx, key)
	if conv.Closed {
		t.Fatal("the customer wrote again, the conversation must be open")
	}
	evs, _ := st.Events(ctx, "", 10)
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if got := strings.Join(types, " "); got != "message.received conversation.typing conversation.closed message.received" {
		t.Errorf("events: %s", got)
	}
}

func TestLargeBodiesGoToBlobs(t *testing.T) {
	in, st, _ := newIngester(t)
	ctx := context.Background()
	big := strings.Repeat("ab", InlineBodyLimit)
	ingest(t, in, waText("wamid.BIG", big, t0))
	recs, _ := st.RecentMessages(ctx, waKey, 1)
	if len(recs) != 1 || recs[0].BodyRef == "" || recs[0].Body.Text != "" {
		t.Fatalf("record: %+v", recs)
	}
	rc, _, err := st.GetBlob(ctx, recs[0].BodyRef)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if string(b) != big {
		t.Fatalf("blob holds %d bytes, want %d", len(b), len(big))
	}
}

func TestRepliesNameTheMessageTheyAnswer(t *testing.T) {
	in, st, _ := newIngester(t)
	rec := sentMessage(t, st, "wamid.Q")
	it := waText("wamid.R", "yes", t0)
	it.ReplyToPlatformID = "wamid.Q"
	ingest(t, in, it)
	evs, _ := st.Events(context.Background(), "", 10)
	if len(evs) != 1 || evs[0].InReplyTo != rec.ID {
		t.Fatalf("events %+v, want inReplyTo %s", evs, rec.ID)
	}
}

// failingStore fails every write, as an unavailable DynamoDB would.
type failingStore struct{ store.Store }

func (failingStore) Apply(context.Context, ...store.Write) error { return errors.New("throttled") }

func TestStoreFailureIsAnError(t *testing.T) {
	in, st, _ := newIngester(t)
	in.Store = failingStore{st}
	if _, err := in.Ingest(context.Background(), []message.InboundItem{waText("wamid.F", "x", t0)}); err == nil {
		t.Fatal("a store failure must fail the webhook so that the platform delivers it again")
	}
}

func TestStaleAndUnmatchedReplies(t *testing.T) {
	in, st, clk := newIngester(t)
	ctx := context.Background()
	put := func(id, pid, typ string, at time.Time) {
		rec := message.Record{ID: id, Channel: message.WhatsApp, BusinessID: "b", CustomerID: "c", Direction: message.Outbound,
			PlatformMessageID: pid, Type: typ, Status: message.StatusAccepted, CreatedAt: at, UpdatedAt: at, Version: 1}
		if err := st.Apply(ctx, store.PutMessage{Message: rec}); err != nil {
			t.Fatal(err)
		}
	}
	put("msg_list1", "wamid.L1", message.TypeList, t0)
	put("msg_text", "wamid.T", message.TypeText, t0.Add(time.Minute))
	clk.Advance(time.Hour)
	pick := func(id, ctxID string) message.InboundItem {
		it := waText(id, "", clk.Now())
		it.Body = &message.Body{Type: message.BodySelection, Selections: []message.Selection{{ID: "row-1", Title: "Row"}}}
		it.ReplyToPlatformID = ctxID
		return it
	}
	ingest(t, in, pick("wamid.P1", "wamid.L1"))
	put("msg_list2", "wamid.L2", message.TypeList, t0.Add(2*time.Minute))
	ingest(t, in, pick("wamid.P2", "wamid.L1"), pick("wamid.P3", "wamid.L2"), pick("wamid.P4", "wamid.NOWHERE"))
	evs, _ := st.Events(ctx, "", 10)
	type flags struct {
		inReplyTo        string
		stale, unmatched bool
	}
	var got []flags
	for _, e := range evs {
		got = append(got, flags{e.InReplyTo, e.Stale, e.Unmatched})
	}
	want := []flags{
		{"msg_list1", false, false}, // the latest interactive message (a text after it does not count)
		{"msg_list1", true, false},  // a newer list was sent since
		{"msg_list2", false, false},
		{"", false, true}, // kept, flagged
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// tokens decrypts "sealed:<token>" for request "req-1" only.
type tokens struct{}

func (tokens) Decrypt(_ context.Context, requestID, token string) (string, error) {
	if requestID != "req-1" || !strings.HasPrefix(token, "sealed:") {
		return "", errors.New("no key for this request")
	}
	return strings.TrimPrefix(token, "sealed:"), nil
}

func TestAuthTokensAreDecryptedBeforeStoring(t *testing.T) {
	in, st, _ := newIngester(t)
	in.AuthTokens = tokens{}
	ctx := context.Background()
	item := func(id, req, token string) message.InboundItem {
		return message.InboundItem{Kind: message.KindMessage, Channel: message.Apple, BusinessID: "b", CustomerID: "urn:mbid:x",
			PlatformMessageID: id, At: t0, ReplyToPlatformID: req,
			Body: &message.Body{Type: message.BodyAuth, Auth: &message.AuthReply{Status: "authenticated", EncryptedToken: token}}}
	}
	ingest(t, in, item("a1", "req-1", "sealed:oauth-code-123"), item("a2", "req-2", "garbage"))
	evs, _ := st.Events(ctx, "", 10)
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	if a := evs[0].Body.Auth; a.Token != "oauth-code-123" || a.Error != "" {
		t.Errorf("first auth = %+v, want the decrypted token", a)
	}
	if a := evs[1].Body.Auth; a.Token != "" || !strings.Contains(a.Error, "no key for this request") {
		t.Errorf("second auth = %+v, want an error and no token", a)
	}
	recs, _ := st.RecentMessages(ctx, store.ConversationKey{Channel: message.Apple, BusinessID: "b", CustomerID: "urn:mbid:x"}, 5)
	for _, r := range recs {
		if r.Body.Auth.EncryptedToken != "" {
			t.Error("the encrypted token was stored")
		}
	}
}

// TestAppleRoutingHints: the event carries what the message said; the
// conversation keeps the latest non-empty value of each hint, and a message
// older than the latest one changes none of them.
func TestAppleRoutingHints(t *testing.T) {
	in, st, clk := newIngester(t)
	ctx := context.Background()
	key := store.ConversationKey{Channel: message.Apple, BusinessID: "b", CustomerID: "urn:mbid:x"}
	item := func(id string, at time.Time, r message.Routing) message.InboundItem {
		return message.InboundItem{Kind: message.KindMessage, Channel: message.Apple, BusinessID: "b", CustomerID: "urn:mbid:x",
			PlatformMessageID: id, At: at, Body: &message.Body{Type: "text", Text: "hi"}, Routing: r}
	}
	steps := []struct {
		it   message.InboundItem
		want message.Routing
	}{
		{item("r1", t0, message.Routing{Intent: "billing", Group: "support", Locale: "en_GB", DeviceAgent: "iPhone OS"}),
			message.Routing{Intent: "billing", Group: "support", Locale: "en_GB", DeviceAgent: "iPhone OS"}},
		// A later message from no entry point keeps the intent and group.
		{item("r2", t0.Add(time.Minute), message.Routing{Locale: "fr_FR", DeviceAgent: "Mac OS X"}),
			message.Routing{Intent: "billing", Group: "support", Locale: "fr_FR", DeviceAgent: "Mac OS X"}},
		// A redelivered older message changes nothing.
		{item("r0", t0.Add(-time.Minute), message.Routing{Intent: "sales", Locale: "de_DE", DeviceAgent: "Watch OS"}),
			message.Routing{Intent: "billing", Group: "support", Locale: "fr_FR", DeviceAgent: "Mac OS X"}},
		{item("r3", t0.Add(2*time.Minute), message.Routing{Intent: "sales", Group: "shop"}),
			message.Routing{Intent: "sales", Group: "shop", Locale: "fr_FR", DeviceAgent: "Mac OS X"}},
	}
	for i, s := range steps {
		clk.Advance(time.Second)
		ingest(t, in, s.it)
		evs, _ := st.Events(ctx, "", 100)
		if ev := evs[len(evs)-1]; ev.PlatformMessageID != s.it.PlatformMessageID || ev.Routing != s.it.Routing {
			t.Errorf("step %d: event %s routing %+v, want %+v", i, ev.PlatformMessageID, ev.Routing, s.it.Routing)
		}
		conv, err := st.Conversation(ctx, key)
		if err != nil || conv.Routing != s.want {
			t.Errorf("step %d: conversation routing %+v (%v), want %+v", i, conv.Routing, err, s.want)
		}
		rec, err := st.MessageByPlatformID(ctx, message.Apple, s.it.PlatformMessageID)
		if err != nil || rec.Routing != s.it.Routing {
			t.Errorf("step %d: message routing %+v (%v), want %+v", i, rec.Routing, err, s.it.Routing)
		}
	}
}
