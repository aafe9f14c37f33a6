package dynamo

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
)

// localRegion is the region of a local endpoint when none is configured.
const localRegion = "us-east-1"

// NewClients returns the AWS client the Store calls DynamoDB with, and an
// S3 client, in region (else AWS_REGION, else AWS_DEFAULT_REGION) with the
// credentials of the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), as Lambda provides them.
//
// A non-empty endpoint (a local moto server, say) replaces AWS's for both
// clients: S3 then uses path-style addresses and does not log about
// responses without checksums, the region defaults to us-east-1, and the
// credentials are test/test unless AWS_ACCESS_KEY_ID is set.
func NewClients(ctx context.Context, endpoint, region string) (*awsapi.Client, *s3.Client, error) {
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
	c, s3c := Clients(cfg, endpoint)
	return c, s3c, nil
}

// Clients returns the AWS client of the environment's credentials (see
// awsapi.FromEnv) in cfg's region, and the S3 client of cfg. A non-empty
// endpoint replaces AWS's for both, as in NewClients.
func Clients(cfg aws.Config, endpoint string) (*awsapi.Client, *s3.Client) {
	c := awsapi.FromEnv(os.Getenv, endpoint)
	if cfg.Region != "" {
		c.Region = cfg.Region
	}
	if endpoint == "" {
		return c, s3.NewFromConfig(cfg)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return c, s3c
}

// tableWait bounds how long CreateTable waits for a new table to become
// active; it asks every tablePoll.
const (
	tableWait = 5 * time.Minute
	tablePoll = time.Second
)

// CreateTable creates the table the Store uses (see the package comment)
// and enables TTL on expiresAt. A table that already exists is fine: only
// its TTL is set, if it is not yet.
func CreateTable(ctx context.Context, c *awsapi.Client, table string) error {
	db := dynamodb.New(c)
	key := func(name, typ string) dynamodb.KeySchemaElement {
		return dynamodb.KeySchemaElement{AttributeName: name, KeyType: typ}
	}
	var defs []dynamodb.AttributeDefinition
	for _, a := range []string{attrPK, attrSK, attrGSI1PK, attrGSI1SK, attrGSI2PK, attrGSI2SK} {
		defs = append(defs, dynamodb.AttributeDefinition{AttributeName: a, AttributeType: dynamodb.ScalarAttributeTypeS})
	}
	all := dynamodb.Projection{ProjectionType: dynamodb.ProjectionTypeAll}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            table,
		AttributeDefinitions: defs,
		KeySchema:            []dynamodb.KeySchemaElement{key(attrPK, dynamodb.KeyTypeHash), key(attrSK, dynamodb.KeyTypeRange)},
		GlobalSecondaryIndexes: []dynamodb.GlobalSecondaryIndex{
			{IndexName: indexGSI1, KeySchema: []dynamodb.KeySchemaElement{key(attrGSI1PK, dynamodb.KeyTypeHash), key(attrGSI1SK, dynamodb.KeyTypeRange)}, Projection: all},
			{IndexName: indexGSI2, KeySchema: []dynamodb.KeySchemaElement{key(attrGSI2PK, dynamodb.KeyTypeHash), key(attrGSI2SK, dynamodb.KeyTypeRange)}, Projection: all},
		},
		BillingMode: dynamodb.BillingModePayPerRequest,
	})
	if err != nil && awsapi.ErrorCode(err) != dynamodb.CodeResourceInUse {
		return errorf("creating table %s: %w", table, err)
	}
	if err := waitActive(ctx, db, table); err != nil {
		return errorf("waiting for table %s: %w", table, err)
	}

	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: table})
	if err != nil {
		return errorf("table %s: reading TTL: %w", table, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && d.AttributeName == attrExpiresAt &&
		(d.TimeToLiveStatus == dynamodb.TimeToLiveStatusEnabled || d.TimeToLiveStatus == dynamodb.TimeToLiveStatusEnabling) {
		return nil
	}
	err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               table,
		TimeToLiveSpecification: dynamodb.TimeToLiveSpecification{AttributeName: attrExpiresAt, Enabled: true},
	})
	if err != nil {
		return errorf("table %s: enabling TTL on %s: %w", table, attrExpiresAt, err)
	}
	return nil
}

// waitActive asks for the table's status until it is ACTIVE (a table
// still being created may not be found at first), for up to tableWait.
func waitActive(ctx context.Context, db *dynamodb.Client, table string) error {
	ctx, cancel := context.WithTimeout(ctx, tableWait)
	defer cancel()
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: table})
		switch {
		case err == nil && out.Table != nil && out.Table.TableStatus == dynamodb.TableStatusActive:
			return nil
		case err != nil && awsapi.ErrorCode(err) != dynamodb.CodeResourceNotFound:
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(tablePoll):
		}
	}
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
