// Package s3 calls Amazon S3 in its REST-XML protocol over awsapi: the
// object operations of parley's blob store (PutObject, GetObject,
// HeadObject and the multipart upload), CreateBucket, and presigned GET
// and PUT URLs.
//
// A bucket is named in the host (virtual-hosted style,
// https://{bucket}.s3.{region}.amazonaws.com/{key}) unless the client has
// an Endpoint (a local emulator such as moto) or the bucket's name is not
// a DNS label (dots, capitals, underscores), which TLS certificates or DNS
// cannot serve: then it is the path's first segment (path style). A key is
// escaped as S3 and Signature Version 4 expect, once: every byte but
// A–Z a–z 0–9 - _ . ~ and '/'.
//
// An error answer is an *awsapi.Error with S3's code (NoSuchKey,
// NoSuchUpload, BucketAlreadyOwnedByYou, …); the answer to a HEAD has no
// body, so a missing object's code is NotFound.
package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/retry"
)

// signingName is S3's name in signatures and its endpoints' first label.
const signingName = "s3"

// xmlns is the namespace of S3's request and answer documents.
const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// maxAnswer caps the XML answers read into memory; S3's answers to the
// calls here are a few hundred bytes.
const maxAnswer = 64 << 10

// Client calls S3 through an awsapi.Client. It is safe for concurrent use.
type Client struct {
	aws *awsapi.Client
}

// New returns a Client that sends its requests with c.
func New(c *awsapi.Client) *Client {
	return &Client{aws: c}
}

// Info describes an object.
type Info struct {
	ContentLength int64
	ContentType   string
	ETag          string
	// Metadata is the object's user metadata (x-amz-meta-*), its keys in
	// lower case; nil when it has none.
	Metadata map[string]string
}

// Object is an object being read.
type Object struct {
	// Body streams the object; the caller closes it.
	Body io.ReadCloser
	Info
}

// PutObjectInput is what PutObject stores.
type PutObjectInput struct {
	Bucket, Key string
	// Body holds exactly ContentLength bytes. A body that can be read at
	// an offset (bytes.Reader, strings.Reader, os.File) is read from
	// where it stands and may be sent again after a failure; any other
	// is sent once. The body is never closed.
	Body          io.Reader
	ContentLength int64
	ContentType   string
	Metadata      map[string]string
	// PayloadHash is the body's hex SHA-256 when the caller knows it, to
	// be signed; "" sends the body unsigned (UNSIGNED-PAYLOAD).
	PayloadHash string
}

// PutObject stores an object and returns its ETag.
func (c *Client) PutObject(ctx context.Context, in *PutObjectInput) (string, error) {
	req, err := c.objectRequest(ctx, http.MethodPut, in.Bucket, in.Key, url.Values{"x-id": {"PutObject"}})
	if err != nil {
		return "", err
	}
	if err := setBody(req, in.Body, in.ContentLength); err != nil {
		return "", fmt.Errorf("s3: PutObject %s: %w", in.Key, err)
	}
	setObjectHeaders(req, in.ContentType, in.Metadata)
	resp, err := c.do(ctx, req, payloadHash(in.PayloadHash))
	if err != nil {
		return "", err
	}
	if err := answer(resp, "PutObject", nil); err != nil {
		return "", err
	}
	return resp.Header.Get("ETag"), nil
}

// GetObject opens an object.
func (c *Client) GetObject(ctx context.Context, bucket, key string) (*Object, error) {
	req, err := c.objectRequest(ctx, http.MethodGet, bucket, key, url.Values{"x-id": {"GetObject"}})
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, req, awsapi.EmptyPayload)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, failed(resp, "GetObject")
	}
	return &Object{Body: resp.Body, Info: info(resp)}, nil
}

// HeadObject describes an object without reading it.
func (c *Client) HeadObject(ctx context.Context, bucket, key string) (Info, error) {
	req, err := c.objectRequest(ctx, http.MethodHead, bucket, key, nil)
	if err != nil {
		return Info{}, err
	}
	resp, err := c.do(ctx, req, awsapi.EmptyPayload)
	if err != nil {
		return Info{}, err
	}
	if err := answer(resp, "HeadObject", nil); err != nil {
		return Info{}, err
	}
	return info(resp), nil
}

// CreateMultipartUploadInput names the object a multipart upload makes.
type CreateMultipartUploadInput struct {
	Bucket, Key string
	ContentType string
	Metadata    map[string]string
}

// CreateMultipartUpload starts a multipart upload and returns its id.
func (c *Client) CreateMultipartUpload(ctx context.Context, in *CreateMultipartUploadInput) (string, error) {
	req, err := c.objectRequest(ctx, http.MethodPost, in.Bucket, in.Key, url.Values{"uploads": {""}, "x-id": {"CreateMultipartUpload"}})
	if err != nil {
		return "", err
	}
	setObjectHeaders(req, in.ContentType, in.Metadata)
	resp, err := c.do(ctx, req, awsapi.EmptyPayload)
	if err != nil {
		return "", err
	}
	var out struct {
		UploadID string `xml:"UploadId"`
	}
	if err := answer(resp, "CreateMultipartUpload", &out); err != nil {
		return "", err
	}
	if out.UploadID == "" {
		return "", fmt.Errorf("s3: CreateMultipartUpload %s: the answer names no UploadId", in.Key)
	}
	return out.UploadID, nil
}

// UploadPartInput is one part of a multipart upload.
type UploadPartInput struct {
	Bucket, Key, UploadID string
	// PartNumber is the part's place in the object, from 1 to 10,000.
	PartNumber int32
	// Body, ContentLength and PayloadHash are as in PutObjectInput.
	Body          io.Reader
	ContentLength int64
	PayloadHash   string
}

// UploadPart uploads a part and returns its ETag, which
// CompleteMultipartUpload names it by.
func (c *Client) UploadPart(ctx context.Context, in *UploadPartInput) (string, error) {
	q := url.Values{"partNumber": {strconv.Itoa(int(in.PartNumber))}, "uploadId": {in.UploadID}, "x-id": {"UploadPart"}}
	req, err := c.objectRequest(ctx, http.MethodPut, in.Bucket, in.Key, q)
	if err != nil {
		return "", err
	}
	if err := setBody(req, in.Body, in.ContentLength); err != nil {
		return "", fmt.Errorf("s3: UploadPart %s: %w", in.Key, err)
	}
	resp, err := c.do(ctx, req, payloadHash(in.PayloadHash))
	if err != nil {
		return "", err
	}
	if err := answer(resp, "UploadPart", nil); err != nil {
		return "", err
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		return "", fmt.Errorf("s3: UploadPart %s: part %d: the answer has no ETag", in.Key, in.PartNumber)
	}
	return etag, nil
}

// Part is an uploaded part, as CompleteMultipartUpload lists it.
type Part struct {
	ETag       string `xml:"ETag"`
	PartNumber int32  `xml:"PartNumber"`
}

// completeRequest is CompleteMultipartUpload's document.
type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Xmlns   string   `xml:"xmlns,attr"`
	Parts   []Part   `xml:"Part"`
}

// CompleteMultipartUpload makes the object of an upload out of parts, in
// ascending PartNumber order, and returns its ETag. S3 may answer 200 and
// then report a failure in the body (the answer starts before the object
// is assembled): that is an error too, and tried again when S3 asks to.
func (c *Client) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []Part) (string, error) {
	body, err := xml.Marshal(completeRequest{Xmlns: xmlns, Parts: parts})
	if err != nil {
		return "", fmt.Errorf("s3: CompleteMultipartUpload %s: %w", key, err)
	}
	sum := sha256.Sum256(body)
	var etag string
	err = completeRetry.DoIf(ctx, retryableInBody, func(ctx context.Context, _ int) error {
		req, err := c.objectRequest(ctx, http.MethodPost, bucket, key, url.Values{"uploadId": {uploadID}, "x-id": {"CompleteMultipartUpload"}})
		if err != nil {
			return err
		}
		if err := setBody(req, bytes.NewReader(body), int64(len(body))); err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/xml")
		resp, err := c.do(ctx, req, hex.EncodeToString(sum[:]))
		if err != nil {
			return err
		}
		var doc []byte
		if err := answer(resp, "CompleteMultipartUpload", &doc); err != nil {
			return err
		}
		var out struct {
			XMLName xml.Name
			ETag    string `xml:"ETag"`
		}
		if err := xml.Unmarshal(doc, &out); err != nil {
			return fmt.Errorf("s3: CompleteMultipartUpload: decoding the answer: %w", err)
		}
		if out.XMLName.Local == "Error" {
			e := awsapi.XMLError(resp.StatusCode, doc)
			if e.RequestID == "" {
				e.RequestID = resp.Header.Get("X-Amz-Request-Id")
			}
			e.Operation = "S3.CompleteMultipartUpload"
			return e
		}
		etag = out.ETag
		return nil
	})
	return etag, err
}

// completeRetry tries a CompleteMultipartUpload again when S3 reports a
// passing failure in a 200 answer, which awsapi.Client.Do (which sees only
// the status) does not; AWS's advice is to retry it like a 5xx.
var completeRetry = retry.Policy{Attempts: 3, Base: 50 * time.Millisecond, Max: 2 * time.Second}

// retryableInBody reports whether err is an error S3 put in a 2xx answer
// and asks to be tried again (InternalError, SlowDown, …).
func retryableInBody(err error) bool {
	var e *awsapi.Error
	return errors.As(err, &e) && e.Status/100 == 2 && awsapi.Retryable(e.Status, e.Code)
}

// AbortMultipartUpload ends an upload and frees its parts.
func (c *Client) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	req, err := c.objectRequest(ctx, http.MethodDelete, bucket, key, url.Values{"uploadId": {uploadID}, "x-id": {"AbortMultipartUpload"}})
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, req, awsapi.EmptyPayload)
	if err != nil {
		return err
	}
	return answer(resp, "AbortMultipartUpload", nil)
}

// createBucketConfiguration is CreateBucket's document outside us-east-1.
type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	Xmlns              string   `xml:"xmlns,attr"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

// CreateBucket creates bucket in the client's region. A bucket that
// exists already is an error: BucketAlreadyOwnedByYou when it is the
// caller's (except in us-east-1, where S3 answers success),
// BucketAlreadyExists when it is someone else's.
func (c *Client) CreateBucket(ctx context.Context, bucket string) error {
	u, err := c.bucketURL(bucket, "")
	if err != nil {
		return err
	}
	var body []byte
	// us-east-1 is S3's default location, which takes no constraint.
	if r := c.aws.Region; r != "" && r != "us-east-1" {
		body, err = xml.Marshal(createBucketConfiguration{Xmlns: xmlns, LocationConstraint: r})
		if err != nil {
			return fmt.Errorf("s3: CreateBucket %s: %w", bucket, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), nil)
	if err != nil {
		return fmt.Errorf("s3: CreateBucket %s: %w", bucket, err)
	}
	hash := awsapi.EmptyPayload
	if body != nil {
		if err := setBody(req, bytes.NewReader(body), int64(len(body))); err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/xml")
		sum := sha256.Sum256(body)
		hash = hex.EncodeToString(sum[:])
	}
	resp, err := c.do(ctx, req, hash)
	if err != nil {
		return err
	}
	return answer(resp, "CreateBucket", nil)
}

// PresignGet returns a URL that reads an object without credentials for
// ttl (at most awsapi.MaxPresign).
func (c *Client) PresignGet(bucket, key string, ttl time.Duration) (string, error) {
	req, err := c.objectRequest(context.Background(), http.MethodGet, bucket, key, url.Values{"x-id": {"GetObject"}})
	if err != nil {
		return "", err
	}
	u, err := c.aws.Presign(signingName, req, ttl)
	if err != nil {
		return "", fmt.Errorf("s3: presigning GetObject %s: %w", key, err)
	}
	return u, nil
}

// PresignPut returns a URL that stores an object without credentials for
// ttl (at most awsapi.MaxPresign). Its Content-Length and Content-Type are
// signed: S3 takes only a PUT of exactly size bytes of contentType.
func (c *Client) PresignPut(bucket, key, contentType string, size int64, ttl time.Duration) (string, error) {
	req, err := c.objectRequest(context.Background(), http.MethodPut, bucket, key, url.Values{"x-id": {"PutObject"}})
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	u, err := c.aws.Presign(signingName, req, ttl)
	if err != nil {
		return "", fmt.Errorf("s3: presigning PutObject %s: %w", key, err)
	}
	return u, nil
}

// do sends req, signed with payloadHash.
func (c *Client) do(ctx context.Context, req *http.Request, payloadHash string) (*http.Response, error) {
	resp, err := c.aws.Do(ctx, signingName, req, payloadHash)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	return resp, nil
}

// objectRequest is a request without a body for key in bucket, with the
// query q.
func (c *Client) objectRequest(ctx context.Context, method, bucket, key string, q url.Values) (*http.Request, error) {
	if key == "" {
		return nil, errors.New("s3: an object needs a key")
	}
	u, err := c.bucketURL(bucket, key)
	if err != nil {
		return nil, err
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("s3: %s %s: %w", method, key, err)
	}
	return req, nil
}

// bucketURL is the URL of key in bucket, or of bucket itself when key is
// "", addressed as the package comment says.
func (c *Client) bucketURL(bucket, key string) (*url.URL, error) {
	if bucket == "" {
		return nil, errors.New("s3: no bucket named")
	}
	base := c.aws.BaseURL(signingName)
	pathStyle := c.aws.Endpoint != "" || !dnsLabel(bucket)
	if !pathStyle {
		base = strings.Replace(base, "://", "://"+bucket+".", 1)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("s3: endpoint %q: %w", base, err)
	}
	path, raw := strings.TrimSuffix(u.Path, "/"), strings.TrimSuffix(u.EscapedPath(), "/")
	if pathStyle {
		path += "/" + bucket
		raw += "/" + awsapi.EscapePath(bucket)
	}
	if key != "" || !pathStyle {
		path += "/" + key
		raw += "/" + awsapi.EscapePath(key)
	}
	u.Path, u.RawPath = path, raw
	return u, nil
}

// dnsLabel reports whether bucket can be a host name's first label: 3 to
// 63 lower-case letters, digits and hyphens, starting and ending with a
// letter or digit.
func dnsLabel(bucket string) bool {
	if len(bucket) < 3 || len(bucket) > 63 || bucket[0] == '-' || bucket[len(bucket)-1] == '-' {
		return false
	}
	for i := 0; i < len(bucket); i++ {
		c := bucket[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// setBody makes body, of size bytes, req's. A body that can be read at an
// offset is read through a fresh section reader on each try, so that Do
// can send it again and a try still being written cannot disturb the next.
func setBody(req *http.Request, body io.Reader, size int64) error {
	if size < 0 {
		return fmt.Errorf("negative length %d", size)
	}
	req.ContentLength = size
	if size == 0 || body == nil {
		req.Body, req.GetBody = http.NoBody, nil
		req.ContentLength = 0
		return nil
	}
	ra, at := body.(io.ReaderAt)
	s, seeks := body.(io.Seeker)
	if !at || !seeks {
		// The transport closes what it is given: the caller's body is
		// theirs to close.
		req.Body, req.GetBody = io.NopCloser(body), nil
		return nil
	}
	off, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	req.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(io.NewSectionReader(ra, off, size)), nil
	}
	req.Body, _ = req.GetBody()
	return nil
}

// setObjectHeaders sets an object's content type and user metadata.
func setObjectHeaders(req *http.Request, contentType string, meta map[string]string) {
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range meta {
		req.Header.Set("X-Amz-Meta-"+k, v)
	}
}

func payloadHash(h string) string {
	if h == "" {
		return awsapi.UnsignedPayload
	}
	return h
}

// info reads an object's description from its answer's headers.
func info(resp *http.Response) Info {
	in := Info{
		ContentLength: resp.ContentLength,
		ContentType:   resp.Header.Get("Content-Type"),
		ETag:          resp.Header.Get("ETag"),
	}
	if in.ContentLength < 0 {
		in.ContentLength, _ = strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	}
	const prefix = "X-Amz-Meta-"
	for k, vs := range resp.Header {
		if len(k) > len(prefix) && strings.EqualFold(k[:len(prefix)], prefix) && len(vs) > 0 {
			if in.Metadata == nil {
				in.Metadata = map[string]string{}
			}
			in.Metadata[strings.ToLower(k[len(prefix):])] = strings.TrimSpace(vs[0])
		}
	}
	return in
}

// answer reads a 2xx answer into out (an XML document decoded, or a
// *[]byte that takes it as it is; nil discards it) and closes it; any
// other answer is S3's error.
func answer(resp *http.Response, op string, out any) error {
	if resp.StatusCode/100 != 2 {
		return failed(resp, op)
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		return nil
	}
	doc, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	switch {
	case err != nil:
		return fmt.Errorf("s3: %s: reading the answer: %w", op, err)
	case len(doc) > maxAnswer:
		return fmt.Errorf("s3: %s: answer over %d bytes", op, maxAnswer)
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = doc
		return nil
	}
	if err := xml.Unmarshal(doc, out); err != nil {
		return fmt.Errorf("s3: %s: decoding the answer: %w", op, err)
	}
	return nil
}

// failed is S3's error answer to op.
func failed(resp *http.Response, op string) error {
	e := awsapi.ReadXMLError(resp)
	e.Operation = "S3." + op
	return e
}
