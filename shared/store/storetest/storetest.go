// Package storetest is the one contract suite every store adapter passes.
package storetest

import (
	"testing"

	"github.com/parleyhq/parley/shared/clock"
	"github.com/parleyhq/parley/shared/store"
)

// Factory makes a fresh, empty store for one test, reading time from clk.
type Factory func(t *testing.T, clk clock.Clock) (store.Store, store.Blobs)

// Run runs the contract suite against the adapter that newStore makes.
func Run(t *testing.T, newStore Factory) {
	t.Helper()
}
