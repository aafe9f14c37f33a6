// Package faultproxy is a misbehaving AWS for tests: an HTTP proxy in front
// of moto (infra/moto) that, request by request, fails the way AWS fails.
// parley's AWS client is pointed at the proxy's URL instead of moto's.
//
// Each request is named by its operation (Op: the X-Amz-Target of a
// JSON-protocol call, "S3.PutObject", "S3.UploadPart", … for S3), and a
// Rule for that operation picks, with a random source seeded by the test,
// whether and how it fails:
//
//   - before it reaches moto (nothing was done): a 500, a 503, a throttling
//     error, DynamoDB's ProvisionedThroughputExceededException;
//   - after moto did it (the client cannot know): the answer lost, as a
//     500 or as a connection closed without an answer; the answer cut off
//     mid-body by a connection reset; the answer held past the client's
//     deadline; a 200 whose body arrived damaged (DynamoDB's X-Amz-Crc32
//     then does not match).
//
// moto ignores a TransactWriteItems' ClientRequestToken; DynamoDB answers a
// repeat of a token that succeeded, within ten minutes, as it answered the
// first, without writing again, and refuses the token with other
// parameters (IdempotentParameterMismatchException). The proxy does that in
// front of moto, so that a retry after a lost answer meets what it would
// meet in AWS.
//
// Every injected fault is recorded (Injected), so a test can tell which
// writes happened without their client knowing.
package faultproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is one way a request fails.
type Fault int

// The faults. Those before Forwarded never reach moto; the others do, and
// moto acts on them.
const (
	None Fault = iota
	// InternalError answers 500 InternalServerError.
	InternalError
	// Unavailable answers 503 ServiceUnavailable.
	Unavailable
	// Throttled answers 400 ThrottlingException.
	Throttled
	// ThroughputExceeded answers 400
	// ProvisionedThroughputExceededException (DynamoDB).
	ThroughputExceeded
	// Stalled holds the request, never forwarded, until the client gives
	// up (or Proxy.Delay passes: then 503): a request lost on its way.
	Stalled

	// Forwarded marks the faults after which moto has acted.
	Forwarded
	// LostAs500 forwards, then answers 500 instead of moto's answer.
	LostAs500
	// LostConnection forwards, then closes the connection without an
	// answer.
	LostConnection
	// ResetMidBody forwards, sends moto's status, headers and half its
	// body, then resets the connection.
	ResetMidBody
	// Delayed forwards, then holds moto's answer for Proxy.Delay (or until
	// the client gives up).
	Delayed
	// Damaged forwards, then answers moto's status and headers with one
	// byte of the body changed: a DynamoDB answer's X-Amz-Crc32 no longer
	// matches.
	Damaged
)

var faultNames = [...]string{"none", "500", "503", "throttled", "throughput-exceeded", "stalled", "", "lost-as-500",
	"lost-connection", "reset-mid-body", "delayed", "damaged"}

func (f Fault) String() string {
	if int(f) < len(faultNames) {
		return faultNames[f]
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// Acted reports whether moto acted on a request that met f.
func (f Fault) Acted() bool { return f == None || f > Forwarded }

// Before are the faults answered before a request reaches moto.
var Before = []Fault{InternalError, Unavailable, Throttled, ThroughputExceeded, Stalled}

// After are the faults of requests moto acted on, but whose answer the
// client does not get whole and in time.
var After = []Fault{LostAs500, LostConnection, ResetMidBody, Delayed, Damaged}

// Rule picks the faults of one operation.
type Rule struct {
	// Op is the operation (see Op); "" matches every operation no other
	// rule names.
	Op string
	// Rate is the share of requests that fail, 0 to 1.
	Rate float64
	// Faults are picked from evenly; none means no fault.
	Faults []Fault
	// Limit, when above 0, is how many requests the rule fails; after
	// that it fails none.
	Limit int
}

// Injection is a request that met a fault.
type Injection struct {
	Op    string
	Fault Fault
	// Status is moto's answer when the request reached it, 0 otherwise.
	Status int
	// Body is the request's body (JSON-protocol calls only).
	Body []byte
}

// Proxy forwards to moto and fails requests as its rules say. Set its
// fields before Start; Rules may be replaced with SetRules while it runs.
type Proxy struct {
	// Target is moto's endpoint, http://127.0.0.1:PORT.
	Target string
	// Seed seeds the choice of faults: the same seed and the same
	// requests in the same order give the same faults.
	Seed uint64
	// Delay is how long a Delayed answer is held; 0 means 3 seconds.
	Delay time.Duration

	srv    *httptest.Server
	client *http.Client

	mu       sync.Mutex
	rules    []Rule
	failed   []int             // requests each rule failed
	counts   map[string]uint64 // requests per operation
	injected []Injection
	tokens   map[string]token
	stopped  chan struct{}
}

// token is what the proxy keeps of a TransactWriteItems token.
type token struct {
	request  [32]byte // the request's parameters, without the token
	inFlight bool
	answer   []byte // moto's 200 answer
}

// Start starts a proxy in front of target with the given seed and rules.
// It stops when the test ends (t.Cleanup).
func Start(t interface{ Cleanup(func()) }, target string, seed uint64, rules ...Rule) *Proxy {
	p := &Proxy{Target: target, Seed: seed}
	p.SetRules(rules...)
	p.Start()
	t.Cleanup(p.Close)
	return p
}

// Start listens on a free loopback port.
func (p *Proxy) Start() {
	p.stopped = make(chan struct{})
	p.client = &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
}

// URL is the proxy's endpoint, to give parley's AWS client.
func (p *Proxy) URL() string { return p.srv.URL }

// Close stops the proxy; answers held by Delayed are let go.
func (p *Proxy) Close() {
	select {
	case <-p.stopped:
		return
	default:
	}
	close(p.stopped)
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// SetRules replaces the rules; requests already picked keep their fault.
func (p *Proxy) SetRules(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = rules
	p.failed = make([]int, len(rules))
}

// Injected returns the faults injected so far, in order.
func (p *Proxy) Injected() []Injection {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Injection(nil), p.injected...)
}

// Requests is how many requests of op the proxy has seen.
func (p *Proxy) Requests(op string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[op]
}

// Op names the operation of a request: the X-Amz-Target of a
// JSON-protocol call (DynamoDB_20120810.TransactWriteItems); for S3,
// "S3." and the REST operation its method and query make
// (S3.PutObject, S3.CreateMultipartUpload, S3.UploadPart,
// S3.CompleteMultipartUpload, S3.AbortMultipartUpload, S3.GetObject,
// S3.HeadObject, S3.DeleteObject, S3.CreateBucket).
func Op(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t
	}
	q := r.URL.Query()
	object := strings.Count(strings.Trim(r.URL.Path, "/"), "/") > 0
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "S3.CreateMultipartUpload"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "S3.CompleteMultipartUpload"
	case r.Method == http.MethodPut && q.Has("uploadId"):
		return "S3.UploadPart"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "S3.AbortMultipartUpload"
	case r.Method == http.MethodPut && object:
		return "S3.PutObject"
	case r.Method == http.MethodPut:
		return "S3.CreateBucket"
	case r.Method == http.MethodGet && object:
		return "S3.GetObject"
	case r.Method == http.MethodHead:
		return "S3.HeadObject"
	case r.Method == http.MethodDelete:
		return "S3.DeleteObject"
	}
	return "S3." + r.Method
}

// pick chooses the fault of the n-th request of op: from a source seeded
// with the seed, the operation and n, so that requests of other
// operations, in whatever order they interleave, do not change it.
func (p *Proxy) pick(op string) (Fault, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.counts == nil {
		p.counts = map[string]uint64{}
	}
	n := p.counts[op]
	p.counts[op] = n + 1
	r := -1
	for i := range p.rules {
		if p.rules[i].Op == op {
			r = i
			break
		}
		if p.rules[i].Op == "" && r < 0 {
			r = i
		}
	}
	if r < 0 {
		return None, n
	}
	rule := p.rules[r]
	if len(rule.Faults) == 0 || rule.Rate <= 0 || rule.Limit > 0 && p.failed[r] >= rule.Limit {
		return None, n
	}
	h := fnv.New64a()
	h.Write([]byte(op))
	rng := rand.New(rand.NewPCG(p.Seed, h.Sum64()^n))
	if rng.Float64() >= rule.Rate {
		return None, n
	}
	p.failed[r]++
	return rule.Faults[rng.IntN(len(rule.Faults))], n
}

func (p *Proxy) record(in Injection) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.injected = append(p.injected, in)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	op := Op(r)
	fault, _ := p.pick(op)
	in := Injection{Op: op, Fault: fault}
	if r.Header.Get("X-Amz-Target") != "" {
		in.Body = body
	}
	if fault != None && !fault.Acted() {
		p.record(in)
		if fault == Stalled && !p.hold(r) {
			return
		}
		p.refuse(w, r, fault)
		return
	}

	status, header, answer, err := p.forward(r, op, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if fault == None {
		writeAnswer(w, status, header, answer)
		return
	}
	in.Status = status
	p.record(in)
	switch fault {
	case LostAs500:
		jsonAnswer(w, http.StatusInternalServerError, "InternalServerError", "Internal server error")
	case LostConnection:
		hangUp(w, nil)
	case ResetMidBody:
		header.Set("Content-Length", strconv.Itoa(len(answer)))
		hangUp(w, func(c net.Conn) {
			var b bytes.Buffer
			fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
			_ = header.Write(&b)
			b.WriteString("\r\n")
			b.Write(answer[:len(answer)/2])
			_, _ = c.Write(b.Bytes())
		})
	case Delayed:
		if p.hold(r) {
			writeAnswer(w, status, header, answer)
		}
	case Damaged:
		damaged := append([]byte(nil), answer...)
		if len(damaged) == 0 {
			damaged = []byte("{")
		} else {
			damaged[len(damaged)/2] ^= 0x20
		}
		if header.Get("X-Amz-Crc32") == "" && r.Header.Get("X-Amz-Target") != "" {
			header.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(answer)), 10))
		}
		writeAnswer(w, status, header, damaged)
	}
}

// hold waits for Delay; false when the client gave up first.
func (p *Proxy) hold(r *http.Request) bool {
	d := p.Delay
	if d <= 0 {
		d = 3 * time.Second
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-p.stopped:
	}
	return false
}

// refuse answers a fault that stops a request before moto.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, f Fault) {
	s3 := r.Header.Get("X-Amz-Target") == ""
	switch {
	case f == InternalError && s3:
		xmlAnswer(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	case f == InternalError:
		jsonAnswer(w, http.StatusInternalServerError, "InternalServerError", "Internal server error")
	case (f == Unavailable || f == Stalled) && s3:
		xmlAnswer(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case f == Unavailable || f == Stalled:
		jsonAnswer(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Service Unavailable")
	case s3:
		xmlAnswer(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case f == Throttled:
		jsonAnswer(w, http.StatusBadRequest, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
	default:
		jsonAnswer(w, http.StatusBadRequest, "ProvisionedThroughputExceededException",
			"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.")
	}
}

// forward sends the request to moto, answering a repeated
// TransactWriteItems token as DynamoDB does.
func (p *Proxy) forward(r *http.Request, op string, body []byte) (int, http.Header, []byte, error) {
	tok, params := transactToken(op, body)
	if tok != "" {
		p.mu.Lock()
		if p.tokens == nil {
			p.tokens = map[string]token{}
		}
		prev, seen := p.tokens[tok]
		switch {
		case seen && prev.request != params:
			p.mu.Unlock()
			return dynamoAnswer(http.StatusBadRequest, errorDoc("IdempotentParameterMismatchException",
				"Transaction ClientRequestToken "+tok+" was used with different parameters"))
		case seen && prev.inFlight:
			p.mu.Unlock()
			return dynamoAnswer(http.StatusBadRequest, errorDoc("TransactionInProgressException",
				"The transaction with the given request token is already in progress."))
		case seen:
			p.mu.Unlock()
			return dynamoAnswer(http.StatusOK, prev.answer)
		}
		p.tokens[tok] = token{request: params, inFlight: true}
		p.mu.Unlock()
	}
	status, header, answer, err := p.send(r, body)
	if tok != "" {
		p.mu.Lock()
		if err == nil && status == http.StatusOK {
			p.tokens[tok] = token{request: params, answer: answer}
		} else {
			// Only a transaction that succeeded is remembered: a repeat of
			// one that failed is tried anew.
			delete(p.tokens, tok)
		}
		p.mu.Unlock()
	}
	return status, header, answer, err
}

func (p *Proxy) send(r *http.Request, body []byte) (int, http.Header, []byte, error) {
	u, err := url.Parse(p.Target)
	if err != nil {
		return 0, nil, nil, err
	}
	u.Path, u.RawPath, u.RawQuery = r.URL.Path, r.URL.RawPath, r.URL.RawQuery
	req, err := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host
	req.ContentLength = int64(len(body))
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header.Clone(), answer, nil
}

// transactToken returns a TransactWriteItems request's token and a hash
// of its other parameters.
func transactToken(op string, body []byte) (string, [32]byte) {
	if op != "DynamoDB_20120810.TransactWriteItems" {
		return "", [32]byte{}
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return "", [32]byte{}
	}
	var tok string
	_ = json.Unmarshal(doc["ClientRequestToken"], &tok)
	delete(doc, "ClientRequestToken")
	rest, _ := json.Marshal(doc) // map keys sort: the same parameters hash the same
	return tok, sha256.Sum256(rest)
}

func errorDoc(code, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#" + code, "message": msg})
	return b
}

func dynamoAnswer(status int, body []byte) (int, http.Header, []byte, error) {
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	return status, h, body, nil
}

// writeAnswer writes an answer; a HEAD's keeps moto's Content-Length,
// the size of the object it describes.
func writeAnswer(w http.ResponseWriter, status int, header http.Header, body []byte) {
	for k, v := range header {
		w.Header()[k] = v
	}
	if len(body) > 0 || header.Get("Content-Length") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func jsonAnswer(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func xmlAnswer(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><RequestId>FAULTPROXY</RequestId></Error>", code, msg)
}

// hangUp takes the connection over, writes what write writes, and closes
// it with a reset (no orderly close): the client sees the connection fail.
func hangUp(w http.ResponseWriter, write func(net.Conn)) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if write != nil {
		write(conn)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
