package dynamodb_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
)

// The benchmarks send the requests of an inbound text (one transaction of
// four items) and of a page of recent messages (a Query answered with 20
// items) to a local endpoint, with this package and with the AWS SDK's
// client: what each costs a function in CPU and memory per request, the
// endpoint's own work included in both.

// endpoint answers every request with answer, signed or not.
func endpoint(b *testing.B, answer string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		io.WriteString(w, answer)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

func benchClients(url string) (*dynamodb.Client, *sdk.Client) {
	ours := dynamodb.New(&awsapi.Client{Region: "eu-west-1", Endpoint: url,
		Credentials: awsapi.Credentials{AccessKeyID: "AKIDPARLEYTEST", SecretAccessKey: "parley-test-secret"}})
	theirs := sdk.New(sdk.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDPARLEYTEST", "parley-test-secret", "")})
	return ours, theirs
}

func BenchmarkTransactWriteItems(b *testing.B) {
	ours, theirs := benchClients(endpoint(b, `{}`))
	data := `{"id":"msg_01JBENCH","channel":"whatsapp","direction":"inbound","type":"text","body":{"type":"text","text":"Is the 14:00 slot free?"},"status":"received"}`
	b.Run("awsapi", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := ours.TransactWriteItems(b.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: []dynamodb.TransactWriteItem{
				{Put: &dynamodb.Put{TableName: "parley", Item: dynamodb.Item{"PK": dynamodb.S("IN#whatsapp#wamid.1"), "SK": dynamodb.S("CLAIM"), "expiresAt": dynamodb.N("1931678813"), "expiresAtNs": dynamodb.N("1931678813000000000")},
					ConditionExpression: "attribute_not_exists(#pk) OR #exp <= :now", ExpressionAttributeNames: map[string]string{"#pk": "PK", "#exp": "expiresAtNs"},
					ExpressionAttributeValues: dynamodb.Item{":now": dynamodb.N("1931419613000000000")}}},
				{Update: &dynamodb.Update{TableName: "parley", Key: dynamodb.Item{"PK": dynamodb.S("CONV#whatsapp#1#2"), "SK": dynamodb.S("CONV")},
					UpdateExpression: "SET #at = :at, #a1 = :a1", ConditionExpression: "attribute_not_exists(#at) OR #at <= :at",
					ExpressionAttributeNames: map[string]string{"#at": "atNs", "#a1": "windowClosesAtNs"}, ExpressionAttributeValues: dynamodb.Item{":at": dynamodb.N("1931419613000000000"), ":a1": dynamodb.N("1931506013000000000")}}},
				{Put: &dynamodb.Put{TableName: "parley", Item: dynamodb.Item{"PK": dynamodb.S("MSG#msg_01JBENCH"), "SK": dynamodb.S("MSG"), "GSI1PK": dynamodb.S("CONV#whatsapp#1#2"), "GSI1SK": dynamodb.S("2031-03-14T09:26:53.000000000Z#msg_01JBENCH"), "data": dynamodb.S(data), "version": dynamodb.N("1")},
					ConditionExpression: "attribute_not_exists(#pk) OR #exp <= :now", ExpressionAttributeNames: map[string]string{"#pk": "PK", "#exp": "expiresAtNs"},
					ExpressionAttributeValues: dynamodb.Item{":now": dynamodb.N("1931419613000000000")}}},
				{Put: &dynamodb.Put{TableName: "parley", Item: dynamodb.Item{"PK": dynamodb.S("EVT"), "SK": dynamodb.S("evt_01JBENCH"), "data": dynamodb.S(data)}}},
			}})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := theirs.TransactWriteItems(b.Context(), &sdk.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: aws.String("parley"), Item: map[string]types.AttributeValue{"PK": s("IN#whatsapp#wamid.1"), "SK": s("CLAIM"), "expiresAt": n("1931678813"), "expiresAtNs": n("1931678813000000000")},
					ConditionExpression: aws.String("attribute_not_exists(#pk) OR #exp <= :now"), ExpressionAttributeNames: map[string]string{"#pk": "PK", "#exp": "expiresAtNs"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":now": n("1931419613000000000")}}},
				{Update: &types.Update{TableName: aws.String("parley"), Key: map[string]types.AttributeValue{"PK": s("CONV#whatsapp#1#2"), "SK": s("CONV")},
					UpdateExpression: aws.String("SET #at = :at, #a1 = :a1"), ConditionExpression: aws.String("attribute_not_exists(#at) OR #at <= :at"),
					ExpressionAttributeNames: map[string]string{"#at": "atNs", "#a1": "windowClosesAtNs"}, ExpressionAttributeValues: map[string]types.AttributeValue{":at": n("1931419613000000000"), ":a1": n("1931506013000000000")}}},
				{Put: &types.Put{TableName: aws.String("parley"), Item: map[string]types.AttributeValue{"PK": s("MSG#msg_01JBENCH"), "SK": s("MSG"), "GSI1PK": s("CONV#whatsapp#1#2"), "GSI1SK": s("2031-03-14T09:26:53.000000000Z#msg_01JBENCH"), "data": s(data), "version": n("1")},
					ConditionExpression: aws.String("attribute_not_exists(#pk) OR #exp <= :now"), ExpressionAttributeNames: map[string]string{"#pk": "PK", "#exp": "expiresAtNs"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":now": n("1931419613000000000")}}},
				{Put: &types.Put{TableName: aws.String("parley"), Item: map[string]types.AttributeValue{"PK": s("EVT"), "SK": s("evt_01JBENCH"), "data": s(data)}}},
			}})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkQuery(b *testing.B) {
	page := `{"Count":20,"ScannedCount":20,"Items":[`
	for i := range 20 {
		if i > 0 {
			page += ","
		}
		page += fmt.Sprintf(`{"PK":{"S":"MSG#msg_%02d"},"SK":{"S":"MSG"},"GSI1PK":{"S":"CONV#whatsapp#1#2"},"GSI1SK":{"S":"2031-03-14T09:26:53.000000000Z#msg_%02d"},"version":{"N":"3"},"expiresAtNs":{"N":"1931678813000000000"},"data":{"S":"{\"id\":\"msg_%02d\",\"type\":\"text\",\"body\":{\"type\":\"text\",\"text\":\"Is the 14:00 slot free?\"}}"}}`, i, i, i)
	}
	page += `]}`
	ours, theirs := benchClients(endpoint(b, page))
	b.Run("awsapi", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := ours.Query(b.Context(), &dynamodb.QueryInput{TableName: "parley", IndexName: "GSI1", KeyConditionExpression: "#pk = :pk",
				ExpressionAttributeNames: map[string]string{"#pk": "GSI1PK"}, ExpressionAttributeValues: dynamodb.Item{":pk": dynamodb.S("CONV#whatsapp#1#2")}, Limit: 20})
			if err != nil || len(out.Items) != 20 {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := theirs.Query(b.Context(), &sdk.QueryInput{TableName: aws.String("parley"), IndexName: aws.String("GSI1"), KeyConditionExpression: aws.String("#pk = :pk"),
				ExpressionAttributeNames: map[string]string{"#pk": "GSI1PK"}, ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "CONV#whatsapp#1#2"}}, Limit: aws.Int32(20)})
			if err != nil || len(out.Items) != 20 {
				b.Fatal(err)
			}
		}
	})
}
