package dynamodb_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
)

// recorder is a DynamoDB endpoint that records each request's operation
// and body and answers with the next of its answers ({} when none is left).
type recorder struct {
	mu       sync.Mutex
	requests []request
	answers  []answer
}

type request struct {
	target, contentType string
	body                []byte
}

type answer struct {
	status int
	body   string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.requests = append(r.requests, request{req.Header.Get("X-Amz-Target"), req.Header.Get("Content-Type"), body})
	a := answer{http.StatusOK, `{}`}
	if len(r.answers) > 0 {
		a, r.answers = r.answers[0], r.answers[1:]
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// last returns the last request and forgets them all.
func (r *recorder) last(t *testing.T) request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) == 0 {
		t.Fatal("no request")
	}
	req := r.requests[len(r.requests)-1]
	r.requests = nil
	return req
}

// clients returns our client and the AWS SDK's, both pointed at rec.
func clients(t *testing.T, rec *recorder) (*dynamodb.Client, *sdk.Client) {
	t.Helper()
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	ours := dynamodb.New(&awsapi.Client{Region: "eu-west-1", Endpoint: srv.URL, MaxAttempts: 1,
		Credentials: awsapi.Credentials{AccessKeyID: "AKIDPARLEYTEST", SecretAccessKey: "parley-test-secret"}})
	theirs := sdk.New(sdk.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDPARLEYTEST", "parley-test-secret", "")})
	return ours, theirs
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// TestSameRequestsAsTheSDK sends representative requests of every
// operation with this package and with the AWS SDK's serializer, and
// compares what arrives: the operation, the content type and the JSON
// document.
func TestSameRequestsAsTheSDK(t *testing.T) {
	rec := &recorder{}
	ours, theirs := clients(t, rec)
	ctx := t.Context()
	const table = "parley"
	cond := "attribute_not_exists(#pk) OR #exp <= :now"
	tests := []struct {
		name   string
		ours   func(context.Context) error
		theirs func(context.Context) error
	}{
		{"GetItem, consistent",
			func(ctx context.Context) error {
				_, err := ours.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: dynamodb.Item{"PK": dynamodb.S("MSG#msg_1"), "SK": dynamodb.S("MSG")}, ConsistentRead: true})
				return err
			},
			func(ctx context.Context) error {
				_, err := theirs.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"PK": s("MSG#msg_1"), "SK": s("MSG")}, ConsistentRead: aws.Bool(true)})
				return err
			}},
		{"PutItem",
			func(ctx context.Context) error {
				_, err := ours.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: dynamodb.Item{"PK": dynamodb.S("HOOK#FAILED"), "SK": dynamodb.S("evt_1"), "delivery": dynamodb.S(`{"id":"evt_1"}`)}})
				return err
			},
			func(ctx context.Context) error {
				_, err := theirs.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{"PK": s("HOOK#FAILED"), "SK": s("evt_1"), "delivery": s(`{"id":"evt_1"}`)}})
				return err
			}},
		{"DeleteItem, conditional, returning the old item",
			func(ctx context.Context) error {
				_, err := ours.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: dynamodb.Item{"PK": dynamodb.S("HOOK#FAILED"), "SK": dynamodb.S("evt_1")},
					ConditionExpression: "attribute_exists(PK)", ReturnValues: dynamodb.ReturnValueAllOld})
				return err
			},
			func(ctx context.Context) error {
				_, err := theirs.DeleteItem(ctx, &sdk.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"PK": s("HOOK#FAILED"), "SK": s("evt_1")},
					ConditionExpression: aws.String("attribute_exists(PK)"), ReturnValues: types.ReturnValueAllOld})
				return err
			}},
		{"Query of an index, newest first, filtered, from a key",
			func(ctx context.Context) error {
				_, err := ours.Query(ctx, &dynamodb.QueryInput{TableName: table, IndexName: "GSI1",
					KeyConditionExpression: "#pk = :pk", FilterExpression: "attribute_not_exists(#exp) OR #exp > :now",
					ExpressionAttributeNames:  map[string]string{"#pk": "GSI1PK", "#exp": "expiresAtNs"},
					ExpressionAttributeValues: dynamodb.Item{":pk": dynamodb.S("CONV#whatsapp#1#2"), ":now": dynamodb.N("1931419613000000000")},
					ScanIndexForward:          new(false), Limit: 25,
					ExclusiveStartKey: dynamodb.Item{"PK": dynamodb.S("MSG#msg_9"), "SK": dynamodb.S("MSG"), "GSI1PK": dynamodb.S("CONV#whatsapp#1#2"), "GSI1SK": dynamodb.S("2031-03-14T09:26:53.000000000Z#msg_9")}})
				return err
			},
			func(ctx context.Context) error {
				_, err := theirs.Query(ctx, &sdk.QueryInput{TableName: aws.String(table), IndexName: aws.String("GSI1"),
					KeyConditionExpression: aws.String("#pk = :pk"), FilterExpression: aws.String("attribute_not_exists(#exp) OR #exp > :now"),
					ExpressionAttributeNames:  map[string]string{"#pk": "GSI1PK", "#exp": "expiresAtNs"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("CONV#whatsapp#1#2"), ":now": n("1931419613000000000")},
					ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(25),
					ExclusiveStartKey: map[string]types.AttributeValue{"PK": s("MSG#msg_9"), "SK": s("MSG"), "GSI1PK": s("CONV#whatsapp#1#2"), "GSI1SK": s("2031-03-14T09:26:53.000000000Z#msg_9")}})
				return err
			}},
		{"Query, consistent",
			func(ctx context.Context) error {
				_, err := ours.Query(ctx, &dynamodb.QueryInput{TableName: table, KeyConditionExpression: "PK = :pk",
					ExpressionAttributeValues: dynamodb.Item{":pk": dynamodb.S("EVT")}, ConsistentRead: true})
				return err
			},
			func(ctx context.Context) error {
				_, err := theirs.Query(ctx, &sdk.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :pk"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("EVT")}, ConsistentRead: aws.Bool(true)})
				return err
			}},
		{"BatchGetItem",
			func(ctx context.Context) error {
				_, err := ours.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]dynamodb.KeysAndAttributes{table: {ConsistentRead: true, Keys: []dynamodb.Item{
					{"PK": dynamodb.S("IN#whatsapp#wamid.1"), "SK": dynamodb.S("CLAIM")}, {"PK": dynamodb.S("IN#whatsapp#wamid.2"), "SK": dynamodb.S("CLAIM")}}}}})
				return err
			},
			func(ctx context.Context) error {
				_, err := theirs.BatchGetItem(ctx, &sdk.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {ConsistentRead: aws.Bool(true), Keys: []map[string]types.AttributeValue{
					{"PK": s("IN#whatsapp#wamid.1"), "SK": s("CLAIM")}, {"PK": s("IN#whatsapp#wamid.2"), "SK": s("CLAIM")}}}}})
				return err
			}},
		{"TransactWriteItems: puts, an update, a delete, every member type",
			func(ctx context.Context) error {
				return ours.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: "5d41402a-bc4b-4a76-b971-9d911017c592", TransactItems: []dynamodb.TransactWriteItem{
					{Put: &dynamodb.Put{TableName: table, Item: dynamodb.Item{"PK": dynamodb.S("IN#whatsapp#wamid.1"), "SK": dynamodb.S("CLAIM"), "expiresAt": dynamodb.N("1931678813"),
						"answer": dynamodb.B(`{"id":"msg_1"}`), "ok": dynamodb.BOOL(true), "gone": dynamodb.NULL(true),
						"doc": dynamodb.M{"a": dynamodb.L{dynamodb.S("x"), dynamodb.N("1")}}, "ss": dynamodb.SS{"a", "b"}, "ns": dynamodb.NS{"1", "2"}, "bs": dynamodb.BS{[]byte("x")}},
						ConditionExpression: cond, ExpressionAttributeNames: map[string]string{"#pk": "PK", "#exp": "expiresAtNs"},
						ExpressionAttributeValues: dynamodb.Item{":now": dynamodb.N("1931419613000000000")}}},
					{Put: &dynamodb.Put{TableName: table, Item: dynamodb.Item{"PK": dynamodb.S("EVT"), "SK": dynamodb.S("evt_1")}}},
					{Update: &dynamodb.Update{TableName: table, Key: dynamodb.Item{"PK": dynamodb.S("PMID#whatsapp#wamid.1"), "SK": dynamodb.S("PMID")},
						UpdateExpression:          "SET #p = list_append(if_not_exists(#p, :empty), :s)",
						ConditionExpression:       "attribute_not_exists(#mid)",
						ExpressionAttributeNames:  map[string]string{"#p": "pending", "#mid": "messageId"},
						ExpressionAttributeValues: dynamodb.Item{":empty": dynamodb.L{}, ":s": dynamodb.L{dynamodb.S(`{"status":"read"}`)}}}},
					{Delete: &dynamodb.Delete{TableName: table, Key: dynamodb.Item{"PK": dynamodb.S("SCHED#msg_1"), "SK": dynamodb.S("SCHED")},
						ConditionExpression: "#v = :prev", ExpressionAttributeNames: map[string]string{"#v": "version"}, ExpressionAttributeValues: dynamodb.Item{":prev": dynamodb.N("3")}}},
				}})
			},
			func(ctx context.Context) error {
				_, err := theirs.TransactWriteItems(ctx, &sdk.TransactWriteItemsInput{ClientRequestToken: aws.String("5d41402a-bc4b-4a76-b971-9d911017c592"), TransactItems: []types.TransactWriteItem{
					{Put: &types.Put{TableName: aws.String(table), Item: map[string]types.AttributeValue{"PK": s("IN#whatsapp#wamid.1"), "SK": s("CLAIM"), "expiresAt": n("1931678813"),
						"answer": &types.AttributeValueMemberB{Value: []byte(`{"id":"msg_1"}`)}, "ok": &types.AttributeValueMemberBOOL{Value: true}, "gone": &types.AttributeValueMemberNULL{Value: true},
						"doc": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x"), n("1")}}}},
						"ss":  &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, "ns": &types.AttributeValueMemberNS{Value: []string{"1", "2"}}, "bs": &types.AttributeValueMemberBS{Value: [][]byte{[]byte("x")}}},
						ConditionExpression: aws.String(cond), ExpressionAttributeNames: map[string]string{"#pk": "PK", "#exp": "expiresAtNs"},
						ExpressionAttributeValues: map[string]types.AttributeValue{":now": n("1931419613000000000")}}},
					{Put: &types.Put{TableName: aws.String(table), Item: map[string]types.AttributeValue{"PK": s("EVT"), "SK": s("evt_1")}}},
					{Update: &types.Update{TableName: aws.String(table), Key: map[string]types.AttributeValue{"PK": s("PMID#whatsapp#wamid.1"), "SK": s("PMID")},
						UpdateExpression:          aws.String("SET #p = list_append(if_not_exists(#p, :empty), :s)"),
						ConditionExpression:       aws.String("attribute_not_exists(#mid)"),
						ExpressionAttributeNames:  map[string]string{"#p": "pending", "#mid": "messageId"},
						ExpressionAttributeValues: map[string]types.AttributeValue{":empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, ":s": &types.AttributeValueMemberL{Value: []types.AttributeValue{s(`{"status":"read"}`)}}}}},
					{Delete: &types.Delete{TableName: aws.String(table), Key: map[string]types.AttributeValue{"PK": s("SCHED#msg_1"), "SK": s("SCHED")},
						ConditionExpression: aws.String("#v = :prev"), ExpressionAttributeNames: map[string]string{"#v": "version"}, ExpressionAttributeValues: map[string]types.AttributeValue{":prev": n("3")}}},
				}})
				return err
			}},
		{"CreateTable",
			func(ctx context.Context) error {
				_, err := ours.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: table,
					AttributeDefinitions: []dynamodb.AttributeDefinition{{AttributeName: "PK", AttributeType: "S"}, {AttributeName: "SK", AttributeType: "S"}, {AttributeName: "GSI1PK", AttributeType: "S"}, {AttributeName: "GSI1SK", AttributeType: "S"}},
					KeySchema:            []dynamodb.KeySchemaElement{{AttributeName: "PK", KeyType: "HASH"}, {AttributeName: "SK", KeyType: "RANGE"}},
					GlobalSecondaryIndexes: []dynamodb.GlobalSecondaryIndex{{IndexName: "GSI1", KeySchema: []dynamodb.KeySchemaElement{{AttributeName: "GSI1PK", KeyType: "HASH"}, {AttributeName: "GSI1SK", KeyType: "RANGE"}},
						Projection: dynamodb.Projection{ProjectionType: "ALL"}}},
					BillingMode: dynamodb.BillingModePayPerRequest})
				return err
			},
			func(ctx context.Context) error {
				_, err := theirs.CreateTable(ctx, &sdk.CreateTableInput{TableName: aws.String(table),
					AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: "S"}, {AttributeName: aws.String("SK"), AttributeType: "S"}, {AttributeName: aws.String("GSI1PK"), AttributeType: "S"}, {AttributeName: aws.String("GSI1SK"), AttributeType: "S"}},
					KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: "HASH"}, {AttributeName: aws.String("SK"), KeyType: "RANGE"}},
					GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("GSI1"), KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("GSI1PK"), KeyType: "HASH"}, {AttributeName: aws.String("GSI1SK"), KeyType: "RANGE"}},
						Projection: &types.Projection{ProjectionType: "ALL"}}},
					BillingMode: types.BillingModePayPerRequest})
				return err
			}},
		{"DescribeTable",
			func(ctx context.Context) error {
				_, err := ours.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: table})
				return err
			},
			func(ctx context.Context) error {
				_, err := theirs.DescribeTable(ctx, &sdk.DescribeTableInput{TableName: aws.String(table)})
				return err
			}},
		{"DescribeTimeToLive",
			func(ctx context.Context) error {
				_, err := ours.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: table})
				return err
			},
			func(ctx context.Context) error {
				_, err := theirs.DescribeTimeToLive(ctx, &sdk.DescribeTimeToLiveInput{TableName: aws.String(table)})
				return err
			}},
		{"UpdateTimeToLive",
			func(ctx context.Context) error {
				return ours.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: table, TimeToLiveSpecification: dynamodb.TimeToLiveSpecification{AttributeName: "expiresAt", Enabled: true}})
			},
			func(ctx context.Context) error {
				_, err := theirs.UpdateTimeToLive(ctx, &sdk.UpdateTimeToLiveInput{TableName: aws.String(table), TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(true)}})
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.ours(ctx); err != nil {
				t.Fatal(err)
			}
			got := rec.last(t)
			if err := tt.theirs(ctx); err != nil {
				t.Fatal(err)
			}
			want := rec.last(t)
			if got.target != want.target || got.contentType != want.contentType {
				t.Errorf("sent %s as %s, the SDK %s as %s", got.target, got.contentType, want.target, want.contentType)
			}
			var g, w any
			if err := json.Unmarshal(got.body, &g); err != nil {
				t.Fatalf("our body %s: %v", got.body, err)
			}
			if err := json.Unmarshal(want.body, &w); err != nil {
				t.Fatalf("the SDK's body %s: %v", want.body, err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("body\n ours %s\n SDK  %s", got.body, want.body)
			}
		})
	}
}

// TestSameAnswersAsTheSDK reads one Query answer holding every member
// type with this package and with the AWS SDK's deserializer: the items
// are the same.
func TestSameAnswersAsTheSDK(t *testing.T) {
	const page = `{"Count":2,"ScannedCount":3,"Items":[
		{"PK":{"S":"CONV#apple#b#urn:mbid:c"},"SK":{"S":"CAPS"},"atNs":{"N":"1931419613000000001"},"capabilities":{"L":[{"S":"LIST"},{"S":"TIME"}]}},
		{"PK":{"S":"x"},"SK":{"S":"y"},"b":{"B":"AAEC"},"t":{"BOOL":true},"z":{"NULL":true},"m":{"M":{"k":{"NS":["1","2.50"]},"l":{"L":[]}}},"ss":{"SS":["q"]},"bs":{"BS":["/w=="]}}],
		"LastEvaluatedKey":{"PK":{"S":"x"},"SK":{"S":"y"}}}`
	rec := &recorder{answers: []answer{{200, page}, {200, page}}}
	ours, theirs := clients(t, rec)
	got, err := ours.Query(t.Context(), &dynamodb.QueryInput{TableName: "parley", KeyConditionExpression: "PK = :pk", ExpressionAttributeValues: dynamodb.Item{":pk": dynamodb.S("x")}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := theirs.Query(t.Context(), &sdk.QueryInput{TableName: aws.String("parley"), KeyConditionExpression: aws.String("PK = :pk"), ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("x")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != len(want.Items) {
		t.Fatalf("%d items, the SDK %d", len(got.Items), len(want.Items))
	}
	for i := range got.Items {
		if w := fromSDK(want.Items[i]); !reflect.DeepEqual(got.Items[i], w) {
			t.Errorf("item %d\n ours %#v\n SDK  %#v", i, got.Items[i], w)
		}
	}
	if w := fromSDK(want.LastEvaluatedKey); !reflect.DeepEqual(got.LastEvaluatedKey, w) {
		t.Errorf("LastEvaluatedKey %#v, the SDK %#v", got.LastEvaluatedKey, w)
	}
}

// fromSDK converts an item of the SDK's types to this package's.
func fromSDK(it map[string]types.AttributeValue) dynamodb.Item {
	out := dynamodb.Item{}
	for k, v := range it {
		out[k] = valueFromSDK(v)
	}
	return out
}

func valueFromSDK(v types.AttributeValue) dynamodb.AttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return dynamodb.S(v.Value)
	case *types.AttributeValueMemberN:
		return dynamodb.N(v.Value)
	case *types.AttributeValueMemberB:
		return dynamodb.B(v.Value)
	case *types.AttributeValueMemberBOOL:
		return dynamodb.BOOL(v.Value)
	case *types.AttributeValueMemberNULL:
		return dynamodb.NULL(v.Value)
	case *types.AttributeValueMemberL:
		l := dynamodb.L{}
		for _, e := range v.Value {
			l = append(l, valueFromSDK(e))
		}
		return l
	case *types.AttributeValueMemberM:
		return dynamodb.M(fromSDK(v.Value))
	case *types.AttributeValueMemberSS:
		return dynamodb.SS(v.Value)
	case *types.AttributeValueMemberNS:
		return dynamodb.NS(v.Value)
	case *types.AttributeValueMemberBS:
		return dynamodb.BS(v.Value)
	}
	return nil
}
