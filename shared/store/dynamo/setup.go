package dynamo

import (
	"context"
	"os"
	"time"

	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/dynamodb"
	"github.com/parleyhq/parley/shared/awsapi/s3"
)

// NewClient returns the AWS client a Store calls DynamoDB and S3 with, in
// region (else AWS_REGION, else AWS_DEFAULT_REGION) with the credentials
// of the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), as Lambda provides them.
//
// The region defaults to us-east-1. A non-empty endpoint (a local moto
// server, say) replaces AWS's: S3 is then addressed path-style, and the
// credentials are test/test unless AWS_ACCESS_KEY_ID is set.
func NewClient(endpoint, region string) *awsapi.Client {
	c := awsapi.FromEnv(os.Getenv, endpoint)
	for _, r := range []string{region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")} {
		if r != "" {
			c.Region = r
			break
		}
	}
	return c
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

// CreateBucket creates the bucket the Store keeps blobs in, in c's
// region. A bucket that already exists and is ours is fine.
func CreateBucket(ctx context.Context, c *awsapi.Client, bucket string) error {
	err := s3.New(c).CreateBucket(ctx, bucket)
	if err != nil && awsapi.ErrorCode(err) != "BucketAlreadyOwnedByYou" {
		return errorf("creating bucket %s: %w", bucket, err)
	}
	return nil
}
