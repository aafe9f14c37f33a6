// Command lambdaemu runs a built Lambda function (a provided.al2023
// bootstrap) behind an emulated Lambda Runtime API, in the foreground,
// until interrupted. Invoke it as AWS's Runtime Interface Emulator:
//
//	lambdaemu -bootstrap .aws-sam/build/SendFunction/bootstrap
//	curl -d @events/send.json http://127.0.0.1:9001/2015-03-31/functions/function/invocations
//
// The function sees Lambda's environment plus this command's own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/parleyhq/parley/infra/lambdaemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
}

// errUsage is a command line the flag package has already reported.
var errUsage = errors.New("lambdaemu: usage")

// run serves the function until ctx ends.
func run(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("lambdaemu", flag.ContinueOnError)
	flags.SetOutput(stderr)
	bootstrap := flags.String("bootstrap", "", "path of the built function (required)")
	port := flags.Int("port", 9001, "port to listen on, on 127.0.0.1; 0 picks a free one")
	timeout := flags.Duration("timeout", 30*time.Second, "function timeout")
	name := flags.String("name", lambdaemu.DefaultFunctionName, "function name")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if *bootstrap == "" {
		return errors.New("lambdaemu: -bootstrap is required")
	}

	em, err := lambdaemu.Start(ctx, lambdaemu.Config{
		Bootstrap:    *bootstrap,
		Env:          env,
		FunctionName: *name,
		Timeout:      *timeout,
		Stdout:       stdout,
		Stderr:       stderr,
		Addr:         net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "lambdaemu: %s: invoke with POST %s/2015-03-31/functions/function/invocations\n", *bootstrap, em.URL())
	<-ctx.Done()
	return em.Close()
}
