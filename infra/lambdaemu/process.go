package lambdaemu

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"time"
)

// process is one execution environment: a running bootstrap.
type process struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process has exited
	exitErr error         // how it exited; set before done is closed

	next       chan *invocation // hands an invocation to the runtime waiting on next
	initFailed chan struct{}    // closed when the runtime reports an init error
	initErr    *InvokeError     // set before initFailed is closed

	started time.Time // when the bootstrap was executed

	// Guarded by Emulator.mu.
	asked  bool // the runtime has asked for an invocation
	served int  // invocations handed to the runtime
	// initDuration is from exec to the runtime's first GET next: what
	// Lambda reports as Init Duration; initCPU is the CPU time the process
	// spent in it.
	initDuration, initCPU time.Duration
}

// startProcess starts the bootstrap in its own process group, so that
// stopping it also stops anything it started.
func startProcess(cfg Config, env []string) (*process, error) {
	cmd := exec.Command(cfg.Bootstrap)
	cmd.Dir = filepath.Dir(cfg.Bootstrap)
	cmd.Env = env
	cmd.Stdout = cfg.Stdout
	cmd.Stderr = cfg.Stderr
	// Output copiers are abandoned shortly after the process exits even if
	// something it left behind holds the pipes open.
	cmd.WaitDelay = time.Second
	setProcessGroup(cmd)
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.Bootstrap, err)
	}
	p := &process{cmd: cmd, started: started, done: make(chan struct{}), next: make(chan *invocation), initFailed: make(chan struct{})}
	go func() {
		p.exitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop kills the process group and waits for the process to exit.
func (p *process) stop() {
	if !p.exited() {
		killProcessGroup(p.cmd.Process)
	}
	<-p.done
}

// exitError describes the exit of a runtime that gave no answer, as Lambda
// reports it.
func (p *process) exitError() *InvokeError {
	msg := "Runtime exited without providing a reason"
	if p.exitErr != nil {
		msg = "Runtime exited with error: " + p.exitErr.Error()
	}
	return &InvokeError{Type: "Runtime.ExitError", Message: msg, kind: ErrExited}
}
