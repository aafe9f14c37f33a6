package applepay_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/applepay"
	"github.com/parleyhq/parley/shared/message"
	"golang.org/x/time/rate"
)

// BenchmarkCallback is one update callback through the handler, with its
// checks and the versioned write of the request's state in the embedded
// store; BenchmarkCallbackFloor is the same body posted straight to the
// processor, the part of the work that forwarding cannot avoid.
func BenchmarkCallback(b *testing.B) {
	id := message.NewUUID()
	r := newBenchRig(b, id)
	body := callbackBody(id)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rec := httptest.NewRecorder()
		r.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, applepay.PathPrefix+"paymentMethodUpdate", strings.NewReader(body)))
		if rec.Code != http.StatusOK {
			b.Fatalf("answer %d %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkCallbackFloor(b *testing.B) {
	id := message.NewUUID()
	r := newBenchRig(b, id)
	body := callbackBody(id)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		res, err := http.Post(r.url+"/pay/paymentMethodUpdate", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
	}
}

// newBenchRig is a rig whose limits never bite.
func newBenchRig(b *testing.B, id string) *rig {
	return newRig(b, applepay.Limits{Rate: rate.Inf, RequestRate: rate.Inf, PerRequest: 1 << 30}, payRequest(id, now.Add(-time.Minute), true, true))
}
