package applepay_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/applepay"
	"github.com/parleyhq/parley/shared/message"
)

// pki is a test certificate authority with a server and a client
// certificate it signed.
type pki struct {
	pool                    *x509.CertPool
	server                  tls.Certificate
	clientCert, clientKey   []byte // PEM
	strangerCert, strangerK []byte // PEM, signed by another CA
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	caCert, caKey := newCA(t, "parley test CA")
	otherCert, otherKey := newCA(t, "another CA")
	p := &pki{pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	serverCert, serverKey := issue(t, caCert, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "apple-pay-gateway.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	var err error
	if p.server, err = tls.X509KeyPair(serverCert, serverKey); err != nil {
		t.Fatal(err)
	}
	client := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "merchant.com.example"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	p.clientCert, p.clientKey = issue(t, caCert, caKey, client)
	p.strangerCert, p.strangerK = issue(t, otherCert, otherKey, client)
	return p
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// issue signs tmpl with the CA and returns the certificate and key as PEM.
func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// gateway is a fake Apple Pay server that requires a client certificate
// from the CA and answers with status and body.
func gateway(t *testing.T, p *pki, status int, body string) (*httptest.Server, <-chan *http.Request, <-chan []byte) {
	t.Helper()
	reqs, bodies := make(chan *http.Request, 1), make(chan []byte, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- r
		bodies <- b
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{p.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.pool,
	}
	srv.Config.ErrorLog = discardLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, reqs, bodies
}

// client is NewHTTPClient trusting the test CA.
func client(t *testing.T, p *pki, certPEM, keyPEM []byte) *http.Client {
	t.Helper()
	hc, err := applepay.NewHTTPClient(certPEM, keyPEM, 5*time.Second)
	if err != nil {
		t.Fatalf("NewHTTPClient: %v", err)
	}
	hc.Transport.(*http.Transport).TLSClientConfig.RootCAs = p.pool
	return hc
}

const session = `{"epochTimestamp":1773478800000,"expiresAt":1773486000000,"merchantSessionIdentifier":"SSH9B3E","nonce":"6c3b1f0e",` +
	`"merchantIdentifier":"8A5F","displayName":"Example Shop","signature":"308006","initiative":"messaging",` +
	`"initiativeContext":"https://pay.example.com/webhooks/apple/pay/paymentGateway","signedFields":["merchantIdentifier"]}`

func merchant(url string, hc *http.Client) *applepay.MerchantSessions {
	return &applepay.MerchantSessions{
		GatewayURL:         url,
		MerchantIdentifier: "merchant.com.example",
		DomainName:         "pay.example.com",
		DisplayName:        "Example Shop",
		HTTP:               hc,
	}
}

func TestSession(t *testing.T) {
	p := newPKI(t)
	srv, reqs, bodies := gateway(t, p, 200, "\n"+session+"\n")
	got, err := merchant(srv.URL+"/paymentservices/paymentSession", client(t, p, p.clientCert, p.clientKey)).
		Session(context.Background(), "https://pay.example.com/webhooks/apple/pay/paymentGateway")
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if string(got) != session {
		t.Errorf("session =\n%s\nwant Apple's object verbatim\n%s", got, session)
	}
	r, body := <-reqs, <-bodies
	if r.Method != http.MethodPost || r.URL.Path != "/paymentservices/paymentSession" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	const want = `{"merchantIdentifier":"merchant.com.example","domainName":"pay.example.com","displayName":"Example Shop",` +
		`"initiative":"messaging","initiativeContext":"https://pay.example.com/webhooks/apple/pay/paymentGateway"}`
	if string(body) != want {
		t.Errorf("request body =\n%s\nwant\n%s", body, want)
	}
	if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "merchant.com.example" {
		t.Error("the merchant identity certificate was not presented")
	}
	if r.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x, want 1.2 or later", r.TLS.Version)
	}
}

func TestSessionRefusals(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name          string
		status        int
		body          string
		wantCode      message.Code
		wantRetryable bool
		wantDetails   string
	}{
		{name: "merchant not registered", status: 400, body: `{"statusMessage":"Payment Services Exception merchantId=8A5F unauthorized"}`,
			wantCode: message.CodePlatformRejected, wantDetails: `{"statusMessage":"Payment Services Exception merchantId=8A5F unauthorized"}`},
		{name: "certificate refused", status: 403, body: `forbidden`, wantCode: message.CodeUnauthorized, wantDetails: "forbidden"},
		{name: "Apple failing", status: 503, body: `busy`, wantCode: message.CodePlatformUnavailable, wantRetryable: true, wantDetails: "busy"},
		{name: "long answer capped", status: 500, body: strings.Repeat("e", 5000), wantCode: message.CodePlatformUnavailable, wantRetryable: true,
			wantDetails: strings.Repeat("e", 2048) + "…"},
		{name: "not a session", status: 200, body: `<html>maintenance</html>`, wantCode: message.CodePlatformRejected, wantDetails: "<html>maintenance</html>"},
		{name: "a JSON array", status: 200, body: `[]`, wantCode: message.CodePlatformRejected, wantDetails: "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, _ := gateway(t, p, tt.status, tt.body)
			_, err := merchant(srv.URL, client(t, p, p.clientCert, p.clientKey)).Session(context.Background(), "https://pay.example.com/webhooks/apple/pay/paymentGateway")
			var e *message.Error
			if !errors.As(err, &e) {
				t.Fatalf("Session error = %v, want a *message.Error", err)
			}
			if e.Code != tt.wantCode || e.Retryable != tt.wantRetryable || e.Platform == nil ||
				e.Platform.HTTPStatus != tt.status || e.Platform.Details != tt.wantDetails {
				t.Errorf("error = %+v (platform %+v), want %s retryable=%v status %d details %q", e, e.Platform, tt.wantCode, tt.wantRetryable, tt.status, tt.wantDetails)
			}
		})
	}
}

func TestSessionNeedsTheClientCertificate(t *testing.T) {
	p := newPKI(t)
	srv, reqs, _ := gateway(t, p, 200, session)
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool}}}
	tests := []struct {
		name string
		hc   *http.Client
	}{
		{name: "no client certificate", hc: noCert},
		{name: "a certificate of another CA", hc: client(t, p, p.strangerCert, p.strangerK)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := merchant(srv.URL, tt.hc).Session(context.Background(), "https://pay.example.com/webhooks/apple/pay/paymentGateway")
			var e *message.Error
			if !errors.As(err, &e) || e.Code != message.CodePlatformUnavailable {
				t.Fatalf("Session error = %v, want platform_unavailable", err)
			}
			select {
			case <-reqs:
				t.Fatal("the gateway served a request without a valid client certificate")
			default:
			}
		})
	}
}

func TestSessionConfiguration(t *testing.T) {
	p := newPKI(t)
	hc := client(t, p, p.clientCert, p.clientKey)
	tests := []struct {
		name    string
		m       *applepay.MerchantSessions
		context string
		wantErr string
	}{
		{name: "nothing", m: &applepay.MerchantSessions{}, context: "",
			wantErr: "no merchant identifier, domain name, display name, initiative context (the payment gateway URL)"},
		{name: "no display name", m: &applepay.MerchantSessions{MerchantIdentifier: "m", DomainName: "d", HTTP: hc}, context: "https://x",
			wantErr: "no display name"},
		{name: "no HTTP client", m: &applepay.MerchantSessions{MerchantIdentifier: "m", DomainName: "d", DisplayName: "n"}, context: "https://x",
			wantErr: "no HTTP client with the merchant identity certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.m.Session(context.Background(), tt.context); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Session = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewHTTPClient(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name      string
		cert, key []byte
		wantErr   bool
	}{
		{name: "a pair", cert: p.clientCert, key: p.clientKey},
		{name: "key of another certificate", cert: p.clientCert, key: p.strangerK, wantErr: true},
		{name: "not PEM", cert: []byte("cert"), key: []byte("key"), wantErr: true},
		{name: "nothing", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, err := applepay.NewHTTPClient(tt.cert, tt.key, 0)
			if tt.wantErr {
				if err == nil || !strings.HasPrefix(err.Error(), "applepay: merchant identity certificate: ") {
					t.Fatalf("NewHTTPClient = %v, want an error", err)
				}
				if strings.Contains(err.Error(), "PRIVATE KEY-----\n") {
					t.Fatal("the error quotes the key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc := hc.Transport.(*http.Transport).TLSClientConfig
			if tc.MinVersion != tls.VersionTLS12 || len(tc.Certificates) != 1 || hc.Timeout != applepay.DefaultSessionTimeout {
				t.Errorf("client: min TLS %x, %d certificates, timeout %s", tc.MinVersion, len(tc.Certificates), hc.Timeout)
			}
		})
	}
}

// discardLog silences the TLS handshake errors the refusals cause.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
