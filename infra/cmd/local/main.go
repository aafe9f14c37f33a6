// Command local runs parley's local stack (make run): the send API, the
// webhooks, both platform simulators and the event log on one port.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/parleyhq/parley/infra/local"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	st, err := local.Start(ctx, local.Options{Addr: "127.0.0.1:" + port, Getenv: getenv, Log: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "parley is running at %s (Ctrl-C to stop)\n", st.URL)
	go func() {
		<-ctx.Done()
		st.Close()
	}()
	return st.Wait()
}
