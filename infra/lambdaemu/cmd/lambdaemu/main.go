// Command lambdaemu runs a built Lambda function (a provided.al2023
// bootstrap) behind an emulated Lambda Runtime API, in the foreground,
// until interrupted. Invoke it as AWS's Runtime Interface Emulator:
//
//	lambdaemu -bootstrap .aws-sam/build/SendFunction/bootstrap
//	curl -d @events/send.json http://127.0.0.1:9001/2015-03-31/functions/function/invocations
//
// The function sees Lambda's environment plus this command's own.
//
// With -event it invokes the function once on that file, writes the answer
// to standard output and exits (non-zero when the function failed). With
// -env-file the function also sees that file's variables for -function
// (its logical id, e.g. SendFunction), unless this command's environment
// sets them:
//
//	lambdaemu -bootstrap bin/local/send/bootstrap -env-file infra/local/env.json \
//	  -function SendFunction -event events/send/get-events.json
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
	"slices"
	"strconv"
	"strings"
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
	envFile := flags.String("env-file", "", "variables for the function: sam local invoke's --env-vars JSON, or KEY=VALUE lines")
	function := flags.String("function", "", "the function's logical id in -env-file's JSON, e.g. SendFunction")
	event := flags.String("event", "", "invoke once with this file, print the answer and exit")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if *bootstrap == "" {
		return errors.New("lambdaemu: -bootstrap is required")
	}

	if *envFile != "" {
		fileEnv, err := lambdaemu.ReadEnvFile(*envFile, *function)
		if err != nil {
			return err
		}
		env = withFile(env, fileEnv)
	}
	var payload []byte
	if *event != "" {
		var err error
		if payload, err = os.ReadFile(*event); err != nil {
			return err
		}
		*port = 0
	}

	// Once, the answer alone goes to standard output; the function's logs
	// go beside this command's.
	fnStdout := stdout
	if payload != nil {
		fnStdout = stderr
	}
	em, err := lambdaemu.Start(ctx, lambdaemu.Config{
		Bootstrap:    *bootstrap,
		Env:          env,
		FunctionName: *name,
		Timeout:      *timeout,
		Stdout:       fnStdout,
		Stderr:       stderr,
		Addr:         net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)),
	})
	if err != nil {
		return err
	}
	if payload != nil {
		res, err := em.Invoke(ctx, payload)
		cerr := em.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", res.Payload)
		if res.FunctionError != "" {
			return fmt.Errorf("lambdaemu: the function failed (%s)", res.FunctionError)
		}
		return cerr
	}
	fmt.Fprintf(stderr, "lambdaemu: %s: invoke with POST %s/2015-03-31/functions/function/invocations\n", *bootstrap, em.URL())
	<-ctx.Done()
	return em.Close()
}

// withFile adds to env the entries of file whose keys env does not set:
// the command's environment wins, as in the local stack.
func withFile(env, file []string) []string {
	set := map[string]bool{}
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); v != "" {
			set[k] = true
		}
	}
	out := slices.Clone(env)
	for _, kv := range file {
		if k, _, _ := strings.Cut(kv, "="); !set[k] {
			out = append(out, kv)
		}
	}
	return out
}
