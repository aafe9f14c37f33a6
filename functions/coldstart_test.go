package functions_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/infra/lambdaemu"
	"github.com/parleyhq/parley/infra/local"
)

// lambdaFlags are the Makefile's build flags of a bootstrap.
var lambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// buildFor compiles a function with the Makefile's flags for goarch.
func buildFor(b *testing.B, dir, name, goarch string) string {
	b.Helper()
	out := filepath.Join(dir, goarch, name, "bootstrap")
	cmd := exec.Command("go", append(append([]string{"build"}, lambdaFlags...), "-o", out, "./"+name)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building %s for %s: %v\n%s", name, goarch, err, out)
	}
	return out
}

// BenchmarkColdStart measures every function against the empty
// aws-lambda-go function (testdata/empty), built and measured in the same
// run: the arm64 binary's size, and the init duration under the Runtime API
// emulator — from exec to the runtime's first GET
// /runtime/invocation/next, what Lambda reports as Init Duration. Each
// iteration starts every function once, in turn, so that the machine's
// load weighs on all alike; the figures are medians, with the ratio of the
// fastest starts and of the init's CPU time (Linux) beside them. Targets: a
// binary at most 1.5× the empty one, an init duration at most 1.3×.
func BenchmarkColdStart(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the bootstraps are linux binaries")
	}
	// AWS answers every call at once with a client error, so that an
	// invocation ends quickly whatever it asks.
	aws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"com.amazon.coral.validate#ValidationException","message":"bench"}`))
	}))
	defer aws.Close()
	env := []string{
		"PARLEY_AWS_ENDPOINT=" + aws.URL, "PARLEY_TABLE=parley", "PARLEY_BUCKET=parley",
		"PARLEY_WHATSAPP_API_URL=http://127.0.0.1:9/v25.0", "PARLEY_WHATSAPP_TOKEN=t", "PARLEY_WHATSAPP_APP_SECRET=s",
		"PARLEY_WHATSAPP_VERIFY_TOKEN=v", "PARLEY_APPLE_MSP_URL=http://127.0.0.1:9/v1", "PARLEY_APPLE_MSP_ID=" + local.DefaultAppleMSPID,
		"PARLEY_APPLE_MSP_SECRET=" + local.DefaultAppleMSPSecret, "PARLEY_LOG_LEVEL=error",
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
	}
	httpEvent := []byte(`{"version":"2.0","rawPath":"/v1/none","requestContext":{"http":{"method":"GET"}}}`)
	// The webhook function's queue and endpoint; the other functions
	// leave the event webhooks off, as the template's default does.
	hookEnv := append(slices.Clone(env), "PARLEY_EVENTS_WEBHOOK_QUEUE_URL="+aws.URL+"/queue/parley-webhooks.fifo",
		"PARLEY_EVENTS_WEBHOOK_URL=http://127.0.0.1:9/events", "PARLEY_EVENTS_WEBHOOK_SECRET=whsec_"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
	fns := []struct {
		name  string
		event []byte
		env   []string
	}{
		{"testdata/empty", []byte(`{}`), env},
		{"ingest", httpEvent, env},
		{"send", httpEvent, env},
		{"fallback", []byte(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`), env},
		{"fetch", []byte(`{"Records":[]}`), env},
		{"decode", []byte(`{"Records":[]}`), env},
		{"webhook", []byte(`{"Records":[]}`), hookEnv},
	}
	dir := b.TempDir()
	size := map[string]int64{}
	bootstrap := map[string]string{}
	for _, f := range fns {
		fi, err := os.Stat(buildFor(b, dir, f.name, "arm64"))
		if err != nil {
			b.Fatal(err)
		}
		size[f.name] = fi.Size()
		bootstrap[f.name] = buildFor(b, dir, f.name, runtime.GOARCH)
	}
	inits, cpus := map[string][]time.Duration{}, map[string][]time.Duration{}
	b.ResetTimer()
	for b.Loop() {
		for _, f := range fns {
			emu, err := lambdaemu.Start(context.Background(), lambdaemu.Config{Bootstrap: bootstrap[f.name], Env: f.env, Timeout: 10 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			res, err := emu.Invoke(context.Background(), f.event)
			emu.Close()
			if err != nil {
				b.Fatalf("%s: invoke: %v", f.name, err)
			}
			inits[f.name] = append(inits[f.name], res.InitDuration)
			cpus[f.name] = append(cpus[f.name], res.InitCPU)
		}
	}
	b.StopTimer()
	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	empty := "testdata/empty"
	emptyInit, emptyCPU := median(inits[empty]), median(cpus[empty])
	b.ReportMetric(float64(size[empty])/1e6, "empty-arm64-MB")
	b.ReportMetric(float64(emptyInit.Microseconds())/1e3, "empty-init-ms")
	b.ReportMetric(float64(emptyCPU.Microseconds())/1e3, "empty-init-cpu-ms")
	for _, f := range fns[1:] {
		name := f.name
		sizeX := float64(size[f.name]) / float64(size[empty])
		initX := float64(median(inits[f.name])) / float64(emptyInit)
		// The fastest start of each, and the CPU time of the starts, are
		// what the machine's other work disturbs least.
		minX := float64(slices.Min(inits[f.name])) / float64(slices.Min(inits[empty]))
		b.ReportMetric(sizeX, name+"-size-x")
		b.ReportMetric(initX, name+"-init-x")
		b.ReportMetric(minX, name+"-init-min-x")
		line := fmt.Sprintf("%-8s arm64 %5.2f MB = %.2f× the empty function's (target ≤ 1.50×); init %6.2f ms = %.2f× (target ≤ 1.30×), fastest %.2f×",
			name, float64(size[f.name])/1e6, sizeX, float64(median(inits[f.name]).Microseconds())/1e3, initX, minX)
		if emptyCPU > 0 {
			cpuX := float64(median(cpus[f.name])) / float64(emptyCPU)
			b.ReportMetric(cpuX, name+"-init-cpu-x")
			line += fmt.Sprintf(", CPU %.2f ms = %.2f×", float64(median(cpus[f.name]).Microseconds())/1e3, cpuX)
		}
		b.Log(line)
	}
}

// TestFunctionsLinkNoPatternsOrTestHelpers: no function links regexp,
// whose tables keep every Unicode table alive and built at start-up (the
// shapes of an Apple team id or an IAM ARN are checked byte by byte), nor
// net/http/httptest, a test package that brings the flag package and a
// test certificate along (lambdahttp records answers itself).
func TestFunctionsLinkNoPatternsOrTestHelpers(t *testing.T) {
	for _, name := range []string{"ingest", "send", "fallback", "fetch", "decode", "webhook"} {
		for _, p := range deps(t, name) {
			if p == "regexp" || p == "regexp/syntax" || p == "net/http/httptest" {
				t.Errorf("functions/%s links %s", name, p)
			}
		}
	}
}
