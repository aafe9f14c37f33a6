package local

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/apphook"
	"github.com/parleyhq/parley/shared/message"
)

// TestAppReceiver: the receiver takes an event signed with its key, answers
// what ?answer= asks, and refuses one that is unsigned, signed with another
// key or too old, listing only what it verified.
func TestAppReceiver(t *testing.T) {
	key, _ := apphook.ParseSecret(DefaultEventsWebhookSecret)
	other, _ := apphook.ParseSecret(hookSecret)
	app := &AppReceiver{Key: key, Now: time.Now}
	srv := httptest.NewServer(http.StripPrefix("/sim/app", app))
	defer srv.Close()
	ev := message.Event{ID: "1795512600000000000-00000001-58d2565f", Type: message.EventReceived, Time: time.Now()}
	ctx := context.Background()

	if err := (&apphook.Client{URL: srv.URL + "/sim/app/events", Key: key}).Post(ctx, ev); err != nil {
		t.Errorf("a signed event: %v", err)
	}
	err := (&apphook.Client{URL: srv.URL + "/sim/app/events?answer=503", Key: key}).Post(ctx, ev)
	if apphook.FailureKind(err) != "5xx" {
		t.Errorf("?answer=503: %v", err)
	}
	for name, c := range map[string]*apphook.Client{
		"another key": {URL: srv.URL + "/sim/app/events", Key: other},
		"too old":     {URL: srv.URL + "/sim/app/events", Key: key, Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }},
	} {
		var ans *apphook.AnswerError
		if err := c.Post(ctx, ev); err == nil || !errors.As(err, &ans) || ans.Status != http.StatusUnauthorized {
			t.Errorf("%s: %v, want 401", name, err)
		}
	}
	res, err := http.Post(srv.URL+"/sim/app/events", "application/json", strings.NewReader(`{"id":"x"}`))
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned: %v %v, want 401", res.Status, err)
	}
	res, err = http.Get(srv.URL + "/sim/app/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got []ReceivedEvent
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Answer != http.StatusNoContent || got[1].Answer != http.StatusServiceUnavailable || got[0].Event.ID != ev.ID || got[0].ID != ev.ID {
		t.Errorf("listed %+v, want the two verified requests", got)
	}
}
