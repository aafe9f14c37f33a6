// Command load measures parley under load (make load): signed WhatsApp
// webhooks from many customers, bursts of simultaneous messages from one
// customer, and sends from concurrent clients, each beside a floor measured
// in the same run (a handler that only verifies the signature). It starts
// its own local stack on 127.0.0.1 — on the embedded store, or with -store
// aws on DynamoDB and S3 of a moto server it starts — unless -url names a
// running one, which must be on a loopback address.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/parleyhq/parley/infra/load"
	"github.com/parleyhq/parley/infra/local"
	"github.com/parleyhq/parley/infra/moto"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type options struct {
	url, store, logPath    string
	rate, customers, burst int
	batch                  int
	clients                int
	duration, sendDuration time.Duration
	burstEvery             time.Duration
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "", "a running local stack (loopback only); empty starts one in this process")
	fs.StringVar(&o.store, "store", "embedded", "the store of the stack this process starts: embedded, or aws (DynamoDB and S3 on a moto server it starts)")
	fs.StringVar(&o.logPath, "log", "", "where the started stack logs (default: a file in a temporary folder)")
	fs.IntVar(&o.rate, "rate", 1000, "webhooks per second")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long the webhook scenarios run")
	fs.IntVar(&o.customers, "customers", 50, "customers the webhooks and sends are spread over")
	fs.IntVar(&o.burst, "burst", 20, "simultaneous messages of one customer in a burst")
	fs.DurationVar(&o.burstEvery, "burst-every", 20*time.Millisecond, "time between bursts")
	fs.IntVar(&o.clients, "clients", 20, "concurrent send clients")
	fs.DurationVar(&o.sendDuration, "send-duration", 5*time.Second, "how long the send scenario runs")
	fs.IntVar(&o.batch, "batch", 20000, "statuses in the one large signed batch (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "parley-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	base := o.url
	secret := local.DefaultWhatsAppAppSecret
	if base == "" {
		stack, stop, err := start(ctx, o, dir)
		if err != nil {
			return err
		}
		defer stop()
		base = stack.URL
		fmt.Fprintf(out, "local stack at %s, %s store\n", base, o.store)
	}
	if err := load.CheckLoopback(base); err != nil {
		return err
	}

	floor, stopFloor, err := serveFloor(secret)
	if err != nil {
		return err
	}
	defer stopFloor()

	perSecond := vegeta.ConstantPacer{Freq: o.rate, Per: time.Second}
	bursts := load.Bursts{Size: o.burst, Period: o.burstEvery}
	reports := []struct {
		floor, stack load.Scenario
	}{
		{
			load.Scenario{Name: fmt.Sprintf("floor: webhooks %d/s", o.rate), Targeter: load.Webhooks(floor, secret, o.customers, 1), Pacer: perSecond, Duration: o.duration},
			load.Scenario{Name: fmt.Sprintf("webhooks %d/s, %d customers", o.rate, o.customers), Targeter: load.Webhooks(base, secret, o.customers, 1), Pacer: perSecond, Duration: o.duration},
		},
		{
			load.Scenario{Name: fmt.Sprintf("floor: bursts of %d", o.burst), Targeter: load.Webhooks(floor, secret, o.customers, o.burst), Pacer: bursts, Duration: o.duration},
			load.Scenario{Name: fmt.Sprintf("bursts of %d from one customer", o.burst), Targeter: load.Webhooks(base, secret, o.customers, o.burst), Pacer: bursts, Duration: o.duration},
		},
	}
	fmt.Fprintf(out, "%-34s %6s %18s %13s %13s\n", "scenario", "", "", "", "")
	for _, r := range reports {
		f := load.Run(r.floor)
		fmt.Fprintln(out, f)
		s := load.Run(r.stack)
		fmt.Fprintln(out, s)
		fmt.Fprintf(out, "    ratio to the floor: throughput %.2f×, p50 %.1f×, p99 %.1f×\n", ratio(s.Throughput, f.Throughput), ratio(float64(s.P50), float64(f.P50)), ratio(float64(s.P99), float64(f.P99)))
	}

	if o.batch > 0 {
		body := load.StatusBatch(o.batch, time.Now())
		_, floorTook, err := load.PostSigned(floor, secret, body)
		if err != nil {
			return err
		}
		code, took, err := load.PostSigned(base, secret, body)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-34s HTTP %d in %s (%d bytes); the floor took %s: ratio %.0f×\n", fmt.Sprintf("one signed batch of %d statuses", o.batch),
			code, took.Round(time.Millisecond), len(body), floorTook.Round(time.Millisecond), ratio(float64(took), float64(floorTook)))
	}

	if err := load.OpenWindows(base, o.customers); err != nil {
		return err
	}
	s := load.Run(load.Scenario{Name: fmt.Sprintf("sends, %d clients", o.clients), Targeter: load.Sends(base, o.customers), Duration: o.sendDuration, Workers: o.clients})
	fmt.Fprintln(out, s)
	f := load.Run(load.Scenario{Name: fmt.Sprintf("floor: %d clients", o.clients), Targeter: load.Webhooks(floor, secret, o.customers, 1), Duration: o.sendDuration, Workers: o.clients})
	fmt.Fprintln(out, f)
	fmt.Fprintf(out, "    ratio to the floor: throughput %.2f×, p50 %.1f×, p99 %.1f×\n", ratio(s.Throughput, f.Throughput), ratio(float64(s.P50), float64(f.P50)), ratio(float64(s.P99), float64(f.P99)))
	return nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// start starts a local stack on a free loopback port.
func start(ctx context.Context, o options, dir string) (*local.Stack, func(), error) {
	env := map[string]string{"PARLEY_DATA_DIR": filepath.Join(dir, "data")}
	var srv *moto.Server
	switch o.store {
	case "embedded":
	case "aws":
		var err error
		if srv, err = moto.Start(ctx); err != nil {
			return nil, nil, err
		}
		env["PARLEY_STORE"] = "aws"
		env["PARLEY_AWS_ENDPOINT"] = srv.Endpoint()
		env["PARLEY_TABLE"] = "parley-load"
		env["PARLEY_BUCKET"] = "parley-load"
	default:
		return nil, nil, fmt.Errorf("-store is embedded or aws, not %q", o.store)
	}
	logPath := o.logPath
	if logPath == "" {
		logPath = filepath.Join(dir, "parley.log")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	st, err := local.Start(ctx, local.Options{Addr: "127.0.0.1:0", Getenv: getenv, Log: logf, FallbackEvery: -1})
	if err != nil {
		logf.Close()
		if srv != nil {
			srv.Stop()
		}
		return nil, nil, err
	}
	return st, func() {
		st.Close()
		logf.Close()
		if srv != nil {
			srv.Stop()
		}
	}, nil
}

// serveFloor serves load.Floor on a free loopback port.
func serveFloor(secret string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.StripPrefix("/webhooks/whatsapp", load.Floor(secret)), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "load: floor:", err)
		}
	}()
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
