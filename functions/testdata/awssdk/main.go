// Command awssdk is an aws-lambda-go function that holds the AWS SDK
// clients parley's functions build at start — DynamoDB, S3, EventBridge,
// SQS and Secrets Manager, configured as awsenv configures them — and
// links the operations they call, and nothing else: the cold-start
// benchmark measures it beside the empty function, as the part of a
// function's size and init duration that the SDK alone sets.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func main() {
	cfg := aws.Config{Region: os.Getenv("AWS_REGION"),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")))}
	endpoint := aws.String(os.Getenv("PARLEY_AWS_ENDPOINT"))
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = endpoint })
	blobs := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = endpoint; o.UsePathStyle = true })
	bus := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = endpoint })
	queue := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = endpoint })
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = endpoint })
	// Only an event that names an operation calls AWS; any other is
	// answered as it is.
	lambda.Start(func(ctx context.Context, in json.RawMessage) (any, error) {
		var op struct{ Operation string }
		json.Unmarshal(in, &op)
		switch op.Operation {
		case "GetItem":
			return db.GetItem(ctx, &dynamodb.GetItemInput{})
		case "PutItem":
			return db.PutItem(ctx, &dynamodb.PutItemInput{})
		case "DeleteItem":
			return db.DeleteItem(ctx, &dynamodb.DeleteItemInput{})
		case "Query":
			return db.Query(ctx, &dynamodb.QueryInput{})
		case "TransactWriteItems":
			return db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{})
		case "GetObject":
			return blobs.GetObject(ctx, &s3.GetObjectInput{})
		case "PutObject":
			return blobs.PutObject(ctx, &s3.PutObjectInput{})
		case "CreateMultipartUpload":
			return blobs.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{})
		case "UploadPart":
			return blobs.UploadPart(ctx, &s3.UploadPartInput{})
		case "CompleteMultipartUpload":
			return blobs.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{})
		case "AbortMultipartUpload":
			return blobs.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{})
		case "PutEvents":
			return bus.PutEvents(ctx, &eventbridge.PutEventsInput{})
		case "SendMessage":
			return queue.SendMessage(ctx, &sqs.SendMessageInput{})
		case "ChangeMessageVisibility":
			return queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{})
		case "GetSecretValue":
			return sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{})
		}
		return in, nil
	})
}
