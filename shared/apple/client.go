package apple

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/retry"
	"github.com/parleyhq/parley/shared/safefetch"
)

// maxDetails is how much of an error response Send keeps.
const maxDetails = 2048

// defaultHTTP is the client Send uses when Client.HTTP is nil; Apple's
// samples give gateway calls 10 seconds.
var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

// Client sends messages to Apple's MSP gateway.
type Client struct {
	// BaseURL is the gateway up to the version, e.g.
	// https://mspgw.push.apple.com/v1.
	BaseURL string
	// MSPID is the MSP id Apple issued; it is the iss of every token.
	MSPID string
	// Secret is the decoded API secret (see DecodeSecret).
	Secret []byte
	// HTTP is the client to send with; nil means a client with a 10-second
	// timeout.
	HTTP *http.Client
	// Now is the clock of the tokens' iat; nil means time.Now.
	Now func() time.Time

	// AuthKey returns the responseEncryptionKey of an auth message, made
	// for and stored under requestID (the message's requestIdentifier, its
	// Apple message id): Base64 of the 97-byte uncompressed P-384 public
	// key. Send calls it just before sending an auth message; nil means
	// auth messages cannot be sent.
	AuthKey func(ctx context.Context, requestID string) (publicKey string, err error)
	// MerchantSession returns an Apple Pay merchant session for
	// initiativeContext (the message's paymentGatewayUrl), as the Apple Pay
	// server returned it. Send calls it just before sending an applePay
	// message, since sessions expire; nil means Apple Pay messages cannot be
	// sent.
	MerchantSession func(ctx context.Context, initiativeContext string) (json.RawMessage, error)
	// Attachment opens a file uploaded through the send API's POST
	// /v1/uploads under key, and returns its size; an error wrapping
	// ErrNoUpload means there is none. Send calls it for attachments given
	// by upload; nil means they cannot be sent.
	Attachment func(ctx context.Context, key string) (io.ReadCloser, int64, error)
	// BlobHTTP carries MMCS uploads; nil means a client with a 10-minute
	// timeout, enough for 100 MB.
	BlobHTTP *http.Client
	// Fetch fetches the URLs a caller gives (images, attachments); nil
	// means the strict client: https to public addresses only.
	Fetch *safefetch.Client
	// PayBaseURL is where parley serves Apple Pay's callbacks: an applePay
	// message's endpoints are PayBaseURL + "/webhooks/apple/pay/<name>"
	// unless the message overrides them.
	PayBaseURL string
}

// Send sends o and returns its Apple message id: o.PlatformMessageID, or a
// new UUID when it is empty (keep it across retries of one message so that
// repeats can be recognised). Before rendering it fetches the images given
// by URL (an image that cannot be fetched or that Apple cannot take is
// invalid_message naming its field, retryable when its server failed) and
// calls the hooks the type needs: AuthKey for auth, MerchantSession for
// applePay. A text's attachments are read from their source (a URL, bytes,
// or Attachment for an uploaded file), encrypted and uploaded through
// preUpload, one stream each, and sent as attachment dictionaries with one
// U+FFFC per attachment in the body. Auth messages go to POST /authenticate, all others to POST
// /message. Apple's refusals and failures are
// *message.Error values carrying the HTTP status and the gateway's answer:
// platform_rejected for 400, 404 and other 4xx, unauthorized for 401 and 403
// (the MSP id or secret is wrong), platform_unavailable, retryable, for 429,
// 503 and failures before the request was written (no connection), and
// delivery_unknown, not retryable, for other 5xx and failures after it was
// written (a timeout, a reset): Apple may have the message. Platform is set
// on every error that follows an attempt to send, with HTTPStatus 0 when no
// answer came.
func (c *Client) Send(ctx context.Context, o message.Outgoing) (string, error) {
	if c.BaseURL == "" {
		return "", errors.New("apple: send: the MSP gateway URL is not configured")
	}
	if o.PlatformMessageID == "" {
		o.PlatformMessageID = message.NewUUID()
	}
	id := o.PlatformMessageID
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	if !Supports(o.Message.Type) {
		return id, message.Errorf(message.CodeUnsupportedOnChannel, "message type %q cannot be sent on the apple channel", o.Message.Type)
	}
	if message.MediaType(o.Message.Type) {
		o.Message = MediaText(o.Message)
	}
	var err error
	if o.Message, err = fetchImages(ctx, c.fetcher(), o.Message); err != nil {
		return id, err
	}
	in, err := c.inputs(ctx, o)
	if err != nil {
		return id, err
	}
	body, err := Render(o, in)
	if err != nil {
		return id, err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	token, err := MintToken(c.Secret, c.MSPID, now())
	if err != nil {
		return id, fmt.Errorf("apple: send: %w", err)
	}
	endpoint := "/message"
	if o.Message.Type == message.TypeAuth {
		endpoint = "/authenticate"
	}
	traced, wrote := retry.Track(ctx)
	req, err := http.NewRequestWithContext(traced, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+endpoint, bytes.NewReader(body))
	if err != nil {
		return id, fmt.Errorf("apple: send: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("id", id)
	req.Header.Set("Source-Id", o.BusinessID)
	req.Header.Set("Destination-Id", o.To)
	req.Header.Set("Content-Type", "application/json")
	if o.Message.Automated {
		req.Header.Set("auto-reply", "true")
	}
	if o.Message.Agent != "" {
		req.Header.Set("msp-agent", o.Message.Agent)
	}
	resp, err := hc.Do(req)
	if err != nil && wrote() {
		return id, unknownError("the connection failed after the message was sent: "+err.Error(), 0)
	}
	if err != nil {
		return id, &message.Error{
			Code:      message.CodePlatformUnavailable,
			Message:   "apple: the MSP gateway could not be reached (nothing was sent): " + err.Error(),
			Platform:  &message.PlatformError{},
			Retryable: true,
		}
	}
	defer resp.Body.Close()
	details, _ := io.ReadAll(io.LimitReader(resp.Body, maxDetails))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return id, nil
	}
	return id, statusError(resp, details)
}

// strictFetch is the fetcher of clients without one, made on first use.
var strictFetch = sync.OnceValue(func() *safefetch.Client { return safefetch.New(safefetch.Config{}) })

func (c *Client) fetcher() *safefetch.Client {
	if c.Fetch != nil {
		return c.Fetch
	}
	return strictFetch()
}

// inputs uploads a text's attachments and calls the hooks an auth or
// applePay message needs. An error a
// hook returns as a *message.Error is passed on as it is.
func (c *Client) inputs(ctx context.Context, o message.Outgoing) (Inputs, error) {
	var in Inputs
	switch o.Message.Type {
	case message.TypeText:
		if len(o.Message.Attachments) > 0 {
			atts, err := c.uploadAttachments(ctx, o.BusinessID, o.Message)
			if err != nil {
				return in, err
			}
			in.Attachments = atts
		}
	case message.TypeAuth:
		if c.AuthKey == nil {
			return in, message.Errorf(message.CodeUnsupportedOnChannel, "this parley has no key store for Apple authentication messages")
		}
		key, err := c.AuthKey(ctx, o.PlatformMessageID)
		if err != nil {
			return in, hookError("making the response encryption key", err)
		}
		in.AuthKey = key
	case message.TypeApplePay:
		if c.MerchantSession == nil {
			return in, message.Errorf(message.CodeUnsupportedOnChannel, "this parley has no Apple Pay merchant identity configured")
		}
		in.Endpoints = PayEndpoints(c.PayBaseURL, o.Message)
		gateway := in.Endpoints["paymentGatewayUrl"]
		if len(in.Endpoints) < len(payEndpoints) {
			return in, message.Errorf(message.CodeUnsupportedOnChannel, "this parley has no URL for Apple Pay's callbacks (PayBaseURL) and the message does not give all six endpoints")
		}
		session, err := c.MerchantSession(ctx, gateway)
		if err != nil {
			return in, hookError("requesting the Apple Pay merchant session", err)
		}
		if !isJSONObject(session) {
			return in, errors.New("apple: send: the Apple Pay merchant session is not a JSON object")
		}
		in.MerchantSession = session
	}
	return in, nil
}

// hookError passes on a *message.Error from a hook and wraps any other.
func hookError(doing string, err error) error {
	var e *message.Error
	if errors.As(err, &e) {
		return e
	}
	return fmt.Errorf("apple: send: %s: %w", doing, err)
}

// statusError maps a refusal of the gateway to the public error codes.
func statusError(resp *http.Response, details []byte) *message.Error {
	status := resp.StatusCode
	e := &message.Error{Platform: &message.PlatformError{
		HTTPStatus: status,
		Details:    strings.ToValidUTF8(string(details), string(utf8.RuneError)),
	}}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Code = message.CodeUnauthorized
		e.Message = fmt.Sprintf("apple: the MSP gateway refused the credentials (HTTP %d): the MSP id or the MSP secret is wrong", status)
	case status == http.StatusNotFound:
		e.Code = message.CodePlatformRejected
		e.Message = "apple: destination-id not recognised (HTTP 404)"
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		e.Code = message.CodePlatformRejected
		e.Message = fmt.Sprintf("apple: the MSP gateway rejected the message (HTTP %d)", status)
		if text := strings.TrimSpace(e.Platform.Details); text != "" {
			e.Message += ": " + text
		}
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		// Throttled or refused at the door: nothing was taken.
		e.Code = message.CodePlatformUnavailable
		e.Message = fmt.Sprintf("apple: the MSP gateway is throttling or unavailable (HTTP %d)", status)
		e.Retryable = true
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
	default:
		// A server failure (500, 502, 504, …): Apple may have taken the
		// message before failing.
		u := unknownError(fmt.Sprintf("the MSP gateway failed (HTTP %d)", status), status)
		u.Platform.Details = e.Platform.Details
		return u
	}
	return e
}

// unknownError is a send that reached Apple, or may have, without an
// answer saying what Apple did.
func unknownError(what string, status int) *message.Error {
	return &message.Error{
		Code:     message.CodeDeliveryUnknown,
		Message:  "apple: " + what + "; Apple may have accepted the message, so parley does not send it again",
		Platform: &message.PlatformError{HTTPStatus: status},
	}
}
