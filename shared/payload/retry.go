package payload

import "github.com/parleyhq/parley/shared/retry"

// RetryPolicy is the retry policy of payload jobs: the platforms' policy p
// without its budget, since a job may take its function's whole time to
// move 100 MB.
func RetryPolicy(p retry.Policy) retry.Policy {
	p.Budget = 0
	return p
}
