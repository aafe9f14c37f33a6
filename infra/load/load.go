// Package load drives a running parley with vegeta: signed WhatsApp
// webhooks from many customers, bursts of simultaneous messages from one
// customer, and sends from concurrent clients. It reports throughput,
// latency quantiles and every answer that was not 2xx. Targets are only
// ever loopback addresses: a load run never leaves the machine.
package load

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Business is the WhatsApp phone number id the load runs as.
const Business = "106540352242922"

// CheckLoopback refuses a base URL whose host is not a loopback address.
func CheckLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("load: %q is not a URL: %w", base, err)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("load: %s is not a loopback address; load runs only target this machine", host)
	}
	return nil
}

// Customer returns the wa_id of customer i.
func Customer(i int) string { return fmt.Sprintf("4477009%05d", i) }

// run is unique to one process, so that the webhooks of two runs against
// one store never share a wamid.
var run = strconv.FormatInt(time.Now().UnixNano(), 36)

var seq atomic.Uint64

// WebhookBody returns a WhatsApp webhook with one text message from
// customer, as Meta sends it, with a wamid never used before.
func WebhookBody(customer string, at time.Time) []byte {
	n := seq.Add(1)
	wamid := fmt.Sprintf("wamid.load.%s.%d", run, n)
	body := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id": "102290129340398",
			"changes": []any{map[string]any{
				"field": "messages",
				"value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata":          map[string]any{"display_phone_number": "15550783881", "phone_number_id": Business},
					"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Load"}, "wa_id": customer}},
					"messages": []any{map[string]any{
						"from": customer, "id": wamid, "timestamp": strconv.FormatInt(at.Unix(), 10),
						"type": "text", "text": map[string]any{"body": fmt.Sprintf("load message %d", n)},
					}},
				},
			}},
		}},
	}
	b, _ := json.Marshal(body)
	return b
}

// StatusBatch returns one WhatsApp webhook holding n statuses, each for a
// wamid of its own and a customer of its own, as Meta batches them.
func StatusBatch(n int, at time.Time) []byte {
	statuses := make([]any, n)
	for i := range statuses {
		statuses[i] = map[string]any{"id": fmt.Sprintf("wamid.batch.%s.%d", run, i), "status": "delivered",
			"timestamp": strconv.FormatInt(at.Unix(), 10), "recipient_id": Customer(i)}
	}
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": "102290129340398", "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]any{"display_phone_number": "15550783881", "phone_number_id": Business},
			"statuses":          statuses}}}}}})
	return b
}

// PostSigned posts one signed webhook body and returns the status and how
// long the answer took.
func PostSigned(base, appSecret string, body []byte) (int, time.Duration, error) {
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(base, "/")+"/webhooks/whatsapp", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", Sign(body, appSecret))
	start := time.Now()
	res, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return 0, time.Since(start), err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, time.Since(start), nil
}

// Sign returns Meta's X-Hub-Signature-256 of body.
func Sign(body []byte, appSecret string) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Webhooks returns a targeter of signed webhooks to base: hit i comes from
// customer (i / burst) mod customers, so that each group of burst hits is
// one customer's.
func Webhooks(base, appSecret string, customers, burst int) vegeta.Targeter {
	var hits atomic.Uint64
	u := strings.TrimSuffix(base, "/") + "/webhooks/whatsapp"
	return func(t *vegeta.Target) error {
		i := int(hits.Add(1) - 1)
		body := WebhookBody(Customer((i/max(burst, 1))%customers), time.Now())
		t.Method, t.URL, t.Body = http.MethodPost, u, body
		t.Header = http.Header{"Content-Type": {"application/json"}, "X-Hub-Signature-256": {Sign(body, appSecret)}}
		return nil
	}
}

// Sends returns a targeter of text sends to base, customer by customer.
func Sends(base string, customers int) vegeta.Targeter {
	var hits atomic.Uint64
	u := strings.TrimSuffix(base, "/") + "/v1/messages"
	return func(t *vegeta.Target) error {
		i := int(hits.Add(1) - 1)
		body, _ := json.Marshal(map[string]any{
			"channel": "whatsapp", "businessId": Business, "to": Customer(i % customers),
			"message": map[string]any{"type": "text", "text": fmt.Sprintf("load send %d", i)},
		})
		t.Method, t.URL, t.Body = http.MethodPost, u, body
		t.Header = http.Header{"Content-Type": {"application/json"}}
		return nil
	}
}

// Bursts paces hits in groups of size, all at once, every period.
type Bursts struct {
	Size   int
	Period time.Duration
}

// Pace implements vegeta.Pacer.
func (b Bursts) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	due := time.Duration(hits/uint64(b.Size)) * b.Period
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}

// Rate implements vegeta.Pacer.
func (b Bursts) Rate(time.Duration) float64 { return float64(b.Size) / b.Period.Seconds() }

// Scenario is one attack.
type Scenario struct {
	Name     string
	Targeter vegeta.Targeter
	// Pacer paces the hits; nil sends as fast as Workers allow.
	Pacer    vegeta.Pacer
	Duration time.Duration
	// Workers is how many requests may be in flight at once (the
	// concurrent clients); 0 lets vegeta add workers as the pace needs.
	Workers int
}

// maxPacedWorkers bounds the requests in flight of a paced scenario.
const maxPacedWorkers = 256

// Report is what a scenario measured.
type Report struct {
	Name       string
	Requests   uint64
	Duration   time.Duration
	Throughput float64 // 2xx answers per second
	P50, P99   time.Duration
	Max        time.Duration
	Non2xx     int
	Codes      map[string]int
	Errors     []string
}

// Run attacks with sc and measures it.
func Run(sc Scenario) Report {
	opts := []func(*vegeta.Attacker){vegeta.KeepAlive(true), vegeta.Timeout(30 * time.Second), vegeta.Redirects(vegeta.NoFollow)}
	pacer := sc.Pacer
	if sc.Workers > 0 {
		opts = append(opts, vegeta.Workers(uint64(sc.Workers)), vegeta.MaxWorkers(uint64(sc.Workers)), vegeta.Connections(sc.Workers))
		if pacer == nil {
			pacer = vegeta.ConstantPacer{} // zero rate: as fast as the workers go
		}
	} else {
		// Paced: enough workers to keep the pace through a slow moment,
		// within the process's file descriptors.
		opts = append(opts, vegeta.MaxWorkers(maxPacedWorkers), vegeta.MaxConnections(maxPacedWorkers))
	}
	a := vegeta.NewAttacker(opts...)
	var m vegeta.Metrics
	for res := range a.Attack(sc.Targeter, pacer, sc.Duration, sc.Name) {
		m.Add(res)
	}
	m.Close()
	r := Report{Name: sc.Name, Requests: m.Requests, Duration: m.Duration + m.Wait, P50: m.Latencies.P50, P99: m.Latencies.P99, Max: m.Latencies.Max, Codes: m.StatusCodes, Errors: m.Errors}
	ok := 0
	for code, n := range m.StatusCodes {
		if len(code) == 3 && code[0] == '2' {
			ok += n
		} else {
			r.Non2xx += n
		}
	}
	if r.Duration > 0 {
		r.Throughput = float64(ok) / r.Duration.Seconds()
	}
	return r
}

// String is the report as one line.
func (r Report) String() string {
	codes := make([]string, 0, len(r.Codes))
	for c, n := range r.Codes {
		codes = append(codes, fmt.Sprintf("%s×%d", c, n))
	}
	sort.Strings(codes)
	s := fmt.Sprintf("%-34s %6d requests  %7.0f ok/s  p50 %7s  p99 %7s  max %7s  non-2xx %d  [%s]",
		r.Name, r.Requests, r.Throughput, round(r.P50), round(r.P99), round(r.Max), r.Non2xx, strings.Join(codes, " "))
	if len(r.Errors) > 0 {
		errs := slices.Clone(r.Errors)
		if len(errs) > 3 {
			errs = append(errs[:3], fmt.Sprintf("and %d more", len(r.Errors)-3))
		}
		s += "\n    errors: " + strings.Join(errs, "; ")
	}
	return s
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Floor is the baseline handler of a webhook: it reads the body and checks
// its signature, then answers 200, storing nothing. Its figures, measured in
// the same run, are what parley's are compared with.
func Floor(appSecret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil || !hmac.Equal([]byte(Sign(body, appSecret)), []byte(r.Header.Get("X-Hub-Signature-256"))) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var v map[string]any
		if json.Unmarshal(body, &v) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// OpenWindows has each customer write once through the WhatsApp
// simulator, so that sends to them are inside the 24-hour window.
func OpenWindows(base string, customers int) error {
	c := &http.Client{Timeout: 10 * time.Second}
	for i := range customers {
		body, _ := json.Marshal(map[string]any{"businessId": Business, "from": Customer(i), "name": "Load", "text": "hello"})
		res, err := c.Post(strings.TrimSuffix(base, "/")+"/sim/whatsapp/reply", "application/json", bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("load: opening the window of %s: %w", Customer(i), err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var d struct {
			WebhookStatus int `json:"webhookStatus"`
		}
		_ = json.Unmarshal(b, &d)
		if res.StatusCode != http.StatusOK || d.WebhookStatus != http.StatusOK {
			return fmt.Errorf("load: opening the window of %s: HTTP %d, webhook %d: %s", Customer(i), res.StatusCode, d.WebhookStatus, b)
		}
	}
	return nil
}
