// Command restamp prints a sample event of events/ signed again with the
// time of now, as make invoke feeds it to a function: parley refuses the
// signed webhook samples once their own time is old (see package samples).
// Any other event is printed as it is.
//
//	restamp events/ingest/apple-text.json > /tmp/apple-text.json
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/parleyhq/parley/infra/samples"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: restamp EVENT_FILE")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err == nil {
		b, err = samples.Restamp(b, time.Now())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "restamp:", err)
		os.Exit(1)
	}
	os.Stdout.Write(append(b, '\n'))
}
