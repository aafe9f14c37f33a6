package dynamodb_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
)

// TestErrors reads DynamoDB's error answers (its documented shapes, our
// own values) as a call returns them.
func TestErrors(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		code        string
		reasons     []dynamodb.CancellationReason // nil: not a cancelled transaction
		wantMessage string
	}{
		{"condition failed", 400,
			`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`,
			dynamodb.CodeConditionalCheckFailed, nil, "The conditional request failed"},
		{"table exists", 400,
			`{"__type":"com.amazonaws.dynamodb.v20120810#ResourceInUseException","message":"Table already exists: parley"}`,
			dynamodb.CodeResourceInUse, nil, "Table already exists: parley"},
		{"no such table", 400,
			`{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found: Table: parley not found"}`,
			dynamodb.CodeResourceNotFound, nil, "Requested resource not found"},
		{"transaction cancelled", 400,
			`{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
			  "Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, TransactionConflict]",
			  "CancellationReasons":[{"Code":"None"},
			    {"Code":"ConditionalCheckFailed","Message":"The conditional request failed","Item":{"PK":{"S":"IN#whatsapp#wamid.1"},"SK":{"S":"CLAIM"},"expiresAtNs":{"N":"1931678813000000000"}}},
			    {"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}]}`,
			dynamodb.CodeTransactionCanceled, []dynamodb.CancellationReason{
				{Code: "None"},
				{Code: "ConditionalCheckFailed", Message: "The conditional request failed",
					Item: dynamodb.Item{"PK": dynamodb.S("IN#whatsapp#wamid.1"), "SK": dynamodb.S("CLAIM"), "expiresAtNs": dynamodb.N("1931678813000000000")}},
				{Code: "TransactionConflict", Message: "Transaction is ongoing for the item"},
			}, "Transaction cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{answers: []answer{{tt.status, tt.body}}}
			c, _ := clients(t, rec)
			err := c.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: []dynamodb.TransactWriteItem{
				{Put: &dynamodb.Put{TableName: "parley", Item: dynamodb.Item{"PK": dynamodb.S("a"), "SK": dynamodb.S("b")}}}}})
			if got := awsapi.ErrorCode(err); got != tt.code {
				t.Fatalf("error %v: code %q, want %q", err, got, tt.code)
			}
			e, _ := errors.AsType[*awsapi.Error](err)
			if e.Status != tt.status || e.Message == "" || !json.Valid(e.Body) {
				t.Errorf("error %+v", e)
			}
			reasons, ok := dynamodb.CancellationReasons(fmt.Errorf("dynamo: apply: %w", err))
			if ok != (tt.reasons != nil) || !reflect.DeepEqual(reasons, tt.reasons) {
				t.Errorf("CancellationReasons = %#v, %v; want %#v", reasons, ok, tt.reasons)
			}
		})
	}
}

func TestCancellationReasonsOfOtherErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("connection reset"), &awsapi.Error{Status: 500, Code: "InternalServerError"},
		&awsapi.Error{Status: 400, Code: dynamodb.CodeTransactionCanceled, Body: []byte("<html>")}} {
		if reasons, ok := dynamodb.CancellationReasons(err); ok || reasons != nil {
			t.Errorf("CancellationReasons(%v) = %v, %v", err, reasons, ok)
		}
	}
}

// TestTransactWriteItemsToken: a transaction goes with an idempotency
// token, the same on every try of one call (so that a retry of a request
// that arrived is not applied twice) and a new one for the next call.
func TestTransactWriteItemsToken(t *testing.T) {
	rec := &recorder{answers: []answer{
		{http.StatusInternalServerError, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`},
		{http.StatusOK, `{}`},
	}}
	c, _ := clients(t, rec)
	c.AWS.MaxAttempts = 2
	in := &dynamodb.TransactWriteItemsInput{TransactItems: []dynamodb.TransactWriteItem{
		{Put: &dynamodb.Put{TableName: "parley", Item: dynamodb.Item{"PK": dynamodb.S("a"), "SK": dynamodb.S("b")}}}}}
	if err := c.TransactWriteItems(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if err := c.TransactWriteItems(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if in.ClientRequestToken != "" {
		t.Errorf("the caller's input was changed: token %q", in.ClientRequestToken)
	}
	var tokens []string
	for _, r := range rec.requests {
		var doc struct{ ClientRequestToken string }
		if err := json.Unmarshal(r.body, &doc); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, doc.ClientRequestToken)
	}
	if len(tokens) != 3 || tokens[0] == "" || tokens[0] != tokens[1] || tokens[2] == tokens[0] || len(tokens[0]) != 36 {
		t.Errorf("tokens %q: want the first call's two tries to share one 36-character token, and the second call a new one", tokens)
	}
}
