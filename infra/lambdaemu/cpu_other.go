//go:build !linux

package lambdaemu

import "time"

// cpuTime is Linux only.
func cpuTime(int) time.Duration { return 0 }
