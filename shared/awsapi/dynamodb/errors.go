package dynamodb

import (
	"encoding/json"
	"errors"

	"github.com/parleyhq/parley/shared/awsapi"
)

// Codes of the DynamoDB errors parley tells apart (awsapi.Error.Code).
const (
	CodeConditionalCheckFailed = "ConditionalCheckFailedException"
	CodeTransactionCanceled    = "TransactionCanceledException"
	CodeResourceInUse          = "ResourceInUseException"
	CodeResourceNotFound       = "ResourceNotFoundException"
)

// CancellationReason is why DynamoDB cancelled one action of a
// transaction: Code None for an action that was fine,
// ConditionalCheckFailed, TransactionConflict, ItemCollectionSizeLimitExceeded…
// Item is the item's current attributes when the action asked for them.
type CancellationReason struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
	Item    Item   `json:"Item"`
}

// CancellationReasons returns the reasons of the TransactionCanceledException
// in err's chain, one per action of the transaction, in order; ok is false
// when err holds none (or its body does not parse).
func CancellationReasons(err error) (reasons []CancellationReason, ok bool) {
	e, isAWS := errors.AsType[*awsapi.Error](err)
	if !isAWS || e.Code != CodeTransactionCanceled {
		return nil, false
	}
	var doc struct {
		CancellationReasons []CancellationReason `json:"CancellationReasons"`
	}
	if json.Unmarshal(e.Body, &doc) != nil {
		return nil, false
	}
	return doc.CancellationReasons, true
}
