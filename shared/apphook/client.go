package apphook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Timeout bounds one delivery attempt.
const Timeout = 10 * time.Second

// Client makes one delivery attempt of an event to the app.
type Client struct {
	URL string
	Key []byte
	// CurrentKey, when set, gives the key of each request in place of Key:
	// that of a secret that follows a rotation.
	CurrentKey func(ctx context.Context) ([]byte, error)
	// HTTP defaults to a client with Timeout that follows no redirect (a
	// 3xx is a failed attempt: the signed URL is the one configured).
	HTTP *http.Client
	// Now stamps webhook-timestamp; nil means time.Now.
	Now func() time.Time
}

// Post delivers ev once: a 2xx answer is a delivery, anything else an
// error saying what the app answered.
func (c *Client) Post(ctx context.Context, ev message.Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	key := c.Key
	if c.CurrentKey != nil {
		if key, err = c.CurrentKey(ctx); err != nil {
			return fmt.Errorf("the signing key is not available: %w", err)
		}
	}
	ts := now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "parley-webhooks")
	req.Header.Set(HeaderID, ev.ID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(ts))
	req.Header.Set(HeaderSignature, Sign(key, ev.ID, ts, body))
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("the app's endpoint could not be reached: %w", err)
	}
	defer res.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 256))
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return &AnswerError{Status: res.StatusCode, Body: strings.TrimSpace(string(snippet))}
	}
	return nil
}

// AnswerError is a failed attempt the app answered: its status, and the
// start of its body.
type AnswerError struct {
	Status int
	Body   string
}

func (e *AnswerError) Error() string {
	return fmt.Sprintf("the app answered HTTP %d: %s", e.Status, e.Body)
}

// Failure kinds of a delivery attempt (FailureKind), beside the answer's
// status class ("3xx", "4xx", "5xx").
const (
	FailureTimeout     = "timeout"     // no answer within Timeout
	FailureUnreachable = "unreachable" // no connection, refused, reset, TLS
	FailureInvalid     = "invalid"     // the queue's message is not an event
)

// FailureKind names why an attempt failed, for metrics: the app's answer's
// status class, or the kind of the transport's failure.
func FailureKind(err error) string {
	var ans *AnswerError
	var nerr net.Error
	switch {
	case errors.As(err, &ans):
		return fmt.Sprintf("%dxx", ans.Status/100)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return FailureTimeout
	case errors.Is(err, errNotAnEvent):
		return FailureInvalid
	default:
		return FailureUnreachable
	}
}

var defaultHTTP = &http.Client{
	Timeout:       Timeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}
