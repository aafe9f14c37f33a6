//go:build unix

package lambdaemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"syscall"
	"testing"

	"github.com/parleyhq/parley/infra/lambdaemu"
)

func TestCloseStopsTheFunction(t *testing.T) {
	em := start(t, lambdaemu.Config{})
	res, err := em.Invoke(context.Background(), []byte(`{"action":"context"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		PID int `json:"pid"`
	}
	if err := json.Unmarshal(res.Payload, &got); err != nil || got.PID == 0 {
		t.Fatalf("%s: %v", res.Payload, err)
	}

	if err := em.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(got.PID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d after Close: %v, want it gone", got.PID, err)
	}
	if _, err := em.Invoke(context.Background(), []byte(`{"action":"echo"}`)); !errors.Is(err, lambdaemu.ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
}
