package awsapi

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"golang.org/x/net/http/httpguts"
)

// FuzzSignMatchesSDK signs requests with fuzzed header values, query
// names and values and object keys with Sign and with the AWS SDK's
// signer: the signatures must be the same.
func FuzzSignMatchesSDK(f *testing.F) {
	f.Add("text/plain; charset=utf-8", "menu du jour", "prefix", "a b", "media/2026/photo 1.jpg", "s3")
	f.Add("a\tb", "x\u00a0y", "k/1", "a-b", "a+b%", "dynamodb")
	f.Add("  two  spaces  ", "", "", "", "", "s3")
	f.Fuzz(func(t *testing.T, contentType, meta, qk, qv, key, service string) {
		if service != "s3" {
			service = "dynamodb"
		}
		for _, v := range []string{contentType, meta} {
			if !httpguts.ValidHeaderFieldValue(v) {
				return // Go's client would refuse to send it
			}
		}
		u := "https://b.s3.eu-west-1.amazonaws.com/" + EscapePath(key) + "?" + url.Values{qk: {qv, "second"}, "x-id": {"PutObject"}}.Encode()
		ours, err := http.NewRequest(http.MethodPut, u, nil)
		if err != nil {
			return
		}
		theirs, _ := http.NewRequest(http.MethodPut, u, nil)
		for _, r := range []*http.Request{ours, theirs} {
			r.Header.Set("Content-Type", contentType)
			r.Header.Set("X-Amz-Meta-Note", meta)
			r.ContentLength = 12
		}
		cr := Credentials{AccessKeyID: "AKIAPARLEYEXAMPLE", SecretAccessKey: "fuzz/secret", SessionToken: "tok+/="}
		Sign(ours, UnsignedPayload, cr, service, "eu-west-1", signedAt)
		if service == "s3" {
			theirs.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		}
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
		if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken},
			theirs, UnsignedPayload, service, "eu-west-1", signedAt); err != nil {
			t.Fatal(err)
		}
		if g, w := ours.Header.Get("Authorization"), theirs.Header.Get("Authorization"); g != w {
			t.Errorf("content type %q, meta %q, query %q=%q, key %q (%s):\n got %s\nwant %s", contentType, meta, qk, qv, key, service, g, w)
		}
	})
}
