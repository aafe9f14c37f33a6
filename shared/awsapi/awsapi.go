// Package awsapi is parley's own client of the AWS services its functions
// call: Signature Version 4 signing, credentials from the environment
// Lambda gives a function, the JSON protocol of DynamoDB, SQS, EventBridge
// and Secrets Manager (Call), signed REST requests and presigned URLs for
// S3 (Do, Presign), retries of what AWS asks to be retried, and AWS's
// error answers as *Error. The operations' shapes live in the service
// packages beside it (awsapi/dynamodb, awsapi/s3, …).
//
// It exists so that a Lambda binary links no AWS SDK service client: their
// package initialisation builds every operation's schema and the endpoint
// tables of every partition, which made each function's cold start about
// twice an empty function's and its binary 1.7 times as large, for the
// dozen operations parley uses (docs/ARCHITECTURE.md, "AWS clients").
package awsapi

import (
	"net/http"
	"strings"
	"time"
)

// Credentials are the keys requests are signed with.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// Client calls AWS services. One Client serves every service of a
// function; it is safe for concurrent use once set up.
type Client struct {
	// Region is the AWS region of every endpoint and signature.
	Region string
	// Endpoint, when set, is the base URL of every service (a local
	// emulator such as moto, http://127.0.0.1:5000); S3 is then addressed
	// path-style.
	Endpoint string
	// Credentials sign the requests; without an access key they go
	// unsigned (and AWS's answer says so).
	Credentials Credentials
	// HTTP sends the requests; nil means a client shared by every Client
	// that keeps MaxIdleConnsPerHost connections per endpoint.
	HTTP *http.Client
	// MaxAttempts is how often a request is tried in all, the first time
	// included; 0 means 3, AWS's standard retry mode.
	MaxAttempts int
	// Now is the signing time; nil means time.Now.
	Now func() time.Time
}

// MaxIdleConnsPerHost is how many connections to one AWS endpoint stay
// open between requests: more than a function runs at once (ingest writes
// 32 conversations in parallel), so that a burst reuses its connections
// instead of opening a new TLS connection for all but Go's default 2.
const MaxIdleConnsPerHost = 64

// defaultHTTP never follows a redirect: AWS answers one (an S3 bucket in
// another region) as an error to act on, and a signed request sent on to
// another host would lose its signature, or hand its body to that host.
var defaultHTTP = &http.Client{Transport: newTransport(), CheckRedirect: noRedirects}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	return t
}

// FromEnv returns the Client of a Lambda function: the region and the
// credentials Lambda puts in the environment (AWS_REGION,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). The region
// defaults to us-east-1; with a local endpoint and no keys in the
// environment the credentials are test/test, which moto accepts.
func FromEnv(getenv func(string) string, endpoint string) *Client {
	c := &Client{
		Region:   getenv("AWS_REGION"),
		Endpoint: strings.TrimSuffix(endpoint, "/"),
		Credentials: Credentials{
			AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
			SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken:    getenv("AWS_SESSION_TOKEN"),
		},
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.Credentials.AccessKeyID == "" && endpoint != "" {
		c.Credentials = Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	}
	return c
}

// BaseURL is the endpoint of the service whose host name starts with
// host: Endpoint when it is set, otherwise
// https://{host}.{region}.{suffix}, the DNS suffix of the region's
// partition (see DNSSuffix).
func (c *Client) BaseURL(host string) string {
	if c.Endpoint != "" {
		return c.Endpoint
	}
	return "https://" + host + "." + c.Region + "." + c.DNSSuffix()
}

// partitions are the DNS suffixes of the AWS partitions other than aws
// (amazonaws.com, which us-gov-* share), by their regions' prefix.
var partitions = []struct{ prefix, suffix string }{
	{"cn-", "amazonaws.com.cn"},
	{"eusc-", "amazonaws.eu"},
	{"us-iso-", "c2s.ic.gov"},
	{"us-isob-", "sc2s.sgov.gov"},
	{"us-isof-", "csp.hci.ic.gov"},
	{"eu-isoe-", "cloud.adc-e.uk"},
}

// DNSSuffix is the domain of the region's endpoints: that of its
// partition.
func (c *Client) DNSSuffix() string {
	for _, p := range partitions {
		if strings.HasPrefix(c.Region, p.prefix) {
			return p.suffix
		}
	}
	return "amazonaws.com"
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) attempts() int {
	if c.MaxAttempts > 0 {
		return c.MaxAttempts
	}
	return 3
}
