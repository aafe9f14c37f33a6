package awsapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var signedAt = time.Date(2026, 11, 30, 8, 15, 42, 0, time.UTC)

// TestSignDocumentedExample checks the signature of the example request in
// AWS's SigV4 documentation (IAM ListUsers, signed with the documentation's
// example keys).
func TestSignDocumentedExample(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	cr := Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	Sign(req, EmptyPayload, cr, "iam", "us-east-1", time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC))
	want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, " +
		"SignedHeaders=content-type;host;x-amz-date, " +
		"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization:\n got %s\nwant %s", got, want)
	}
}

// TestSignMatchesSDK signs the same requests with Sign and with the AWS
// SDK's signer and wants the same headers: the requests carry only
// headers both sign (the SDK signs every header but a few, Sign only those
// AWS requires and the content headers).
func TestSignMatchesSDK(t *testing.T) {
	cases := []struct {
		name, method, url, service, region, payload string
		headers                                     map[string]string
		length                                      int64
		token                                       string
	}{
		{name: "DynamoDB JSON call", method: "POST", url: "https://dynamodb.eu-west-1.amazonaws.com/", service: "dynamodb", region: "eu-west-1",
			payload: "0f1e0c1b4e5d1c9a2c5d7b7f7bca4bd9ff1c7e8a6cbe2a9d0b3c4f1e2d3c4b5a",
			headers: map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.PutItem"}, length: 321,
			token: "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken/with+slash="},
		{name: "moto endpoint with a port", method: "POST", url: "http://127.0.0.1:49152/", service: "sqs", region: "us-east-1",
			payload: EmptyPayload, headers: map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"}},
		{name: "S3 key with spaces and unicode", method: "PUT", url: "https://parley-blobs.s3.us-west-2.amazonaws.com/" + EscapePath("media/2026 11/café+menu~(1).jpg"),
			service: "s3", region: "us-west-2", payload: UnsignedPayload, length: 2048,
			headers: map[string]string{"Content-Type": "image/jpeg", "X-Amz-Meta-Sha256": "abc", "X-Amz-Meta-Origin": "  whatsapp   media  "}},
		{name: "S3 query", method: "GET", url: "https://s3.us-west-2.amazonaws.com/parley-blobs?list-type=2&prefix=a%20b%2Fc&max-keys=10",
			service: "s3", region: "us-west-2", payload: EmptyPayload},
		{name: "S3 upload part", method: "PUT", url: "http://127.0.0.1:5000/bucket/key?partNumber=2&uploadId=Zm9v%2Bbar%3D%3D",
			service: "s3", region: "us-east-1", payload: UnsignedPayload, length: 8 << 20},
		{name: "default port left out", method: "POST", url: "https://events.ap-south-1.amazonaws.com:443/", service: "events", region: "ap-south-1",
			payload: EmptyPayload, headers: map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.PutEvents"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cr := Credentials{AccessKeyID: "AKIAPARLEYEXAMPLE", SecretAccessKey: "c2VjcmV0L2tleS9mb3IvdGVzdHM+example", SessionToken: tc.token}
			ours, theirs := newRequest(t, tc.method, tc.url, tc.headers, tc.length), newRequest(t, tc.method, tc.url, tc.headers, tc.length)
			Sign(ours, tc.payload, cr, tc.service, tc.region, signedAt)
			if tc.service == "s3" {
				theirs.Header.Set("X-Amz-Content-Sha256", tc.payload)
			}
			signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = tc.service == "s3" })
			err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken},
				theirs, tc.payload, tc.service, tc.region, signedAt)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"} {
				if g, w := ours.Header.Get(h), theirs.Header.Get(h); g != w {
					t.Errorf("%s:\n got %s\nwant %s", h, g, w)
				}
			}
		})
	}
}

// TestPresignMatchesSDK presigns S3 GETs with Presign and with the SDK's
// signer and wants the same URL, query parameters in any order.
func TestPresignMatchesSDK(t *testing.T) {
	for _, token := range []string{"", "FwoGZXIvYXdzEXAMPLE//token=="} {
		c := &Client{Region: "eu-central-1", Credentials: Credentials{AccessKeyID: "AKIAPARLEYEXAMPLE", SecretAccessKey: "presign/secret+key", SessionToken: token},
			Now: func() time.Time { return signedAt }}
		target := "https://parley-blobs.s3.eu-central-1.amazonaws.com/" + EscapePath("attachments/msg 1/photo (2).heic")
		got, err := c.Presign("s3", newRequest(t, "GET", target, nil, 0), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		theirs := newRequest(t, "GET", target, nil, 0)
		q := theirs.URL.Query()
		q.Set("X-Amz-Expires", "86400")
		theirs.URL.RawQuery = q.Encode()
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		want, _, err := signer.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIAPARLEYEXAMPLE", SecretAccessKey: "presign/secret+key", SessionToken: token},
			theirs, UnsignedPayload, "s3", "eu-central-1", signedAt)
		if err != nil {
			t.Fatal(err)
		}
		if !sameURL(t, got, want) {
			t.Errorf("presigned URL:\n got %s\nwant %s", got, want)
		}
	}
}

func TestPresignRefusesBadExpiry(t *testing.T) {
	c := &Client{Region: "us-east-1", Credentials: Credentials{AccessKeyID: "a", SecretAccessKey: "b"}}
	for _, d := range []time.Duration{0, -time.Second, 999 * time.Millisecond, MaxPresign + time.Second} {
		if _, err := c.Presign("s3", newRequest(t, "GET", "https://b.s3.us-east-1.amazonaws.com/k", nil, 0), d); err == nil {
			t.Errorf("expiry %v: want an error", d)
		}
	}
}

func TestEscapePath(t *testing.T) {
	for key, want := range map[string]string{
		"a/b c/d":      "a/b%20c/d",
		"café+x~y_z.-": "caf%C3%A9%2Bx~y_z.-",
		"100%/?#&=":    "100%25/%3F%23%26%3D",
	} {
		if got := EscapePath(key); got != want {
			t.Errorf("EscapePath(%q) = %q, want %q", key, got, want)
		}
	}
}

func newRequest(t *testing.T, method, target string, headers map[string]string, length int64) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.ContentLength = length
	return req
}

func sameURL(t *testing.T, a, b string) bool {
	t.Helper()
	ua, err := url.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	ub, err := url.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if ua.Scheme != ub.Scheme || ua.Host != ub.Host || ua.EscapedPath() != ub.EscapedPath() {
		return false
	}
	qa, qb := ua.Query(), ub.Query()
	if len(qa) != len(qb) {
		return false
	}
	for k := range qa {
		if strings.Join(qa[k], ",") != strings.Join(qb[k], ",") {
			return false
		}
	}
	return true
}
