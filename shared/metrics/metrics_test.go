package metrics_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/metrics"
)

// emfLine is an EMF line as CloudWatch reads it.
type emfLine struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	fields map[string]any
}

// parse reads every line of out as an EMF document and checks what
// CloudWatch requires of it: the metadata, every metric and dimension
// named as a member of the root, dimensions that are strings.
func parse(t *testing.T, out []byte) []emfLine {
	t.Helper()
	var lines []emfLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l emfLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not JSON: %s", sc.Bytes())
		}
		if err := json.Unmarshal(sc.Bytes(), &l.fields); err != nil {
			t.Fatal(err)
		}
		if l.AWS.Timestamp == 0 || len(l.AWS.CloudWatchMetrics) != 1 {
			t.Fatalf("no EMF metadata: %s", sc.Bytes())
		}
		d := l.AWS.CloudWatchMetrics[0]
		for _, m := range d.Metrics {
			if _, ok := l.fields[m.Name].(float64); !ok {
				t.Errorf("metric %s has no numeric value: %s", m.Name, sc.Bytes())
			}
		}
		for _, set := range d.Dimensions {
			for _, name := range set {
				if _, ok := l.fields[name].(string); !ok {
					t.Errorf("dimension %s has no string value: %s", name, sc.Bytes())
				}
			}
		}
		if !slices.ContainsFunc(d.Dimensions, func(s []string) bool { return len(s) == 0 }) {
			t.Errorf("no aggregate (empty) dimension set: %s", sc.Bytes())
		}
		lines = append(lines, l)
	}
	return lines
}

// point is what a test expects of one line.
type point struct {
	name string
	unit string
	dims map[string]string
}

func check(t *testing.T, lines []emfLine, want []point) {
	t.Helper()
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i, w := range want {
		d := lines[i].AWS.CloudWatchMetrics[0]
		if d.Metrics[0].Name != w.name || d.Metrics[0].Unit != w.unit {
			t.Errorf("line %d: %s in %s, want %s in %s", i, d.Metrics[0].Name, d.Metrics[0].Unit, w.name, w.unit)
		}
		var names []string
		if len(d.Dimensions) == 2 {
			names = d.Dimensions[0]
		}
		if !slices.Equal(names, metrics.Catalog[w.name]) {
			t.Errorf("line %d (%s): dimension set %v, the catalog says %v", i, w.name, names, metrics.Catalog[w.name])
		}
		if len(names) != len(w.dims) {
			t.Errorf("line %d (%s): dimensions %v, want %v", i, w.name, names, w.dims)
		}
		for k, v := range w.dims {
			if lines[i].fields[k] != v || !slices.Contains(names, k) {
				t.Errorf("line %d (%s): dimension %s = %v, want %s", i, w.name, k, lines[i].fields[k], v)
			}
		}
	}
}

func TestRecordLine(t *testing.T) {
	var out bytes.Buffer
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	r := &metrics.Recorder{Namespace: "parley/prod", W: &out, Now: func() time.Time { return at },
		Properties: func(context.Context) map[string]string { return map[string]string{"request_id": "r-1"} }}
	r.Duration(context.Background(), metrics.PlatformLatency, metrics.Dimensions{Channel: "whatsapp"}, 1500*time.Microsecond)
	lines := parse(t, out.Bytes())
	check(t, lines, []point{{metrics.PlatformLatency, "Milliseconds", map[string]string{"Channel": "whatsapp"}}})
	l := lines[0]
	if l.AWS.Timestamp != at.UnixMilli() || l.AWS.CloudWatchMetrics[0].Namespace != "parley/prod" {
		t.Errorf("timestamp %d namespace %s", l.AWS.Timestamp, l.AWS.CloudWatchMetrics[0].Namespace)
	}
	if l.fields[metrics.PlatformLatency] != 1.5 || l.fields["request_id"] != "r-1" {
		t.Errorf("fields %v", l.fields)
	}
}

func TestFallbackLag(t *testing.T) {
	var out bytes.Buffer
	r := &metrics.Recorder{W: &out}
	r.Record(context.Background(), metrics.FallbackLag, metrics.Seconds, 42, metrics.Dimensions{})
	lines := parse(t, out.Bytes())
	check(t, lines, []point{{metrics.FallbackLag, "Seconds", nil}})
	if got := lines[0].AWS.CloudWatchMetrics[0].Dimensions; len(got) != 1 || len(got[0]) != 0 {
		t.Errorf("dimensions %v, want only the aggregate", got)
	}
}

func TestNilRecorder(t *testing.T) {
	var r *metrics.Recorder
	r.Count(context.Background(), metrics.MessagesSent, metrics.Dimensions{}, 1)
	r.Platform(context.Background(), message.WhatsApp, "text", time.Now(), nil)
	if h := r.Webhooks(http.NotFoundHandler()); h == nil {
		t.Fatal("no handler")
	}
}

type publisher struct{ err error }

func (p publisher) Publish(context.Context, ...message.Event) error { return p.err }

func TestEvents(t *testing.T) {
	var out bytes.Buffer
	r := &metrics.Recorder{W: &out}
	boom := errors.New("bus down")
	e := metrics.Events{Publisher: publisher{boom}, Metrics: r}
	err := e.Publish(context.Background(),
		message.Event{Type: message.EventReceived, Channel: message.WhatsApp, CustomerID: "447700900123", Body: &message.Body{Type: "selection"}},
		message.Event{Type: message.EventFailed, Channel: message.Apple, Error: &message.Error{Code: message.CodeConversationClosed}},
		message.Event{Type: message.EventStatus, Channel: message.WhatsApp, Status: message.StatusFailed, Error: &message.Error{Code: message.CodeWindowClosed}},
		message.Event{Type: message.EventStatus, Channel: message.WhatsApp, Status: "read"},
	)
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want the publisher's", err)
	}
	lines := parse(t, out.Bytes())
	check(t, lines, []point{
		{metrics.EventsPublished, "Count", map[string]string{"Type": message.EventReceived}},
		{metrics.MessagesReceived, "Count", map[string]string{"Channel": "whatsapp", "Type": "selection"}},
		{metrics.EventsPublished, "Count", map[string]string{"Type": message.EventFailed}},
		{metrics.MessagesFailed, "Count", map[string]string{"Channel": "apple", "Code": "conversation_closed"}},
		{metrics.EventsPublished, "Count", map[string]string{"Type": message.EventStatus}},
		{metrics.MessagesFailed, "Count", map[string]string{"Channel": "whatsapp", "Code": "window_closed"}},
		{metrics.EventsPublished, "Count", map[string]string{"Type": message.EventStatus}},
	})
	if bytes.Contains(out.Bytes(), []byte("447700900123")) {
		t.Error("a customer id reached a metric line")
	}
}

func TestSendsAndPlatformCalls(t *testing.T) {
	var out bytes.Buffer
	r := &metrics.Recorder{W: &out}
	ctx := context.Background()
	r.Platform(ctx, message.Apple, "list", time.Now(), nil)
	r.Platform(ctx, message.WhatsApp, "text", time.Now(), &message.Error{Code: message.CodePlatformUnavailable})
	r.SendOutcome(ctx, message.WhatsApp, "", &message.Error{Code: message.CodeWindowClosed})
	r.SendOutcome(ctx, message.WhatsApp, metrics.StatusFallbackSent, nil)
	r.SendOutcome(ctx, message.WhatsApp, "sent", nil)
	r.SendOutcome(ctx, message.Apple, "", &message.Error{Code: message.CodeInvalidMessage})
	r.Job(ctx, "fetch", 1, 5, nil)
	r.Job(ctx, "fetch", 2, 5, errors.New("mmcs 503"))
	r.Job(ctx, "decode", 5, 5, errors.New("bad plist"))
	check(t, parse(t, out.Bytes()), []point{
		{metrics.PlatformLatency, "Milliseconds", map[string]string{"Channel": "apple"}},
		{metrics.MessagesSent, "Count", map[string]string{"Channel": "apple", "Type": "list"}},
		{metrics.PlatformLatency, "Milliseconds", map[string]string{"Channel": "whatsapp"}},
		{metrics.PlatformErrors, "Count", map[string]string{"Channel": "whatsapp", "Code": "platform_unavailable"}},
		{metrics.WindowRefusals, "Count", map[string]string{"Channel": "whatsapp"}},
		{metrics.FallbacksSent, "Count", map[string]string{"Channel": "whatsapp"}},
		{metrics.PayloadJobs, "Count", map[string]string{"Type": "fetch", "Outcome": "done"}},
		{metrics.PayloadJobs, "Count", map[string]string{"Type": "fetch", "Outcome": "retry"}},
		{metrics.PayloadJobs, "Count", map[string]string{"Type": "decode", "Outcome": "failed"}},
	})
}

func TestWebhooks(t *testing.T) {
	var out bytes.Buffer
	r := &metrics.Recorder{W: &out}
	h := r.Webhooks(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/webhooks/apple/message" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	for _, p := range []string{"/webhooks/whatsapp", "/webhooks/apple/message", "/webhooks/apple/pay/paymentGateway"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, p, nil))
	}
	check(t, parse(t, out.Bytes()), []point{
		{metrics.WebhookLatency, "Milliseconds", map[string]string{"Channel": "whatsapp", "Type": "message"}},
		{metrics.WebhookLatency, "Milliseconds", map[string]string{"Channel": "apple", "Type": "message"}},
		{metrics.WebhookServerErrors, "Count", map[string]string{"Channel": "apple", "Type": "message"}},
		{metrics.WebhookLatency, "Milliseconds", map[string]string{"Channel": "apple", "Type": "payment"}},
	})
}
