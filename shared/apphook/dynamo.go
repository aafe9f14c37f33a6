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

// Unpark deletes id's item and returns what it held.
func (t Table) Unpark(ctx context.Context, id string) (Delivery, error) {
	out, err := t.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: t.Name,
		Key:                 dynamodb.Item{"PK": dynamodb.S(parkedPK), "SK": dynamodb.S(id)},
		ConditionExpression: "attribute_exists(PK)", ReturnValues: dynamodb.ReturnValueAllOld,
	})
	if awsapi.ErrorCode(err) == dynamodb.CodeConditionalCheckFailed {
		return Delivery{}, ErrNotParked
	}
	if err != nil {
		return Delivery{}, err
	}
	return decodeParked(out.Attributes)
}

func decodeParked(it dynamodb.Item) (Delivery, error) {
	var d Delivery
	s, ok := it["delivery"].(dynamodb.S)
	if !ok {
		return d, errors.New("apphook: a parked item without its delivery")
	}
	return d, json.Unmarshal([]byte(s), &d)
}
