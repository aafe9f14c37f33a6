package lambdahttp

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// echo answers with what it saw of the request.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Method", r.Method)
	w.Header().Set("X-Path", r.URL.Path)
	w.Header().Set("X-Escaped-Path", r.URL.EscapedPath())
	w.Header().Set("X-Query", r.URL.Query().Get("q"))
	w.Header().Set("X-Sig", r.Header.Get("X-Hub-Signature-256"))
	w.WriteHeader(http.StatusTeapot)
	_, _ = w.Write(b)
})

func TestHTTPAPI(t *testing.T) {
	e := events.APIGatewayV2HTTPRequest{
		RawPath: "/v1/conversations/apple/biz/urn:mbid:AQ%2Fx%2B=", RawQueryString: "q=1%202",
		Headers: map[string]string{"x-hub-signature-256": "sha256=ab"},
		Body:    `{"a":"é"}`,
	}
	e.RequestContext.HTTP.Method = "POST"
	res, err := HTTPAPI(echo)(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"status": http.StatusText(res.StatusCode), "X-Method": res.Headers["X-Method"], "X-Path": res.Headers["X-Path"],
		"X-Escaped-Path": res.Headers["X-Escaped-Path"], "X-Query": res.Headers["X-Query"], "X-Sig": res.Headers["X-Sig"], "body": res.Body,
	}
	want := map[string]string{
		"status": http.StatusText(http.StatusTeapot), "X-Method": "POST", "X-Path": "/v1/conversations/apple/biz/urn:mbid:AQ/x+=",
		"X-Escaped-Path": "/v1/conversations/apple/biz/urn:mbid:AQ%2Fx%2B=", "X-Query": "1 2", "X-Sig": "sha256=ab", "body": `{"a":"é"}`,
	}
	for k, v := range want {
		if checks[k] != v {
			t.Errorf("%s = %q, want %q", k, checks[k], v)
		}
	}
	if res.IsBase64Encoded {
		t.Error("a UTF-8 answer must not be Base64-encoded")
	}
}

func TestFunctionURLBinaryBodies(t *testing.T) {
	raw := []byte{0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe}
	e := events.LambdaFunctionURLRequest{RawPath: "/webhooks/apple/message", Body: base64.StdEncoding.EncodeToString(raw), IsBase64Encoded: true}
	e.RequestContext.HTTP.Method = "POST"
	res, err := FunctionURL(echo)(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsBase64Encoded {
		t.Fatal("a binary answer must be Base64-encoded")
	}
	got, _ := base64.StdEncoding.DecodeString(res.Body)
	if string(got) != string(raw) {
		t.Errorf("body = %x, want %x (byte for byte)", got, raw)
	}
}

func TestBadEvents(t *testing.T) {
	e := events.LambdaFunctionURLRequest{RawPath: "/x", Body: "%%%", IsBase64Encoded: true}
	e.RequestContext.HTTP.Method = "POST"
	res, err := FunctionURL(echo)(context.Background(), e)
	if err != nil || res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad Base64: status %d, err %v; want 400", res.StatusCode, err)
	}
	if _, err := FunctionURL(echo)(context.Background(), events.LambdaFunctionURLRequest{}); err == nil {
		t.Error("an event without a method must be an error")
	}
}
