package awsapi

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Error is an error answer of an AWS service.
type Error struct {
	// Operation is the call that failed, such as
	// "DynamoDB_20120810.PutItem", when known.
	Operation string
	// Status is the HTTP status of the answer.
	Status int
	// Code is AWS's name of the error, such as
	// "ConditionalCheckFailedException" or "NoSuchKey".
	Code      string
	Message   string
	RequestID string
	// Body is the whole error document: some errors say more in it
	// (DynamoDB's CancellationReasons).
	Body []byte
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("awsapi: ")
	if e.Operation != "" {
		b.WriteString(e.Operation + ": ")
	}
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
	}
	b.WriteString(code)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	return b.String()
}

// ErrorCode is the Code of the *Error in err's chain, or "" when there is
// none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Retryable reports whether AWS asks for a request that failed with status
// and code to be tried again: a server error that may pass (500, 502, 503,
// 504; not 501 Not Implemented), or throttling.
func Retryable(status int, code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
		"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
		"SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
		"RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable":
		return true
	}
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
		http.StatusGatewayTimeout, http.StatusTooManyRequests:
		return true
	}
	return false
}

// Throttled reports whether AWS refused a request, unprocessed, for its
// rate: a throttling code or 429.
func Throttled(status int, code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
		"BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "EC2ThrottledException":
		return true
	}
	return status == http.StatusTooManyRequests
}

// jsonError reads the error answer of a JSON-protocol service:
// {"__type": "namespace#Code", "message": "…"}, or the code in the
// X-Amzn-ErrorType header.
func jsonError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode, Body: body, RequestID: requestID(resp.Header)}
	var doc struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(body, &doc)
	e.Code = doc.Type
	if e.Code == "" {
		e.Code = doc.Code
	}
	if h := resp.Header.Get("X-Amzn-ErrorType"); h != "" {
		e.Code = h
	}
	e.Code = errorName(e.Code)
	e.Message = doc.Message
	if e.Message == "" {
		e.Message = doc.Message2
	}
	return e
}

// errorName is the bare name in a qualified error type:
// "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" and
// "ResourceNotFoundException:http://internal.amazon.com/…" are both
// ResourceNotFoundException.
func errorName(t string) string {
	if i := strings.LastIndexByte(t, '#'); i >= 0 {
		t = t[i+1:]
	}
	if i := strings.IndexByte(t, ':'); i >= 0 {
		t = t[:i]
	}
	return t
}

// ReadXMLError reads the error answer of an XML-protocol service (S3):
// <Error><Code>NoSuchKey</Code><Message>…</Message></Error>. An answer
// without a body (a HEAD) gets its status's name as its code: NotFound,
// Forbidden, …. It closes the body.
func ReadXMLError(resp *http.Response) *Error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := XMLError(resp.StatusCode, body)
	if e.RequestID == "" {
		e.RequestID = requestID(resp.Header)
	}
	return e
}

// XMLError reads an S3 error document, which can also come in a 200 answer
// (CompleteMultipartUpload, CopyObject).
func XMLError(status int, body []byte) *Error {
	e := &Error{Status: status, Body: body}
	var doc struct {
		Code      string `xml:"Code"`
		Message   string `xml:"Message"`
		RequestID string `xml:"RequestId"`
	}
	if xml.Unmarshal(body, &doc) == nil {
		e.Code, e.Message, e.RequestID = doc.Code, doc.Message, doc.RequestID
	}
	if e.Code == "" {
		e.Code = strings.ReplaceAll(http.StatusText(status), " ", "")
	}
	return e
}

func requestID(h http.Header) string {
	if id := h.Get("X-Amzn-Requestid"); id != "" {
		return id
	}
	return h.Get("X-Amz-Request-Id")
}
