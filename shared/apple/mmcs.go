package apple

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/shared/message"
)

// Limits of the MMCS calls.
const (
	// MaxBlob is the largest blob parley fetches or uploads: Apple's
	// 100 MB attachment limit.
	MaxBlob = 100 << 20
	// MaxDecoded is the largest dictionary decodePayload may answer.
	MaxDecoded = 16 << 20
)

// Blob is what the MMCS calls need to fetch an encrypted file: an
// interactiveDataRef or an attachment dictionary, either generation.
type Blob struct {
	// BID is the extension's bid, for decodePayload (interactiveDataRef).
	BID   string
	URL   string
	Owner string
	// Key is the AES key in wire form, "00" + hex.
	Key string
	// Size is the size of the encrypted blob.
	Size int64
	// SignatureBase64 is the MMCS checksum in Base64, as preDownload
	// wants it.
	SignatureBase64 string
	// Name and MimeType describe an attachment.
	Name     string
	MimeType string
	Title    string
}

// ParseBlob reads an interactiveDataRef or an attachment dictionary. It
// accepts the current key names (url, owner, key, size, signature,
// signature-base64, mimeType) and the legacy ones (mmcs-url, mmcs-owner,
// decryption-key, file-size, mmcs-signature-hex, mime-type); size may be a
// number or a string. Errors name the key at fault.
func ParseBlob(raw []byte) (Blob, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return Blob{}, fmt.Errorf("%w: the reference is not a JSON object", ErrMalformedBody)
	}
	str := func(keys ...string) (string, error) {
		for _, k := range keys {
			v, ok := m[k]
			if !ok || absent(v) {
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return "", fmt.Errorf("%w: %s: is not a string", ErrMalformedBody, k)
			}
			return s, nil
		}
		return "", nil
	}
	var b Blob
	var err error
	for _, f := range []struct {
		dst  *string
		keys []string
	}{
		{&b.BID, []string{"bid"}}, {&b.URL, []string{"url", "mmcs-url"}}, {&b.Owner, []string{"owner", "mmcs-owner"}},
		{&b.Key, []string{"key", "decryption-key"}}, {&b.Name, []string{"name"}}, {&b.MimeType, []string{"mimeType", "mime-type"}},
		{&b.Title, []string{"title"}}, {&b.SignatureBase64, []string{"signature-base64"}},
	} {
		if *f.dst, err = str(f.keys...); err != nil {
			return Blob{}, err
		}
	}
	if b.SignatureBase64 == "" {
		hexSig, err := str("signature", "mmcs-signature-hex")
		if err != nil {
			return Blob{}, err
		}
		sig, err := hex.DecodeString(hexSig)
		if err != nil {
			return Blob{}, fmt.Errorf("%w: signature: is not hex", ErrMalformedBody)
		}
		if len(sig) > 0 {
			b.SignatureBase64 = base64.StdEncoding.EncodeToString(sig)
		}
	}
	for _, k := range []string{"size", "file-size"} {
		v, ok := m[k]
		if !ok || absent(v) {
			continue
		}
		text := strings.Trim(string(v), `"`)
		if b.Size, err = strconv.ParseInt(text, 10, 64); err != nil || b.Size < 0 {
			return Blob{}, fmt.Errorf("%w: %s: %s is not a size", ErrMalformedBody, k, v)
		}
		break
	}
	switch {
	case b.URL == "":
		return Blob{}, fmt.Errorf("%w: url: is required", ErrMalformedBody)
	case b.Owner == "":
		return Blob{}, fmt.Errorf("%w: owner: is required", ErrMalformedBody)
	case b.SignatureBase64 == "":
		return Blob{}, fmt.Errorf("%w: signature: is required", ErrMalformedBody)
	case b.Size <= 0 || b.Size > MaxBlob:
		return Blob{}, fmt.Errorf("%w: size: %d bytes, it must be 1 to %d", ErrMalformedBody, b.Size, MaxBlob)
	}
	if _, err := ParseKey(b.Key); err != nil {
		return Blob{}, err
	}
	return b, nil
}

// Attachment is an attachment dictionary of an outbound message, written
// with the current key names: size as a string (the encrypted length) and
// signature-base64.
type Attachment struct {
	Name            string `json:"name"`
	MimeType        string `json:"mimeType"`
	Size            string `json:"size"`
	SignatureBase64 string `json:"signature-base64"`
	URL             string `json:"url"`
	Owner           string `json:"owner"`
	Key             string `json:"key"`
}

// ParseKey decodes a key in wire form: "00" followed by 64 hex digits of
// either case.
func ParseKey(wire string) ([]byte, error) {
	hexKey, ok := strings.CutPrefix(wire, "00")
	if !ok || len(hexKey) != 64 {
		return nil, fmt.Errorf("%w: key: want 00 followed by 64 hex digits", ErrMalformedBody)
	}
	k, err := hex.DecodeString(hexKey)
	if err != nil {
		return nil, fmt.Errorf("%w: key: want 00 followed by 64 hex digits", ErrMalformedBody)
	}
	return k, nil
}

// NewKey returns a fresh AES-256 key and its wire form.
func NewKey() ([]byte, string) {
	k := make([]byte, 32)
	rand.Read(k)
	return k, "00" + hex.EncodeToString(k)
}

// CTR returns r encrypted, or decrypted, with AES-256-CTR under key and a
// zero IV: MMCS's cipher, the same both ways. It streams.
func CTR(key []byte, r io.Reader) (io.Reader, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("apple: AES key: %w", err)
	}
	return cipher.StreamReader{S: cipher.NewCTR(block, make([]byte, aes.BlockSize)), R: r}, nil
}

// MMCSError is a refusal or failure of an MMCS call.
type MMCSError struct {
	// Op is the call: preDownload, download, decodePayload, preUpload or
	// upload.
	Op string
	// Status is the HTTP status; 0 when no answer came.
	Status int
	Detail string
}

func (e *MMCSError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("apple: %s: %s", e.Op, e.Detail)
	}
	return fmt.Sprintf("apple: %s: HTTP %d: %s", e.Op, e.Status, e.Detail)
}

// Retryable reports whether the call may succeed later: no answer, 429 or
// 5xx.
func (e *MMCSError) Retryable() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// MMCS makes the gateway's blob calls for Client's MSP.
type MMCS struct {
	Client *Client
	// HTTP carries the blobs themselves (download and upload URLs); nil
	// means a client with a 10-minute timeout, enough for 100 MB.
	HTTP *http.Client
}

var blobHTTP = &http.Client{Timeout: 10 * time.Minute}

func (m *MMCS) blobClient() *http.Client {
	if m.HTTP != nil {
		return m.HTTP
	}
	return blobHTTP
}

// gateway makes a gateway call with a fresh token and source-id, and
// returns the answer when it is 200.
func (m *MMCS) gateway(ctx context.Context, op, method, businessID string, header http.Header, body io.Reader, size int64) (*http.Response, error) {
	c := m.Client
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	token, err := MintToken(c.Secret, c.MSPID, now())
	if err != nil {
		return nil, fmt.Errorf("apple: %s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+"/"+op, body)
	if err != nil {
		return nil, fmt.Errorf("apple: %s: %w", op, err)
	}
	if body != nil {
		req.ContentLength = size
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("source-id", businessID)
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	if op == "decodePayload" {
		hc = m.blobClient()
	}
	return do(hc, req, op)
}

// do sends req and returns a 2xx answer; any other answer is an
// *MMCSError.
func do(hc *http.Client, req *http.Request, op string) (*http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &MMCSError{Op: op, Detail: err.Error()}
	}
	if resp.StatusCode/100 != 2 {
		detail, _ := io.ReadAll(io.LimitReader(resp.Body, maxDetails))
		resp.Body.Close()
		return nil, &MMCSError{Op: op, Status: resp.StatusCode, Detail: strings.TrimSpace(string(detail))}
	}
	return resp, nil
}

// readJSON decodes a small JSON answer.
func readJSON(resp *http.Response, op string, v any) error {
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(v); err != nil {
		return &MMCSError{Op: op, Status: resp.StatusCode, Detail: "the answer is not the JSON expected: " + err.Error()}
	}
	return nil
}

// PreDownload asks the gateway for a download URL of b, with Apple's
// MMCS-Url, MMCS-Owner and MMCS-Signature (Base64) headers.
func (m *MMCS) PreDownload(ctx context.Context, businessID string, b Blob) (string, error) {
	h := http.Header{}
	h.Set("MMCS-Url", b.URL)
	h.Set("MMCS-Owner", b.Owner)
	h.Set("MMCS-Signature", b.SignatureBase64)
	resp, err := m.gateway(ctx, "preDownload", http.MethodGet, businessID, h, nil, 0)
	if err != nil {
		return "", err
	}
	var out struct {
		URL string `json:"download-url"`
	}
	if err := readJSON(resp, "preDownload", &out); err != nil {
		return "", err
	}
	if out.URL == "" {
		return "", &MMCSError{Op: "preDownload", Status: resp.StatusCode, Detail: "the answer has no download-url"}
	}
	return out.URL, nil
}

// Download opens the encrypted blob at a download URL (no token). A 403
// means the URL has expired: call PreDownload again.
func (m *MMCS) Download(ctx context.Context, downloadURL string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, downloadURL, nil)
	if err != nil {
		return nil, fmt.Errorf("apple: download: %w", err)
	}
	resp, err := do(m.blobClient(), req, "download")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// DecodePayload posts the decrypted bytes of an interactiveDataRef,
// unmodified, and returns the interactive dictionary (JSON) the gateway
// decodes from them.
func (m *MMCS) DecodePayload(ctx context.Context, businessID, bid string, body io.Reader, size int64) ([]byte, error) {
	h := http.Header{}
	h.Set("bid", bid)
	h.Set("Accept", "*/*")
	h.Set("Content-Type", "application/octet-stream")
	resp, err := m.gateway(ctx, "decodePayload", http.MethodPost, businessID, h, body, size)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	dict, err := io.ReadAll(io.LimitReader(resp.Body, MaxDecoded+1))
	if err != nil {
		return nil, &MMCSError{Op: "decodePayload", Status: resp.StatusCode, Detail: "reading the answer: " + err.Error()}
	}
	if len(dict) > MaxDecoded {
		return nil, &MMCSError{Op: "decodePayload", Status: resp.StatusCode, Detail: fmt.Sprintf("the answer is over %d bytes", MaxDecoded)}
	}
	if !json.Valid(dict) || !bytes.HasPrefix(bytes.TrimSpace(dict), []byte("{")) {
		return nil, &MMCSError{Op: "decodePayload", Status: resp.StatusCode, Detail: "the answer is not a JSON dictionary"}
	}
	return dict, nil
}

// UploadSlot is preUpload's answer.
type UploadSlot struct {
	UploadURL string `json:"upload-url"`
	MMCSURL   string `json:"mmcs-url"`
	Owner     string `json:"mmcs-owner"`
}

// PreUpload asks for an upload slot for an encrypted blob of size bytes
// (sent as both size, Apple's reference name, and MMCS-Size, its samples').
func (m *MMCS) PreUpload(ctx context.Context, businessID string, size int64) (UploadSlot, error) {
	h := http.Header{}
	h.Set("size", strconv.FormatInt(size, 10))
	h.Set("MMCS-Size", strconv.FormatInt(size, 10))
	resp, err := m.gateway(ctx, "preUpload", http.MethodGet, businessID, h, nil, 0)
	if err != nil {
		return UploadSlot{}, err
	}
	var slot UploadSlot
	if err := readJSON(resp, "preUpload", &slot); err != nil {
		return UploadSlot{}, err
	}
	if slot.UploadURL == "" || slot.MMCSURL == "" || slot.Owner == "" {
		return UploadSlot{}, &MMCSError{Op: "preUpload", Status: resp.StatusCode, Detail: "the answer lacks upload-url, mmcs-url or mmcs-owner"}
	}
	return slot, nil
}

// Upload posts size encrypted bytes to an upload URL (no token) and returns
// the file checksum, Base64.
func (m *MMCS) Upload(ctx context.Context, uploadURL string, body io.Reader, size int64) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uploadURL, body)
	if err != nil {
		return "", fmt.Errorf("apple: upload: %w", err)
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := do(m.blobClient(), req, "upload")
	if err != nil {
		return "", err
	}
	var out struct {
		SingleFile struct {
			FileChecksum string `json:"fileChecksum"`
		} `json:"singleFile"`
	}
	if err := readJSON(resp, "upload", &out); err != nil {
		return "", err
	}
	if out.SingleFile.FileChecksum == "" {
		return "", &MMCSError{Op: "upload", Status: resp.StatusCode, Detail: "the answer has no singleFile.fileChecksum"}
	}
	return out.SingleFile.FileChecksum, nil
}

// UploadAttachment encrypts size bytes of r under a fresh key, uploads them
// through preUpload and returns the attachment dictionary to send. It
// streams: the file is read once, as it is uploaded.
func (m *MMCS) UploadAttachment(ctx context.Context, businessID, name, mimeType string, r io.Reader, size int64) (Attachment, error) {
	if size <= 0 || size > MaxBlob {
		return Attachment{}, fmt.Errorf("apple: attachment %s: %d bytes, it must be 1 to %d", name, size, MaxBlob)
	}
	key, wire := NewKey()
	slot, err := m.PreUpload(ctx, businessID, size)
	if err != nil {
		return Attachment{}, err
	}
	sealed, err := CTR(key, r)
	if err != nil {
		return Attachment{}, err
	}
	sum, err := m.Upload(ctx, slot.UploadURL, io.LimitReader(sealed, size), size)
	if err != nil {
		return Attachment{}, err
	}
	return Attachment{Name: name, MimeType: mimeType, Size: strconv.FormatInt(size, 10), SignatureBase64: sum,
		URL: slot.MMCSURL, Owner: slot.Owner, Key: wire}, nil
}

// ParseDecoded reads an interactive dictionary decoded from an
// interactiveDataRef exactly as parseInteractive reads an inline
// interactiveData: the same body, and the requestIdentifier it answers.
func ParseDecoded(dict []byte) (*message.Body, string, error) {
	return parseInteractive(dict, nil)
}

// ErrBlobSize is a blob whose length differs from the size its reference
// announced.
var ErrBlobSize = errors.New("apple: the blob's length is not the size announced")
