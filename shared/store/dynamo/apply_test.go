package dynamo

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/message"
	"github.com/parleyhq/parley/shared/store"
)

// cancelled returns the error DynamoDB answers a cancelled transaction
// with, one reason code per item, as awsapi.Call returns it.
func cancelled(codes ...string) *awsapi.Error {
	type reason struct {
		Code    string
		Message string `json:",omitempty"`
	}
	doc := struct {
		Type                string `json:"__type"`
		Message             string
		CancellationReasons []reason
	}{Type: "com.amazonaws.dynamodb.v20120810#TransactionCanceledException", CancellationReasons: []reason{}}
	for _, c := range codes {
		r := reason{Code: c}
		if c != "None" {
			r.Message = "The " + c + " happened"
		}
		doc.CancellationReasons = append(doc.CancellationReasons, r)
	}
	doc.Message = fmt.Sprintf("Transaction cancelled, please refer cancellation reasons for specific reasons %v", codes)
	body, _ := json.Marshal(doc)
	return &awsapi.Error{Status: 400, Code: "TransactionCanceledException", Message: doc.Message, Body: body}
}

func TestOutcome(t *testing.T) {
	// The batch: a conversation, a claim, an event, an idempotency key.
	b := &batch{
		fails: []onFail{failConflict, failDuplicate, noCondition, failDuplicate},
		names: []string{"conversation C", "claim K", "event E", "idempotency key I"},
	}
	other := &awsapi.Error{Status: 400, Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size",
		Body: []byte(`{"__type":"com.amazon.coral.validate#ValidationException","message":"Item size has exceeded the maximum allowed size"}`)}
	tests := []struct {
		name     string
		err      error
		want     error  // nil: no store error
		wantText string // part of the message
	}{
		{"success", nil, nil, ""},
		{"claim taken", cancelled("None", "ConditionalCheckFailed", "None", "None"), store.ErrDuplicate, "claim K"},
		{"idempotency key taken", cancelled("None", "None", "None", "ConditionalCheckFailed"), store.ErrDuplicate, "idempotency key I"},
		{"stale version", cancelled("ConditionalCheckFailed", "None", "None", "None"), store.ErrConflict, "conversation C"},
		{"duplicate wins over conflict", cancelled("ConditionalCheckFailed", "None", "None", "ConditionalCheckFailed"), store.ErrDuplicate, "idempotency key I"},
		{"another transaction on an item", cancelled("None", "None", "TransactionConflict", "None"), store.ErrConflict, "event E"},
		{"duplicate wins over a transaction conflict", cancelled("TransactionConflict", "ConditionalCheckFailed", "None", "None"), store.ErrDuplicate, "claim K"},
		{"other cancellation", cancelled("None", "None", "ValidationError", "None"), nil, "Transaction cancelled"},
		{"other cancellation, wrapped", fmt.Errorf("call: %w", cancelled("None", "ValidationError", "None", "None")), nil, "Transaction cancelled"},
		{"claim taken, wrapped", fmt.Errorf("call: %w", cancelled("None", "ConditionalCheckFailed", "None", "None")), store.ErrDuplicate, "claim K"},
		{"other error", other, nil, "Item size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.outcome(tt.err)
			if tt.err == nil {
				if err != nil {
					t.Fatalf("outcome(nil) = %v", err)
				}
				return
			}
			for _, e := range []error{store.ErrDuplicate, store.ErrConflict} {
				if errors.Is(err, e) != (e == tt.want) {
					t.Errorf("outcome = %v; errors.Is(%v) = %v, want %v", err, e, errors.Is(err, e), e == tt.want)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("outcome = %v, want a message naming %q", err, tt.wantText)
			}
		})
	}
}

func TestRetryConflicts(t *testing.T) {
	tests := []struct {
		name string
		err  *awsapi.Error
		want bool
	}{
		{"transaction conflict", cancelled("None", "TransactionConflict"), true},
		{"condition failed", cancelled("ConditionalCheckFailed", "None"), false},
		{"condition failed and a conflict", cancelled("ConditionalCheckFailed", "TransactionConflict"), false},
		{"no reasons", cancelled(), false},
		{"another error", &awsapi.Error{Status: 400, Code: "ValidationException", Body: []byte(`{"__type":"com.amazon.coral.validate#ValidationException"}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := onlyTransactionConflicts(tt.err); got != tt.want {
				t.Errorf("onlyTransactionConflicts(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestApplyRefusesBadBatches checks the batches Apply refuses before
// sending anything (the store has no clients: a request would panic).
func TestApplyRefusesBadBatches(t *testing.T) {
	s := New(Config{Table: "parley", Clock: clock.NewManual(start)})
	many := make([]store.Write, 101)
	for i := range many {
		many[i] = store.AppendEvent{Event: message.Event{ID: message.NewEventID(start)}}
	}
	tests := []struct {
		name string
		ws   []store.Write
		want string
	}{
		{"one claim twice", []store.Write{store.Claim{Key: "IN#x"}, store.Claim{Key: "IN#x"}}, "claim IN#x and claim IN#x write the same item"},
		{"create and delete of one idempotency key", []store.Write{
			store.CreateIdempotency{Idempotency: store.Idempotency{Key: "k"}},
			store.DeleteIdempotency{Key: "k"},
		}, "write the same item"},
		{"too many items", many, "101 writes make 101 items, the limit is 100"},
		{"claim without a key", []store.Write{store.Claim{}}, "claim: empty key"},
		{"idempotency without a key", []store.Write{store.PutIdempotency{}}, "idempotency: empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Apply(t.Context(), tt.ws...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Apply: %v, want an error saying %q", err, tt.want)
			}
			if s.Counts() != (Counts{}) {
				t.Fatalf("Apply sent a request: %+v", s.Counts())
			}
		})
	}
}
