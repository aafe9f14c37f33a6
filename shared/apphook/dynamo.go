package apphook

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
)

// Table parks deliveries in parley's DynamoDB table, one item each under
// the partition HOOK#FAILED, sorted by event id (AWS).
type Table struct {
	Client *dynamodb.Client
	Name   string
}

const parkedPK = "HOOK#FAILED"

// Park puts d's item.
func (t Table) Park(ctx context.Context, d Delivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = t.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: t.Name, Item: dynamodb.Item{
		"PK": dynamodb.S(parkedPK), "SK": dynamodb.S(d.ID), "delivery": dynamodb.S(b),
	}})
	return err
}

// Parked queries the partition from after on.
func (t Table) Parked(ctx context.Context, after string, limit int) ([]Delivery, string, error) {
	in := &dynamodb.QueryInput{TableName: t.Name, ConsistentRead: true, Limit: int32(limit),
		KeyConditionExpression:    "PK = :pk",
		ExpressionAttributeValues: dynamodb.Item{":pk": dynamodb.S(parkedPK)},
	}
	if after != "" {
		in.KeyConditionExpression = "PK = :pk AND SK > :after"
		in.ExpressionAttributeValues[":after"] = dynamodb.S(after)
	}
	out, err := t.Client.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	var ds []Delivery
	for _, it := range out.Items {
		d, err := decodeParked(it)
		if err != nil {
			return nil, "", err
		}
		ds = append(ds, d)
	}
	next := ""
	if len(out.LastEvaluatedKey) > 0 && len(ds) > 0 {
		next = ds[len(ds)-1].ID
	}
	return ds, next, nil
}

// Unpark deletes id's item and returns what it held. The item is read
// before it is deleted: a delete that reached DynamoDB but whose answer
// was lost is tried again and then meets its own deletion, and the
// delivery must come back all the same, not be lost as never parked. Only
// a delete refused at its first try was another redrive's.
func (t Table) Unpark(ctx context.Context, id string) (Delivery, error) {
	key := dynamodb.Item{"PK": dynamodb.S(parkedPK), "SK": dynamodb.S(id)}
	got, err := t.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: t.Name, Key: key, ConsistentRead: true})
	if err != nil {
		return Delivery{}, err
	}
	if got.Item == nil {
		return Delivery{}, ErrNotParked
	}
	d, err := decodeParked(got.Item)
	if err != nil {
		return Delivery{}, err
	}
	tries := 0
	_, err = t.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: t.Name, Key: key,
		ConditionExpression: "attribute_exists(PK)"}, awsapi.OnAttempt(func() { tries++ }))
	switch {
	case awsapi.ErrorCode(err) == dynamodb.CodeConditionalCheckFailed && tries == 1:
		return Delivery{}, ErrNotParked
	case awsapi.ErrorCode(err) == dynamodb.CodeConditionalCheckFailed:
		return d, nil
	case err != nil:
		return Delivery{}, err
	}
	return d, nil
}

func decodeParked(it dynamodb.Item) (Delivery, error) {
	var d Delivery
	s, ok := it["delivery"].(dynamodb.S)
	if !ok {
		return d, errors.New("apphook: a parked item without its delivery")
	}
	return d, json.Unmarshal([]byte(s), &d)
}
