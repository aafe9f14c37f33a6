package ingest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/whatsapp"
)

const (
	phone = "447700900123"
	bsuid = "GB.13491208655302741918"
)

// from is a WhatsApp text from a customer with the given ids, keyed by the
// first one as the parser keys it.
func from(c message.Customer, id, text string, at time.Time) message.InboundItem {
	it := waText(id, text, at)
	it.Customer = &c
	it.CustomerID = c.ID()
	return it
}

func key(id string) store.ConversationKey {
	return store.ConversationKey{Channel: message.WhatsApp, BusinessID: "b", CustomerID: id}
}

func resolve(t *testing.T, st store.Store, id string) message.Conversation {
	t.Helper()
	c, err := store.ResolveConversation(context.Background(), st, key(id))
	if err != nil {
		t.Fatalf("conversation of %s: %v", id, err)
	}
	return c
}

// One customer, one conversation, whichever id Meta sends and in whatever
// order: the conversation is kept under the business-scoped user id, every
// id resolves to it with the window of the latest message, and events name
// its key. A conversation kept under a phone number before BSUIDs keeps
// its earlier messages and becomes an alias.
func TestEveryIDOfACustomerReachesOneConversation(t *testing.T) {
	tests := []struct {
		name  string
		items []message.Customer
		keys  []string // the key each message's event names
		under int      // how many messages are kept under the BSUID
	}{
		{"business-scoped id first, then the phone number", []message.Customer{{UserID: bsuid, Username: "sam.r"}, {WaID: phone, UserID: bsuid}, {UserID: bsuid}},
			[]string{bsuid, bsuid, bsuid}, 3},
		{"phone number alone first, then both, then the business-scoped id", []message.Customer{{WaID: phone}, {WaID: phone, UserID: bsuid}, {UserID: bsuid}},
			[]string{phone, bsuid, bsuid}, 2},
		{"both at once, then each alone", []message.Customer{{WaID: phone, UserID: bsuid}, {UserID: bsuid}, {WaID: phone}},
			[]string{bsuid, bsuid, bsuid}, 3},
		{"a parent id too", []message.Customer{{UserID: bsuid}, {UserID: bsuid, ParentUserID: "GB.ENT.55"}, {ParentUserID: "GB.ENT.55"}},
			[]string{bsuid, bsuid, bsuid}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, st, clk := newIngester(t)
			for i, c := range tt.items {
				at := t0.Add(time.Duration(i) * time.Hour)
				clk.Set(at)
				ingest(t, in, from(c, "wamid."+string(rune('A'+i)), "hi", at))
			}
			evs, _ := st.Events(context.Background(), "", 10)
			if len(evs) != len(tt.items) {
				t.Fatalf("%d events, want %d", len(evs), len(tt.items))
			}
			for i, ev := range evs {
				if ev.CustomerID != tt.keys[i] {
					t.Errorf("event %d names %q, want %q", i, ev.CustomerID, tt.keys[i])
				}
				if ev.Customer == nil || *ev.Customer != tt.items[i] {
					t.Errorf("event %d customer = %+v, want what the webhook said, %+v", i, ev.Customer, tt.items[i])
				}
			}
			last := t0.Add(time.Duration(len(tt.items)-1) * time.Hour)
			ids := map[string]bool{}
			for _, c := range tt.items {
				for _, id := range c.IDs() {
					ids[id] = true
				}
			}
			for id := range ids {
				c := resolve(t, st, id)
				if c.CustomerID != bsuid || !c.LastInboundAt.Equal(last) || !c.WindowClosesAt.Equal(last.Add(whatsapp.Window)) {
					t.Errorf("%s reaches %q (last inbound %s, window %s), want %q at %s", id, c.CustomerID, c.LastInboundAt, c.WindowClosesAt, bsuid, last)
				}
			}
			recs, err := st.RecentMessages(context.Background(), key(bsuid), 10)
			if err != nil || len(recs) != tt.under {
				t.Fatalf("%d messages under %s (%v), want %d", len(recs), bsuid, err, tt.under)
			}
		})
	}
}

// The conversation keeps every id and the latest profile.
func TestTheConversationKeepsEveryIDAndTheLatestProfile(t *testing.T) {
	in, st, _ := newIngester(t)
	ingest(t, in,
		from(message.Customer{WaID: phone, UserID: bsuid, Name: "Sam"}, "wamid.A", "hi", t0),
		from(message.Customer{UserID: bsuid, Username: "sam.r", Name: "Sam Rivera"}, "wamid.B", "hi", t0.Add(time.Minute)))
	for _, id := range []string{phone, bsuid} {
		c := resolve(t, st, id)
		want := message.Customer{WaID: phone, UserID: bsuid, Username: "sam.r", Name: "Sam Rivera"}
		if c.Customer == nil || *c.Customer != want {
			t.Errorf("customer by %s = %+v, want %+v", id, c.Customer, want)
		}
	}
}

// An older redelivery never moves the conversation or its profile back.
func TestLateRedeliveryOfAnIdentityChangesNothing(t *testing.T) {
	in, st, clk := newIngester(t)
	clk.Set(t0.Add(2 * time.Hour))
	ingest(t, in, from(message.Customer{WaID: phone, UserID: bsuid, Username: "sam.new"}, "wamid.NEW", "new", t0.Add(2*time.Hour)))
	ingest(t, in, from(message.Customer{WaID: phone, UserID: bsuid, Username: "sam.old"}, "wamid.OLD", "old", t0))
	c := resolve(t, st, phone)
	if c.Customer.Username != "sam.new" || !c.LastInboundAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after a late redelivery: %+v %+v", c, c.Customer)
	}
}

// A group's message opens the group's window, not the participant's.
func TestGroupMessagesOpenTheGroupsWindow(t *testing.T) {
	in, st, _ := newIngester(t)
	it := from(message.Customer{WaID: phone, Name: "Sam"}, "wamid.G", "hello all", t0)
	it.GroupID, it.CustomerID = "GROUP1", "GROUP1"
	ingest(t, in, it)
	c := resolve(t, st, "GROUP1")
	if !c.GroupChat || !c.WindowClosesAt.Equal(t0.Add(whatsapp.Window)) || c.Customer != nil {
		t.Fatalf("group conversation = %+v, want a group with an open window and no customer", c)
	}
	if _, err := st.Conversation(context.Background(), key(phone)); err == nil {
		t.Fatalf("the participant %s has a conversation of their own", phone)
	}
	evs, _ := st.Events(context.Background(), "", 10)
	if len(evs) != 1 || evs[0].GroupID != "GROUP1" || evs[0].CustomerID != "GROUP1" || evs[0].Customer.WaID != phone {
		t.Fatalf("events = %+v, want one naming the group and its participant", evs)
	}
}

// A notice (a marketing opt-out, an error Meta reported for a whole
// change) is an event only: no message, no window; delivered again, it is
// recognised.
func TestNoticesAreEventsOnly(t *testing.T) {
	in, st, _ := newIngester(t)
	pref := message.InboundItem{Kind: message.KindNotice, EventType: message.EventPreferences, Channel: message.WhatsApp, BusinessID: "b",
		CustomerID: phone, Customer: &message.Customer{WaID: phone}, PlatformMessageID: "preference.1", At: t0,
		Body: &message.Body{Type: message.BodyPreferences, Preferences: []message.Preference{{Category: "marketing_messages", Value: "stop"}}}}
	pe := &message.PlatformError{Code: 130429, Message: "Rate limit hit"}
	fault := message.InboundItem{Kind: message.KindNotice, EventType: message.EventPlatformError, Channel: message.WhatsApp, BusinessID: "b",
		CustomerID: "b", PlatformMessageID: "error.1", At: t0, StatusError: pe, Body: &message.Body{Type: message.BodyError, Errors: []message.PlatformError{*pe}}}
	if r := ingest(t, in, pref, fault, pref); r.Stored != 2 || r.Duplicates != 1 {
		t.Fatalf("result %+v, want 2 stored and 1 duplicate", r)
	}
	// The two items are of different conversations, stored in parallel:
	// their events may come in either order.
	evs, _ := st.Events(context.Background(), "", 10)
	if len(evs) == 2 && evs[0].Type == message.EventPlatformError {
		evs[0], evs[1] = evs[1], evs[0]
	}
	if len(evs) != 2 || evs[0].Type != message.EventPreferences || evs[0].Body.Preferences[0].Value != "stop" ||
		evs[1].Type != message.EventPlatformError || evs[1].Error == nil || evs[1].Error.Platform.Code != 130429 {
		t.Fatalf("events %+v", evs)
	}
	if _, err := st.Conversation(context.Background(), key(phone)); err == nil {
		t.Fatalf("a preference opened a conversation")
	}
}

// A message Meta could not render is kept and opens the window, as a
// message.failed event with Meta's error.
func TestUnrenderedMessagesAreKeptAsFailed(t *testing.T) {
	in, st, _ := newIngester(t)
	it := from(message.Customer{WaID: phone, UserID: bsuid}, "wamid.X", "", t0)
	pe := &message.PlatformError{Code: 131000, Message: "Something went wrong"}
	it.Body = &message.Body{Type: message.BodyUnsupported, Unsupported: "interactive", Errors: []message.PlatformError{*pe}, Raw: []byte(`{"type":"interactive"}`)}
	it.EventType, it.StatusError = message.EventFailed, pe
	ingest(t, in, it)
	evs, _ := st.Events(context.Background(), "", 10)
	if len(evs) != 1 || evs[0].Type != message.EventFailed || evs[0].Error == nil || evs[0].Body == nil || string(evs[0].Body.Raw) != `{"type":"interactive"}` {
		t.Fatalf("events %+v", evs)
	}
	if c := resolve(t, st, phone); c.WindowClosesAt.IsZero() {
		t.Fatalf("the customer wrote: the window must be open")
	}
}

// Items that share any id of their customer are stored in one group, in
// order; the others may go in parallel.
func TestConversationGroupsFollowEveryID(t *testing.T) {
	items := []message.InboundItem{
		from(message.Customer{WaID: phone}, "wamid.1", "a", t0),
		from(message.Customer{UserID: "GB.2"}, "wamid.2", "b", t0),
		from(message.Customer{WaID: phone, UserID: bsuid}, "wamid.3", "c", t0),
		from(message.Customer{UserID: bsuid, Username: "sam.r"}, "wamid.4", "d", t0),
	}
	var got [][]string
	for _, g := range conversationGroups(items) {
		var ids []string
		for _, it := range g {
			ids = append(ids, it.PlatformMessageID)
		}
		got = append(got, ids)
	}
	want := [][]string{{"wamid.1", "wamid.3", "wamid.4"}, {"wamid.2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
}
