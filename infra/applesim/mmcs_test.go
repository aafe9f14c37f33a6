package applesim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/message"
)

// call makes a gateway request with a fresh MSP token unless headers set
// Authorization ("" drops it).
func call(t *testing.T, method, url string, headers map[string]string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	token, err := apple.MintToken(secret, mspID, now)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// ctrDecrypt decrypts an MMCS blob with its wire key, "00" + hex.
func ctrDecrypt(t *testing.T, key string, sealed []byte) []byte {
	t.Helper()
	k, err := hex.DecodeString(strings.TrimPrefix(key, "00"))
	if err != nil || len(k) != 32 || !strings.HasPrefix(key, "00") {
		t.Fatalf("key %q is not 00 + 32 bytes in hex", key)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, len(sealed))
	cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(plain, sealed)
	return plain
}

// largeAnswer sends a list picker whose image makes the answer over 10 KB,
// answers it, and returns the interactiveDataRef the webhook got.
func largeAnswer(t *testing.T, sim *Simulator, rc *recorder) map[string]any {
	t.Helper()
	id := message.NewUUID()
	big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 3000))
	if rec := send(t, sim, "/v1/message", id, outbound(id, "interactive", `"interactiveData":`+edit(listPicker, png, big))); rec.Code != 200 {
		t.Fatalf("refused: %s", rec.Body)
	}
	d, err := sim.Reply(t.Context(), Reply{Action: "select", ReplyTo: id, IDs: []string{"sku-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !d.DataRef || d.WebhookStatus != 200 {
		t.Fatalf("delivery %+v, want a stored reference", d)
	}
	dl := rc.last(t)
	if _, inline := dl.body["interactiveData"]; inline {
		t.Fatal("a large answer went inline")
	}
	ref, ok := dl.body["interactiveDataRef"].(map[string]any)
	if !ok {
		t.Fatalf("webhook body %v has no interactiveDataRef", dl.body)
	}
	return ref
}

func TestLargeAnswerByReference(t *testing.T) {
	rc := &recorder{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	clk := &clock{t: now}
	sim := New(Config{MSPID: mspID, Secret: secret, WebhookURL: hook.URL, Now: clk.Now})
	base := mount(t, sim)
	ref := largeAnswer(t, sim, rc)

	str := func(key string) string { s, _ := ref[key].(string); return s }
	sig, err := hex.DecodeString(str("signature"))
	if err != nil || len(sig) != 21 || sig[0] != 0x81 || base64.StdEncoding.EncodeToString(sig) != str("signature-base64") {
		t.Errorf("signature %q / %q: want 21 bytes starting 0x81, in hex and in Base64", str("signature"), str("signature-base64"))
	}
	if str("bid") != AppleBID || str("title") != "Pick produce" || str("owner") == "" || !strings.HasPrefix(str("url"), "https://") || len(str("key")) != 66 {
		t.Errorf("interactiveDataRef %v: want Apple's bid, the bubble's title, an owner, an MMCS URL and a 66-character key", ref)
	}

	status, answer := call(t, http.MethodGet, base+"/v1/preDownload", map[string]string{
		"source-id": business, "MMCS-Url": str("url"), "MMCS-Owner": str("owner"), "MMCS-Signature": str("signature-base64"),
	}, nil)
	var pre struct {
		URL string `json:"download-url"`
	}
	if status != 200 || json.Unmarshal(answer, &pre) != nil || pre.URL == "" {
		t.Fatalf("GET /v1/preDownload = %d %s", status, answer)
	}
	status, sealed := call(t, http.MethodGet, pre.URL, map[string]string{"Authorization": ""}, nil)
	if size, _ := ref["size"].(float64); status != 200 || len(sealed) != int(size) {
		t.Fatalf("GET download-url = %d, %d bytes; want 200 and size %v", status, len(sealed), ref["size"])
	}
	plain := ctrDecrypt(t, str("key"), sealed)
	if json.Valid(plain) {
		t.Error("the decrypted payload is JSON; Apple's is opaque")
	}
	status, dict := call(t, http.MethodPost, base+"/v1/decodePayload", map[string]string{
		"source-id": business, "bid": str("bid"), "Content-Type": "application/octet-stream",
	}, plain)
	if status != 200 {
		t.Fatalf("POST /v1/decodePayload = %d %s", status, dict)
	}
	var idata any
	if err := json.Unmarshal(dict, &idata); err != nil {
		t.Fatalf("decodePayload answered %s: %v", dict, err)
	}
	checkPaths(t, idata, map[string]string{
		"bid":                                `"` + AppleBID + `"`,
		"data.requestIdentifier":             `"req-list"`,
		"data.listPicker.sections.0.items":   `[{"identifier":"sku-1","title":"Apple","subtitle":"Red","order":0,"style":"default","imageIdentifier":"apple"}]`,
		"data.listPicker.sections.1.title":   `"Others"`,
		"data.listPicker.sections.2":         "-",
		"data.images.0.identifier":           `"apple"`,
		"receivedMessage.title":              `"Pick produce"`,
		"data.listPicker.sections.0.title":   `"You Selected"`,
		"data.listPicker.sections.0.items.1": "-",
	})
	if len(dict) <= maxInlineReply {
		t.Errorf("the dictionary is %d bytes, not over 10 KB", len(dict))
	}

	clk.Add(5*time.Minute - time.Second)
	if status, _ := call(t, http.MethodGet, pre.URL, nil, nil); status != 200 {
		t.Errorf("download-url before its 5 minutes = %d, want 200", status)
	}
	clk.Add(time.Second)
	if status, _ := call(t, http.MethodGet, pre.URL, nil, nil); status != http.StatusForbidden {
		t.Errorf("expired download-url = %d, want 403", status)
	}
	if status, _ := call(t, http.MethodGet, pre.URL, nil, nil); status != http.StatusNotFound {
		t.Errorf("expired download-url, again = %d, want 404", status)
	}
}

func TestDownloadTTL(t *testing.T) {
	rc := &recorder{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	clk := &clock{t: now}
	sim := New(Config{MSPID: mspID, Secret: secret, WebhookURL: hook.URL, Now: clk.Now, DownloadTTL: 10 * time.Second})
	base := mount(t, sim)
	ref := largeAnswer(t, sim, rc)
	_, answer := call(t, http.MethodGet, base+"/v1/preDownload", map[string]string{
		"source-id": business, "MMCS-Url": ref["url"].(string), "MMCS-Owner": ref["owner"].(string), "MMCS-Signature": ref["signature-base64"].(string),
	}, nil)
	var pre map[string]string
	json.Unmarshal(answer, &pre)
	clk.Add(10 * time.Second)
	if status, _ := call(t, http.MethodGet, pre["download-url"], nil, nil); status != http.StatusForbidden {
		t.Errorf("download-url after DownloadTTL = %d, want 403", status)
	}
}

func TestMMCSRefusals(t *testing.T) {
	rc := &recorder{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	sim := New(Config{MSPID: mspID, Secret: secret, WebhookURL: hook.URL, Now: func() time.Time { return now }})
	base := mount(t, sim)
	ref := largeAnswer(t, sim, rc)
	str := func(key string) string { s, _ := ref[key].(string); return s }
	pre := func(change map[string]string) map[string]string {
		h := map[string]string{"source-id": business, "MMCS-Url": str("url"), "MMCS-Owner": str("owner"), "MMCS-Signature": str("signature-base64")}
		for k, v := range change {
			h[k] = v
		}
		return h
	}
	_, answer := call(t, http.MethodGet, base+"/v1/preDownload", pre(nil), nil)
	var p map[string]string
	json.Unmarshal(answer, &p)
	_, sealed := call(t, http.MethodGet, p["download-url"], nil, nil)
	plain := ctrDecrypt(t, str("key"), sealed)
	decode := func(change map[string]string) map[string]string {
		h := map[string]string{"source-id": business, "bid": str("bid")}
		for k, v := range change {
			h[k] = v
		}
		return h
	}
	gunzipped := func() []byte {
		dict, _, err := decodePayload(plain)
		if err != nil {
			t.Fatal(err)
		}
		return dict
	}()

	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    []byte
		want    int
		wantIn  string
	}{
		{"preDownload without token", "GET", "/v1/preDownload", pre(map[string]string{"Authorization": ""}), nil, 401, "Unauthorized"},
		{"preDownload with a bad token", "GET", "/v1/preDownload", pre(map[string]string{"Authorization": "Bearer x.y.z"}), nil, 403, "Forbidden"},
		{"preDownload without source-id", "GET", "/v1/preDownload", pre(map[string]string{"source-id": ""}), nil, 400, "source-id"},
		{"preDownload with short header names", "GET", "/v1/preDownload", pre(map[string]string{"MMCS-Url": "", "MMCS-Owner": "", "MMCS-Signature": "", "url": str("url"), "owner": str("owner"), "signature": str("signature-base64")}), nil, 400, "MMCS-Url"},
		{"preDownload of an unknown file", "GET", "/v1/preDownload", pre(map[string]string{"MMCS-Url": str("url") + "x"}), nil, 404, "no file"},
		{"preDownload by another owner", "GET", "/v1/preDownload", pre(map[string]string{"MMCS-Owner": "someone"}), nil, 403, "MMCS-Owner"},
		{"preDownload with the hex signature", "GET", "/v1/preDownload", pre(map[string]string{"MMCS-Signature": str("signature")}), nil, 403, "MMCS-Signature"},
		{"unknown download URL", "GET", "/mmcs/download/0123", nil, nil, 404, "Not Found"},
		{"decodePayload without token", "POST", "/v1/decodePayload", decode(map[string]string{"Authorization": ""}), plain, 401, "Unauthorized"},
		{"decodePayload without bid", "POST", "/v1/decodePayload", decode(map[string]string{"bid": ""}), plain, 400, "bid"},
		{"decodePayload with another bid", "POST", "/v1/decodePayload", decode(map[string]string{"bid": "com.apple.messages.MSMessageExtensionBalloonPlugin:ABCDE12345:com.example.x"}), plain, 400, "is not the payload's bid"},
		{"decodePayload of the encrypted blob", "POST", "/v1/decodePayload", decode(nil), sealed, 400, "not an interactive payload"},
		{"decodePayload of the dictionary itself", "POST", "/v1/decodePayload", decode(nil), gunzipped, 400, "not an interactive payload"},
		{"preUpload without size", "GET", "/v1/preUpload", map[string]string{"source-id": business}, nil, 400, "size header"},
		{"preUpload over 100 MB", "GET", "/v1/preUpload", map[string]string{"source-id": business, "size": "104857601"}, nil, 400, "size header"},
		{"preUpload without token", "GET", "/v1/preUpload", map[string]string{"Authorization": "", "source-id": business, "size": "10"}, nil, 401, "Unauthorized"},
		{"upload to an unknown slot", "POST", "/mmcs/upload/0123", nil, []byte("x"), 404, "Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, answer := call(t, tt.method, base+tt.path, tt.headers, tt.body)
			if status != tt.want || !strings.Contains(string(answer), tt.wantIn) {
				t.Errorf("%s %s = %d %q, want %d mentioning %s", tt.method, tt.path, status, answer, tt.want, tt.wantIn)
			}
		})
	}
}

func TestUploadThenDownload(t *testing.T) {
	sim := New(Config{MSPID: mspID, Secret: secret, Now: func() time.Time { return now }})
	base := mount(t, sim)
	for _, sizeHeader := range []string{"size", "MMCS-Size"} {
		t.Run(sizeHeader, func(t *testing.T) {
			file := bytes.Repeat([]byte("encrypted attachment "), 100)
			status, answer := call(t, http.MethodGet, base+"/v1/preUpload", map[string]string{"source-id": business, sizeHeader: "2100"}, nil)
			var slot map[string]string
			if status != 200 || json.Unmarshal(answer, &slot) != nil || slot["upload-url"] == "" || slot["mmcs-url"] == "" || slot["mmcs-owner"] == "" {
				t.Fatalf("GET /v1/preUpload = %d %s", status, answer)
			}
			if status, answer := call(t, http.MethodPost, slot["upload-url"], map[string]string{"Authorization": ""}, file[:2099]); status != 400 {
				t.Errorf("upload of 2099 bytes for 2100 = %d %s, want 400", status, answer)
			}
			status, answer = call(t, http.MethodPost, slot["upload-url"], map[string]string{"Authorization": ""}, file)
			var up struct {
				SingleFile struct {
					FileChecksum string `json:"fileChecksum"`
				} `json:"singleFile"`
			}
			if status != 200 || json.Unmarshal(answer, &up) != nil || up.SingleFile.FileChecksum == "" {
				t.Fatalf("upload = %d %s", status, answer)
			}
			status, answer = call(t, http.MethodGet, base+"/v1/preDownload", map[string]string{
				"source-id": business, "MMCS-Url": slot["mmcs-url"], "MMCS-Owner": slot["mmcs-owner"], "MMCS-Signature": up.SingleFile.FileChecksum,
			}, nil)
			var pre map[string]string
			if status != 200 || json.Unmarshal(answer, &pre) != nil {
				t.Fatalf("GET /v1/preDownload = %d %s", status, answer)
			}
			if status, got := call(t, http.MethodGet, pre["download-url"], nil, nil); status != 200 || !bytes.Equal(got, file) {
				t.Errorf("download = %d, %d bytes; want the %d bytes uploaded", status, len(got), len(file))
			}
		})
	}
}
