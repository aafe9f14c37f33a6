package apphook

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoAPI is the part of the DynamoDB client Table uses.
type DynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Table parks deliveries in parley's DynamoDB table, one item each under
// the partition HOOK#FAILED, sorted by event id (AWS).
type Table struct {
	Client DynamoAPI
	Name   string
}

const parkedPK = "HOOK#FAILED"

// Park puts d's item.
func (t Table) Park(ctx context.Context, d Delivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = t.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.Name), Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: parkedPK}, "SK": &types.AttributeValueMemberS{Value: d.ID},
		"delivery": &types.AttributeValueMemberS{Value: string(b)},
	}})
	return err
}

// Parked queries the partition from after on.
func (t Table) Parked(ctx context.Context, after string, limit int) ([]Delivery, string, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(t.Name), ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(limit)),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: parkedPK}},
	}
	if after != "" {
		in.KeyConditionExpression = aws.String("PK = :pk AND SK > :after")
		in.ExpressionAttributeValues[":after"] = &types.AttributeValueMemberS{Value: after}
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
	out, err := t.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(t.Name),
		Key:                 map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: parkedPK}, "SK": &types.AttributeValueMemberS{Value: id}},
		ConditionExpression: aws.String("attribute_exists(PK)"), ReturnValues: types.ReturnValueAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return Delivery{}, ErrNotParked
	}
	if err != nil {
		return Delivery{}, err
	}
	return decodeParked(out.Attributes)
}

func decodeParked(it map[string]types.AttributeValue) (Delivery, error) {
	var d Delivery
	s, ok := it["delivery"].(*types.AttributeValueMemberS)
	if !ok {
		return d, errors.New("apphook: a parked item without its delivery")
	}
	return d, json.Unmarshal([]byte(s.Value), &d)
}
