package awsapi_test

import (
	"context"
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
