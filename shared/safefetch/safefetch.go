// Package safefetch is the one HTTP client parley uses to fetch a URL a
// caller gave it (an attachment's or an image's url): https only, public
// addresses only — checked on the address actually connected to, so that a
// name that resolves, or re-resolves, to an internal address is refused —
// redirects re-checked and capped, size and time capped, and errors that
// say nothing of what parley's network can reach.
package safefetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Defaults of Config.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultMaxRedirects = 3
)

// Config configures a Client. Its zero value is the strict client: https
// to public addresses only, DefaultTimeout, DefaultMaxRedirects.
type Config struct {
	// AllowLocal also allows plain http and loopback addresses (127.0.0.0/8,
	// ::1). Only the local stack sets it: its simulators and test servers
	// live on 127.0.0.1. Private, link-local and every other internal range
	// stay refused.
	AllowLocal bool
	// AllowHosts, when not empty, is the only hosts fetched (exact names,
	// case-insensitive; "*.example.com" also matches every subdomain). The
	// address checks apply to them too.
	AllowHosts []string
	// Timeout caps one fetch from the first connection to the last byte
	// of the body; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxRedirects caps the redirects followed; 0 means
	// DefaultMaxRedirects, a negative value follows none.
	MaxRedirects int
	// Log receives the reason of each refused or failed fetch, at debug
	// level only; nil means slog.Default().
	Log *slog.Logger
	// Resolve replaces the DNS lookup of a host name (tests). The address
	// checks apply to what it returns.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// Client fetches caller-given URLs. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	c := &Client{cfg: cfg}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: c.control}
	t := &http.Transport{
		// No proxy from the environment: the address check must see the
		// server itself, not a proxy.
		Proxy:                 nil,
		DialContext:           c.dialContext(dialer),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	c.http = &http.Client{Transport: t, Timeout: cfg.Timeout, CheckRedirect: c.checkRedirect}
	return c
}

// Error is a fetch that failed. Its text names the field and says what a
// caller can act on — the server's HTTP status, a size over the limit, or
// only that the URL could not be fetched — never why a connection failed,
// so that it cannot be used to map parley's network; the reason goes to the
// debug log.
type Error struct {
	// Field is the request field that gave the URL.
	Field string
	// Status is the HTTP status the server answered; 0 when none came.
	Status int
	// Problem is what the caller is told, without the field.
	Problem string
	// Retryable reports whether a later try may succeed: the server
	// answered 5xx or 429, or the fetch timed out.
	Retryable bool
	cause     error
}

func (e *Error) Error() string { return e.Field + ": " + e.Problem }

// Unwrap returns the cause, for errors.Is (ErrRefused, ErrTooLarge).
func (e *Error) Unwrap() error { return e.cause }

// Causes an Error may wrap.
var (
	// ErrRefused: the URL's scheme, host or address is not allowed.
	ErrRefused = errors.New("safefetch: the URL is not allowed")
	// ErrTooLarge: the body is over the caller's limit.
	ErrTooLarge = errors.New("safefetch: the body is over the limit")
)

// problemUnfetchable is the one message of every refused or failed
// connection.
const problemUnfetchable = "could not be fetched (it must be an https URL of a public server that answers within the time limit)"

// Response is a successful fetch: a 200 whose body is capped at the
// caller's limit.
type Response struct {
	// Body yields at most the limit given to Get; reading past it fails
	// with an *Error wrapping ErrTooLarge. Close it.
	Body io.ReadCloser
	// Size is the announced Content-Length, -1 when unknown. It is never
	// over the limit.
	Size int64
	// ContentType is the Content-Type header.
	ContentType string
}

// Get fetches rawURL, given by the request field field, and returns its
// body when the server answers 200 with at most limit bytes. Every failure
// is an *Error naming field.
func (c *Client) Get(ctx context.Context, field, rawURL string, limit int64) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, c.refuse(field, rawURL, fmt.Errorf("not a URL: %v", err))
	}
	if err := c.checkURL(u); err != nil {
		return nil, c.refuse(field, rawURL, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, c.refuse(field, rawURL, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.failed(field, rawURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &Error{Field: field, Status: resp.StatusCode, Problem: fmt.Sprintf("fetching it answered HTTP %d", resp.StatusCode),
			Retryable: resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests}
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, &Error{Field: field, Problem: fmt.Sprintf("%d bytes, the limit is %d", resp.ContentLength, limit), cause: ErrTooLarge}
	}
	return &Response{Body: &cappedBody{c: c, field: field, url: rawURL, r: resp.Body, limit: limit, left: limit},
		Size: resp.ContentLength, ContentType: resp.Header.Get("Content-Type")}, nil
}

// ReadAll fetches rawURL as Get does and returns its whole body.
func (c *Client) ReadAll(ctx context.Context, field, rawURL string, limit int64) ([]byte, error) {
	resp, err := c.Get(ctx, field, rawURL, limit)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// refuse is the error of a URL the policy does not allow.
func (c *Client) refuse(field, rawURL string, why error) *Error {
	c.cfg.Log.Debug("a caller's URL was refused", "field", field, "url", redact(rawURL), "reason", why.Error())
	return &Error{Field: field, Problem: problemUnfetchable, cause: ErrRefused}
}

// failed is the error of a fetch that did not get an answer.
func (c *Client) failed(field, rawURL string, err error) *Error {
	e := &Error{Field: field, Problem: problemUnfetchable}
	var refused *refusal
	switch {
	case errors.As(err, &refused):
		e.cause = ErrRefused
	case isTimeout(err):
		e.Retryable = true
	}
	c.cfg.Log.Debug("fetching a caller's URL failed", "field", field, "url", redact(rawURL), "reason", err.Error())
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// refusal is an address or URL the policy refuses, found while dialling or
// redirecting.
type refusal struct{ reason string }

func (r *refusal) Error() string { return "safefetch: refused: " + r.reason }

// checkURL refuses what the policy refuses before any connection: the
// scheme, a user-info part and hosts outside the allowlist.
func (c *Client) checkURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.cfg.AllowLocal:
	default:
		return &refusal{fmt.Sprintf("scheme %q", u.Scheme)}
	}
	if u.Host == "" || u.Hostname() == "" {
		return &refusal{"no host"}
	}
	if u.User != nil {
		return &refusal{"credentials in the URL"}
	}
	if len(c.cfg.AllowHosts) > 0 && !c.allowedHost(u.Hostname()) {
		return &refusal{fmt.Sprintf("host %q is not in the allowlist", u.Hostname())}
	}
	return nil
}

func (c *Client) allowedHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return slices.ContainsFunc(c.cfg.AllowHosts, func(a string) bool {
		a = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(a), "."))
		if suffix, ok := strings.CutPrefix(a, "*."); ok {
			return strings.HasSuffix(host, "."+suffix)
		}
		return host == a
	})
}

// checkRedirect re-checks every redirect's URL and caps their number; the
// address of its server is checked when it is dialled, as the first one's.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.cfg.MaxRedirects < 0 || len(via) > c.cfg.MaxRedirects {
		return &refusal{fmt.Sprintf("more than %d redirects", max(c.cfg.MaxRedirects, 0))}
	}
	if err := c.checkURL(req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", redact(req.URL.String()), err)
	}
	return nil
}

// dialContext resolves the host itself when a test resolver is set;
// otherwise it leaves resolution to the dialer. Either way the address is
// checked by control, just before each connection is made.
func (c *Client) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.cfg.Resolve == nil {
		return d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		addrs := []netip.Addr{}
		if ip, err := netip.ParseAddr(host); err == nil {
			addrs = append(addrs, ip)
		} else if addrs, err = c.cfg.Resolve(ctx, host); err != nil {
			return nil, err
		}
		var errs []error
		for _, ip := range addrs {
			conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
			if err == nil {
				return conn, nil
			}
			errs = append(errs, err)
		}
		return nil, fmt.Errorf("dialling %s: %w", host, errors.Join(errs...))
	}
}

// control runs just before each connection, with the address being
// connected to: the check that a name resolving, or re-resolving, to an
// internal address cannot pass.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusal{fmt.Sprintf("address %q", address)}
	}
	if why := c.forbidden(ap.Addr()); why != "" {
		return &refusal{fmt.Sprintf("%s is %s", ap.Addr(), why)}
	}
	return nil
}

// forbidden says why ip may not be connected to, or "".
func (c *Client) forbidden(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.IsLoopback() {
		if c.cfg.AllowLocal {
			return ""
		}
		return "a loopback address"
	}
	return Forbidden(ip)
}

// Forbidden says why ip is not a public unicast address parley may fetch
// from ("a private address", …), or "" when it is one. IPv4-mapped IPv6
// addresses are judged as their IPv4 address, and the IPv4 address inside
// a NAT64 or 6to4 address as itself.
func Forbidden(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "not an address"
	case ip.IsUnspecified():
		return "the unspecified address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast():
		return "a link-local address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsLinkLocalMulticast():
		return "a multicast address"
	}
	for _, r := range reserved {
		if r.prefix.Contains(ip) {
			return r.why
		}
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			if why := Forbidden(netip.AddrFrom4([4]byte(b[12:16]))); why != "" {
				return "a NAT64 address of " + why
			}
		case sixToFour.Contains(ip):
			if why := Forbidden(netip.AddrFrom4([4]byte(b[2:6]))); why != "" {
				return "a 6to4 address of " + why
			}
		}
	}
	return ""
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// reserved are the special-purpose ranges (IANA's registries) that the
// netip predicates above do not cover and that are never a public server.
var reserved = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (CGNAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001::/23"), "an IETF protocol address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("3fff::/20"), "a documentation address"},
	{netip.MustParsePrefix("5f00::/16"), "a segment routing address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
}

// cappedBody is a response body that fails past its limit.
type cappedBody struct {
	c     *Client
	field string
	url   string
	r     io.ReadCloser
	limit int64
	left  int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.tooLarge()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - 1, b.tooLarge()
	}
	if err != nil && err != io.EOF {
		return n, b.c.failed(b.field, b.url, err)
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.r.Close() }

func (b *cappedBody) tooLarge() *Error {
	return &Error{Field: b.field, Problem: fmt.Sprintf("is over the limit of %d bytes", b.limit), cause: ErrTooLarge}
}

// redact drops a URL's query and credentials, which may hold secrets, for
// the log.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(not a URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
