// Package secretsmanager is AWS Secrets Manager's JSON protocol
// (secretsmanager, awsJson1_1) on an awsapi.Client: GetSecretValue, in the
// shapes Secrets Manager's API reference names.
package secretsmanager

import (
	"context"

	"github.com/parleyhq/parley/shared/awsapi"
)

// Client calls Secrets Manager through AWS; it is safe for concurrent
// use.
type Client struct {
	AWS *awsapi.Client
}

// New returns a Client calling through c.
func New(c *awsapi.Client) *Client { return &Client{AWS: c} }

// GetSecretValueInput is a GetSecretValue request. SecretID is the
// secret's ARN or name; without VersionID or VersionStage the answer is
// the AWSCURRENT version.
type GetSecretValueInput struct {
	SecretID     string `json:"SecretId"`
	VersionID    string `json:"VersionId,omitempty"`
	VersionStage string `json:"VersionStage,omitempty"`
}

// GetSecretValueOutput is GetSecretValue's answer: the value is in
// SecretString or, for a secret stored as bytes, SecretBinary.
type GetSecretValueOutput struct {
	ARN           string
	Name          string
	VersionID     string `json:"VersionId"`
	VersionStages []string
	SecretString  *string
	SecretBinary  []byte
}

// GetSecretValue reads a version of a secret.
func (c *Client) GetSecretValue(ctx context.Context, in *GetSecretValueInput, opts ...awsapi.CallOption) (*GetSecretValueOutput, error) {
	out := new(GetSecretValueOutput)
	if err := c.AWS.Call(ctx, awsapi.SecretsManager, "GetSecretValue", in, out, opts...); err != nil {
		return nil, err
	}
	return out, nil
}
