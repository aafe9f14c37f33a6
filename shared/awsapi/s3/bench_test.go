package s3

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/parleyhq/parley/shared/awsapi"
)

// benchObject is the size of the objects the benchmarks put and get: an
// attachment of a typical size.
const benchObject = 1 << 20

// benchClients returns this package's client and the AWS SDK's, with the
// same keys, pointed at an S3 stand-in over TLS (as in AWS, where both
// send bodies unsigned) that takes any PUT and answers every GET with
// benchObject bytes.
func benchClients(b *testing.B) (*Client, *s3sdk.Client) {
	body := bytes.Repeat([]byte("x"), benchObject)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"5eb63bbbe01eeed093cb22bb8f5acdc3"`)
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Header().Set("Content-Type", "application/pdf")
			_, _ = w.Write(body)
		}
	}))
	b.Cleanup(srv.Close)
	ours := New(&awsapi.Client{Region: "eu-west-1", Endpoint: srv.URL, HTTP: srv.Client(),
		Credentials: awsapi.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench-secret"}})
	theirs := s3sdk.New(s3sdk.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, HTTPClient: srv.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench-secret", "")})
	return ours, theirs
}

// BenchmarkPutObject puts a 1 MiB object with this package and with the
// AWS SDK.
func BenchmarkPutObject(b *testing.B) {
	ours, theirs := benchClients(b)
	body := bytes.Repeat([]byte("y"), benchObject)
	meta := map[string]string{"name": "invoice.pdf"}
	b.Run("awsapi", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(benchObject)
		for b.Loop() {
			if _, err := ours.PutObject(b.Context(), &PutObjectInput{Bucket: "parley", Key: "uploads/invoice 1.pdf", Body: bytes.NewReader(body),
				ContentLength: benchObject, ContentType: "application/pdf", Metadata: meta}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(benchObject)
		for b.Loop() {
			if _, err := theirs.PutObject(b.Context(), &s3sdk.PutObjectInput{Bucket: aws.String("parley"), Key: aws.String("uploads/invoice 1.pdf"),
				Body: bytes.NewReader(body), ContentLength: aws.Int64(benchObject), ContentType: aws.String("application/pdf"), Metadata: meta}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGetObject reads a 1 MiB object with this package and with the
// AWS SDK.
func BenchmarkGetObject(b *testing.B) {
	ours, theirs := benchClients(b)
	read := func(b *testing.B, rc io.ReadCloser) {
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != benchObject {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
	b.Run("awsapi", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(benchObject)
		for b.Loop() {
			obj, err := ours.GetObject(b.Context(), "parley", "uploads/invoice 1.pdf")
			if err != nil {
				b.Fatal(err)
			}
			read(b, obj.Body)
		}
	})
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(benchObject)
		for b.Loop() {
			out, err := theirs.GetObject(b.Context(), &s3sdk.GetObjectInput{Bucket: aws.String("parley"), Key: aws.String("uploads/invoice 1.pdf")})
			if err != nil {
				b.Fatal(err)
			}
			read(b, out.Body)
		}
	})
}

// BenchmarkPresignGet presigns an attachment's URL with this package and
// with the AWS SDK.
func BenchmarkPresignGet(b *testing.B) {
	ours, theirs := benchClients(b)
	presign := s3sdk.NewPresignClient(theirs)
	b.Run("awsapi", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ours.PresignGet("parley", "decoded/apple/1/attachment-0", 24*time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := presign.PresignGetObject(b.Context(), &s3sdk.GetObjectInput{Bucket: aws.String("parley"), Key: aws.String("decoded/apple/1/attachment-0")},
				s3sdk.WithPresignExpires(24*time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
