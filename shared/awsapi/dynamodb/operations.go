package dynamodb

// The requests and answers of the operations parley uses, their fields
// named as DynamoDB's API reference names them. Optional fields are left
// out of a request when they are zero.

// GetItemInput is a GetItem request.
type GetItemInput struct {
	TableName      string `json:"TableName"`
	Key            Item   `json:"Key"`
	ConsistentRead bool   `json:"ConsistentRead,omitempty"`
}

// GetItemOutput is a GetItem answer; Item is nil when there is no such
// item.
type GetItemOutput struct {
	Item Item `json:"Item"`
}

// PutItemInput is a PutItem request.
type PutItemInput struct {
	TableName                 string            `json:"TableName"`
	Item                      Item              `json:"Item"`
	ConditionExpression       string            `json:"ConditionExpression,omitempty"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames,omitempty"`
	ExpressionAttributeValues Item              `json:"ExpressionAttributeValues,omitempty"`
}

// PutItemOutput is a PutItem answer.
type PutItemOutput struct{}

// DeleteItemInput is a DeleteItem request.
type DeleteItemInput struct {
	TableName                 string            `json:"TableName"`
	Key                       Item              `json:"Key"`
	ConditionExpression       string            `json:"ConditionExpression,omitempty"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames,omitempty"`
	ExpressionAttributeValues Item              `json:"ExpressionAttributeValues,omitempty"`
	// ReturnValues is NONE (the default) or ALL_OLD: the deleted item
	// comes back in Attributes.
	ReturnValues string `json:"ReturnValues,omitempty"`
}

// DeleteItemOutput is a DeleteItem answer.
type DeleteItemOutput struct {
	Attributes Item `json:"Attributes"`
}

// Values of ReturnValues.
const (
	ReturnValueNone   = "NONE"
	ReturnValueAllOld = "ALL_OLD"
)

// QueryInput is a Query request.
type QueryInput struct {
	TableName                 string            `json:"TableName"`
	IndexName                 string            `json:"IndexName,omitempty"`
	KeyConditionExpression    string            `json:"KeyConditionExpression,omitempty"`
	FilterExpression          string            `json:"FilterExpression,omitempty"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames,omitempty"`
	ExpressionAttributeValues Item              `json:"ExpressionAttributeValues,omitempty"`
	ConsistentRead            bool              `json:"ConsistentRead,omitempty"`
	// ScanIndexForward nil or true reads in ascending sort key order.
	ScanIndexForward  *bool `json:"ScanIndexForward,omitempty"`
	Limit             int32 `json:"Limit,omitempty"`
	ExclusiveStartKey Item  `json:"ExclusiveStartKey,omitempty"`
}

// QueryOutput is a Query answer: one page. LastEvaluatedKey is the
// ExclusiveStartKey of the next page, nil after the last.
type QueryOutput struct {
	Items            []Item `json:"Items"`
	LastEvaluatedKey Item   `json:"LastEvaluatedKey"`
}

// BatchGetItemInput is a BatchGetItem request: up to 100 keys, by table
// name.
type BatchGetItemInput struct {
	RequestItems map[string]KeysAndAttributes `json:"RequestItems"`
}

// KeysAndAttributes are the keys BatchGetItem reads of one table.
type KeysAndAttributes struct {
	Keys           []Item `json:"Keys"`
	ConsistentRead bool   `json:"ConsistentRead,omitempty"`
}

// BatchGetItemOutput is a BatchGetItem answer: the items found, by table
// name, and the keys left to ask again for.
type BatchGetItemOutput struct {
	Responses       map[string][]Item            `json:"Responses"`
	UnprocessedKeys map[string]KeysAndAttributes `json:"UnprocessedKeys"`
}

// TransactWriteItemsInput is a TransactWriteItems request: up to 100
// actions, applied all or none. Client.TransactWriteItems fills an empty
// ClientRequestToken, so that its retries of the request are idempotent.
type TransactWriteItemsInput struct {
	TransactItems      []TransactWriteItem `json:"TransactItems"`
	ClientRequestToken string              `json:"ClientRequestToken,omitempty"`
}

// TransactWriteItem is one action of a transaction: exactly one of its
// fields is set.
type TransactWriteItem struct {
	Put    *Put    `json:"Put,omitempty"`
	Delete *Delete `json:"Delete,omitempty"`
	Update *Update `json:"Update,omitempty"`
}

// Put writes a whole item.
type Put struct {
	TableName                 string            `json:"TableName"`
	Item                      Item              `json:"Item"`
	ConditionExpression       string            `json:"ConditionExpression,omitempty"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames,omitempty"`
	ExpressionAttributeValues Item              `json:"ExpressionAttributeValues,omitempty"`
}

// Delete deletes an item.
type Delete struct {
	TableName                 string            `json:"TableName"`
	Key                       Item              `json:"Key"`
	ConditionExpression       string            `json:"ConditionExpression,omitempty"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames,omitempty"`
	ExpressionAttributeValues Item              `json:"ExpressionAttributeValues,omitempty"`
}

// Update changes attributes of an item, creating it if need be.
type Update struct {
	TableName                 string            `json:"TableName"`
	Key                       Item              `json:"Key"`
	UpdateExpression          string            `json:"UpdateExpression"`
	ConditionExpression       string            `json:"ConditionExpression,omitempty"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames,omitempty"`
	ExpressionAttributeValues Item              `json:"ExpressionAttributeValues,omitempty"`
}

// CreateTableInput is a CreateTable request.
type CreateTableInput struct {
	TableName              string                 `json:"TableName"`
	AttributeDefinitions   []AttributeDefinition  `json:"AttributeDefinitions"`
	KeySchema              []KeySchemaElement     `json:"KeySchema"`
	GlobalSecondaryIndexes []GlobalSecondaryIndex `json:"GlobalSecondaryIndexes,omitempty"`
	BillingMode            string                 `json:"BillingMode,omitempty"`
}

// AttributeDefinition is the type of a key attribute: S, N or B.
type AttributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

// KeySchemaElement names a key attribute and its role: HASH or RANGE.
type KeySchemaElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

// GlobalSecondaryIndex describes an index of CreateTable.
type GlobalSecondaryIndex struct {
	IndexName  string             `json:"IndexName"`
	KeySchema  []KeySchemaElement `json:"KeySchema"`
	Projection Projection         `json:"Projection"`
}

// Projection says which attributes an index copies: ALL, KEYS_ONLY or
// INCLUDE.
type Projection struct {
	ProjectionType string `json:"ProjectionType,omitempty"`
}

// Values of the table's description fields.
const (
	ScalarAttributeTypeS     = "S"
	KeyTypeHash              = "HASH"
	KeyTypeRange             = "RANGE"
	ProjectionTypeAll        = "ALL"
	BillingModePayPerRequest = "PAY_PER_REQUEST"
	TableStatusActive        = "ACTIVE"
	TimeToLiveStatusEnabled  = "ENABLED"
	TimeToLiveStatusEnabling = "ENABLING"
)

// CreateTableOutput is a CreateTable answer.
type CreateTableOutput struct {
	TableDescription *TableDescription `json:"TableDescription"`
}

// DescribeTableInput is a DescribeTable request.
type DescribeTableInput struct {
	TableName string `json:"TableName"`
}

// DescribeTableOutput is a DescribeTable answer.
type DescribeTableOutput struct {
	Table *TableDescription `json:"Table"`
}

// TableDescription is what DynamoDB tells of a table (the part parley
// reads).
type TableDescription struct {
	TableName              string                            `json:"TableName"`
	TableStatus            string                            `json:"TableStatus"`
	KeySchema              []KeySchemaElement                `json:"KeySchema"`
	GlobalSecondaryIndexes []GlobalSecondaryIndexDescription `json:"GlobalSecondaryIndexes"`
	BillingModeSummary     *BillingModeSummary               `json:"BillingModeSummary"`
}

// GlobalSecondaryIndexDescription is what DynamoDB tells of an index.
type GlobalSecondaryIndexDescription struct {
	IndexName   string             `json:"IndexName"`
	IndexStatus string             `json:"IndexStatus"`
	KeySchema   []KeySchemaElement `json:"KeySchema"`
	Projection  Projection         `json:"Projection"`
}

// BillingModeSummary tells a table's billing mode.
type BillingModeSummary struct {
	BillingMode string `json:"BillingMode"`
}

// DescribeTimeToLiveInput is a DescribeTimeToLive request.
type DescribeTimeToLiveInput struct {
	TableName string `json:"TableName"`
}

// DescribeTimeToLiveOutput is a DescribeTimeToLive answer.
type DescribeTimeToLiveOutput struct {
	TimeToLiveDescription *TimeToLiveDescription `json:"TimeToLiveDescription"`
}

// TimeToLiveDescription is a table's TTL attribute and status (ENABLING,
// DISABLING, ENABLED or DISABLED).
type TimeToLiveDescription struct {
	AttributeName    string `json:"AttributeName"`
	TimeToLiveStatus string `json:"TimeToLiveStatus"`
}

// UpdateTimeToLiveInput is an UpdateTimeToLive request.
type UpdateTimeToLiveInput struct {
	TableName               string                  `json:"TableName"`
	TimeToLiveSpecification TimeToLiveSpecification `json:"TimeToLiveSpecification"`
}

// TimeToLiveSpecification turns TTL on or off on an attribute.
type TimeToLiveSpecification struct {
	AttributeName string `json:"AttributeName"`
	Enabled       bool   `json:"Enabled"`
}
