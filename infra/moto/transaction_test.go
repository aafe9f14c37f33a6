package moto_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

// TestCancelledTransactionChangesNothing: a transaction cancelled by a
// failed condition leaves every item it named as it was — a put item
// absent, an updated or deleted one unchanged — however far it got, as
// DynamoDB guarantees.
func TestCancelledTransactionChangesNothing(t *testing.T) {
	s := moto.StartT(t)
	ctx := context.Background()
	c := dynamo.NewClient(s.Endpoint(), "")
	const table = "tx"
	if err := dynamo.CreateTable(ctx, c, table); err != nil {
		t.Fatal(err)
	}
	db := dynamodb.New(dynamodb.Options{Region: c.Region, BaseEndpoint: aws.String(s.Endpoint()),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	key := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: "x"}}
	}
	item := func(pk, v string) map[string]types.AttributeValue {
		k := key(pk)
		k["v"] = &types.AttributeValueMemberS{Value: v}
		return k
	}
	for _, pk := range []string{"kept", "gone"} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(pk, "before")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(table), Item: item("new", "after")}},
		{Update: &types.Update{TableName: aws.String(table), Key: key("kept"), UpdateExpression: aws.String("SET v = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "after"}}}},
		{Delete: &types.Delete{TableName: aws.String(table), Key: key("gone")}},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: key("absent"), ConditionExpression: aws.String("attribute_exists(PK)")}},
	}})
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		t.Fatalf("TransactWriteItems = %v, want a cancelled transaction", err)
	}
	for pk, want := range map[string]string{"new": "", "kept": "before", "gone": "before"} {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(pk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if v, ok := out.Item["v"].(*types.AttributeValueMemberS); ok {
			got = v.Value
		}
		if got != want {
			t.Errorf("item %s: v = %q after the cancelled transaction, want %q", pk, got, want)
		}
	}
}
