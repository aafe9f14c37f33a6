//go:build !unix

package payload_test

import "time"

// cpuTime is not measured here: the benchmarks leave the CPU ratio out.
func cpuTime() time.Duration { return 0 }
