//go:build !unix

package lambdaemu

import (
	"os"
	"os/exec"
)

func setProcessGroup(*exec.Cmd) {}

// killProcessGroup kills p; process groups are a Unix notion.
func killProcessGroup(p *os.Process) {
	p.Kill()
}
