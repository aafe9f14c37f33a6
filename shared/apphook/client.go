package apphook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	ts := now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "parley-webhooks")
	req.Header.Set(HeaderID, ev.ID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(ts))
	req.Header.Set(HeaderSignature, Sign(c.Key, ev.ID, ts, body))
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
		return fmt.Errorf("the app answered HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(snippet)))
	}
	return nil
}

var defaultHTTP = &http.Client{
	Timeout:       Timeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}
