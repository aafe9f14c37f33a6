package lambdaemu

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cpuTime returns the CPU time process pid has spent so far, the sum over
// its threads of the first field of /proc/<pid>/task/<tid>/schedstat
// (nanoseconds on the CPU); zero if it cannot be read.
func cpuTime(pid int) time.Duration {
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "schedstat"))
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the thread has just exited
		}
		f := bytes.Fields(b)
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			continue
		}
		total += time.Duration(ns)
	}
	return total
}
