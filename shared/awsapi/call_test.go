package awsapi_test

import (
	"context"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/awsapi"
)

// answers is a server that gives the scripted answers in turn (the last
// one again once they run out) and records what it was sent.
type answers struct {
	script []func(w http.ResponseWriter)
	n      atomic.Int32
	bodies []string
	reqs   []*http.Request
}

func (a *answers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	a.bodies = append(a.bodies, string(b))
	a.reqs = append(a.reqs, r)
	i := min(int(a.n.Add(1))-1, len(a.script)-1)
	a.script[i](w)
}

func jsonAnswer(status int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
		w.Header().Set("X-Amzn-Requestid", "REQ"+strconv.Itoa(status))
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func client(t *testing.T, h http.Handler) *awsapi.Client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &awsapi.Client{Region: "eu-west-1", Endpoint: srv.URL, Credentials: awsapi.Credentials{AccessKeyID: "AKIATEST", SecretAccessKey: "s"}}
}

const conditionFailed = `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`

func TestCall(t *testing.T) {
	cases := []struct {
		name     string
		script   []func(http.ResponseWriter)
		retryIf  func(*awsapi.Error) bool
		tries    int
		wantCode string
	}{
		{name: "answered", script: []func(http.ResponseWriter){jsonAnswer(200, `{"Count":2}`)}, tries: 1},
		{name: "an error answer is not tried again", script: []func(http.ResponseWriter){jsonAnswer(400, conditionFailed)}, tries: 1, wantCode: "ConditionalCheckFailedException"},
		{name: "throttling is tried again", script: []func(http.ResponseWriter){
			jsonAnswer(400, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`),
			jsonAnswer(200, `{"Count":2}`)}, tries: 2},
		{name: "a server error is tried again", script: []func(http.ResponseWriter){jsonAnswer(500, `{"__type":"InternalServerError"}`), jsonAnswer(200, `{"Count":2}`)}, tries: 2},
		{name: "three tries at most", script: []func(http.ResponseWriter){jsonAnswer(503, `{"__type":"com.amazonaws.sqs#ServiceUnavailable","message":"busy"}`)}, tries: 3, wantCode: "ServiceUnavailable"},
		{name: "a damaged answer is tried again", script: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { w.Header().Set("X-Amz-Crc32", "1"); io.WriteString(w, `{"Count":2}`) },
			jsonAnswer(200, `{"Count":2}`)}, tries: 2},
		{name: "RetryIf adds errors", script: []func(http.ResponseWriter){jsonAnswer(400, conditionFailed), jsonAnswer(200, `{"Count":2}`)},
			retryIf: func(e *awsapi.Error) bool { return e.Code == "ConditionalCheckFailedException" }, tries: 2},
		{name: "code from the header", script: []func(http.ResponseWriter){func(w http.ResponseWriter) {
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.secretsmanager/")
			w.WriteHeader(400)
			io.WriteString(w, `{"Message":"Secrets Manager can't find the specified secret."}`)
		}}, tries: 1, wantCode: "ResourceNotFoundException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &answers{script: tc.script}
			c := client(t, a)
			var attempts int
			opts := []awsapi.CallOption{awsapi.OnAttempt(func() { attempts++ })}
			if tc.retryIf != nil {
				opts = append(opts, awsapi.RetryIf(tc.retryIf))
			}
			var out struct{ Count int }
			err := c.Call(context.Background(), awsapi.DynamoDB, "Query", map[string]string{"TableName": "parley"}, &out, opts...)
			if got := awsapi.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("error %v, want code %q", err, tc.wantCode)
			}
			if tc.wantCode == "" && out.Count != 2 {
				t.Errorf("answer not decoded: %+v", out)
			}
			if len(a.reqs) != tc.tries || attempts != tc.tries {
				t.Errorf("%d requests, %d attempts counted; want %d", len(a.reqs), attempts, tc.tries)
			}
			for i, r := range a.reqs {
				if got := r.Header.Get("X-Amz-Target"); got != "DynamoDB_20120810.Query" {
					t.Errorf("X-Amz-Target %q", got)
				}
				if got := r.Header.Get("Content-Type"); got != "application/x-amz-json-1.0" {
					t.Errorf("Content-Type %q", got)
				}
				if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIATEST/") {
					t.Errorf("not signed: %q", r.Header.Get("Authorization"))
				}
				if a.bodies[i] != `{"TableName":"parley"}` {
					t.Errorf("try %d sent %q", i+1, a.bodies[i])
				}
			}
		})
	}
}

func TestCallErrorSaysWhat(t *testing.T) {
	c := client(t, &answers{script: []func(http.ResponseWriter){jsonAnswer(400, conditionFailed)}})
	err := c.Call(context.Background(), awsapi.DynamoDB, "PutItem", nil, nil)
	var e *awsapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("%T %v", err, err)
	}
	want := "awsapi: DynamoDB_20120810.PutItem: ConditionalCheckFailedException: The conditional request failed (request REQ400)"
	if e.Error() != want || e.Status != 400 || string(e.Body) != conditionFailed {
		t.Errorf("got %q (status %d, body %s)", e.Error(), e.Status, e.Body)
	}
}

func TestCallStopsWithItsContext(t *testing.T) {
	a := &answers{script: []func(http.ResponseWriter){jsonAnswer(500, `{}`)}}
	c := client(t, a)
	c.MaxAttempts = 100
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, awsapi.SQS, "SendMessage", nil, nil); err == nil {
		t.Fatal("want an error")
	}
	if len(a.reqs) >= 100 {
		t.Errorf("%d tries after the context ended", len(a.reqs))
	}
}

func TestCallUnsignedWithoutKeys(t *testing.T) {
	a := &answers{script: []func(http.ResponseWriter){jsonAnswer(200, `{}`)}}
	c := client(t, a)
	c.Credentials = awsapi.Credentials{}
	if err := c.Call(context.Background(), awsapi.EventBridge, "PutEvents", nil, nil); err != nil {
		t.Fatal(err)
	}
	if h := a.reqs[0].Header.Get("Authorization"); h != "" {
		t.Errorf("Authorization %q without keys", h)
	}
	if got := a.reqs[0].Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type %q", got)
	}
}

func TestDo(t *testing.T) {
	t.Run("a server error is tried again with the same body", func(t *testing.T) {
		a := &answers{script: []func(http.ResponseWriter){
			func(w http.ResponseWriter) {
				w.WriteHeader(503)
				io.WriteString(w, "<Error><Code>SlowDown</Code></Error>")
			},
			func(w http.ResponseWriter) { w.WriteHeader(200) }}}
		c := client(t, a)
		req, _ := http.NewRequest(http.MethodPut, c.Endpoint+"/bucket/key", strings.NewReader("the blob"))
		resp, err := c.Do(context.Background(), "s3", req, awsapi.UnsignedPayload)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
		if len(a.bodies) != 2 || a.bodies[0] != "the blob" || a.bodies[1] != "the blob" {
			t.Errorf("sent %q", a.bodies)
		}
		if got := a.reqs[1].Header.Get("Accept-Encoding"); got != "identity" {
			t.Errorf("Accept-Encoding %q", got)
		}
		if got := a.reqs[1].Header.Get("X-Amz-Content-Sha256"); got != awsapi.UnsignedPayload {
			t.Errorf("X-Amz-Content-Sha256 %q", got)
		}
	})
	t.Run("the last server error is returned readable", func(t *testing.T) {
		a := &answers{script: []func(http.ResponseWriter){func(w http.ResponseWriter) {
			w.WriteHeader(500)
			io.WriteString(w, "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message><RequestId>R1</RequestId></Error>")
		}}}
		c := client(t, a)
		req, _ := http.NewRequest(http.MethodGet, c.Endpoint+"/bucket/key", nil)
		resp, err := c.Do(context.Background(), "s3", req, awsapi.EmptyPayload)
		if err != nil {
			t.Fatal(err)
		}
		e := awsapi.ReadXMLError(resp)
		if e.Code != "InternalError" || e.RequestID != "R1" || len(a.reqs) != 3 {
			t.Errorf("%+v after %d tries", e, len(a.reqs))
		}
	})
	t.Run("a body that cannot be replayed is sent once", func(t *testing.T) {
		a := &answers{script: []func(http.ResponseWriter){func(w http.ResponseWriter) { w.WriteHeader(500) }}}
		c := client(t, a)
		req, _ := http.NewRequest(http.MethodPut, c.Endpoint+"/bucket/key", io.NopCloser(strings.NewReader("stream")))
		req.ContentLength = 6
		resp, err := c.Do(context.Background(), "s3", req, awsapi.UnsignedPayload)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 500 || len(a.reqs) != 1 {
			t.Errorf("status %d after %d tries", resp.StatusCode, len(a.reqs))
		}
	})
	t.Run("a HEAD's 404 is NotFound", func(t *testing.T) {
		c := client(t, http.NotFoundHandler())
		req, _ := http.NewRequest(http.MethodHead, c.Endpoint+"/bucket/none", nil)
		resp, err := c.Do(context.Background(), "s3", req, awsapi.EmptyPayload)
		if err != nil {
			t.Fatal(err)
		}
		if e := awsapi.ReadXMLError(resp); e.Code != "NotFound" {
			t.Errorf("%+v", e)
		}
	})
}

// TestNoRedirects: a redirect comes back as the answer it is, never
// followed to another host with the signed request.
func TestNoRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", other.URL+r.URL.Path)
		w.WriteHeader(http.StatusTemporaryRedirect)
		io.WriteString(w, "<Error><Code>TemporaryRedirect</Code><Message>Please re-send this request to the specified temporary endpoint.</Message></Error>")
	}))
	defer srv.Close()
	c := &awsapi.Client{Region: "us-east-1", Endpoint: srv.URL, Credentials: awsapi.Credentials{AccessKeyID: "A", SecretAccessKey: "S"}}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/bucket/key", strings.NewReader("secret bytes"))
	resp, err := c.Do(context.Background(), "s3", req, awsapi.UnsignedPayload)
	if err != nil {
		t.Fatal(err)
	}
	if e := awsapi.ReadXMLError(resp); e.Status != http.StatusTemporaryRedirect || e.Code != "TemporaryRedirect" {
		t.Errorf("%+v", e)
	}
	err = c.Call(context.Background(), awsapi.SQS, "SendMessage", map[string]string{"QueueUrl": srv.URL}, nil)
	if e := (*awsapi.Error)(nil); !errors.As(err, &e) || e.Status != http.StatusTemporaryRedirect {
		t.Errorf("a redirected call: %v", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d requests followed the redirect", n)
	}
}

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c := awsapi.FromEnv(env(map[string]string{"AWS_REGION": "cn-north-1", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S", "AWS_SESSION_TOKEN": "T"}), "")
	if c.Credentials != (awsapi.Credentials{AccessKeyID: "A", SecretAccessKey: "S", SessionToken: "T"}) || c.BaseURL("dynamodb") != "https://dynamodb.cn-north-1.amazonaws.com.cn" {
		t.Errorf("%+v %s", c, c.BaseURL("dynamodb"))
	}
	c = awsapi.FromEnv(env(nil), "http://127.0.0.1:5000/")
	if c.Region != "us-east-1" || c.Credentials.AccessKeyID != "test" || c.BaseURL("sqs") != "http://127.0.0.1:5000" {
		t.Errorf("%+v %s", c, c.BaseURL("sqs"))
	}
	c = awsapi.FromEnv(env(map[string]string{"AWS_REGION": "eu-west-2"}), "")
	if c.Credentials.AccessKeyID != "" || c.BaseURL("events") != "https://events.eu-west-2.amazonaws.com" {
		t.Errorf("%+v %s", c, c.BaseURL("events"))
	}
}

// TestCallOnMoto speaks to moto_server's DynamoDB and Secrets Manager over
// their real wire protocol.
func TestCallOnMoto(t *testing.T) {
	m := moto.StartT(t)
	c := awsapi.FromEnv(func(string) string { return "" }, m.Endpoint())
	ctx := context.Background()
	err := c.Call(ctx, awsapi.DynamoDB, "CreateTable", map[string]any{
		"TableName":            "calls",
		"KeySchema":            []map[string]string{{"AttributeName": "PK", "KeyType": "HASH"}},
		"AttributeDefinitions": []map[string]string{{"AttributeName": "PK", "AttributeType": "S"}},
		"BillingMode":          "PAY_PER_REQUEST",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	put := map[string]any{"TableName": "calls", "Item": map[string]any{"PK": map[string]string{"S": "café"}}, "ConditionExpression": "attribute_not_exists(PK)"}
	if err := c.Call(ctx, awsapi.DynamoDB, "PutItem", put, nil); err != nil {
		t.Fatal(err)
	}
	err = c.Call(ctx, awsapi.DynamoDB, "PutItem", put, nil)
	if awsapi.ErrorCode(err) != "ConditionalCheckFailedException" {
		t.Fatalf("second put: %v", err)
	}
	var got struct{ Item map[string]map[string]string }
	if err := c.Call(ctx, awsapi.DynamoDB, "GetItem", map[string]any{"TableName": "calls", "Key": map[string]any{"PK": map[string]string{"S": "café"}}}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Item["PK"]["S"] != "café" {
		t.Errorf("GetItem: %+v", got)
	}
	err = c.Call(ctx, awsapi.SecretsManager, "GetSecretValue", map[string]string{"SecretId": "none"}, nil)
	if awsapi.ErrorCode(err) != "ResourceNotFoundException" {
		t.Errorf("missing secret: %v", err)
	}
}

// TestNotImplementedIsFinal: a 501 is AWS saying it will never do the
// request; it is not tried again, by Call or by Do.
func TestNotImplementedIsFinal(t *testing.T) {
	a := &answers{script: []func(http.ResponseWriter){func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusNotImplemented)
		io.WriteString(w, "<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented.</Message></Error>")
	}}}
	c := client(t, a)
	req, _ := http.NewRequest(http.MethodPut, c.Endpoint+"/bucket/key", strings.NewReader("x"))
	resp, err := c.Do(context.Background(), "s3", req, awsapi.UnsignedPayload)
	if err != nil {
		t.Fatal(err)
	}
	if e := awsapi.ReadXMLError(resp); e.Code != "NotImplemented" || len(a.reqs) != 1 {
		t.Errorf("%+v after %d tries", e, len(a.reqs))
	}
	if err := c.Call(context.Background(), awsapi.SQS, "SendMessage", nil, nil); err == nil || len(a.reqs) != 2 {
		t.Errorf("%v after %d tries in all", err, len(a.reqs))
	}
}

// A call AtMostOnce is tried again only when AWS certainly did not act on
// it: throttled, or the connection failed before the request was sent.
func TestCallAtMostOnce(t *testing.T) {
	hangUp := func(w http.ResponseWriter) {
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}
	cases := []struct {
		name     string
		script   []func(http.ResponseWriter)
		tries    int
		wantCode string
	}{
		{name: "throttling is tried again", script: []func(http.ResponseWriter){
			jsonAnswer(400, `{"__type":"ThrottlingException","message":"slow down"}`), jsonAnswer(200, `{"Count":2}`)}, tries: 2},
		{name: "429 is tried again", script: []func(http.ResponseWriter){jsonAnswer(429, `{}`), jsonAnswer(200, `{"Count":2}`)}, tries: 2},
		{name: "a server error is not", script: []func(http.ResponseWriter){jsonAnswer(500, `{"__type":"InternalException"}`), jsonAnswer(200, `{"Count":2}`)},
			tries: 1, wantCode: "InternalException"},
		{name: "an unavailable service is not", script: []func(http.ResponseWriter){jsonAnswer(503, `{"__type":"ServiceUnavailable"}`), jsonAnswer(200, `{"Count":2}`)},
			tries: 1, wantCode: "ServiceUnavailable"},
		{name: "a damaged answer is not", script: []func(http.ResponseWriter){
			func(w http.ResponseWriter) { w.Header().Set("X-Amz-Crc32", "1"); io.WriteString(w, `{"Count":2}`) },
			jsonAnswer(200, `{"Count":2}`)}, tries: 1},
		{name: "a lost answer is not", script: []func(http.ResponseWriter){hangUp, jsonAnswer(200, `{"Count":2}`)}, tries: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &answers{script: tc.script}
			c := client(t, a)
			var out struct{ Count int }
			err := c.Call(context.Background(), awsapi.EventBridge, "PutEvents", map[string]string{}, &out, awsapi.AtMostOnce())
			if tc.tries > 1 && err != nil {
				t.Fatalf("error %v after %d requests, want the retry's answer", err, len(a.reqs))
			}
			if tc.tries == 1 && (err == nil || awsapi.ErrorCode(err) != tc.wantCode) {
				t.Fatalf("error %v, want one with code %q", err, tc.wantCode)
			}
			if len(a.reqs) != tc.tries {
				t.Errorf("%d requests, want %d", len(a.reqs), tc.tries)
			}
		})
	}

	// Nothing listens: the request was never sent, so it is tried again.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	var attempts int
	c := &awsapi.Client{Region: "eu-west-1", Endpoint: srv.URL}
	err := c.Call(context.Background(), awsapi.EventBridge, "PutEvents", nil, nil, awsapi.AtMostOnce(), awsapi.OnAttempt(func() { attempts++ }))
	if err == nil || attempts != 3 {
		t.Fatalf("a refused connection: %v after %d attempts, want 3", err, attempts)
	}
}
