package apple_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley/infra/applesim"
	"github.com/parleyhq/parley/shared/apple"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/safefetch"
)

const (
	mmcsMSPID    = "7d4e2a10-5c3b-4f8e-9a61-0c2b3d4e5f60"
	mmcsBusiness = "3f2c8a1e-9b7d-4c6e-8f1a-2b3c4d5e6f70"
)

func newMMCS(t *testing.T) (*apple.MMCS, *applesim.Simulator) {
	t.Helper()
	secret := []byte("parley-local-apple-msp-secret-32")
	sim := applesim.New(applesim.Config{MSPID: mmcsMSPID, Secret: secret})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &apple.MMCS{Client: &apple.Client{BaseURL: srv.URL + "/v1", MSPID: mmcsMSPID, Secret: secret,
		Fetch: safefetch.New(safefetch.Config{AllowLocal: true})}}, sim
}

// fetch downloads and decrypts b.
func fetch(t *testing.T, m *apple.MMCS, b apple.Blob) []byte {
	t.Helper()
	ctx := context.Background()
	u, err := m.PreDownload(ctx, mmcsBusiness, b)
	if err != nil {
		t.Fatalf("PreDownload: %v", err)
	}
	rc, err := m.Download(ctx, u)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	defer rc.Close()
	key, err := apple.ParseKey(b.Key)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := apple.CTR(key, rc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(plain)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(got)) != b.Size {
		t.Errorf("downloaded %d bytes, the reference says %d", len(got), b.Size)
	}
	return got
}

func TestAttachmentRoundTrip(t *testing.T) {
	m, _ := newMMCS(t)
	file := bytes.Repeat([]byte("a photo of a parcel "), 5000)
	att, err := m.UploadAttachment(context.Background(), mmcsBusiness, "parcel.jpg", "image/jpeg", bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatalf("UploadAttachment: %v", err)
	}
	raw, _ := json.Marshal(att)
	for _, k := range []string{`"name":"parcel.jpg"`, `"mimeType":"image/jpeg"`, `"size":"100000"`, `"signature-base64":`, `"url":`, `"owner":`, `"key":"00`} {
		if !strings.Contains(string(raw), k) {
			t.Errorf("attachment %s lacks %s", raw, k)
		}
	}
	b, err := apple.ParseBlob(raw)
	if err != nil {
		t.Fatalf("ParseBlob: %v", err)
	}
	if got := fetch(t, m, b); !bytes.Equal(got, file) {
		t.Error("the downloaded attachment differs from the uploaded one")
	}
}

func TestDataRefDecode(t *testing.T) {
	m, sim := newMMCS(t)
	dict := `{"bid":"` + apple.BuiltInBID + `","data":{"version":"1.0","requestIdentifier":"req-1","listPicker":{"sections":[{"items":[{"identifier":"sku-1","title":"Apple"}]}]}}}`
	b, err := apple.ParseBlob(sim.PayloadRef(apple.BuiltInBID, "Pick", []byte(dict)))
	if err != nil {
		t.Fatalf("ParseBlob: %v", err)
	}
	plain := fetch(t, m, b)
	got, err := m.DecodePayload(context.Background(), mmcsBusiness, b.BID, bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatalf("DecodePayload: %v", err)
	}
	body, replyTo, err := apple.ParseDecoded(got)
	if err != nil || replyTo != "req-1" || body.Type != message.BodySelection || body.Selections[0].ID != "sku-1" {
		t.Errorf("ParseDecoded = %+v, %q, %v", body, replyTo, err)
	}
	_, err = m.DecodePayload(context.Background(), mmcsBusiness, b.BID, strings.NewReader("garbage"), 7)
	var me *apple.MMCSError
	if !errors.As(err, &me) || me.Status != 400 || me.Retryable() {
		t.Errorf("DecodePayload of garbage = %v, want a 400 that is not retryable", err)
	}
}

func TestParseBlob(t *testing.T) {
	key := "00" + strings.Repeat("AB", 32)
	tests := []struct {
		name string
		raw  string
		want apple.Blob
		err  string
	}{
		{"current", `{"name":"a.jpg","mimeType":"image/jpeg","size":12,"url":"https://p1/M","owner":"o","key":"` + key + `","signature":"81ff"}`,
			apple.Blob{Name: "a.jpg", MimeType: "image/jpeg", Size: 12, URL: "https://p1/M", Owner: "o", Key: key, SignatureBase64: "gf8="}, ""},
		{"legacy", `{"name":"a.jpg","mime-type":"image/jpeg","file-size":"12","mmcs-url":"https://p1/M","mmcs-owner":"o","decryption-key":"` + key + `","mmcs-signature-hex":"81ff"}`,
			apple.Blob{Name: "a.jpg", MimeType: "image/jpeg", Size: 12, URL: "https://p1/M", Owner: "o", Key: key, SignatureBase64: "gf8="}, ""},
		{"base64 signature wins", `{"bid":"b","size":1,"url":"u","owner":"o","key":"` + key + `","signature":"81ff","signature-base64":"AQ=="}`,
			apple.Blob{BID: "b", Size: 1, URL: "u", Owner: "o", Key: key, SignatureBase64: "AQ=="}, ""},
		{"no url", `{"size":1,"owner":"o","key":"` + key + `","signature":"81"}`, apple.Blob{}, "url: is required"},
		{"bad key", `{"size":1,"url":"u","owner":"o","key":"01` + key[2:] + `","signature":"81"}`, apple.Blob{}, "key: want 00"},
		{"too large", `{"size":104857601,"url":"u","owner":"o","key":"` + key + `","signature":"81"}`, apple.Blob{}, "size: 104857601 bytes, it must be 1 to 104857600"},
		{"size not a number", `{"size":"ten","url":"u","owner":"o","key":"` + key + `","signature":"81"}`, apple.Blob{}, `size: "ten" is not a size`},
		{"signature not hex", `{"size":1,"url":"u","owner":"o","key":"` + key + `","signature":"zz"}`, apple.Blob{}, "signature: is not hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := apple.ParseBlob([]byte(tt.raw))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseBlob = %v, want an error saying %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseBlob = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
