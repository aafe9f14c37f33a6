package awsapi

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSignOddInputsMatchSDK signs requests whose header values and query
// strings are awkward (white space other than a plain space, repeated
// names, characters whose order changes once encoded) with Sign and with
// the AWS SDK's signer, and wants the same signature: AWS computes it as
// the SDK does, so any difference is a request AWS refuses.
func TestSignOddInputsMatchSDK(t *testing.T) {
	cases := []struct {
		name, url string
		headers   map[string][]string
		length    int64
	}{
		{name: "tab inside a content type", url: "https://b.s3.eu-west-1.amazonaws.com/k",
			headers: map[string][]string{"Content-Type": {"text/plain;\tcharset=utf-8"}}},
		{name: "no-break space inside metadata", url: "https://b.s3.eu-west-1.amazonaws.com/k",
			headers: map[string][]string{"X-Amz-Meta-Name": {"menu\u00a0du\u00a0jour.pdf"}}},
		{name: "narrow no-break space inside metadata", url: "https://b.s3.eu-west-1.amazonaws.com/k",
			headers: map[string][]string{"X-Amz-Meta-Name": {"Screenshot at 10.41.07\u202fAM.png"}}},
		{name: "tabs and spaces around and between", url: "https://b.s3.eu-west-1.amazonaws.com/k",
			headers: map[string][]string{"X-Amz-Meta-Note": {"\t two  \t words \t"}}},
		{name: "a header given twice", url: "https://b.s3.eu-west-1.amazonaws.com/k",
			headers: map[string][]string{"X-Amz-Meta-Tag": {"first  one", " second"}}},
		{name: "repeated query name, values that sort otherwise once encoded", url: "https://b.s3.eu-west-1.amazonaws.com/k?tag=a%2Fb&tag=a-b&tag=a%20b",
			headers: nil},
		{name: "query names that sort otherwise once encoded", url: "https://b.s3.eu-west-1.amazonaws.com/k?a%2Fb=1&a-b=2&a~b=3",
			headers: nil},
		{name: "empty values, plus signs, percent signs, unicode", url: "https://b.s3.eu-west-1.amazonaws.com/k?uploads=&x=1%2B1%3D2&y=100%25&caf%C3%A9=cr%C3%A8me&z",
			headers: nil},
		{name: "content length 0", url: "https://b.s3.eu-west-1.amazonaws.com/k", length: 0,
			headers: map[string][]string{"Content-Type": {"application/octet-stream"}}},
	}
	cr := Credentials{AccessKeyID: "AKIAPARLEYEXAMPLE", SecretAccessKey: "odd/inputs+secret", SessionToken: "odd+token/=="}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ours, theirs := newRequest(t, "PUT", tc.url, nil, tc.length), newRequest(t, "PUT", tc.url, nil, tc.length)
			for k, vs := range tc.headers {
				for _, v := range vs {
					ours.Header.Add(k, v)
					theirs.Header.Add(k, v)
				}
			}
			Sign(ours, UnsignedPayload, cr, "s3", "eu-west-1", signedAt)
			theirs.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
			err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken},
				theirs, UnsignedPayload, "s3", "eu-west-1", signedAt)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := ours.Header.Get("Authorization"), theirs.Header.Get("Authorization"); g != w {
				t.Errorf("Authorization:\n got %s\nwant %s", g, w)
			}
		})
	}
}

// TestPresignOddQueryMatchesSDK presigns a URL whose own query has names
// and values that sort otherwise once encoded.
func TestPresignOddQueryMatchesSDK(t *testing.T) {
	c := &Client{Region: "eu-west-1", Credentials: Credentials{AccessKeyID: "AKIAPARLEYEXAMPLE", SecretAccessKey: "odd/presign"},
		Now: func() time.Time { return signedAt }}
	target := "https://b.s3.eu-west-1.amazonaws.com/k?response-content-disposition=a%2Fb&response-content-disposition=a-b&a%2Fb=1&a-b=2"
	got, err := c.Presign("s3", newRequest(t, "GET", target, nil, 0), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	theirs := newRequest(t, "GET", target, nil, 0)
	q := theirs.URL.Query()
	q.Set("X-Amz-Expires", "3600")
	theirs.URL.RawQuery = q.Encode()
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	want, _, err := signer.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIAPARLEYEXAMPLE", SecretAccessKey: "odd/presign"},
		theirs, UnsignedPayload, "s3", "eu-west-1", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	if !sameURL(t, got, want) {
		t.Errorf("presigned URL:\n got %s\nwant %s", got, want)
	}
}
