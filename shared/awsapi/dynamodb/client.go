// Package dynamodb speaks DynamoDB's JSON protocol (awsJson1_0) over
// awsapi.Call, without the AWS SDK: the attribute values and the requests
// and answers of the operations parley uses, and a Client with one method
// each. Errors are *awsapi.Error, their Code DynamoDB's exception name
// (ConditionalCheckFailedException, ResourceInUseException…);
// CancellationReasons reads a cancelled transaction's reasons.
package dynamodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/parleyhq/parley/shared/awsapi"
)

// Client calls DynamoDB through AWS; it is safe for concurrent use.
type Client struct {
	AWS *awsapi.Client
}

// New returns a Client calling through c.
func New(c *awsapi.Client) *Client { return &Client{AWS: c} }

func call[Out any](ctx context.Context, c *Client, op string, in any, opts []awsapi.CallOption) (*Out, error) {
	out := new(Out)
	if err := c.AWS.Call(ctx, awsapi.DynamoDB, op, in, out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}

// GetItem reads one item.
func (c *Client) GetItem(ctx context.Context, in *GetItemInput, opts ...awsapi.CallOption) (*GetItemOutput, error) {
	return call[GetItemOutput](ctx, c, "GetItem", in, opts)
}

// PutItem writes one item.
func (c *Client) PutItem(ctx context.Context, in *PutItemInput, opts ...awsapi.CallOption) (*PutItemOutput, error) {
	return call[PutItemOutput](ctx, c, "PutItem", in, opts)
}

// DeleteItem deletes one item.
func (c *Client) DeleteItem(ctx context.Context, in *DeleteItemInput, opts ...awsapi.CallOption) (*DeleteItemOutput, error) {
	return call[DeleteItemOutput](ctx, c, "DeleteItem", in, opts)
}

// Query reads one page of a partition.
func (c *Client) Query(ctx context.Context, in *QueryInput, opts ...awsapi.CallOption) (*QueryOutput, error) {
	return call[QueryOutput](ctx, c, "Query", in, opts)
}

// BatchGetItem reads up to 100 items by key.
func (c *Client) BatchGetItem(ctx context.Context, in *BatchGetItemInput, opts ...awsapi.CallOption) (*BatchGetItemOutput, error) {
	return call[BatchGetItemOutput](ctx, c, "BatchGetItem", in, opts)
}

// TransactWriteItems applies the actions of in, all or none. Without a
// ClientRequestToken it sends a random one (as the AWS SDK does), so that
// a retry of a request that arrived is not applied twice: DynamoDB answers
// a repeat of the same token as it answered the first for ten minutes.
func (c *Client) TransactWriteItems(ctx context.Context, in *TransactWriteItemsInput, opts ...awsapi.CallOption) error {
	if in.ClientRequestToken == "" {
		cp := *in
		cp.ClientRequestToken = newToken()
		in = &cp
	}
	return c.AWS.Call(ctx, awsapi.DynamoDB, "TransactWriteItems", in, nil, opts...)
}

// CreateTable creates a table.
func (c *Client) CreateTable(ctx context.Context, in *CreateTableInput, opts ...awsapi.CallOption) (*CreateTableOutput, error) {
	return call[CreateTableOutput](ctx, c, "CreateTable", in, opts)
}

// DescribeTable describes a table.
func (c *Client) DescribeTable(ctx context.Context, in *DescribeTableInput, opts ...awsapi.CallOption) (*DescribeTableOutput, error) {
	return call[DescribeTableOutput](ctx, c, "DescribeTable", in, opts)
}

// DescribeTimeToLive tells a table's TTL setting.
func (c *Client) DescribeTimeToLive(ctx context.Context, in *DescribeTimeToLiveInput, opts ...awsapi.CallOption) (*DescribeTimeToLiveOutput, error) {
	return call[DescribeTimeToLiveOutput](ctx, c, "DescribeTimeToLive", in, opts)
}

// UpdateTimeToLive turns a table's TTL on or off.
func (c *Client) UpdateTimeToLive(ctx context.Context, in *UpdateTimeToLiveInput, opts ...awsapi.CallOption) error {
	return c.AWS.Call(ctx, awsapi.DynamoDB, "UpdateTimeToLive", in, nil, opts...)
}

// newToken returns a random version 4 UUID, the form of the SDK's
// idempotency tokens (DynamoDB takes 1 to 36 characters).
func newToken() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
