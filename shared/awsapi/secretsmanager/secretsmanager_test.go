package secretsmanager_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/parleyhq/parley/infra/awsrec"
	"github.com/parleyhq/parley/infra/moto"
	"github.com/parleyhq/parley/shared/awsapi"
	"github.com/parleyhq/parley/shared/awsapi/secretsmanager"
)

// TestGetSecretValueIsTheSDKs: for the same input, GetSecretValue sends
// the body, target and content type the AWS SDK's client sends.
func TestGetSecretValueIsTheSDKs(t *testing.T) {
	rec := awsrec.New(t)
	ours := secretsmanager.New(&awsapi.Client{Region: "eu-west-1", Endpoint: rec.URL, MaxAttempts: 1})
	theirs := sdk.New(sdk.Options{Region: "eu-west-1", BaseEndpoint: aws.String(rec.URL), RetryMaxAttempts: 1})
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:parley-AbCdEf"
	ctx := context.Background()
	cases := []struct {
		name   string
		ours   *secretsmanager.GetSecretValueInput
		theirs sdk.GetSecretValueInput
	}{
		{"current", &secretsmanager.GetSecretValueInput{SecretID: arn}, sdk.GetSecretValueInput{SecretId: aws.String(arn)}},
		{"a stage", &secretsmanager.GetSecretValueInput{SecretID: "parley", VersionStage: "AWSPREVIOUS"},
			sdk.GetSecretValueInput{SecretId: aws.String("parley"), VersionStage: aws.String("AWSPREVIOUS")}},
		{"a version", &secretsmanager.GetSecretValueInput{SecretID: arn, VersionID: "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1"},
			sdk.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String("EXAMPLE1-90ab-cdef-fedc-ba987SECRET1")}},
	}
	for _, c := range cases {
		if _, err := ours.GetSecretValue(ctx, c.ours); err != nil {
			t.Fatal(err)
		}
		if _, err := theirs.GetSecretValue(ctx, &c.theirs); err != nil {
			t.Fatal(err)
		}
		rec.CheckPair(t, c.name)
	}
}

// TestGetSecretValue: on moto, the current version of a string secret and
// of a binary one, a rotation's new version, and the error of a secret
// that does not exist.
func TestGetSecretValue(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	admin := sdk.NewFromConfig(m.SDKConfig())
	str, err := admin.CreateSecret(ctx, &sdk.CreateSecretInput{Name: aws.String("parley"), SecretString: aws.String(`{"PARLEY_WHATSAPP_TOKEN":"EAAG-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	bin, err := admin.CreateSecret(ctx, &sdk.CreateSecretInput{Name: aws.String("parley-key"), SecretBinary: []byte{0, 1, 2, 0xfe, 0xff}})
	if err != nil {
		t.Fatal(err)
	}
	c := secretsmanager.New(awsapi.FromEnv(func(string) string { return "" }, m.Endpoint()))

	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretID: *str.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if out.SecretString == nil || *out.SecretString != `{"PARLEY_WHATSAPP_TOKEN":"EAAG-1"}` || out.ARN != *str.ARN || out.Name != "parley" || out.VersionID != *str.VersionId {
		t.Errorf("the string secret read as %+v", out)
	}
	out, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretID: "parley-key"})
	if err != nil {
		t.Fatal(err)
	}
	if out.SecretString != nil || string(out.SecretBinary) != "\x00\x01\x02\xfe\xff" || out.ARN != *bin.ARN {
		t.Errorf("the binary secret read as %+v", out)
	}

	put, err := admin.PutSecretValue(ctx, &sdk.PutSecretValueInput{SecretId: str.ARN, SecretString: aws.String(`{"PARLEY_WHATSAPP_TOKEN":"EAAG-2"}`)})
	if err != nil {
		t.Fatal(err)
	}
	out, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretID: *str.ARN})
	if err != nil || out.SecretString == nil || *out.SecretString != `{"PARLEY_WHATSAPP_TOKEN":"EAAG-2"}` || out.VersionID != *put.VersionId {
		t.Errorf("after a rotation: %+v, %v", out, err)
	}
	prev, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretID: *str.ARN, VersionStage: "AWSPREVIOUS"})
	if err != nil || prev.SecretString == nil || *prev.SecretString != `{"PARLEY_WHATSAPP_TOKEN":"EAAG-1"}` {
		t.Errorf("the previous version: %+v, %v", prev, err)
	}

	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretID: "nowhere"})
	var e *awsapi.Error
	if !errors.As(err, &e) || e.Code != "ResourceNotFoundException" || e.Message == "" {
		t.Errorf("a secret that does not exist: %v, want ResourceNotFoundException with its message", err)
	}
}
