package dynamo

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// localRegion is the region of a local endpoint when none is configured.
const localRegion = "us-east-1"

// NewClients returns DynamoDB and S3 clients in region (else AWS_REGION,
// else AWS_DEFAULT_REGION) with the credentials of the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), as Lambda
// provides them. It does without the SDK's default chain, whose SSO, STS
// and IMDS providers every function would otherwise link (see awsenv).
//
// A non-empty endpoint (a local moto server, say) replaces AWS's for both
// clients: S3 then uses path-style addresses and does not log about
// responses without checksums, the region defaults to us-east-1, and the
// credentials are test/test unless AWS_ACCESS_KEY_ID is set.
func NewClients(ctx context.Context, endpoint, region string) (*dynamodb.Client, *s3.Client, error) {
	cfg := aws.Config{Region: region}
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if cfg.Region == "" {
			cfg.Region = os.Getenv(v)
		}
	}
	id, secret, token := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
	if endpoint != "" && id == "" {
		id, secret, token = "test", "test", ""
	}
	if id != "" {
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, token))
	}
	if endpoint != "" && cfg.Region == "" {
		cfg.Region = localRegion
	}
	db, s3c := Clients(cfg, endpoint)
	return db, s3c, nil
}

// Clients returns DynamoDB and S3 clients of cfg. A non-empty endpoint
// replaces AWS's for both, as in NewClients.
func Clients(cfg aws.Config, endpoint string) (*dynamodb.Client, *s3.Client) {
	if endpoint == "" {
		return dynamodb.NewFromConfig(cfg), s3.NewFromConfig(cfg)
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return db, s3c
}

// tableWait bounds how long CreateTable waits for a new table to become
// active.
const tableWait = 5 * time.Minute

// CreateTable creates the table the Store uses (see the package comment)
// and enables TTL on expiresAt. A table that already exists is fine: only
// its TTL is set, if it is not yet.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	strType := types.ScalarAttributeTypeS
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: strType},
			{AttributeName: aws.String(attrSK), AttributeType: strType},
			{AttributeName: aws.String(attrGSI1PK), AttributeType: strType},
			{AttributeName: aws.String(attrGSI1SK), AttributeType: strType},
			{AttributeName: aws.String(attrGSI2PK), AttributeType: strType},
			{AttributeName: aws.String(attrGSI2SK), AttributeType: strType},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(indexGSI1),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}, {
			IndexName: aws.String(indexGSI2),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrGSI2PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrGSI2SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if _, exists := errors.AsType[*types.ResourceInUseException](err); err != nil && !exists {
		return errorf("creating table %s: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = time.Second })
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, tableWait); err != nil {
		return errorf("waiting for table %s: %w", table, err)
	}

	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return errorf("table %s: reading TTL: %w", table, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == attrExpiresAt &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrExpiresAt), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return errorf("table %s: enabling TTL on %s: %w", table, attrExpiresAt, err)
	}
	return nil
}

// CreateBucket creates the bucket the Store keeps blobs in, in the client's
// region. A bucket that already exists and is ours is fine.
func CreateBucket(ctx context.Context, client *s3.Client, bucket string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	// us-east-1 is S3's default location, which takes no constraint.
	if r := client.Options().Region; r != "" && r != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r)}
	}
	_, err := client.CreateBucket(ctx, in)
	if _, ours := errors.AsType[*s3types.BucketAlreadyOwnedByYou](err); err != nil && !ours {
		return errorf("creating bucket %s: %w", bucket, err)
	}
	return nil
}
