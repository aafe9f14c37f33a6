package functions_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/lambdaemu"
	"github.com/parleyhq/parley/infra/local"
)

// BenchmarkColdStart measures a cold start under the Runtime API emulator:
// start the bootstrap, let it initialise, answer one invocation, stop. The
// empty aws-lambda-go function is the baseline; parley's functions answer a
// route that touches no store, so the figure is start-up, not I/O.
func BenchmarkColdStart(b *testing.B) {
	env := []string{
		"PARLEY_STORE=aws", "PARLEY_AWS_ENDPOINT=http://127.0.0.1:9", "PARLEY_TABLE=parley", "PARLEY_BUCKET=parley",
		"PARLEY_WHATSAPP_API_URL=http://127.0.0.1:9/v25.0", "PARLEY_WHATSAPP_TOKEN=t", "PARLEY_WHATSAPP_APP_SECRET=s",
		"PARLEY_WHATSAPP_VERIFY_TOKEN=v", "PARLEY_APPLE_MSP_URL=http://127.0.0.1:9/v1", "PARLEY_APPLE_MSP_ID=" + local.DefaultAppleMSPID,
		"PARLEY_APPLE_MSP_SECRET=" + local.DefaultAppleMSPSecret, "PARLEY_LOG_LEVEL=error",
	}
	payload := []byte(`{"version":"2.0","rawPath":"/v1/none","requestContext":{"http":{"method":"GET"}}}`)
	for _, name := range []string{"testdata/empty", "ingest", "send"} {
		bootstrap := build(b, name)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				emu, err := lambdaemu.Start(context.Background(), lambdaemu.Config{Bootstrap: bootstrap, Env: env, Timeout: 10 * time.Second})
				if err != nil {
					b.Fatal(err)
				}
				res, err := emu.Invoke(context.Background(), payload)
				emu.Close()
				if err != nil || res.FunctionError != "" {
					b.Fatalf("invoke: %v %s", err, res.Payload)
				}
			}
		})
	}
}
