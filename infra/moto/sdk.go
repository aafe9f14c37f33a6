package moto

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// SDKConfig is an AWS SDK configuration pointed at the server: us-east-1,
// test/test credentials. Tests use the SDK beside parley's own clients to
// set moto up and to read back, independently, what parley wrote.
func (s *Server) SDKConfig() aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
}
