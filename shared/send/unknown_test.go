package send

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/store"
	"github.com/parleyhq/parley/shared/whatsapp"
)

type whatsAppPlatform struct{ *whatsapp.Client }

func (whatsAppPlatform) Supports(typ string) bool                    { return whatsapp.Supports(typ) }
func (whatsAppPlatform) Validate(m message.Message) message.Problems { return whatsapp.Validate(m) }

type applePlatform struct{ *apple.Client }

func (applePlatform) Supports(typ string) bool                    { return apple.Supports(typ) }
func (applePlatform) Validate(m message.Message) message.Problems { return apple.Validate(m) }

// TestNeverSentTwice sends through the real platform clients to servers
// that read the whole request, then fail: time out, reset the connection,
// cut a 200's body, or answer a bare 502. Exactly one copy arrives; the
// message is recorded unknown with a message.unknown event; the caller gets
// delivery_unknown naming the record; and a retry with the same
// idempotency key answers the same, sending nothing.
func TestNeverSentTwice(t *testing.T) {
	behaviours := map[string]func(w http.ResponseWriter, r *http.Request, release <-chan struct{}){
		"timeout": func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		},
		"reset": func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		},
		"slow body after a 200": func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
			w.Header().Set("Content-Length", "500")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"messaging_product":"whatsapp",`)
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		},
		"502 without an error code": func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	for name, behave := range behaviours {
		for _, ch := range []message.Channel{message.WhatsApp, message.Apple} {
			t.Run(name+"/"+string(ch), func(t *testing.T) {
				var copies atomic.Int64
				release := make(chan struct{})
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.ReadAll(r.Body)
					copies.Add(1)
					behave(w, r, release)
				}))
				defer srv.Close()
				defer close(release)
				hc := &http.Client{Timeout: 200 * time.Millisecond}
				s, st, clk := newSender(t, nil)
				openPlatformWindow(t, st, clk.Now())
				s.Retry = retry.Policy{Attempts: 3, Budget: 5 * time.Second, Sleep: func(context.Context, time.Duration) error { return nil }}
				s.Platforms = map[message.Channel]Platform{
					message.WhatsApp: whatsAppPlatform{&whatsapp.Client{BaseURL: srv.URL + "/v25.0", Token: "t", HTTP: hc}},
					message.Apple:    applePlatform{&apple.Client{BaseURL: srv.URL + "/v1", MSPID: "m", Secret: []byte("0123456789abcdef0123456789abcdef"), HTTP: hc}},
				}
				req := platformText(ch, "hello")
				req.IdempotencyKey = "once"
				ctx := context.Background()
				if name == "slow body after a 200" && ch == message.Apple {
					// Apple's 200 is the whole answer: the message is sent.
					for range 2 {
						if res, err := s.Send(ctx, req); err != nil || res.Status != "sent" {
							t.Fatalf("Send = %+v, %v; want sent", res, err)
						}
					}
					if n := copies.Load(); n != 1 {
						t.Errorf("the platform received %d copies, want exactly 1", n)
					}
					return
				}
				for try := range 2 {
					_, err := s.Send(ctx, req)
					var e *message.Error
					if !errors.As(err, &e) || e.Code != message.CodeDeliveryUnknown || e.MessageID == "" {
						t.Fatalf("try %d: Send = %v, want delivery_unknown naming the message", try, err)
					}
					rec, rerr := st.Message(ctx, e.MessageID)
					if rerr != nil || rec.Status != message.StatusUnknown {
						t.Fatalf("record = %+v, %v; want status unknown", rec, rerr)
					}
				}
				if n := copies.Load(); n != 1 {
					t.Errorf("the platform received %d copies, want exactly 1", n)
				}
				evs, err := st.Events(ctx, "", 10)
				if err != nil || len(evs) != 1 || evs[0].Type != message.EventUnknown || evs[0].Status != message.StatusUnknown {
					t.Errorf("events = %+v, %v; want one message.unknown", evs, err)
				}
			})
		}
	}
}

// TestRetriesWhatCertainlyDidNotArrive: refused connections and throttling
// are retried, within the budget.
func TestRetriesWhatCertainlyDidNotArrive(t *testing.T) {
	var copies atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if copies.Add(1) < 3 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.ok"}]}`)
	}))
	defer srv.Close()
	s, st, clk := newSender(t, nil)
	openPlatformWindow(t, st, clk.Now())
	s.Platforms = map[message.Channel]Platform{message.WhatsApp: whatsAppPlatform{&whatsapp.Client{BaseURL: srv.URL, Token: "t"}}}
	res, err := s.Send(context.Background(), platformText(message.WhatsApp, "hello"))
	if err != nil || res.PlatformMessageID != "wamid.ok" || copies.Load() != 3 {
		t.Fatalf("Send = %+v, %v after %d requests; want wamid.ok after 3", res, err, copies.Load())
	}
}

// Ids in the forms the platforms' clients take.
const (
	waBusiness    = "106540352242922"
	waCustomer    = "447700900123"
	appleBusiness = "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70"
	appleCustomer = "urn:mbid:AQAAY1x/Wq+Lr0c="
)

// platformText is a text request with ids in the channel's own forms.
func platformText(ch message.Channel, s string) message.SendRequest {
	req := text(ch, s)
	req.BusinessID, req.To = waBusiness, waCustomer
	if ch == message.Apple {
		req.BusinessID, req.To = appleBusiness, appleCustomer
	}
	return req
}

// openPlatformWindow opens the window of platformText's WhatsApp customer.
func openPlatformWindow(t *testing.T, st store.Store, at time.Time) {
	t.Helper()
	err := st.Apply(context.Background(), store.TouchConversation{
		Key:       store.ConversationKey{Channel: message.WhatsApp, BusinessID: waBusiness, CustomerID: waCustomer},
		InboundAt: at, Window: 24 * time.Hour, Retention: 30 * 24 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
}
