package local

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
)

// TestLargeReplyDecoded: a list picker whose answer is over 10 KB comes as
// an interactiveDataRef; the local stack fetches, decrypts and decodes it
// in-process, and the event is the one an inline answer would give.
func TestLargeReplyDecoded(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			st := startStack(t, kind, clock.NewManual(start))
			reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "hi"})
			var items []any
			for i := range 60 {
				items = append(items, map[string]any{"id": fmt.Sprintf("sku-%d", i), "title": fmt.Sprintf("Item %d", i), "description": strings.Repeat("long words ", 18)})
			}
			list := sendApple(t, st, map[string]any{"type": "list", "body": "Pick", "bubble": map[string]any{"title": "Pick"},
				"sections": []any{map[string]any{"title": "All", "items": items}}, "multipleSelection": true})
			ids := []string{}
			for i := range 50 {
				ids = append(ids, fmt.Sprintf("sku-%d", i))
			}
			reply(t, st, "apple", map[string]any{"action": "select", "replyTo": list.PlatformMessageID, "ids": ids})
			st.Service.PayloadJobs.Wait()
			ev := lastEvent(t, st, message.EventReceived)
			for i, sel := range ev.Body.Selections {
				if want := fmt.Sprintf("sku-%d", i); sel.ID != want {
					t.Fatalf("selections[%d] = %s, want %s: only the chosen items, in order", i, sel.ID, want)
				}
			}
			if ev.Body.Type != message.BodySelection || len(ev.Body.Selections) != 50 || ev.InReplyTo != list.ID ||
				ev.Body.DecodedBy != message.DecodedByPlatform || !strings.HasPrefix(ev.Body.Ref, "decoded/apple/") {
				t.Fatalf("decoded reply event: %+v body type %s, %d selections, decoded by %q, ref %q", ev, ev.Body.Type, len(ev.Body.Selections), ev.Body.DecodedBy, ev.Body.Ref)
			}
			var rec message.Record
			call(t, "GET", st.URL+"/v1/messages/"+ev.MessageID, nil, &rec)
			if rec.Status != message.StatusReceived || len(rec.History) != 2 || rec.History[0].Status != message.StatusPayloadPending {
				t.Errorf("record %s, history %+v; want payload_pending then received", rec.Status, rec.History)
			}
		})
	}
}
