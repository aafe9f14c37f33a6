package safefetch

import (
	"bytes"
	"context"
	"crypto/tls"

	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// exemptClient is the strict client with one extra public address: the
// test server at exempt, standing for a public server the internet would
// hold. Everything else on this machine is as internal as ever.
func exemptClient(t *testing.T, cfg Config, srv *httptest.Server, resolve map[string]string) (*Client, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	cfg.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Resolve = func(_ context.Context, host string) ([]netip.Addr, error) {
		if a, ok := resolve[strings.ToLower(strings.TrimSuffix(host, "."))]; ok {
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		}
		return nil, fmt.Errorf("no such host %s", host)
	}
	c := New(cfg)
	tr := c.http.Transport.(*http.Transport)
	if srv != nil {
		exempt := netip.MustParseAddrPort(srv.Listener.Addr().String())
		// The test certificate names none of the test hosts.
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		d := &net.Dialer{Timeout: time.Second, Control: func(network, address string, rc syscall.RawConn) error {
			if ap, err := netip.ParseAddrPort(address); err == nil && ap == exempt {
				return nil
			}
			return c.control(network, address, rc)
		}}
		tr.DialContext = c.dialContext(d)
	}
	return c, logs
}

// TestRefusesInternalAddresses: every trick that made parley fetch from
// its own network is refused before a connection is made, with one
// message that says nothing of what is reachable.
func TestRefusesInternalAddresses(t *testing.T) {
	var hits atomic.Int64
	internal := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "internal secret")
	}))
	defer internal.Close()
	port := internal.Listener.Addr().(*net.TCPAddr).Port
	public := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-loopback":
			http.Redirect(w, r, fmt.Sprintf("https://127.0.0.1:%d/", port), http.StatusFound)
		case "/to-metadata":
			http.Redirect(w, r, "https://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/to-name":
			http.Redirect(w, r, fmt.Sprintf("https://rebound.test:%d/", port), http.StatusFound)
		case "/to-http":
			http.Redirect(w, r, "http://public.test/", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			fmt.Fprint(w, "public")
		}
	}))
	defer public.Close()
	c, logs := exemptClient(t, Config{}, public, map[string]string{
		"rebound.test":  "127.0.0.1",
		"rebound6.test": "::1",
		"private.test":  "10.1.2.3",
		"metadata.test": "169.254.169.254",
		"mapped.test":   "::ffff:127.0.0.1",
		"cgnat.test":    "100.64.0.1",
		"ula.test":      "fd00::1",
		"nat64.test":    "64:ff9b::7f00:1",
		"public.test":   "93.184.216.34",
	})
	cases := []struct{ name, url string }{
		{"loopback", fmt.Sprintf("https://127.0.0.1:%d/", port)},
		{"loopback, another address of 127/8", fmt.Sprintf("https://127.1.2.3:%d/", port)},
		{"IPv6 loopback", fmt.Sprintf("https://[::1]:%d/", port)},
		{"IPv4-mapped loopback", fmt.Sprintf("https://[::ffff:127.0.0.1]:%d/", port)},
		{"IPv4-mapped loopback, hex", fmt.Sprintf("https://[::ffff:7f00:1]:%d/", port)},
		{"unspecified", fmt.Sprintf("https://0.0.0.0:%d/", port)},
		{"IPv6 unspecified", fmt.Sprintf("https://[::]:%d/", port)},
		{"instance metadata", "https://169.254.169.254/latest/meta-data/"},
		{"instance metadata, plain http", "http://169.254.169.254/latest/meta-data/"},
		{"a name resolving to loopback", fmt.Sprintf("https://rebound.test:%d/", port)},
		{"a name resolving to IPv6 loopback", fmt.Sprintf("https://rebound6.test:%d/", port)},
		{"a name resolving to a mapped loopback", fmt.Sprintf("https://mapped.test:%d/", port)},
		{"a name resolving to a private address", "https://private.test/"},
		{"a name resolving to the metadata address", "https://metadata.test/"},
		{"a name resolving to CGNAT", "https://cgnat.test/"},
		{"a name resolving to IPv6 unique-local", "https://ula.test/"},
		{"a name resolving to NAT64 of loopback", "https://nat64.test/"},
		{"a redirect to loopback", public.URL + "/to-loopback"},
		{"a redirect to the metadata address", public.URL + "/to-metadata"},
		{"a redirect to a name resolving to loopback", public.URL + "/to-name"},
		{"a redirect to plain http", public.URL + "/to-http"},
		{"a redirect loop", public.URL + "/loop"},
		{"plain http", "http://public.test/"},
		{"another scheme", "file:///etc/passwd"},
		{"credentials in the URL", "https://user:pass@public.test/"},
		{"no host", "https:///x"},
		{"multicast", "https://224.0.0.1/"},
		{"link-local IPv6", "https://[fe80::1]/"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(context.Background(), "message.image.url", tt.url, 1<<20)
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Get(%s) = %v, want a refusal", tt.url, err)
			}
			if !errors.Is(err, ErrRefused) {
				t.Errorf("Get(%s) = %v, want ErrRefused", tt.url, err)
			}
			want := "message.image.url: " + problemUnfetchable
			if err.Error() != want {
				t.Errorf("error %q, want the one generic message %q", err, want)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal server was reached %d times, want 0", n)
	}
	if !strings.Contains(logs.String(), "169.254.169.254 is a link-local address") {
		t.Errorf("the debug log does not give the reason:\n%s", logs)
	}

	// The public server itself is fetched, redirects within it too.
	b, err := c.ReadAll(context.Background(), "f", public.URL+"/x", 100)
	if err != nil || string(b) != "public" {
		t.Fatalf("public fetch: %q, %v", b, err)
	}
}

// TestErrorsDoNotRevealReachability: a closed port, a refused address and
// a server that never answers give the same message.
func TestErrorsDoNotRevealReachability(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c := New(Config{AllowLocal: true, Timeout: 300 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	var msgs []string
	for _, u := range []string{"http://" + closedPort + "/", "http://" + silent.Addr().String() + "/", "http://10.255.255.1/"} {
		_, err := c.Get(context.Background(), "message.attachments[0].url", u, 10)
		if err == nil {
			t.Fatalf("Get(%s) succeeded", u)
		}
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Errorf("messages differ: %q", msgs)
		}
	}
}

// TestRefusesLocalhost uses the system's resolver.
func TestRefusesLocalhost(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	c := New(Config{Log: slog.New(slog.DiscardHandler)})
	if _, err := c.Get(context.Background(), "f", fmt.Sprintf("https://localhost:%d/", port), 10); !errors.Is(err, ErrRefused) {
		t.Errorf("localhost: %v, want ErrRefused", err)
	}
	if hits.Load() != 0 {
		t.Error("the server was reached")
	}
}

func TestLocalAllowsLoopbackOnly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/to-metadata" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
			return
		}
		fmt.Fprint(w, "local")
	}))
	defer srv.Close()
	c := New(Config{AllowLocal: true, Log: slog.New(slog.DiscardHandler)})
	b, err := c.ReadAll(context.Background(), "f", srv.URL, 10)
	if err != nil || string(b) != "local" {
		t.Fatalf("local fetch: %q, %v", b, err)
	}
	for _, u := range []string{srv.URL + "/to-metadata", "http://10.0.0.1/", "http://192.168.1.1/", "http://[fd00::1]/"} {
		if _, err := c.Get(context.Background(), "f", u, 10); !errors.Is(err, ErrRefused) {
			t.Errorf("Get(%s) = %v, want ErrRefused", u, err)
		}
	}
}

func TestAllowHosts(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			http.Redirect(w, r, "https://elsewhere.test/", http.StatusFound)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	c, _ := exemptClient(t, Config{AllowHosts: []string{"cdn.example.com", "*.media.example"}}, srv,
		map[string]string{"cdn.example.com": "127.0.0.1", "a.media.example": "127.0.0.1", "elsewhere.test": "127.0.0.1"})
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{fmt.Sprintf("https://cdn.example.com:%d/", port), true},
		{fmt.Sprintf("https://CDN.example.com.:%d/", port), true},
		{fmt.Sprintf("https://a.media.example:%d/", port), true},
		{fmt.Sprintf("https://media.example:%d/", port), false},
		{fmt.Sprintf("https://elsewhere.test:%d/", port), false},
		{fmt.Sprintf("https://cdn.example.com:%d/away", port), false},
	} {
		_, err := c.ReadAll(context.Background(), "f", tt.url, 10)
		if (err == nil) != tt.ok {
			t.Errorf("Get(%s) = %v, want allowed %v", tt.url, err, tt.ok)
		}
	}
}

func TestSizeAndStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", "11")
			io.WriteString(w, "01234567890")
		case "/chunked-big":
			w.(http.Flusher).Flush()
			io.WriteString(w, "01234567890")
		case "/exact":
			io.WriteString(w, "0123456789")
		case "/gone":
			http.Error(w, "no", http.StatusNotFound)
		case "/busy":
			http.Error(w, "later", http.StatusServiceUnavailable)
		case "/slow":
			w.(http.Flusher).Flush()
			time.Sleep(500 * time.Millisecond)
			io.WriteString(w, "late")
		}
	}))
	defer srv.Close()
	c := New(Config{AllowLocal: true, Timeout: 200 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	if _, err := c.Get(ctx, "f", srv.URL+"/big", 10); !errors.Is(err, ErrTooLarge) || err.Error() != "f: 11 bytes, the limit is 10" {
		t.Errorf("announced too large: %v", err)
	}
	if _, err := c.ReadAll(ctx, "f", srv.URL+"/chunked-big", 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("streamed too large: %v", err)
	}
	if b, err := c.ReadAll(ctx, "f", srv.URL+"/exact", 10); err != nil || string(b) != "0123456789" {
		t.Errorf("at the limit: %q, %v", b, err)
	}
	var fe *Error
	if _, err := c.Get(ctx, "f", srv.URL+"/gone", 10); !errors.As(err, &fe) || fe.Status != 404 || fe.Retryable || err.Error() != "f: fetching it answered HTTP 404" {
		t.Errorf("404: %v", err)
	}
	if _, err := c.Get(ctx, "f", srv.URL+"/busy", 10); !errors.As(err, &fe) || !fe.Retryable {
		t.Errorf("503: %v", err)
	}
	if _, err := c.ReadAll(ctx, "f", srv.URL+"/slow", 10); !errors.As(err, &fe) || !fe.Retryable || fe.Problem != problemUnfetchable {
		t.Errorf("over the time limit: %v", err)
	}
}

func TestForbidden(t *testing.T) {
	for _, tt := range []struct {
		ip     string
		public bool
	}{
		{"8.8.8.8", true}, {"2606:4700::1111", true}, {"64:ff9b::808:808", true}, {"2002:808:808::1", true},
		{"127.0.0.1", false}, {"10.0.0.1", false}, {"172.16.0.1", false}, {"192.168.0.1", false},
		{"169.254.169.254", false}, {"100.64.0.1", false}, {"0.0.0.0", false}, {"0.1.2.3", false},
		{"224.0.0.1", false}, {"255.255.255.255", false}, {"::", false}, {"::1", false},
		{"::ffff:10.0.0.1", false}, {"::ffff:169.254.169.254", false}, {"fe80::1", false}, {"fc00::1", false},
		{"fd12:3456::1", false}, {"ff02::1", false}, {"64:ff9b::a00:1", false}, {"2002:a00:1::1", false},
		{"::127.0.0.1", false}, {"fd00:ec2::254", false},
	} {
		if got := Forbidden(netip.MustParseAddr(tt.ip)) == ""; got != tt.public {
			t.Errorf("Forbidden(%s) = %q, want public %v", tt.ip, Forbidden(netip.MustParseAddr(tt.ip)), tt.public)
		}
	}
}
