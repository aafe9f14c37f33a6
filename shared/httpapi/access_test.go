package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parleyhq/parley/shared/access"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/lambdahttp"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/store/embedded"
)

const (
	shopBusiness  = "106540352242922"
	otherBusiness = "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70"
	shopRole      = "arn:aws:iam::111122223333:role/shop-app"
)

// scopedAPI is the API limited to shopRole → shopBusiness, over a store
// holding a message and an event of each business.
func scopedAPI(t *testing.T) (http.Handler, *message.SendRequest) {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	for _, r := range []message.Record{
		{ID: "msg_shop", Channel: message.WhatsApp, BusinessID: shopBusiness, CustomerID: "447700900123", Type: message.TypeText, Status: message.StatusSent, CreatedAt: now},
		{ID: "msg_scheduled", Channel: message.Apple, BusinessID: otherBusiness, CustomerID: "urn:mbid:AQAAY1x", Type: message.TypeText, Status: message.StatusScheduled, CreatedAt: now},
	} {
		if err := st.Apply(context.Background(), store.PutMessage{Message: r, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range []string{shopBusiness, otherBusiness, shopBusiness} {
		ev := message.Event{ID: message.NewEventID(now.Add(time.Duration(i) * time.Millisecond)), Type: message.EventSent, Time: now, BusinessID: b, MessageID: "msg_" + b}
		if err := st.Apply(context.Background(), store.AppendEvent{Event: ev, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	scopes, err := access.Parse(`{"` + shopRole + `": ["` + shopBusiness + `"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var got message.SendRequest
	return API(sender{&got}, st, nil, quiet, scopes), &got
}

func sendBody(business string) string {
	return `{"channel":"whatsapp","businessId":"` + business + `","to":"447700900123","message":{"type":"text","text":"hi"}}`
}

// TestScopedAccess: a caller limited to one business sends as it, reads
// its messages, conversations and events, and is refused — 403 forbidden
// naming the business — for any other; a caller the scopes do not name, or
// none, is refused everything.
func TestScopedAccess(t *testing.T) {
	h, sent := scopedAPI(t)
	tests := []struct {
		name, caller, method, path, body string
		wantStatus                       int
		wantBody                         string
	}{
		{"send as its business", shopRole, "POST", "/v1/messages", sendBody(shopBusiness), 202, `"id":"msg_1"`},
		{"send as another", shopRole, "POST", "/v1/messages", sendBody(otherBusiness), 403, `may not send as business ` + otherBusiness},
		{"read its message", shopRole, "GET", "/v1/messages/msg_shop", "", 200, `"id":"msg_shop"`},
		{"read another's message", shopRole, "GET", "/v1/messages/msg_scheduled", "", 403, `may not read business ` + otherBusiness},
		{"cancel another's message", shopRole, "DELETE", "/v1/messages/msg_scheduled", "", 403, `may not cancel messages of business ` + otherBusiness},
		{"cancel an unknown message", shopRole, "DELETE", "/v1/messages/msg_none", "", 404, `"code":"not_found"`},
		{"its conversation", shopRole, "GET", "/v1/conversations/whatsapp/" + shopBusiness + "/447700900123", "", 200, `"businessId":"` + shopBusiness + `"`},
		{"another's conversation", shopRole, "GET", "/v1/conversations/apple/" + otherBusiness + "/urn:mbid:AQAAY1x", "", 403, `"code":"forbidden"`},
		{"a role with a path", "arn:aws:iam::111122223333:role/apps/shop-app", "POST", "/v1/messages", sendBody(shopBusiness), 202, `"id":"msg_1"`},
		{"a session of the role", "arn:aws:sts::111122223333:assumed-role/shop-app/i-0abc", "GET", "/v1/messages/msg_shop", "", 200, `"id":"msg_shop"`},
		{"the role in another account", "arn:aws:iam::444455556666:role/shop-app", "POST", "/v1/messages", sendBody(shopBusiness), 403, `"field":"businessId"`},
		{"a caller not named", "arn:aws:iam::111122223333:user/alice", "GET", "/v1/events", "", 403, `may not read the events of any business`},
		{"no caller", "", "POST", "/v1/messages", sendBody(shopBusiness), 403, `a caller without an IAM identity may not send as business ` + shopBusiness},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*sent = message.SendRequest{}
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			if tt.caller != "" {
				r = r.WithContext(access.WithCaller(r.Context(), tt.caller))
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Fatalf("got %d %s, want %d containing %s", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if w.Code == 403 && sent.BusinessID != "" {
				t.Errorf("a refused send reached the use case: %+v", *sent)
			}
		})
	}

	r := httptest.NewRequest("GET", "/v1/events", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r.WithContext(access.WithCaller(r.Context(), shopRole)))
	var page eventsPage
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || w.Code != 200 {
		t.Fatalf("events: %d %s", w.Code, w.Body)
	}
	if len(page.Events) != 2 || page.Events[0].BusinessID != shopBusiness || page.Events[1].BusinessID != shopBusiness {
		t.Errorf("events %+v, want the two of %s", page.Events, shopBusiness)
	}
	if page.Next != page.Events[1].ID {
		t.Errorf("next %q, want the last event's id", page.Next)
	}
}

// TestScopedAccessThroughLambda: the caller is the IAM principal API
// Gateway puts in the HTTP API event (requestContext.authorizer.iam), here
// a session of the scoped role.
func TestScopedAccessThroughLambda(t *testing.T) {
	h, _ := scopedAPI(t)
	invoke := lambdahttp.HTTPAPI(h)
	for _, tt := range []struct {
		business   string
		wantStatus int
		wantBody   string
	}{
		{shopBusiness, 202, `"status":"sent"`},
		{otherBusiness, 403, `"code":"forbidden","message":"arn:aws:sts::111122223333:assumed-role/shop-app/i-0abc may not send as business ` + otherBusiness},
	} {
		var e events.APIGatewayV2HTTPRequest
		e.RawPath = "/v1/messages"
		e.Headers = map[string]string{"content-type": "application/json"}
		e.Body = base64.StdEncoding.EncodeToString([]byte(sendBody(tt.business)))
		e.IsBase64Encoded = true
		e.RequestContext.HTTP.Method = "POST"
		e.RequestContext.RequestID = "Jy4h1i5ZoAMEJaQ="
		e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
				AccountID: "111122223333", CallerID: "AROAEXAMPLEID:i-0abc",
				UserARN: "arn:aws:sts::111122223333:assumed-role/shop-app/i-0abc",
			},
		}
		res, err := invoke(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tt.wantStatus || !strings.Contains(res.Body, tt.wantBody) {
			t.Errorf("send as %s: %d %s, want %d containing %s", tt.business, res.StatusCode, res.Body, tt.wantStatus, tt.wantBody)
		}
	}
}

// TestScopedMedia: the files of another business's message are refused
// like the message itself.
func TestScopedMedia(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := message.Record{ID: "msg_photo", Channel: message.WhatsApp, BusinessID: otherBusiness, CustomerID: "447700900123", Type: "image", CreatedAt: time.Now()}
	if err := st.Apply(context.Background(), store.PutMessage{Message: rec, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	scopes, _ := access.Parse(`{"` + shopRole + `": ["` + shopBusiness + `"]}`)
	h := Media(st, nil, nil, time.Now, quiet, scopes)
	r := httptest.NewRequest("GET", "/v1/messages/msg_photo/media", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r.WithContext(access.WithCaller(r.Context(), shopRole)))
	if w.Code != 403 || !strings.Contains(w.Body.String(), "may not read business "+otherBusiness) {
		t.Errorf("got %d %s, want 403 naming %s", w.Code, w.Body, otherBusiness)
	}
}
