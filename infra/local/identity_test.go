package local

import (
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/whatsappsim"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
)

// A customer who uses a username writes by business-scoped user id only;
// parley answers them by that id, and once they also show their phone
// number, either id reaches the one conversation — on both stores.
func TestCustomersByBusinessScopedUserID(t *testing.T) {
	const bsuid = "GB.13491208655302741918"
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewManual(start)
			st := startStack(t, kind, clk)
			reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "userId": bsuid, "username": "sam.r", "hidePhone": true, "text": "hi, it's Sam"})
			ev := lastEvent(t, st, message.EventReceived)
			if ev.CustomerID != bsuid || ev.Customer == nil || ev.Customer.Username != "sam.r" || ev.Customer.WaID != "" {
				t.Fatalf("received %+v (customer %+v), want it from %s by username", ev, ev.Customer, bsuid)
			}
			code, res, e := sendText(t, st, "whatsapp", waBusiness, bsuid, "Hello Sam")
			if code != http.StatusAccepted {
				t.Fatalf("send to %s: %d %+v", bsuid, code, e)
			}
			accepted := simAccepted(t, st)
			if last := accepted[len(accepted)-1]; last.UserID != bsuid || last.WAMID != res.PlatformMessageID || last.FailedWith != 0 {
				t.Fatalf("the simulator accepted %+v", last)
			}

			// Later they share their number: the same conversation.
			clk.Advance(time.Hour)
			reply(t, st, "whatsapp", map[string]any{"businessId": waBusiness, "from": waCustomer, "userId": bsuid, "text": "my number, too"})
			if ev := lastEvent(t, st, message.EventReceived); ev.CustomerID != bsuid || ev.Customer.WaID != waCustomer {
				t.Fatalf("received %+v, want it in %s's conversation", ev, bsuid)
			}
			if code, _, e := sendText(t, st, "whatsapp", waBusiness, waCustomer, "Thanks"); code != http.StatusAccepted {
				t.Fatalf("send to the phone number: %d %+v", code, e)
			}
			var view struct {
				CustomerID     string            `json:"customerId"`
				Customer       *message.Customer `json:"customer"`
				Window         struct{ Open bool }
				RecentMessages []message.Record `json:"recentMessages"`
			}
			if code := call(t, "GET", st.URL+"/v1/conversations/whatsapp/"+waBusiness+"/"+waCustomer, nil, &view); code != http.StatusOK {
				t.Fatalf("GET conversation: %d", code)
			}
			if view.CustomerID != bsuid || view.Customer == nil || view.Customer.WaID != waCustomer || view.Customer.UserID != bsuid ||
				!view.Window.Open || len(view.RecentMessages) != 4 {
				t.Fatalf("conversation by phone number = %+v (customer %+v), want %s's with 4 messages", view, view.Customer, bsuid)
			}
		})
	}
}

// simAccepted lists what the WhatsApp simulator accepted.
func simAccepted(t *testing.T, st *Stack) []whatsappsim.Accepted {
	t.Helper()
	var list []whatsappsim.Accepted
	if code := call(t, "GET", st.URL+"/sim/whatsapp/messages", nil, &list); code != http.StatusOK || len(list) == 0 {
		t.Fatalf("GET /sim/whatsapp/messages: %d %d", code, len(list))
	}
	return list
}
