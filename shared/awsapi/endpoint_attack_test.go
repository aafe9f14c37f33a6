package awsapi_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/parleyhq/parley/shared/awsapi"
)

// TestBaseURLMatchesSDK resolves every service parley calls in a region of
// each AWS partition with the AWS SDK's endpoint rules and wants the same
// URL from BaseURL: a function deployed there must find its services.
func TestBaseURLMatchesSDK(t *testing.T) {
	ctx := context.Background()
	resolve := map[string]func(region string) (string, error){
		"dynamodb": func(r string) (string, error) {
			e, err := dynamodb.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, dynamodb.EndpointParameters{Region: aws.String(r)})
			return e.URI.String(), err
		},
		"sqs": func(r string) (string, error) {
			e, err := sqs.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, sqs.EndpointParameters{Region: aws.String(r)})
			return e.URI.String(), err
		},
		"events": func(r string) (string, error) {
			e, err := eventbridge.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, eventbridge.EndpointParameters{Region: aws.String(r)})
			return e.URI.String(), err
		},
		"secretsmanager": func(r string) (string, error) {
			e, err := secretsmanager.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, secretsmanager.EndpointParameters{Region: aws.String(r)})
			return e.URI.String(), err
		},
		"s3": func(r string) (string, error) {
			e, err := s3.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, s3.EndpointParameters{Region: aws.String(r),
				UseFIPS: aws.Bool(false), UseDualStack: aws.Bool(false), Accelerate: aws.Bool(false), ForcePathStyle: aws.Bool(false), UseGlobalEndpoint: aws.Bool(false)})
			return e.URI.String(), err
		},
	}
	// One region of each partition: aws, aws-cn, aws-us-gov, aws-eusc
	// (the European Sovereign Cloud), and the isolated ones.
	for _, region := range []string{"eu-west-1", "us-east-1", "cn-northwest-1", "us-gov-west-1", "eusc-de-east-1",
		"us-iso-east-1", "us-isob-east-1", "us-isof-south-1", "eu-isoe-west-1"} {
		c := &awsapi.Client{Region: region}
		for host, sdk := range resolve {
			want, err := sdk(region)
			if err != nil {
				t.Errorf("%s in %s: the SDK resolves no endpoint: %v", host, region, err)
				continue
			}
			if got := c.BaseURL(host); got != want {
				t.Errorf("%s in %s: BaseURL %s, the SDK %s", host, region, got, want)
			}
		}
	}
}
