package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/shared/retry"
)

// Service describes a service that speaks AWS's JSON protocol.
type Service struct {
	// SigningName is the service's name in signatures.
	SigningName string
	// Host is the first label of the service's endpoint host.
	Host string
	// Target prefixes the operation in the X-Amz-Target header.
	Target string
	// JSONVersion is the protocol's version: "1.0" or "1.1".
	JSONVersion string
}

// The JSON-protocol services parley calls.
var (
	DynamoDB       = Service{SigningName: "dynamodb", Host: "dynamodb", Target: "DynamoDB_20120810", JSONVersion: "1.0"}
	SQS            = Service{SigningName: "sqs", Host: "sqs", Target: "AmazonSQS", JSONVersion: "1.0"}
	EventBridge    = Service{SigningName: "events", Host: "events", Target: "AWSEvents", JSONVersion: "1.1"}
	SecretsManager = Service{SigningName: "secretsmanager", Host: "secretsmanager", Target: "secretsmanager", JSONVersion: "1.1"}
)

// MaxAnswer caps the answer of a JSON call read into memory: well above
// DynamoDB's 1 MB pages, 16 MB BatchGetItem answers and Secrets Manager's
// 64 KB secrets.
const MaxAnswer = 32 << 20

// backoff is the wait between tries: AWS's standard mode's shape (full
// jitter, doubling) scaled down to a Lambda invocation's seconds.
var backoff = retry.Policy{Base: 50 * time.Millisecond, Max: 2 * time.Second}

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	retryIf    func(*Error) bool
	onAttempt  func()
	atMostOnce bool
}

// RetryIf adds to the errors a call tries again those f accepts.
func RetryIf(f func(*Error) bool) CallOption {
	return func(o *callOptions) { o.retryIf = f }
}

// AtMostOnce makes a call that AWS would act on twice (EventBridge's
// PutEvents, which has no idempotency token) try again only when the
// request certainly did not reach AWS or was refused unread: the
// connection failed before the request was sent, or AWS throttled it
// (Throttled). After any other failure (a 5xx, an answer lost, cut off or
// damaged, a timeout) AWS may have acted on it, and the error is
// returned for the caller to treat as an unknown outcome.
func AtMostOnce() CallOption {
	return func(o *callOptions) { o.atMostOnce = true }
}

// OnAttempt calls f before each try of a call is sent.
func OnAttempt(f func()) CallOption {
	return func(o *callOptions) { o.onAttempt = f }
}

// Call sends operation op of svc with in as its JSON body (a []byte or
// json.RawMessage goes as it is) and decodes a successful answer into out
// (nil discards it). An error answer is returned as *Error. A call is
// tried up to MaxAttempts times, with backoff, while it fails in a way AWS
// asks to retry (Retryable, a connection failure, an answer that arrived
// damaged) or a RetryIf option accepts; ctx bounds it all.
func (c *Client) Call(ctx context.Context, svc Service, op string, in, out any, opts ...CallOption) error {
	var o callOptions
	for _, f := range opts {
		f(&o)
	}
	body, err := jsonBody(in)
	if err != nil {
		return fmt.Errorf("awsapi: %s.%s: %w", svc.Target, op, err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	url := c.BaseURL(svc.Host) + "/"
	var answer []byte
	err = c.tries(ctx, o, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return false, err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-"+svc.JSONVersion)
		req.Header.Set("X-Amz-Target", svc.Target+"."+op)
		// The answer's CRC32 (DynamoDB) is of the bytes as sent: no
		// transparent decompression.
		req.Header.Set("Accept-Encoding", "identity")
		c.sign(req, hash, svc.SigningName)
		var sent func() bool
		if o.atMostOnce {
			req, sent = traced(req)
		}
		resp, err := c.http().Do(req)
		if err != nil {
			return sent == nil || !sent(), err
		}
		defer resp.Body.Close()
		answer, err = io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
		switch {
		case err != nil:
			return !o.atMostOnce, fmt.Errorf("reading the answer: %w", err)
		case len(answer) > MaxAnswer:
			return false, fmt.Errorf("answer over %d bytes", MaxAnswer)
		case !crcMatches(resp.Header.Get("X-Amz-Crc32"), answer):
			return !o.atMostOnce, errors.New("answer damaged: its CRC32 does not match")
		case resp.StatusCode/100 != 2:
			return false, jsonError(resp, answer)
		}
		return false, nil
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Operation = svc.Target + "." + op
			c.redact(e)
			return e
		}
		return fmt.Errorf("awsapi: %s.%s: %w", svc.Target, op, err)
	}
	if out == nil || len(answer) == 0 {
		return nil
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("awsapi: %s.%s: decoding the answer: %w", svc.Target, op, err)
	}
	return nil
}

// Do signs req for signingName (payloadHash as in Sign) and sends it,
// returning the answer whatever its status, for the caller to read in its
// protocol (S3's errors are XML; see ReadXMLError). A connection failure
// or an answer AWS asks to retry (see Retryable; S3's 400 RequestTimeout)
// is tried again, up to MaxAttempts times, when the body
// can be sent again: none, or req.GetBody set (http.NewRequest sets it
// for bytes and strings readers). The last answer is returned as it came.
func (c *Client) Do(ctx context.Context, signingName string, req *http.Request, payloadHash string, opts ...CallOption) (*http.Response, error) {
	var o callOptions
	for _, f := range opts {
		f(&o)
	}
	// Bytes come back as they are stored: Go's transport would otherwise
	// ask for gzip and unpack an object stored gzip-encoded.
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable {
		r := req.WithContext(ctx)
		if o.onAttempt != nil {
			o.onAttempt()
		}
		c.sign(r, payloadHash, signingName)
		resp, err := c.http().Do(r)
		if err != nil {
			return nil, fmt.Errorf("awsapi: %s %s: %w", req.Method, req.URL.Redacted(), err)
		}
		return resp, nil
	}
	var resp *http.Response
	first := true
	err := c.tries(ctx, o, func(ctx context.Context) (bool, error) {
		r := req.Clone(ctx)
		if !first && req.GetBody != nil {
			b, err := req.GetBody()
			if err != nil {
				return false, err
			}
			r.Body = b
		}
		first = false
		c.sign(r, payloadHash, signingName)
		var err error
		resp, err = c.http().Do(r)
		if err != nil {
			return true, err
		}
		if resp.StatusCode < 400 {
			return false, nil
		}
		// Read the error document, so that the last answer can still be
		// returned with it, and tell from it whether AWS asks to retry (a
		// 500 or 503, S3's 400 RequestTimeout: the connection stalled
		// while the request was sent).
		doc, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(doc))
		if e := XMLError(resp.StatusCode, doc); Retryable(e.Status, e.Code) {
			return true, e
		}
		return false, nil
	})
	var e *Error
	if err != nil && !errors.As(err, &e) {
		return nil, fmt.Errorf("awsapi: %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	return resp, nil
}

// tries runs try until it succeeds, fails for good, or the attempts or ctx
// run out. try reports whether its failure may be tried again; an *Error
// may be tried again when Retryable says so or the RetryIf option does.
func (c *Client) tries(ctx context.Context, o callOptions, try func(ctx context.Context) (again bool, err error)) error {
	var again bool
	p := backoff
	p.Attempts = c.attempts()
	return p.DoIf(ctx, func(err error) bool {
		if ctx.Err() != nil {
			return false
		}
		var e *Error
		switch {
		case errors.As(err, &e) && o.atMostOnce:
			return Throttled(e.Status, e.Code)
		case errors.As(err, &e):
			return again || Retryable(e.Status, e.Code) || o.retryIf != nil && o.retryIf(e)
		}
		return again
	}, func(ctx context.Context, _ int) error {
		if o.onAttempt != nil {
			o.onAttempt()
		}
		var err error
		again, err = try(ctx)
		return err
	})
}

// traced returns req traced so that sent reports whether it was written
// in full to a connection: a failure before that never reached AWS.
func traced(req *http.Request) (*http.Request, func() bool) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace)), wrote.Load
}

// redact takes the session token out of an error answer: AWS's answer to
// a signature it refuses (InvalidSignatureException) quotes the canonical
// request it expected, X-Amz-Security-Token included, and errors are
// logged.
func (c *Client) redact(e *Error) {
	tok := c.Credentials.SessionToken
	if tok == "" {
		return
	}
	e.Message = strings.ReplaceAll(e.Message, tok, "[session token]")
	e.Body = bytes.ReplaceAll(e.Body, []byte(tok), []byte("[session token]"))
}

func (c *Client) sign(req *http.Request, payloadHash, service string) {
	if c.Credentials.AccessKeyID == "" {
		return
	}
	Sign(req, payloadHash, c.Credentials, service, c.Region, c.now())
}

func jsonBody(in any) ([]byte, error) {
	switch v := in.(type) {
	case nil:
		return []byte("{}"), nil
	case []byte:
		return v, nil
	case json.RawMessage:
		return v, nil
	}
	return json.Marshal(in)
}

// crcMatches reports whether body has the CRC32 header's checksum, when
// the answer carries one (DynamoDB's do).
func crcMatches(header string, body []byte) bool {
	if header == "" {
		return true
	}
	want, err := strconv.ParseUint(header, 10, 32)
	return err == nil && uint32(want) == crc32.ChecksumIEEE(body)
}
