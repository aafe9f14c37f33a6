// Command empty is the smallest aws-lambda-go function: the baseline the
// cold-start benchmark measures parley's functions against.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil })
}
