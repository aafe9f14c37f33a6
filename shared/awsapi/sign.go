package awsapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// UnsignedPayload stands for the body's hash in a signature that does not
// cover the body: S3 over TLS, and presigned URLs.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// EmptyPayload is the hex SHA-256 of an empty body.
const EmptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

const (
	algorithm  = "AWS4-HMAC-SHA256"
	timeFormat = "20060102T150405Z"
	dateFormat = "20060102"
)

// Sign signs req for service in region at t with Signature Version 4: it
// sets X-Amz-Date, X-Amz-Security-Token when cr has a session token,
// X-Amz-Content-Sha256 for S3, and Authorization. payloadHash is the hex
// SHA-256 of the body, or UnsignedPayload. The signature covers the host,
// the Content-Length, Content-Type and Content-MD5 when present, and every
// X-Amz- header.
func Sign(req *http.Request, payloadHash string, cr Credentials, service, region string, t time.Time) {
	t = t.UTC()
	req.Header.Set("X-Amz-Date", t.Format(timeFormat))
	if cr.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", cr.SessionToken)
	}
	if service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	names, canonical := canonicalHeaders(req)
	scope := t.Format(dateFormat) + "/" + region + "/" + service + "/aws4_request"
	creq := req.Method + "\n" + canonicalURI(req.URL, service) + "\n" + canonicalQuery(req.URL.Query()) + "\n" +
		canonical + "\n" + names + "\n" + payloadHash
	sig := signature(cr.SecretAccessKey, t, region, service, creq)
	req.Header.Set("Authorization", algorithm+" Credential="+cr.AccessKeyID+"/"+scope+
		", SignedHeaders="+names+", Signature="+sig)
}

// MaxPresign is the longest a presigned URL may be valid: SigV4's limit.
const MaxPresign = 7 * 24 * time.Hour

// Presign returns the URL of req signed in its query string for
// signingName, valid for expires from now (at most MaxPresign): S3's
// presigned GET and PUT. The host is signed, and the headers Sign signs
// that req carries (a PUT's Content-Length and Content-Type, so that only
// a body of that size and type is taken); the body is not.
func (c *Client) Presign(signingName string, req *http.Request, expires time.Duration) (string, error) {
	// X-Amz-Expires counts whole seconds: under one, the URL would be
	// signed as expiring at once.
	if expires < time.Second || expires > MaxPresign {
		return "", errors.New("awsapi: presign: expiry must be at least 1 second and at most 7 days")
	}
	t := c.now().UTC()
	scope := t.Format(dateFormat) + "/" + c.Region + "/" + signingName + "/aws4_request"
	q := req.URL.Query()
	q.Set("X-Amz-Algorithm", algorithm)
	q.Set("X-Amz-Credential", c.Credentials.AccessKeyID+"/"+scope)
	q.Set("X-Amz-Date", t.Format(timeFormat))
	q.Set("X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10))
	names, canonical := canonicalHeaders(req)
	q.Set("X-Amz-SignedHeaders", names)
	if c.Credentials.SessionToken != "" {
		q.Set("X-Amz-Security-Token", c.Credentials.SessionToken)
	}
	query := canonicalQuery(q)
	creq := req.Method + "\n" + canonicalURI(req.URL, signingName) + "\n" + query + "\n" +
		canonical + "\n" + names + "\n" + UnsignedPayload
	u := *req.URL
	u.RawQuery = query + "&X-Amz-Signature=" + signature(c.Credentials.SecretAccessKey, t, c.Region, signingName, creq)
	return u.String(), nil
}

// signature is the hex HMAC of the string to sign of creq, under the key
// derived for the day, region and service.
func signature(secret string, t time.Time, region, service, creq string) string {
	sum := sha256.Sum256([]byte(creq))
	toSign := algorithm + "\n" + t.Format(timeFormat) + "\n" + t.Format(dateFormat) + "/" + region + "/" +
		service + "/aws4_request\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+secret), t.Format(dateFormat))
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "aws4_request")
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalHeaders returns the signed header names (lower case, sorted,
// joined by ';') and their canonical lines.
func canonicalHeaders(req *http.Request) (names, lines string) {
	type header struct{ name, value string }
	hs := []header{{"host", host(req)}}
	if req.ContentLength > 0 {
		hs = append(hs, header{"content-length", strconv.FormatInt(req.ContentLength, 10)})
	}
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		if lk != "content-type" && lk != "content-md5" && !strings.HasPrefix(lk, "x-amz-") {
			continue
		}
		v := make([]string, len(vs))
		for i := range vs {
			v[i] = canonicalValue(vs[i])
		}
		hs = append(hs, header{lk, strings.Join(v, ",")})
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].name < hs[j].name })
	var n, l strings.Builder
	for i, h := range hs {
		if i > 0 {
			n.WriteByte(';')
		}
		n.WriteString(h.name)
		l.WriteString(h.name + ":" + h.value + "\n")
	}
	return n.String(), l.String()
}

// canonicalValue is a header value as AWS signs it: trimmed of white
// space at both ends, and each run of spaces inside it one space. Other
// white space inside it (a tab, a no-break space) stays as it is.
func canonicalValue(v string) string {
	v = strings.Trim(v, " ")
	if strings.Contains(v, "  ") {
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
				continue
			}
			b.WriteByte(v[i])
		}
		v = b.String()
	}
	return strings.TrimSpace(v)
}

// host is the Host header the request is sent with, without the scheme's
// default port, which Go's client leaves out too.
func host(req *http.Request) string {
	h := req.Host
	if h == "" {
		h = req.URL.Host
	}
	switch {
	case req.URL.Scheme == "https" && strings.HasSuffix(h, ":443"):
		return strings.TrimSuffix(h, ":443")
	case req.URL.Scheme == "http" && strings.HasSuffix(h, ":80"):
		return strings.TrimSuffix(h, ":80")
	}
	return h
}

// canonicalURI is the request path as sent, encoded once more for every
// service but S3, as SigV4 asks.
func canonicalURI(u *url.URL, service string) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	if service == "s3" {
		return p
	}
	return strings.ReplaceAll(escape(p), "%2F", "/")
}

// canonicalQuery is the query's names and values, each encoded as SigV4
// asks (RFC 3986: only A–Z a–z 0–9 - _ . ~ left as they are), sorted by
// name and value once encoded: '/' sorts after '-', but "%2F" before it.
func canonicalQuery(q url.Values) string {
	type pair struct{ k, v string }
	var ps []pair
	for k, vs := range q {
		ek := escape(k)
		for _, v := range vs {
			ps = append(ps, pair{ek, escape(v)})
		}
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].k != ps[j].k {
			return ps[i].k < ps[j].k
		}
		return ps[i].v < ps[j].v
	})
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k + "=" + p.v)
	}
	return b.String()
}

// escape percent-encodes every byte of s but the unreserved characters.
func escape(s string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}

// EscapePath percent-encodes an S3 object key for a URL path the way
// SigV4 and S3 expect: every byte but the unreserved characters and '/'.
func EscapePath(key string) string {
	return strings.ReplaceAll(escape(key), "%2F", "/")
}
