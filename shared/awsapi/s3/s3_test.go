package s3

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/awsapi"
)

// keys are object keys S3 escapes: spaces, '+', '%', '~', unicode,
// reserved characters and several slashes.
var keys = []string{
	"plain/key.txt",
	"with space/and+plus",
	"100% sure~tilde",
	"unicode/Grüße/日本語 ✓",
	"reserved!$&'()*,;=:@[]#?",
	"slashes//double/",
}

func TestAddressing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, region, endpoint, bucket, key, want string
	}{
		{"virtual-hosted", "eu-west-1", "", "parley-payloads", "raw/a b+c", "https://parley-payloads.s3.eu-west-1.amazonaws.com/raw/a%20b%2Bc"},
		{"virtual-hosted in China", "cn-north-1", "", "parley-payloads", "k", "https://parley-payloads.s3.cn-north-1.amazonaws.com.cn/k"},
		{"a dotted bucket goes in the path", "us-east-1", "", "payloads.parley.example", "k~1", "https://s3.us-east-1.amazonaws.com/payloads.parley.example/k~1"},
		{"a capitalised bucket goes in the path", "us-east-1", "", "Parley", "k", "https://s3.us-east-1.amazonaws.com/Parley/k"},
		{"a local endpoint is path-style", "us-east-1", "http://127.0.0.1:5000", "parley", "a/ü%", "http://127.0.0.1:5000/parley/a/%C3%BC%25"},
		{"an endpoint with a path", "us-east-1", "http://127.0.0.1:5000/s3/", "parley", "k", "http://127.0.0.1:5000/s3/parley/k"},
		{"the bucket itself, path-style", "us-east-1", "http://127.0.0.1:5000", "parley", "", "http://127.0.0.1:5000/parley"},
		{"the bucket itself, virtual-hosted", "eu-west-1", "", "parley-payloads", "", "https://parley-payloads.s3.eu-west-1.amazonaws.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(&awsapi.Client{Region: tt.region, Endpoint: tt.endpoint})
			u, err := c.bucketURL(tt.bucket, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("URL = %s, want %s", got, tt.want)
			}
		})
	}
}

// sdkCredentials are the keys of the differential tests.
var sdkCredentials = awsapi.Credentials{AccessKeyID: "AKIDPARLEYTEST", SecretAccessKey: "c2VjcmV0IGtleSBvZiB0aGUgdGVzdHM", SessionToken: "session/token+of=the tests"}

// TestPresignMatchesSDK compares presigned URLs with the AWS SDK's for the
// same request, keys and time.
func TestPresignMatchesSDK(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, endpoint := range []string{"", "http://127.0.0.1:5000"} {
		for _, bucket := range []string{"parley-payloads", "payloads.parley.example"} {
			sdk := s3sdk.NewPresignClient(s3sdk.New(s3sdk.Options{
				Region:       "eu-west-1",
				Credentials:  credentials.NewStaticCredentialsProvider(sdkCredentials.AccessKeyID, sdkCredentials.SecretAccessKey, sdkCredentials.SessionToken),
				BaseEndpoint: sdkEndpoint(endpoint),
				UsePathStyle: endpoint != "",
			}))
			for _, key := range keys {
				want, err := sdk.PresignGetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
					s3sdk.WithPresignExpires(10*time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				c := New(&awsapi.Client{Region: "eu-west-1", Endpoint: endpoint, Credentials: sdkCredentials, Now: signedAt(t, want.URL)})
				got, err := c.PresignGet(bucket, key, 10*time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if got != want.URL {
					t.Errorf("PresignGet(%s, %q) =\n%s\nthe SDK's:\n%s", bucket, key, got, want.URL)
				}

				want, err = sdk.PresignPutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
					ContentType: aws.String("image/jpeg"), ContentLength: aws.Int64(12345)}, s3sdk.WithPresignExpires(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				c.aws.Now = signedAt(t, want.URL)
				got, err = c.PresignPut(bucket, key, "image/jpeg", 12345, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				if got != want.URL {
					t.Errorf("PresignPut(%s, %q) =\n%s\nthe SDK's:\n%s", bucket, key, got, want.URL)
				}
			}
		}
	}
}

func sdkEndpoint(endpoint string) *string {
	if endpoint == "" {
		return nil
	}
	return aws.String(endpoint)
}

// signedAt is a clock stopped at the signing time of a presigned URL.
func signedAt(t *testing.T, rawURL string) func() time.Time {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse("20060102T150405Z", u.Query().Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	return func() time.Time { return at }
}

// verifier is an S3 stand-in that checks every request's signature by
// signing it again with the AWS SDK's signer: a header signature, or a
// presigned URL's (and its expiry). It refuses a mismatch with S3's
// SignatureDoesNotMatch and hands the rest to next.
type verifier struct {
	t    *testing.T
	cr   awsapi.Credentials
	next http.Handler
	now  func() time.Time
}

func (v verifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := v.check(r); err != nil {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SignatureDoesNotMatch</Code><Message>`+err.Error()+`</Message><RequestId>VERIFY01</RequestId></Error>`)
		return
	}
	v.next.ServeHTTP(w, r)
}

func (v verifier) check(r *http.Request) error {
	cr := aws.Credentials{AccessKeyID: v.cr.AccessKeyID, SecretAccessKey: v.cr.SecretAccessKey, SessionToken: v.cr.SessionToken}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	q := r.URL.Query()
	presigned := q.Get("X-Amz-Signature") != ""
	var signed, date, gotSig string
	if presigned {
		signed, date, gotSig = q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Date"), q.Get("X-Amz-Signature")
	} else {
		auth := r.Header.Get("Authorization")
		_, rest, ok := strings.Cut(auth, "SignedHeaders=")
		if !ok {
			return errors.New("no signature")
		}
		signed, rest, _ = strings.Cut(rest, ", Signature=")
		gotSig, date = rest, r.Header.Get("X-Amz-Date")
	}
	at, err := time.Parse("20060102T150405Z", date)
	if err != nil {
		return err
	}
	// The request again, with only the headers that were signed.
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return err
	}
	for _, h := range strings.Split(signed, ";") {
		switch h {
		case "host":
		case "content-length":
			again.ContentLength = r.ContentLength
		default:
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	var wantSig string
	if presigned {
		expires, _ := strconv.Atoi(q.Get("X-Amz-Expires"))
		if v.now().After(at.Add(time.Duration(expires) * time.Second)) {
			return errors.New("the request has expired")
		}
		qq := again.URL.Query()
		qq.Del("X-Amz-Signature")
		again.URL.RawQuery = qq.Encode()
		u, _, err := signer.PresignHTTP(context.Background(), cr, again, awsapi.UnsignedPayload, "s3", "us-east-1", at)
		if err != nil {
			return err
		}
		pu, _ := url.Parse(u)
		wantSig = pu.Query().Get("X-Amz-Signature")
	} else {
		if err := signer.SignHTTP(context.Background(), cr, again, r.Header.Get("X-Amz-Content-Sha256"), "s3", "us-east-1", at); err != nil {
			return err
		}
		_, wantSig, _ = strings.Cut(again.Header.Get("Authorization"), ", Signature=")
		if want, got := again.Header.Get("Authorization"), r.Header.Get("Authorization"); want != got {
			return errors.New("Authorization " + got + ", the SDK signs " + want)
		}
	}
	if wantSig != gotSig {
		return errors.New("the SDK signs " + wantSig)
	}
	return nil
}

// TestSignedRequestsMatchSDK sends every operation to a server that
// checks its signature with the AWS SDK's signer, with session
// credentials and keys S3 escapes, and a presigned URL as it is and
// tampered with.
func TestSignedRequestsMatchSDK(t *testing.T) {
	t.Parallel()
	// The answers of S3 in brief. (No ServeMux: it would redirect the
	// paths with "//" that S3 keeps as they are.)
	s3 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch {
		case r.Method == http.MethodPost && r.URL.Query().Has("uploads"):
			io.WriteString(w, `<InitiateMultipartUploadResult><UploadId>up+1/=</UploadId></InitiateMultipartUploadResult>`)
		case r.Method == http.MethodPost:
			io.WriteString(w, `<CompleteMultipartUploadResult><ETag>"done-2"</ETag></CompleteMultipartUploadResult>`)
		case r.Method == http.MethodPut:
			w.Header().Set("ETag", `"e1"`)
		case r.Method == http.MethodGet:
			io.WriteString(w, "the bytes")
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	now := time.Date(2026, 12, 3, 15, 4, 5, 0, time.UTC)
	srv := httptest.NewServer(verifier{t: t, cr: sdkCredentials, next: s3, now: func() time.Time { return now.Add(time.Minute) }})
	defer srv.Close()
	c := New(&awsapi.Client{Region: "us-east-1", Endpoint: srv.URL, Credentials: sdkCredentials, Now: func() time.Time { return now }})
	ctx := t.Context()

	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			body := "a body"
			if _, err := c.PutObject(ctx, &PutObjectInput{Bucket: "parley", Key: key, Body: strings.NewReader(body),
				ContentLength: int64(len(body)), ContentType: "text/plain", Metadata: map[string]string{"Sender": "a b"}}); err != nil {
				t.Errorf("PutObject, unsigned body: %v", err)
			}
			if _, err := c.PutObject(ctx, &PutObjectInput{Bucket: "parley", Key: key, Body: strings.NewReader(body),
				ContentLength: int64(len(body)), PayloadHash: sha256hex(body)}); err != nil {
				t.Errorf("PutObject, signed hash: %v", err)
			}
			obj, err := c.GetObject(ctx, "parley", key)
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			obj.Body.Close()
			if _, err := c.HeadObject(ctx, "parley", key); err != nil {
				t.Errorf("HeadObject: %v", err)
			}
			id, err := c.CreateMultipartUpload(ctx, &CreateMultipartUploadInput{Bucket: "parley", Key: key, ContentType: "text/plain"})
			if err != nil {
				t.Fatalf("CreateMultipartUpload: %v", err)
			}
			etag, err := c.UploadPart(ctx, &UploadPartInput{Bucket: "parley", Key: key, UploadID: id, PartNumber: 1,
				Body: bytes.NewReader([]byte(body)), ContentLength: int64(len(body))})
			if err != nil {
				t.Fatalf("UploadPart: %v", err)
			}
			if _, err := c.CompleteMultipartUpload(ctx, "parley", key, id, []Part{{PartNumber: 1, ETag: etag}}); err != nil {
				t.Errorf("CompleteMultipartUpload: %v", err)
			}
			if err := c.AbortMultipartUpload(ctx, "parley", key, id); err != nil {
				t.Errorf("AbortMultipartUpload: %v", err)
			}

			u, err := c.PresignGet("parley", key, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if code := get(t, u); code != http.StatusOK {
				t.Errorf("GET of the presigned URL: HTTP %d", code)
			}
			for _, tampered := range []string{
				strings.Replace(u, "X-Amz-Expires=300", "X-Amz-Expires=3000", 1),
				strings.Replace(u, "/parley/", "/parley/other", 1),
				strings.Replace(u, "X-Amz-Date=20261203T150405Z", "X-Amz-Date=20261203T150406Z", 1),
			} {
				if tampered == u {
					t.Fatalf("the tampering of %s changed nothing", u)
				}
				if code := get(t, tampered); code != http.StatusForbidden {
					t.Errorf("GET of a tampered presigned URL %s: HTTP %d, want 403", tampered, code)
				}
			}
		})
	}
	if err := New(&awsapi.Client{Region: "eu-west-1", Endpoint: srv.URL, Credentials: sdkCredentials, Now: func() time.Time { return now }}).
		CreateBucket(ctx, "parley"); err == nil || awsapi.ErrorCode(err) != "SignatureDoesNotMatch" {
		// Signed for eu-west-1, checked for us-east-1: refused, which shows
		// the verifier tells signatures apart.
		t.Errorf("CreateBucket signed for another region: %v, want SignatureDoesNotMatch", err)
	}
	if err := c.CreateBucket(ctx, "parley"); err != nil {
		t.Errorf("CreateBucket: %v", err)
	}

	t.Run("expired", func(t *testing.T) {
		old := New(&awsapi.Client{Region: "us-east-1", Endpoint: srv.URL, Credentials: sdkCredentials, Now: func() time.Time { return now.Add(-time.Hour) }})
		u, err := old.PresignGet("parley", "k", 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if code := get(t, u); code != http.StatusForbidden {
			t.Errorf("GET of an expired presigned URL: HTTP %d, want 403", code)
		}
	})
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func get(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// s3Error is an error answer in the shape of S3's documented examples.
const s3Error = `<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The specified key does not exist.</Message>
  <Key>raw/missing.json</Key>
  <RequestId>7B1D38A94C2E0F55</RequestId>
  <HostId>cGFybGV5IHRlc3QgaG9zdCBpZCBmb3IgYW4gZXJyb3I=</HostId>
</Error>`

func TestErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amz-Request-Id", "HEADERID")
		switch {
		case r.Method == http.MethodHead:
			w.WriteHeader(http.StatusNotFound)
		case r.Method == http.MethodPut && r.URL.Path == "/parley":
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `<Error><Code>BucketAlreadyOwnedByYou</Code><Message>Your previous request to create the named bucket succeeded and you already own it.</Message><BucketName>parley</BucketName></Error>`)
		default:
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, s3Error)
		}
	}))
	defer srv.Close()
	c := New(&awsapi.Client{Region: "eu-west-1", Endpoint: srv.URL})
	ctx := t.Context()

	_, err := c.GetObject(ctx, "parley", "raw/missing.json")
	var e *awsapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("GetObject of a missing key: %v, want an *awsapi.Error", err)
	}
	if e.Status != 404 || e.Code != "NoSuchKey" || e.Message != "The specified key does not exist." || e.RequestID != "7B1D38A94C2E0F55" || e.Operation != "S3.GetObject" {
		t.Errorf("GetObject's error = %+v", e)
	}
	if !strings.Contains(err.Error(), "NoSuchKey") {
		t.Errorf("the error reads %q, which names no code", err)
	}

	_, err = c.HeadObject(ctx, "parley", "raw/missing.json")
	if !errors.As(err, &e) || e.Code != "NotFound" || e.Status != 404 || e.RequestID != "HEADERID" {
		t.Errorf("HeadObject of a missing key: %v, want NotFound with the header's request id", err)
	}

	err = c.CreateBucket(ctx, "parley")
	if awsapi.ErrorCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("CreateBucket of an existing bucket: %v, want BucketAlreadyOwnedByYou", err)
	}
	if err := c.AbortMultipartUpload(ctx, "parley", "k", "gone"); awsapi.ErrorCode(err) != "NoSuchKey" {
		t.Errorf("AbortMultipartUpload: %v", err)
	}
}

// TestCompleteErrorIn200 answers CompleteMultipartUpload 200 with an
// error in the body, as S3 may once it has started answering: a passing
// error is tried again, any other returned.
func TestCompleteErrorIn200(t *testing.T) {
	t.Parallel()
	const internal = `<?xml version="1.0" encoding="UTF-8"?>

<Error>
<Code>InternalError</Code>
<Message>We encountered an internal error. Please try again.</Message>
<RequestId>5A6B7C8D9E0F1A2B</RequestId>
<HostId>aG9zdCBpZCBvZiBhIHRlc3Q=</HostId>
</Error>`
	const invalidPart = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidPart</Code><Message>One or more of the specified parts could not be found.</Message><RequestId>1F2E3D4C5B6A7988</RequestId></Error>`
	const done = `<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Location>http://127.0.0.1/parley/big.bin</Location>
  <Bucket>parley</Bucket>
  <Key>big.bin</Key>
  <ETag>"9b2cf535f27731c974343645a3985328-2"</ETag>
</CompleteMultipartUploadResult>`
	tests := []struct {
		name      string
		answers   []string
		wantCode  string
		wantETag  string
		wantTries int32
	}{
		{"success", []string{done}, "", `"9b2cf535f27731c974343645a3985328-2"`, 1},
		{"an internal error, then success", []string{internal, done}, "", `"9b2cf535f27731c974343645a3985328-2"`, 2},
		{"internal errors only", []string{internal, internal, internal, done}, "InternalError", "", 3},
		{"a part missing", []string{invalidPart, done}, "InvalidPart", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var tries atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if !strings.Contains(string(body), `<Part><ETag>&#34;p1&#34;</ETag><PartNumber>1</PartNumber></Part>`) {
					t.Errorf("CompleteMultipartUpload's document: %s", body)
				}
				n := tries.Add(1)
				io.WriteString(w, tt.answers[n-1])
			}))
			defer srv.Close()
			c := New(&awsapi.Client{Region: "us-east-1", Endpoint: srv.URL})
			etag, err := c.CompleteMultipartUpload(t.Context(), "parley", "big.bin", "up1", []Part{{PartNumber: 1, ETag: `"p1"`}, {PartNumber: 2, ETag: `"p2"`}})
			if got := awsapi.ErrorCode(err); got != tt.wantCode || (err != nil) != (tt.wantCode != "") {
				t.Errorf("error %v, want code %q", err, tt.wantCode)
			}
			if etag != tt.wantETag || tries.Load() != tt.wantTries {
				t.Errorf("ETag %s after %d tries, want %s after %d", etag, tries.Load(), tt.wantETag, tt.wantTries)
			}
		})
	}
}

// TestMoto runs the operations against moto: keys S3 escapes round-trip,
// metadata comes back with lower-case keys, errors carry S3's codes, a
// presigned URL reads over plain HTTP, a multipart upload assembles its
// parts and an aborted one leaves nothing.
func TestMoto(t *testing.T) {
	t.Parallel()
	srv := moto.StartT(t)
	ctx := t.Context()
	c := New(awsapi.FromEnv(func(string) string { return "" }, srv.Endpoint()))
	if err := c.CreateBucket(ctx, "parley"); err != nil {
		t.Fatal(err)
	}
	eu := New(awsapi.FromEnv(func(k string) string { return map[string]string{"AWS_REGION": "eu-west-1"}[k] }, srv.Endpoint()))
	if err := eu.CreateBucket(ctx, "parley-eu"); err != nil {
		t.Fatal(err)
	}
	if err := eu.CreateBucket(ctx, "parley-eu"); awsapi.ErrorCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("CreateBucket again: %v, want BucketAlreadyOwnedByYou", err)
	}
	sdk := s3sdk.New(s3sdk.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.Endpoint()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	loc, err := sdk.GetBucketLocation(ctx, &s3sdk.GetBucketLocationInput{Bucket: aws.String("parley-eu")})
	if err != nil || loc.LocationConstraint != "eu-west-1" {
		t.Errorf("parley-eu's location: %v, %v; want eu-west-1", loc, err)
	}

	for i, key := range keys {
		body := "body of " + key
		if _, err := c.PutObject(ctx, &PutObjectInput{Bucket: "parley", Key: key, Body: strings.NewReader(body), ContentLength: int64(len(body)),
			ContentType: "text/plain; charset=utf-8", Metadata: map[string]string{"Sender-Id": strconv.Itoa(i)}}); err != nil {
			t.Fatalf("PutObject %q: %v", key, err)
		}
		obj, err := c.GetObject(ctx, "parley", key)
		if err != nil {
			t.Fatalf("GetObject %q: %v", key, err)
		}
		got, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil || string(got) != body {
			t.Errorf("GetObject %q = %q, %v", key, got, err)
		}
		want := Info{ContentLength: int64(len(body)), ContentType: "text/plain; charset=utf-8", ETag: obj.ETag, Metadata: map[string]string{"sender-id": strconv.Itoa(i)}}
		if obj.ETag == "" || !infoEqual(obj.Info, want) {
			t.Errorf("GetObject %q: %+v, want %+v", key, obj.Info, want)
		}
		head, err := c.HeadObject(ctx, "parley", key)
		if err != nil || !infoEqual(head, want) {
			t.Errorf("HeadObject %q: %+v, %v; want %+v", key, head, err, want)
		}
		// The SDK finds it under the same key: nothing was escaped twice.
		if _, err := sdk.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String("parley"), Key: aws.String(key)}); err != nil {
			t.Errorf("the SDK's HeadObject %q: %v", key, err)
		}
		u, err := c.PresignGet("parley", key, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		got, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(got) != body {
			t.Errorf("GET of the presigned URL of %q: HTTP %d %q", key, resp.StatusCode, got)
		}
	}

	if _, err := c.GetObject(ctx, "parley", "missing"); awsapi.ErrorCode(err) != "NoSuchKey" {
		t.Errorf("GetObject of a missing key: %v, want NoSuchKey", err)
	}
	if _, err := c.HeadObject(ctx, "parley", "missing"); awsapi.ErrorCode(err) != "NotFound" {
		t.Errorf("HeadObject of a missing key: %v, want NotFound", err)
	}

	t.Run("multipart", func(t *testing.T) {
		part1 := bytes.Repeat([]byte("1"), 5<<20) // S3's smallest part but the last
		part2 := []byte("the last part")
		f, err := os.CreateTemp(t.TempDir(), "part")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(append([]byte("skipped"), part2...)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(int64(len("skipped")), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		id, err := c.CreateMultipartUpload(ctx, &CreateMultipartUploadInput{Bucket: "parley", Key: "big/ü.bin", ContentType: "application/octet-stream",
			Metadata: map[string]string{"Kind": "test"}})
		if err != nil {
			t.Fatal(err)
		}
		e1, err := c.UploadPart(ctx, &UploadPartInput{Bucket: "parley", Key: "big/ü.bin", UploadID: id, PartNumber: 1,
			Body: bytes.NewReader(part1), ContentLength: int64(len(part1))})
		if err != nil {
			t.Fatal(err)
		}
		e2, err := c.UploadPart(ctx, &UploadPartInput{Bucket: "parley", Key: "big/ü.bin", UploadID: id, PartNumber: 2,
			Body: f, ContentLength: int64(len(part2))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CompleteMultipartUpload(ctx, "parley", "big/ü.bin", id, []Part{{PartNumber: 1, ETag: e1}, {PartNumber: 2, ETag: e2}}); err != nil {
			t.Fatal(err)
		}
		obj, err := c.GetObject(ctx, "parley", "big/ü.bin")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if !bytes.Equal(got, append(part1, part2...)) || obj.Metadata["kind"] != "test" || obj.ContentType != "application/octet-stream" {
			t.Errorf("the assembled object: %d bytes, %+v", len(got), obj.Info)
		}

		id, err = c.CreateMultipartUpload(ctx, &CreateMultipartUploadInput{Bucket: "parley", Key: "big/aborted"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UploadPart(ctx, &UploadPartInput{Bucket: "parley", Key: "big/aborted", UploadID: id, PartNumber: 1,
			Body: bytes.NewReader(part2), ContentLength: int64(len(part2))}); err != nil {
			t.Fatal(err)
		}
		if err := c.AbortMultipartUpload(ctx, "parley", "big/aborted", id); err != nil {
			t.Fatal(err)
		}
		ups, err := sdk.ListMultipartUploads(ctx, &s3sdk.ListMultipartUploadsInput{Bucket: aws.String("parley")})
		if err != nil {
			t.Fatal(err)
		}
		if len(ups.Uploads) != 0 {
			t.Errorf("%d uploads left after the abort", len(ups.Uploads))
		}
		if _, err := c.GetObject(ctx, "parley", "big/aborted"); awsapi.ErrorCode(err) != "NoSuchKey" {
			t.Errorf("GetObject of the aborted upload: %v, want NoSuchKey", err)
		}
	})
}

// TestGetObjectAsStored reads an object stored gzipped as its bytes, not
// inflated by the HTTP client.
func TestGetObjectAsStored(t *testing.T) {
	t.Parallel()
	var stored bytes.Buffer
	zw := gzip.NewWriter(&stored)
	io.WriteString(zw, "a JSON body, stored compressed")
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(stored.Len()))
		w.Write(stored.Bytes())
	}))
	defer srv.Close()
	obj, err := New(&awsapi.Client{Region: "us-east-1", Endpoint: srv.URL}).GetObject(t.Context(), "parley", "raw/body.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(got, stored.Bytes()) || obj.ContentLength != int64(stored.Len()) {
		t.Errorf("GetObject: %d bytes (ContentLength %d), want the %d stored", len(got), obj.ContentLength, stored.Len())
	}
}

func infoEqual(a, b Info) bool {
	if a.ContentLength != b.ContentLength || a.ContentType != b.ContentType || a.ETag != b.ETag || len(a.Metadata) != len(b.Metadata) {
		return false
	}
	for k, v := range a.Metadata {
		if b.Metadata[k] != v {
			return false
		}
	}
	return true
}
