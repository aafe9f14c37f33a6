package awsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/awsapi"
)

// TestDoRetriesS3RequestTimeout: S3 answers 400 RequestTimeout when the
// connection stalled while the request was sent ("Your socket connection
// to the server was not read from or written to within the timeout
// period"), which AWS asks to retry (the SDK does). A body that can be
// sent again is; the error comes back readable when the tries run out;
// other 400s are not tried again.
func TestDoRetriesS3RequestTimeout(t *testing.T) {
	timeout := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>RequestTimeout</Code><Message>Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.</Message><RequestId>T1</RequestId></Error>`)
	}
	badDigest := func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `<Error><Code>BadDigest</Code><Message>The Content-MD5 you specified did not match what was received.</Message></Error>`)
	}
	ok := func(w http.ResponseWriter) { w.Header().Set("ETag", `"e"`) }
	put := func(t *testing.T, a *answers) *http.Response {
		t.Helper()
		c := client(t, a)
		req, _ := http.NewRequest(http.MethodPut, c.Endpoint+"/bucket/key", strings.NewReader("the blob"))
		resp, err := c.Do(context.Background(), "s3", req, awsapi.UnsignedPayload)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	t.Run("tried again", func(t *testing.T) {
		a := &answers{script: []func(http.ResponseWriter){timeout, ok}}
		resp := put(t, a)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(a.bodies) != 2 || a.bodies[1] != "the blob" {
			t.Errorf("HTTP %d after %d tries, sent %q", resp.StatusCode, len(a.bodies), a.bodies)
		}
	})
	t.Run("readable when the tries run out", func(t *testing.T) {
		a := &answers{script: []func(http.ResponseWriter){timeout}}
		resp := put(t, a)
		if e := awsapi.ReadXMLError(resp); e.Code != "RequestTimeout" || e.RequestID != "T1" || len(a.bodies) != 3 {
			t.Errorf("%+v after %d tries", e, len(a.bodies))
		}
	})
	t.Run("other client errors are not", func(t *testing.T) {
		a := &answers{script: []func(http.ResponseWriter){badDigest, ok}}
		resp := put(t, a)
		if e := awsapi.ReadXMLError(resp); e.Code != "BadDigest" || len(a.bodies) != 1 {
			t.Errorf("%+v after %d tries", e, len(a.bodies))
		}
	})
}

// TestErrorsHideTheSessionToken: AWS's answer to a request whose signature
// it refuses quotes the canonical request it expected, the session token
// included; the error (which is logged) must not carry the token on.
func TestErrorsHideTheSessionToken(t *testing.T) {
	const token = "IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQexampleSessionToken+/=="
	var c *awsapi.Client
	a := &answers{script: []func(http.ResponseWriter){func(w http.ResponseWriter) {
		canonical := "POST\n/\n\ncontent-type:application/x-amz-json-1.0\nhost:" + strings.TrimPrefix(c.Endpoint, "http://") +
			"\nx-amz-date:20261203T150000Z\nx-amz-security-token:" + token + "\nx-amz-target:DynamoDB_20120810.GetItem\n\n" +
			"content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
		msg := "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. " +
			"Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'" + canonical + "'\n\n"
		body, _ := json.Marshal(map[string]string{"__type": "com.amazon.coral.service#InvalidSignatureException", "message": msg})
		jsonAnswer(http.StatusBadRequest, string(body))(w)
	}}}
	c = client(t, a)
	c.Credentials.SessionToken = token
	err := c.Call(context.Background(), awsapi.DynamoDB, "GetItem", map[string]string{"TableName": "parley"}, nil)
	var e *awsapi.Error
	if !errors.As(err, &e) || e.Code != "InvalidSignatureException" {
		t.Fatalf("%v, want InvalidSignatureException", err)
	}
	if a.reqs[0].Header.Get("X-Amz-Security-Token") != token {
		t.Fatal("the request did not carry the session token")
	}
	if strings.Contains(err.Error(), token) || strings.Contains(e.Message, token) || strings.Contains(string(e.Body), token) {
		t.Errorf("the error carries the session token: %v", err)
	}
	if !strings.Contains(e.Message, "x-amz-target:DynamoDB_20120810.GetItem") {
		t.Errorf("the rest of AWS's message is gone: %q", e.Message)
	}
}
