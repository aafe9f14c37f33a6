package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/faultproxy"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/store/dynamo"
)

const putOp = "DynamoDB_20120810.PutItem"

// Each fault, met by one PutItem tried once: what the client sees, and
// whether moto wrote the item (read straight from moto).
func TestFaults(t *testing.T) {
	m := moto.StartT(t)
	ctx := t.Context()
	direct := dynamo.NewClient(m.Endpoint(), "us-east-1")
	if err := dynamo.CreateTable(ctx, direct, "faults"); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		fault   faultproxy.Fault
		code    string // the *awsapi.Error's code, or "" for another error
		written bool
	}{
		{faultproxy.InternalError, "InternalServerError", false},
		{faultproxy.Unavailable, "ServiceUnavailable", false},
		{faultproxy.Throttled, "ThrottlingException", false},
		{faultproxy.ThroughputExceeded, "ProvisionedThroughputExceededException", false},
		{faultproxy.Stalled, "", false},
		{faultproxy.LostAs500, "InternalServerError", true},
		{faultproxy.LostConnection, "", true},
		{faultproxy.ResetMidBody, "", true},
		{faultproxy.Delayed, "", true},
		{faultproxy.Damaged, "", true},
	} {
		t.Run(c.fault.String(), func(t *testing.T) {
			p := faultproxy.Start(t, m.Endpoint(), 1, faultproxy.Rule{Op: putOp, Rate: 1, Faults: []faultproxy.Fault{c.fault}})
			p.Delay = 2 * time.Second
			client := dynamo.NewClient(p.URL(), "us-east-1")
			client.MaxAttempts = 1
			pk := fmt.Sprintf("fault-%d", i)
			cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			defer cancel()
			_, err := dynamodb.New(client).PutItem(cctx, &dynamodb.PutItemInput{TableName: "faults",
				Item: map[string]dynamodb.AttributeValue{"PK": dynamodb.S(pk), "SK": dynamodb.S("X")}})
			if err == nil {
				t.Fatal("PutItem succeeded through the fault")
			}
			var e *awsapi.Error
			if got := errors.As(err, &e); got != (c.code != "") || got && e.Code != c.code {
				t.Errorf("PutItem: %v; want an AWS error %q", err, c.code)
			}
			if got := exists(t, direct, "faults", pk); got != c.written {
				t.Errorf("the item was written: %v, want %v", got, c.written)
			}
			inj := p.Injected()
			if len(inj) != 1 || inj[0].Op != putOp || inj[0].Fault != c.fault || c.written != (inj[0].Status == 200) {
				t.Errorf("Injected() = %+v, want one %s of %s", inj, c.fault, putOp)
			}
		})
	}
}

// A TransactWriteItems retried after its answer was lost meets the first
// try's success, as in DynamoDB, instead of its own condition failing on
// what the first try wrote; the same token with other items is refused.
func TestTransactionTokens(t *testing.T) {
	m := moto.StartT(t)
	ctx := t.Context()
	direct := dynamo.NewClient(m.Endpoint(), "us-east-1")
	if err := dynamo.CreateTable(ctx, direct, "tokens"); err != nil {
		t.Fatal(err)
	}
	p := faultproxy.Start(t, m.Endpoint(), 7, faultproxy.Rule{Op: "DynamoDB_20120810.TransactWriteItems", Rate: 1, Faults: []faultproxy.Fault{faultproxy.LostAs500}})
	db := dynamodb.New(dynamo.NewClient(p.URL(), "us-east-1"))
	put := func(pk, tok string) error {
		return db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: tok, TransactItems: []dynamodb.TransactWriteItem{{Put: &dynamodb.Put{
			TableName: "tokens", Item: map[string]dynamodb.AttributeValue{"PK": dynamodb.S(pk), "SK": dynamodb.S("X")},
			ConditionExpression: "attribute_not_exists(PK)",
		}}}})
	}
	if err := put("once", "token-1"); err == nil {
		t.Fatal("a transaction whose every answer is lost succeeded")
	}
	p.SetRules()
	if err := put("once", "token-1"); err != nil {
		t.Fatalf("repeating a token that succeeded: %v, want DynamoDB's success", err)
	}
	if err := put("other", "token-1"); awsapi.ErrorCode(err) != "IdempotentParameterMismatchException" {
		t.Fatalf("the token with other items: %v, want IdempotentParameterMismatchException", err)
	}
	if err := put("once", "token-2"); awsapi.ErrorCode(err) != "TransactionCanceledException" {
		t.Fatalf("a new token for the written item: %v, want its condition to fail", err)
	}
	if !exists(t, direct, "tokens", "once") || exists(t, direct, "tokens", "other") {
		t.Fatal("moto does not hold exactly the first transaction's item")
	}
}

// The same seed picks the same faults for the same requests of an
// operation, whatever requests of other operations come between.
func TestSeeded(t *testing.T) {
	m := moto.StartT(t)
	ctx := t.Context()
	run := func(seed uint64, between bool) []faultproxy.Fault {
		p := faultproxy.Start(t, m.Endpoint(), seed, faultproxy.Rule{Rate: 0.5, Faults: []faultproxy.Fault{faultproxy.InternalError, faultproxy.Unavailable, faultproxy.Throttled}})
		c := dynamo.NewClient(p.URL(), "us-east-1")
		c.MaxAttempts = 1
		for range 40 {
			_, _ = dynamodb.New(c).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: "none"})
			if between {
				_ = dynamodb.New(c).UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: "none"})
			}
		}
		var fs []faultproxy.Fault
		for _, in := range p.Injected() {
			if in.Op == "DynamoDB_20120810.DescribeTable" {
				fs = append(fs, in.Fault)
			}
		}
		return fs
	}
	a, b, other := run(3, false), run(3, true), run(4, false)
	if len(a) < 10 || len(a) > 30 {
		t.Fatalf("%d of 40 requests failed at a rate of 0.5", len(a))
	}
	if !slices.Equal(a, b) {
		t.Fatalf("seed 3 picked %v, then %v", a, b)
	}
	if slices.Equal(a, other) {
		t.Fatalf("seeds 3 and 4 both picked %v", a)
	}

	// A rule with a limit fails that many requests, then none.
	p := faultproxy.Start(t, m.Endpoint(), 5, faultproxy.Rule{Rate: 1, Faults: []faultproxy.Fault{faultproxy.Unavailable}, Limit: 2})
	c := dynamo.NewClient(p.URL(), "us-east-1")
	c.MaxAttempts = 1
	failed := 0
	for range 5 {
		if _, err := dynamodb.New(c).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: "none"}); awsapi.ErrorCode(err) == "ServiceUnavailable" {
			failed++
		}
	}
	if failed != 2 || len(p.Injected()) != 2 {
		t.Fatalf("a rule limited to 2 failed %d requests (%d injected)", failed, len(p.Injected()))
	}
}

func exists(t *testing.T, c *awsapi.Client, table, pk string) bool {
	t.Helper()
	out, err := dynamodb.New(c).GetItem(t.Context(), &dynamodb.GetItemInput{TableName: table, ConsistentRead: true,
		Key: map[string]dynamodb.AttributeValue{"PK": dynamodb.S(pk), "SK": dynamodb.S("X")}})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Item) > 0
}
