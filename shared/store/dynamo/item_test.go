package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// TestItemLayout pins the items of the package comment, which operators
// and the table definition rely on.
func TestItemLayout(t *testing.T) {
	t.Parallel()
	b := startBackend(t)
	s := b.newStore(t, clock.NewManual(start))
	half := 500 * time.Millisecond // expiries off the second round up in expiresAt
	conv := message.Conversation{
		Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: "16505551234",
		LastInboundAt: start, WindowClosesAt: start.Add(24 * time.Hour), ExpiresAt: start.Add(90 * 24 * time.Hour),
	}
	msg := message.Record{
		ID: "msg_layout", Channel: conv.Channel, BusinessID: conv.BusinessID, CustomerID: conv.CustomerID,
		Direction: message.Inbound, PlatformMessageID: "wamid.LAYOUT", Type: "text",
		Body: &message.Body{Type: "text", Text: "hi"}, Status: "received",
		CreatedAt: start.Add(1500 * time.Microsecond), UpdatedAt: start, Version: 1,
	}
	ev := message.Event{ID: message.NewEventID(start), Type: message.EventReceived, Time: start, MessageID: msg.ID}
	idem := store.Idempotency{Key: "order-1", RequestHash: "sha256:abc", MessageID: msg.ID, Status: 202, Answer: []byte(`{"id":"msg_layout"}`), ExpiresAt: start.Add(time.Hour + half)}
	err := s.Apply(t.Context(),
		store.Claim{Key: "IN#whatsapp#wamid.LAYOUT", ExpiresAt: start.Add(72*time.Hour + half)},
		store.TouchConversation{Key: store.KeyOf(conv), InboundAt: start, Window: 24 * time.Hour, Retention: 90 * 24 * time.Hour},
		store.TouchConversation{Key: store.KeyOf(message.Conversation{Channel: message.Apple, BusinessID: "b", CustomerID: "urn:mbid:c"}),
			ClosedAt: start, Capabilities: []string{"LIST", "TIME"}, Retention: time.Hour},
		store.PutMessage{Message: msg, ExpiresAt: start.Add(30 * 24 * time.Hour)},
		store.AppendEvent{Event: ev, ExpiresAt: start.Add(7 * 24 * time.Hour)},
		store.CreateIdempotency{Idempotency: idem},
		store.Claim{Key: "IN#apple#forever"},
	)
	if err != nil {
		t.Fatal(err)
	}

	secs := func(d time.Duration) string { return fmt.Sprintf("N:%d", start.Add(d).Unix()) }
	nanos := func(d time.Duration) string { return fmt.Sprintf("N:%d", start.Add(d).UnixNano()) }
	convPK := "CONV#whatsapp#106540352242922#16505551234"
	tests := []struct {
		pk, sk string
		want   map[string]string
	}{
		{"IN#whatsapp#wamid.LAYOUT", "CLAIM", map[string]string{
			"expiresAt": secs(72*time.Hour + time.Second), "expiresAtNs": nanos(72*time.Hour + half)}},
		{"IN#apple#forever", "CLAIM", map[string]string{}},
		{convPK, "CONV", map[string]string{
			"atNs": nanos(0), "windowClosesAtNs": nanos(24 * time.Hour), "expiresAt": secs(90 * 24 * time.Hour), "expiresAtNs": nanos(90 * 24 * time.Hour)}},
		{"CONV#apple#b#urn:mbid:c", "CLOSED", map[string]string{
			"atNs": nanos(0), "expiresAt": secs(time.Hour), "expiresAtNs": nanos(time.Hour)}},
		{"CONV#apple#b#urn:mbid:c", "CAPS", map[string]string{
			"atNs": nanos(0), "capabilities": "*types.AttributeValueMemberL", "expiresAt": secs(time.Hour), "expiresAtNs": nanos(time.Hour)}},
		{"MSG#msg_layout", "MSG", map[string]string{
			"GSI1PK": convPK, "GSI1SK": "2031-03-14T09:26:53.001500000Z#msg_layout",
			"data": "JSON", "version": "N:1", "expiresAt": secs(30 * 24 * time.Hour), "expiresAtNs": nanos(30 * 24 * time.Hour)}},
		{"PMID#whatsapp#wamid.LAYOUT", "PMID", map[string]string{
			"messageId": "msg_layout", "expiresAt": secs(30 * 24 * time.Hour), "expiresAtNs": nanos(30 * 24 * time.Hour)}},
		{"EVT", ev.ID, map[string]string{
			"data": "JSON", "expiresAt": secs(7 * 24 * time.Hour), "expiresAtNs": nanos(7 * 24 * time.Hour)}},
		{"IDEM#order-1", "IDEM", map[string]string{
			"requestHash": "sha256:abc", "messageId": "msg_layout", "status": "N:202", "answer": `B:{"id":"msg_layout"}`,
			"expiresAt": secs(time.Hour + time.Second), "expiresAtNs": nanos(time.Hour + half)}},
	}
	for _, tt := range tests {
		t.Run(tt.pk+"/"+tt.sk, func(t *testing.T) {
			out, err := b.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: sdkKey(tt.pk, tt.sk)})
			if err != nil {
				t.Fatal(err)
			}
			if out.Item == nil {
				t.Fatal("no such item")
			}
			got := plain(out.Item)
			want := maps.Clone(tt.want)
			want["PK"], want["SK"] = tt.pk, tt.sk
			if !maps.Equal(got, want) {
				t.Errorf("item\n got %v\nwant %v", sorted(got), sorted(want))
			}
		})
	}

	// The data attribute is the API's JSON of the value.
	out, err := b.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: sdkKey("MSG#msg_layout", "MSG")})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(msg)
	if got := out.Item["data"].(*types.AttributeValueMemberS).Value; got != string(want) {
		t.Errorf("message data\n got %s\nwant %s", got, want)
	}
}

// sdkKey is the key of an item as the AWS SDK writes it.
func sdkKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk}, attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// plain shows an item as text: strings as they are, numbers as N:…,
// binaries as B:…, and a data attribute holding JSON as JSON.
func plain(it map[string]types.AttributeValue) map[string]string {
	m := map[string]string{}
	for k, v := range it {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			m[k] = v.Value
			if k == attrData && json.Valid([]byte(v.Value)) {
				m[k] = "JSON"
			}
		case *types.AttributeValueMemberN:
			m[k] = "N:" + v.Value
		case *types.AttributeValueMemberB:
			m[k] = "B:" + string(v.Value)
		default:
			m[k] = fmt.Sprintf("%T", v)
		}
	}
	return m
}

func sorted(m map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// TestForwardOnly races nothing: it touches a conversation with an older
// message after a newer one, and the older touch is dropped from its batch
// (one more request) while the rest of the batch lands.
func TestForwardOnly(t *testing.T) {
	t.Parallel()
	b := startBackend(t)
	s := b.newStore(t, clock.NewManual(start))
	ctx := t.Context()
	k := store.ConversationKey{Channel: message.WhatsApp, BusinessID: "b", CustomerID: "c"}
	touch := func(at time.Time) store.TouchConversation {
		return store.TouchConversation{Key: k, InboundAt: at, Window: 24 * time.Hour, Retention: 30 * 24 * time.Hour}
	}
	if err := s.Apply(ctx, touch(start.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	s.ResetCounts()
	if err := s.Apply(ctx, touch(start), store.Claim{Key: "IN#whatsapp#older"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Counts(); got.Writes != 2 {
		t.Errorf("writes %d, want 2 (the batch, then the batch without the stale touch)", got.Writes)
	}
	if err := s.Apply(ctx, store.Claim{Key: "IN#whatsapp#older"}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("the claim of the batch: %v, want it taken", err)
	}
	got, err := s.Conversation(ctx, k)
	if err != nil || !got.LastInboundAt.Equal(start.Add(time.Hour)) || !got.WindowClosesAt.Equal(start.Add(25*time.Hour)) {
		t.Errorf("Conversation = %+v, %v", got, err)
	}
}

// TestErrorsMaskCustomers: a failed read of a conversation names it with
// the customer id masked as the logs mask it, since errors reach the logs.
func TestErrorsMaskCustomers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}`)
	}))
	defer srv.Close()
	s := New(Config{AWS: &awsapi.Client{Region: "eu-west-1", Endpoint: srv.URL}, Table: "parley"})
	k := store.ConversationKey{Channel: message.WhatsApp, BusinessID: "106540352242922", CustomerID: "447700900123"}
	_, err := s.Conversation(context.Background(), k)
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), k.CustomerID) || !strings.Contains(err.Error(), "CONV#whatsapp#106540352242922#********0123") {
		t.Errorf("error %q", err)
	}
	if shown("MSG#abc#def#ghi") != "MSG#abc#def#ghi" {
		t.Error("a key other than a conversation's is changed")
	}
}
