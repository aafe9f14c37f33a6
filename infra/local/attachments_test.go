package local

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
)

// TestCustomerAttachment: a customer sends a photo; the local stack
// fetches and decrypts it in-process, and the message.received event lists
// it with the key under which the photo's bytes are stored.
func TestCustomerAttachment(t *testing.T) {
	st := startStack(t, "embedded", clock.NewManual(start))
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0, 'J', 'F', 'I', 'F'}, 4096)
	reply(t, st, "apple", map[string]any{"businessId": appleBusiness, "from": appleCustomer, "text": "Here is my photo",
		"attachments": []any{map[string]any{"name": "IMG_0001.JPG", "mimeType": "image/jpeg", "data": photo}}})
	st.Service.PayloadJobs.Wait()

	ev := lastEvent(t, st, message.EventReceived)
	if ev.Body == nil || ev.Body.Text != "Here is my photo \uFFFC" || len(ev.Body.Attachments) != 1 {
		t.Fatalf("event %+v body %+v; want the text and one attachment", ev, ev.Body)
	}
	a := ev.Body.Attachments[0]
	if a.Name != "IMG_0001.JPG" || a.MimeType != "image/jpeg" || a.Size != int64(len(photo)) || !strings.HasPrefix(a.Key, "raw/apple/") {
		t.Errorf("attachment %+v; want IMG_0001.JPG, image/jpeg, %d bytes, stored under raw/apple/", a, len(photo))
	}
	rc, info, err := st.Service.Blobs.GetBlob(context.Background(), a.Key)
	if err != nil {
		t.Fatalf("the stored attachment %s: %v", a.Key, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, photo) {
		t.Errorf("the stored attachment holds %d bytes that are not the photo's %d", len(got), len(photo))
	}
	if info.ContentType != "image/jpeg" {
		t.Errorf("the stored attachment's content type is %q, want image/jpeg", info.ContentType)
	}

	var rec message.Record
	if code := call(t, "GET", st.URL+"/v1/messages/"+ev.MessageID, nil, &rec); code != http.StatusOK || rec.Status != message.StatusReceived ||
		rec.Body == nil || len(rec.Body.Attachments) != 1 || rec.Body.Attachments[0].Key != a.Key {
		t.Errorf("GET the message: %d %s %+v; want it received with the attachment's key", code, rec.Status, rec.Body)
	}
	if n := count(events(t, st), message.EventReceived); n != 1 {
		t.Errorf("%d message.received events, want 1", n)
	}
}

// count returns how many of evs are of type typ.
func count(evs []message.Event, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}
