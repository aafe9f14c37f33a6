package applesim

import (
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// maxBlob is the largest blob the simulator stores: Apple's 100 MB
	// attachment limit.
	maxBlob = 100 << 20
	// mmcsHost is the host of the simulator's MMCS URLs. The URLs only
	// name blobs for GET /v1/preDownload, so the host is one that cannot
	// resolve.
	mmcsHost = "https://mmcs.applesim.invalid/"
	// payloadMagic starts every interactive payload the simulator encodes,
	// so that, like Apple's, the decrypted bytes are not JSON and only
	// POST /v1/decodePayload turns them into the dictionary.
	payloadMagic = "applesim interactive payload\n"
)

// blob is an encrypted file held by the simulated MMCS.
type blob struct {
	url, owner string
	// size is the announced size of an upload.
	size int
	// data is the encrypted content; signature its MMCS checksum.
	data      []byte
	signature []byte
}

// download is a download URL handed out by GET /v1/preDownload.
type download struct {
	blob    *blob
	expires time.Time
}

// mmcsSignature is the checksum of an MMCS blob: 21 bytes starting 0x81, as
// in Apple's samples.
func mmcsSignature(data []byte) []byte {
	sum := sha256.Sum256(data)
	return append([]byte{0x81}, sum[:20]...)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newBlob returns an empty blob with a fresh MMCS URL and owner.
func newBlob() *blob {
	return &blob{url: mmcsHost + "M" + randomHex(16), owner: "owner-" + randomHex(12)}
}

// storeBlob keeps data as a finished blob and returns it.
func (s *Simulator) storeBlob(data []byte) *blob {
	b := newBlob()
	b.data, b.signature, b.size = data, mmcsSignature(data), len(data)
	s.mu.Lock()
	s.blobs[b.url] = b
	s.mu.Unlock()
	return b
}

// encryptBlob encrypts plain as Apple's MMCS blobs are: AES-256-CTR with a
// fresh key and a zero IV. The key is returned in wire form, "00" + hex.
func encryptBlob(plain []byte) (key string, sealed []byte) {
	k := make([]byte, 32)
	rand.Read(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		panic(err)
	}
	sealed = make([]byte, len(plain))
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(sealed, plain)
	return "00" + hex.EncodeToString(k), sealed
}

// encodePayload is the simulator's opaque encoding of an interactive
// dictionary, the inverse of decodePayload.
func encodePayload(dict []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(payloadMagic))
	zw.Write(dict)
	zw.Close()
	return buf.Bytes()
}

// decodePayload returns the dictionary of bytes made by encodePayload, as
// JSON and decoded.
func decodePayload(b []byte) ([]byte, object, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil, errors.New("the payload is not an interactive payload")
	}
	plain, err := io.ReadAll(io.LimitReader(zr, maxMessageBody+1))
	if err != nil || len(plain) > maxMessageBody {
		return nil, nil, errors.New("the payload is not an interactive payload")
	}
	dict, ok := bytes.CutPrefix(plain, []byte(payloadMagic))
	if !ok {
		return nil, nil, errors.New("the payload is not an interactive payload")
	}
	o, ok := decodeObject(dict)
	if !ok {
		return nil, nil, errors.New("the payload holds no dictionary")
	}
	return dict, o, nil
}

// dataRef is an interactiveDataRef: where the encrypted payload of a large
// interactive message is and how to read it.
type dataRef struct {
	BID             string `json:"bid"`
	URL             string `json:"url"`
	Owner           string `json:"owner"`
	Key             string `json:"key"`
	Size            int    `json:"size"`
	Signature       string `json:"signature"`
	SignatureBase64 string `json:"signature-base64"`
	Title           string `json:"title,omitempty"`
}

// storePayload encodes, encrypts and stores an interactive dictionary and
// returns its reference.
func (s *Simulator) storePayload(bid, title string, dict []byte) dataRef {
	key, sealed := encryptBlob(encodePayload(dict))
	b := s.storeBlob(sealed)
	return dataRef{
		BID: bid, URL: b.url, Owner: b.owner, Key: key, Size: len(sealed),
		Signature:       hex.EncodeToString(b.signature),
		SignatureBase64: base64.StdEncoding.EncodeToString(b.signature),
		Title:           title,
	}
}

// baseURL returns the absolute URL at which the simulator is mounted, as
// seen by the request r.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	prefix := ""
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		prefix = strings.TrimSuffix(u.Path, r.URL.Path)
	}
	return scheme + "://" + r.Host + prefix
}

// requireHeaders answers 400 unless r has every one of names.
func requireHeaders(w http.ResponseWriter, r *http.Request, names ...string) bool {
	for _, name := range names {
		if r.Header.Get(name) == "" {
			http.Error(w, "Bad Request: missing header "+name, http.StatusBadRequest)
			return false
		}
	}
	return true
}

// handlePreUpload is GET /v1/preUpload: an upload slot for an encrypted
// blob of the size in the size (or MMCS-Size) header.
func (s *Simulator) handlePreUpload(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || !requireHeaders(w, r, "source-id") {
		return
	}
	sizeText := r.Header.Get("size")
	if sizeText == "" {
		sizeText = r.Header.Get("MMCS-Size")
	}
	size, err := strconv.Atoi(sizeText)
	if err != nil || size <= 0 || size > maxBlob {
		http.Error(w, fmt.Sprintf("Bad Request: size header %q: want 1 to %d bytes", sizeText, maxBlob), http.StatusBadRequest)
		return
	}
	b := newBlob()
	b.size = size
	token := randomHex(16)
	s.mu.Lock()
	s.uploads[token] = b
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{
		"upload-url": baseURL(r) + "/mmcs/upload/" + token, "mmcs-url": b.url, "mmcs-owner": b.owner,
	})
}

// handleUpload is POST <upload-url>: the encrypted blob, exactly the size
// announced to preUpload. It needs no token.
func (s *Simulator) handleUpload(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	b := s.uploads[token]
	s.mu.Unlock()
	if b == nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, int64(b.size)+1))
	if err != nil || len(data) != b.size {
		http.Error(w, fmt.Sprintf("Bad Request: the upload must be the %d bytes announced", b.size), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	delete(s.uploads, token)
	b.data, b.signature = data, mmcsSignature(data)
	s.blobs[b.url] = b
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"singleFile": map[string]any{
		"fileChecksum": base64.StdEncoding.EncodeToString(b.signature), "size": len(data),
	}})
}

// handlePreDownload is GET /v1/preDownload: a download URL, valid for
// Config.DownloadTTL, for the blob named by the MMCS-Url, MMCS-Owner and
// MMCS-Signature (Base64) headers.
func (s *Simulator) handlePreDownload(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || !requireHeaders(w, r, "source-id", "MMCS-Url", "MMCS-Owner", "MMCS-Signature") {
		return
	}
	s.mu.Lock()
	b := s.blobs[r.Header.Get("MMCS-Url")]
	s.mu.Unlock()
	if b == nil {
		http.Error(w, "Not Found: no file at MMCS-Url", http.StatusNotFound)
		return
	}
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get("MMCS-Signature"))
	if err != nil || !bytes.Equal(sig, b.signature) || r.Header.Get("MMCS-Owner") != b.owner {
		http.Error(w, "Forbidden: MMCS-Owner or MMCS-Signature does not match the file", http.StatusForbidden)
		return
	}
	token := randomHex(16)
	s.mu.Lock()
	s.downloads[token] = download{blob: b, expires: s.cfg.Now().Add(s.cfg.DownloadTTL)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"download-url": baseURL(r) + "/mmcs/download/" + token})
}

// handleDownload is GET <download-url>: the encrypted blob, 403 once the
// URL has expired. It needs no token.
func (s *Simulator) handleDownload(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	d, ok := s.downloads[token]
	expired := ok && !s.cfg.Now().Before(d.expires)
	if expired {
		delete(s.downloads, token)
	}
	s.mu.Unlock()
	switch {
	case !ok:
		http.Error(w, "Not Found", http.StatusNotFound)
	case expired:
		http.Error(w, "Forbidden: the download URL has expired", http.StatusForbidden)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(d.blob.data)))
		w.Write(d.blob.data)
	}
}

// handleDecodePayload is POST /v1/decodePayload: the decrypted bytes of an
// interactiveDataRef in, its interactive dictionary out. The bid header must
// be the dictionary's bid.
func (s *Simulator) handleDecodePayload(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || !requireHeaders(w, r, "source-id", "bid") {
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBlob+1))
	if err != nil || len(raw) > maxBlob {
		http.Error(w, "Bad Request: unreadable body", http.StatusBadRequest)
		return
	}
	dict, o, err := decodePayload(raw)
	if err != nil {
		http.Error(w, "Bad Request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if bid := r.Header.Get("bid"); bid != o.str("bid") {
		http.Error(w, fmt.Sprintf("Bad Request: bid header %q is not the payload's bid", bid), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(dict)
}

// PayloadRef encodes, encrypts and keeps dict, an interactive dictionary
// (JSON), as an answer over 10 KB is kept, and returns its
// interactiveDataRef: for tests that need a reference without an
// interactive message to answer.
func (s *Simulator) PayloadRef(bid, title string, dict []byte) json.RawMessage {
	b, _ := json.Marshal(s.storePayload(bid, title, dict))
	return b
}
