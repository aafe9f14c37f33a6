package itest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/parleyhq/parley/shared/httpapi"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/payload"
	"github.com/parleyhq/parley/shared/queue"
)

const (
	waBusiness = "106540352242922"
	waCustomer = "447700900123"
)

// TestMediaThroughTheQueues: a customer's 50 MB video goes through ingest,
// the payload queue, functions/fetch (resolved through the Graph API,
// streamed to moto's S3 under the conversation's key), the bucket's
// notification and functions/decode, and its message.received event
// carries a URL that serves the video; then a document uploaded through
// POST /v1/uploads (a presigned S3 PUT) is sent as a WhatsApp document,
// uploaded to Meta first.
func TestMediaThroughTheQueues(t *testing.T) {
	r := start(t)
	ctx := context.Background()
	const size = 50 << 20
	var d struct {
		WAMID         string `json:"wamid"`
		WebhookStatus int    `json:"webhookStatus"`
		WebhookBody   string `json:"webhookBody"`
	}
	if code := call(t, "POST", r.st.URL+"/sim/whatsapp/reply/media", map[string]any{"businessId": waBusiness, "from": waCustomer,
		"type": "video", "size": size, "caption": "It rattles when I shake it"}, &d); code != http.StatusOK || d.WebhookStatus != http.StatusOK {
		t.Fatalf("the customer's video: %d, webhook %d %s", code, d.WebhookStatus, d.WebhookBody)
	}
	rec, err := r.st.Service.Store.MessageByPlatformID(ctx, message.WhatsApp, d.WAMID)
	if err != nil || rec.Status != message.StatusPayloadPending || rec.Body.Media == nil || rec.Body.Media.Caption != "It rattles when I shake it" {
		t.Fatalf("before the fetch: %+v, %v; want payload_pending with the video's caption", rec, err)
	}

	m, ev := r.receive(t, r.payloadQ)
	if failed := invoke(t, r.fetch, ev); len(failed) != 0 {
		t.Fatalf("fetch failed %v", failed)
	}
	r.done(t, r.payloadQ, m)
	key := payload.MediaKey(queue.Job{Channel: message.WhatsApp, BusinessID: waBusiness, CustomerID: rec.CustomerID, PlatformMessageID: d.WAMID})
	head, err := r.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("the raw object %s: %v", key, err)
	}
	if aws.ToInt64(head.ContentLength) != size || aws.ToString(head.ContentType) != "video/mp4" {
		t.Fatalf("raw object of %d bytes, %s; want %d, video/mp4", aws.ToInt64(head.ContentLength), aws.ToString(head.ContentType), size)
	}

	r.send(t, r.decodeQ, objectCreated(key, size))
	note, ev := r.receive(t, r.decodeQ)
	if failed := invoke(t, r.decode, ev); len(failed) != 0 {
		t.Fatalf("decode failed %v", failed)
	}
	r.done(t, r.decodeQ, note)

	rec, err = r.st.Service.Store.MessageByPlatformID(ctx, message.WhatsApp, d.WAMID)
	if err != nil || rec.Status != message.StatusReceived {
		t.Fatalf("after decode: %s, %v", rec.Status, err)
	}
	evs := r.eventsOf(t, rec.ID)
	if len(evs) != 1 || evs[0].Type != message.EventReceived || evs[0].Body == nil || evs[0].Body.Media == nil {
		t.Fatalf("events %+v; want one message.received with the media", evs)
	}
	media := evs[0].Body.Media
	if media.Type != "video" || media.Size != size || media.Key != key || media.URL == "" {
		t.Fatalf("media %+v", media)
	}
	f, ok := r.st.WhatsApp.MediaFile(media.ID)
	if !ok {
		t.Fatalf("the simulator holds no media %s", media.ID)
	}
	if got := sha(t, media.URL); got != f.SHA256 {
		t.Errorf("the event's URL serves a file hashing to %s, want %s", got, f.SHA256)
	}
	var mm httpapi.MessageMedia
	if code := call(t, "GET", r.st.URL+"/v1/messages/"+rec.ID+"/media", nil, &mm); code != http.StatusOK || len(mm.Files) != 1 {
		t.Fatalf("GET media: %d %+v", code, mm)
	}
	if got := sha(t, mm.Files[0].URL); got != f.SHA256 {
		t.Errorf("the fresh URL serves a file hashing to %s, want %s", got, f.SHA256)
	}

	// Outbound: a document uploaded to S3, then to Meta.
	doc := bytes.Repeat([]byte("%PDF-1.7 the warranty terms "), 40000)
	var slot httpapi.UploadSlot
	if code := call(t, "POST", r.st.URL+"/v1/uploads", map[string]any{"name": "warranty.pdf", "mimeType": "application/pdf", "size": len(doc)}, &slot); code != http.StatusCreated {
		t.Fatalf("POST /v1/uploads: %d", code)
	}
	req, _ := http.NewRequest(slot.Method, slot.URL, bytes.NewReader(doc))
	for k, v := range slot.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT the document: %v %v", resp, err)
	}
	resp.Body.Close()
	var res message.SendResult
	if code := call(t, "POST", r.st.URL+"/v1/messages", map[string]any{"channel": "whatsapp", "businessId": waBusiness, "to": waCustomer,
		"message": map[string]any{"type": "document", "upload": slot.Upload, "filename": "warranty.pdf", "caption": "The warranty terms"}}, &res); code != http.StatusAccepted {
		t.Fatalf("sending the document: %d %+v", code, res)
	}
	for _, a := range r.st.WhatsApp.Accepted() {
		if a.WAMID != res.PlatformMessageID {
			continue
		}
		var sent struct {
			Document struct {
				ID       string `json:"id"`
				Filename string `json:"filename"`
				Caption  string `json:"caption"`
			} `json:"document"`
		}
		json.Unmarshal(a.Request, &sent)
		f, ok := r.st.WhatsApp.MediaFile(sent.Document.ID)
		sum := sha256.Sum256(doc)
		if !ok || !f.Uploaded || f.SHA256 != hex.EncodeToString(sum[:]) || f.MimeType != "application/pdf" ||
			sent.Document.Filename != "warranty.pdf" || sent.Document.Caption != "The warranty terms" {
			t.Errorf("sent %s; Meta holds %+v", a.Request, f)
		}
		return
	}
	t.Errorf("the simulator accepted no message %s", res.PlatformMessageID)
}

// sha downloads url and returns the hex SHA-256 of what it served.
func sha(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	h := sha256.New()
	io.Copy(h, resp.Body)
	return hex.EncodeToString(h.Sum(nil))
}
