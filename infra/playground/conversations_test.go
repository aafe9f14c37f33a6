package playground

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// TestConversations: GET /playground/conversations lists every conversation
// the event log names, once, the most recent first, with the store's window
// or closed state; events appended later move a conversation up.
func TestConversations(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	ev := func(i int, ch message.Channel, biz, cust, typ string) message.Event {
		t := at.Add(time.Duration(i) * time.Minute)
		return message.Event{ID: fmt.Sprintf("%019d-%08d-0000", t.UnixNano(), i), Type: typ, Time: t, Channel: ch, BusinessID: biz, CustomerID: cust}
	}
	log := &eventLog{}
	log.append(
		ev(0, message.WhatsApp, "1065", "447700900123", message.EventReceived),
		ev(1, message.Apple, "3f2c", "urn:mbid:A", message.EventReceived),
		ev(2, message.WhatsApp, "1065", "447700900123", message.EventSent),
		ev(3, message.WhatsApp, "1065", "447700900999", message.EventSent),
		ev(4, message.Apple, "3f2c", "urn:mbid:A", message.EventClosed),
	)
	// More than one batch of the log: a conversation whose events fill it.
	for i := 5; i < 5+streamBatch+3; i++ {
		log.append(ev(i, message.WhatsApp, "1065", "447700900555", message.EventStatus))
	}
	closes := at.Add(24 * time.Hour)
	states := map[store.ConversationKey]message.Conversation{
		{Channel: message.WhatsApp, BusinessID: "1065", CustomerID: "447700900123"}: {WindowClosesAt: closes},
		{Channel: message.Apple, BusinessID: "3f2c", CustomerID: "urn:mbid:A"}:      {Closed: true},
		{Channel: message.WhatsApp, BusinessID: "1065", CustomerID: "447700900555"}: {},
	}
	conv := func(_ context.Context, k store.ConversationKey) (message.Conversation, error) {
		c, ok := states[k]
		if !ok {
			return message.Conversation{}, store.ErrNotFound
		}
		return c, nil
	}
	srv := httptest.NewServer(Handler(Config{Events: log.read, Conversation: conv, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()

	type item struct {
		Channel, BusinessID, CustomerID, LastEvent string
		LastActivityAt                             time.Time
		Window                                     *struct {
			Open     bool
			ClosesAt time.Time
		}
		Closed bool
	}
	list := func(query string) (int, []item) {
		t.Helper()
		res, err := http.Get(srv.URL + "/playground/conversations" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var page struct{ Conversations []item }
		json.NewDecoder(res.Body).Decode(&page)
		return res.StatusCode, page.Conversations
	}
	code, got := list("")
	if code != http.StatusOK || len(got) != 4 {
		t.Fatalf("GET = %d, %d conversations %+v; want 200 and 4", code, len(got), got)
	}
	want := []string{"447700900555", "urn:mbid:A", "447700900999", "447700900123"}
	for i, w := range want {
		if got[i].CustomerID != w {
			t.Errorf("conversation %d is %s, want %s (most recent first)", i, got[i].CustomerID, w)
		}
	}
	if g := got[0]; g.LastEvent != message.EventStatus || !g.LastActivityAt.Equal(at.Add(time.Duration(5+streamBatch+2)*time.Minute)) || g.Window == nil || g.Window.Open {
		t.Errorf("the busiest conversation %+v: want its newest event and a closed window", g)
	}
	if g := got[1]; g.Channel != "apple" || !g.Closed || g.Window != nil || g.LastEvent != message.EventClosed {
		t.Errorf("the Apple conversation %+v: want closed, no window", g)
	}
	if g := got[2]; g.Window == nil || g.Window.Open {
		t.Errorf("a conversation the store does not know %+v: want a closed window", g)
	}
	if g := got[3]; g.Window == nil || !g.Window.Open || !g.Window.ClosesAt.Equal(closes) {
		t.Errorf("the open window %+v: want open until %s", g, closes)
	}

	// A new event moves its conversation to the top.
	log.append(ev(200, message.WhatsApp, "1065", "447700900123", message.EventReceived))
	if _, got := list("?limit=2"); len(got) != 2 || got[0].CustomerID != "447700900123" || got[1].CustomerID != "447700900555" {
		t.Errorf("after a new event, limit 2: %+v", got)
	}
	for _, bad := range []string{"?limit=0", "?limit=101", "?limit=x"} {
		if code, _ := list(bad); code != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", bad, code)
		}
	}
	log.failures = 1
	if code, _ := list(""); code != http.StatusInternalServerError {
		t.Errorf("GET with the log away = %d, want 500", code)
	}
}
