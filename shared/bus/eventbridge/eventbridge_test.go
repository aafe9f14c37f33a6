package eventbridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/awsapi"
	ebapi "github.com/parleyhq/parley/shared/awsapi/eventbridge"
	sqsapi "github.com/parleyhq/parley/shared/awsapi/sqs"
	"github.com/parleyhq/parley/shared/bus/eventbridge"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
)

// bus is an EventBridge endpoint answering PutEvents as AWS documents
// it: one result per entry, in order, with an EventId when it took the
// entry, an ErrorCode and ErrorMessage when not, and FailedEntryCount.
// refuse says which code an entry gets the n-th time its event is sent
// ("" takes it); status and answer, when set, refuse the whole request.
type bus struct {
	refuse func(id string, n int) string
	status int
	answer string

	mu    sync.Mutex
	seen  map[string]int
	sent  [][]string // the event ids of each request
	taken []string
}

func newBus(t *testing.T) (*bus, string) {
	b := &bus{seen: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Entries []struct{ Source, DetailType, Detail, EventBusName string }
		}
		if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, `{"__type":"SerializationException"}`, http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		var ids []string
		for _, e := range req.Entries {
			var ev message.Event
			json.Unmarshal([]byte(e.Detail), &ev)
			ids = append(ids, ev.ID)
		}
		b.sent = append(b.sent, ids)
		if b.status != 0 {
			w.WriteHeader(b.status)
			io.WriteString(w, b.answer)
			return
		}
		type result struct {
			EventID      string `json:"EventId,omitempty"`
			ErrorCode    string `json:",omitempty"`
			ErrorMessage string `json:",omitempty"`
		}
		var out struct {
			FailedEntryCount int
			Entries          []result
		}
		for _, id := range ids {
			b.seen[id]++
			code := ""
			if b.refuse != nil {
				code = b.refuse(id, b.seen[id])
			}
			if code != "" {
				out.FailedEntryCount++
				out.Entries = append(out.Entries, result{ErrorCode: code, ErrorMessage: "Refused: " + code + "."})
				continue
			}
			b.taken = append(b.taken, id)
			out.Entries = append(out.Entries, result{EventID: fmt.Sprintf("6a7e3f1c-2b4d-4e8a-9c0f-%012d", len(b.taken))})
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return b, srv.URL
}

func (b *bus) requests() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.sent
	b.sent = nil
	return r
}

// dlq creates the dead-letter queue on moto and returns its reader and URL.
func dlq(t *testing.T) (*sqs.Client, string, string) {
	t.Helper()
	m := moto.StartT(t)
	reader := sqs.NewFromConfig(m.SDKConfig())
	created, err := reader.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("parley-events-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	return reader, *created.QueueUrl, m.Endpoint()
}

func publisher(busURL, motoURL, dlqURL string, policy retry.Policy) *eventbridge.Publisher {
	return &eventbridge.Publisher{
		Client: ebapi.New(&awsapi.Client{Endpoint: busURL, Region: "us-east-1", MaxAttempts: 1}),
		Bus:    "parley",
		DLQ:    sqsapi.New(awsapi.FromEnv(func(string) string { return "" }, motoURL)),
		DLQURL: dlqURL,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Retry:  policy,
	}
}

func testEvents(n int) []message.Event {
	var evs []message.Event
	for i := range n {
		evs = append(evs, message.Event{ID: fmt.Sprint("evt_", i), Type: "message.received", Time: time.Date(2026, 12, 3, 9, 0, i, 0, time.UTC),
			Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: "447700900123"})
	}
	return evs
}

// TestRefusedEventsAreParked: the events EventBridge refuses for good —
// entries of a request it accepts refused with a code that is not
// retryable, or the whole request — go to the dead-letter queue (SQS on
// moto), each once, as the JSON the bus would have carried, without being
// sent again; the accepted ones do not.
func TestRefusedEventsAreParked(t *testing.T) {
	ctx := context.Background()
	reader, dlqURL, motoURL := dlq(t)
	b, busURL := newBus(t)
	p := publisher(busURL, motoURL, dlqURL, retry.Policy{})
	evs := testEvents(3)
	b.refuse = func(id string, _ int) string {
		return map[string]string{"evt_1": "MalformedDetail", "evt_2": "NotAuthorizedForDetailTypeException"}[id]
	}
	if err := p.Publish(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if got := parked(t, reader, dlqURL); !slices.Equal(got, []string{"evt_1", "evt_2"}) {
		t.Errorf("a request with two entries refused for good parked %v, want evt_1 and evt_2", got)
	}
	if got := b.requests(); len(got) != 1 || !slices.Equal(got[0], []string{"evt_0", "evt_1", "evt_2"}) {
		t.Errorf("the bus received %v, want one request of the 3 events and no second one", got)
	}

	b.status, b.answer = http.StatusBadRequest, `{"__type":"ResourceNotFoundException","message":"Event bus parley does not exist."}`
	if err := p.Publish(ctx, evs[0], evs[2]); err != nil {
		t.Fatal(err)
	}
	if got := parked(t, reader, dlqURL); !slices.Equal(got, []string{"evt_0", "evt_2"}) {
		t.Errorf("a refused request parked %v, want both its events", got)
	}

	p.DLQURL = ""
	if err := p.Publish(ctx, evs[0]); err == nil || !strings.Contains(err.Error(), "evt_0") {
		t.Errorf("without a dead-letter queue: %v, want an error naming the event", err)
	}
}

// TestRetryableRefusalsAreSentAgain: the entries EventBridge refuses with
// InternalFailure or ThrottlingException are sent again, those alone, after
// a backoff, up to the policy's attempts; one taken on a later request is
// not parked, one refused on every attempt is, as is one refused for good
// (never sent again).
func TestRetryableRefusalsAreSentAgain(t *testing.T) {
	ctx := context.Background()
	reader, dlqURL, motoURL := dlq(t)
	b, busURL := newBus(t)
	var waits []time.Duration
	p := publisher(busURL, motoURL, dlqURL, retry.Policy{Attempts: 3, Base: 100 * time.Millisecond, Max: time.Second,
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
	b.refuse = func(id string, n int) string {
		switch {
		case id == "evt_1" && n == 1:
			return "InternalFailure"
		case id == "evt_2" && n <= 2:
			return "ThrottlingException"
		case id == "evt_3":
			return "ThrottlingException"
		case id == "evt_4":
			return "InvalidArgument"
		}
		return ""
	}
	var logged strings.Builder
	p.Log = slog.New(slog.NewTextHandler(&logged, nil))
	if err := p.Publish(ctx, testEvents(5)...); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"event_id=evt_3 type=message.received channel=whatsapp refused=ThrottlingException",
		`event_id=evt_4 type=message.received channel=whatsapp refused="InvalidArgument: Refused: InvalidArgument."`} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("the log does not say %s:\n%s", want, logged.String())
		}
	}
	want := [][]string{{"evt_0", "evt_1", "evt_2", "evt_3", "evt_4"}, {"evt_1", "evt_2", "evt_3"}, {"evt_2", "evt_3"}}
	if got := b.requests(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the bus received %v, want %v", got, want)
	}
	if !slices.Equal(b.taken, []string{"evt_0", "evt_1", "evt_2"}) {
		t.Errorf("the bus took %v, want evt_0, evt_1 and evt_2, each once", b.taken)
	}
	if got := parked(t, reader, dlqURL); !slices.Equal(got, []string{"evt_3", "evt_4"}) {
		t.Errorf("parked %v, want evt_3 (throttled on every attempt) and evt_4 (refused for good)", got)
	}
	if len(waits) != 2 || waits[0] < 50*time.Millisecond || waits[0] > 150*time.Millisecond || waits[1] < 100*time.Millisecond || waits[1] > 300*time.Millisecond {
		t.Errorf("waited %v before the two requests again, want about 100 ms then 200 ms", waits)
	}

	// The default policy, with a bus that throttles an entry once.
	p.Retry = retry.Policy{}
	b.refuse = func(id string, n int) string {
		if n == 1 {
			return "ThrottlingException"
		}
		return ""
	}
	evs := testEvents(7)[5:]
	if err := p.Publish(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if got := b.requests(); len(got) != 2 {
		t.Errorf("default policy: the bus received %v, want the events again once", got)
	}
	if got := parked(t, reader, dlqURL); len(got) != 0 {
		t.Errorf("default policy parked %v, want none", got)
	}
}

// TestRetriesEndWithTheContext: no wait runs past the context's deadline,
// and a request that fails while entries are being sent again parks them:
// the events refused for now are parked, not lost.
func TestRetriesEndWithTheContext(t *testing.T) {
	reader, dlqURL, motoURL := dlq(t)
	b, busURL := newBus(t)
	p := publisher(busURL, motoURL, dlqURL, retry.Policy{Attempts: 5, Base: time.Hour, Max: time.Hour})
	b.refuse = func(id string, _ int) string { return "InternalFailure" }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	if err := p.Publish(ctx, testEvents(2)...); err != nil {
		t.Fatal(err)
	}
	if got := b.requests(); len(got) != 1 {
		t.Errorf("the bus received %v, want one request: the next wait ends past the context", got)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("Publish waited %v past what the context allows", time.Since(start))
	}
	if got := parked(t, reader, dlqURL); !slices.Equal(got, []string{"evt_0", "evt_1"}) {
		t.Errorf("parked %v, want both events", got)
	}

	// Refused for now, then the bus fails the request that sends them
	// again: parked.
	p.Retry = retry.Policy{Attempts: 3, Sleep: func(context.Context, time.Duration) error {
		b.mu.Lock()
		b.status, b.answer = http.StatusBadRequest, `{"__type":"AccessDeniedException","message":"Not allowed."}`
		b.mu.Unlock()
		return nil
	}}
	if err := p.Publish(context.Background(), testEvents(4)[2:]...); err != nil {
		t.Fatal(err)
	}
	if got := b.requests(); len(got) != 2 {
		t.Errorf("the bus received %v, want the events, then again", got)
	}
	if got := parked(t, reader, dlqURL); !slices.Equal(got, []string{"evt_2", "evt_3"}) {
		t.Errorf("parked %v, want evt_2 and evt_3", got)
	}
}

// parked reads the ids of the events in the dead-letter queue.
func parked(t *testing.T, reader *sqs.Client, url string) []string {
	t.Helper()
	out, err := reader.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, msg := range out.Messages {
		var ev message.Event
		if err := json.Unmarshal([]byte(*msg.Body), &ev); err != nil {
			t.Fatalf("parked %q: %v", *msg.Body, err)
		}
		ids = append(ids, ev.ID)
		if _, err := reader.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: msg.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(ids)
	return ids
}

// A request the bus may have acted on (a 5xx) is not sent again, since
// PutEvents has no idempotency token: its events are parked, on the bus at
// most once. A throttled one, which the bus did not take, is.
func TestRequestsWithAnUnknownOutcomeAreNotSentAgain(t *testing.T) {
	ctx := context.Background()
	reader, dlqURL, motoURL := dlq(t)
	b, busURL := newBus(t)
	p := publisher(busURL, motoURL, dlqURL, retry.Policy{})
	p.Client = ebapi.New(&awsapi.Client{Endpoint: busURL, Region: "us-east-1"}) // AWS's 3 tries
	evs := testEvents(2)

	b.status, b.answer = http.StatusInternalServerError, `{"__type":"InternalException","message":"Internal error."}`
	if err := p.Publish(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if got := b.requests(); len(got) != 1 {
		t.Errorf("a request answered 500 was sent %d times, want once", len(got))
	}
	if got := parked(t, reader, dlqURL); !slices.Equal(got, []string{"evt_0", "evt_1"}) {
		t.Errorf("a request answered 500 parked %v, want both its events", got)
	}

	b.status, b.answer = http.StatusBadRequest, `{"__type":"ThrottlingException","message":"Rate exceeded."}`
	if err := p.Publish(ctx, evs[0]); err != nil {
		t.Fatal(err)
	}
	if got := b.requests(); len(got) != 3 {
		t.Errorf("a throttled request was sent %d times, want 3", len(got))
	}
}
