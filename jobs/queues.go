package jobs

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Queue names (docs/jobs.md §1.1).
const (
	QueueDefault      = "default"
	QueueImports      = "imports"
	QueueCompute      = "compute"
	QueueIntegrations = "integrations"
	QueueExports      = "exports"
	QueueAudit        = "audit"
)

// QueueNames lists every queue a worker may serve (docs/jobs.md §1.1), in
// the order of DefaultQueues.
func QueueNames() []string {
	return []string{QueueImports, QueueCompute, QueueIntegrations, QueueExports, QueueAudit, QueueDefault}
}

// DefaultQueues is the default WORKER_QUEUES value.
const DefaultQueues = "imports=2,compute=4,integrations=2,exports=2,audit=1,default=4"

// ParseQueues parses "name=maxWorkers,..." into River queue configs.
func ParseQueues(s string) (map[string]river.QueueConfig, error) {
	known := QueueNames()
	out := map[string]river.QueueConfig{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, n, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("%q: want name=max_workers", part)
		}
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("unknown queue %q (known: %s)", name, strings.Join(known, ", "))
		}
		workers, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || workers < 1 || workers > 10000 {
			return nil, fmt.Errorf("queue %s: max workers %q must be an integer in [1, 10000]", name, n)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("queue %s listed twice", name)
		}
		out[name] = river.QueueConfig{MaxWorkers: workers}
	}
	if len(out) == 0 {
		return nil, errors.New("no queue configured")
	}
	return out, nil
}

// RetryPolicy is min(10 s × 2^(attempt−1), 10 min) ± 10 % jitter
// (docs/jobs.md §1.1).
type RetryPolicy struct{}

var _ river.ClientRetryPolicy = RetryPolicy{}

// NextRetry implements river.ClientRetryPolicy.
func (RetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(RetryDelay(max(job.Attempt, 1), rand.Float64())) //nolint:gosec // jitter only
}

// RetryDelay is the backoff for an attempt with a jitter draw r in [0, 1).
func RetryDelay(attempt int, r float64) time.Duration {
	base := 10 * time.Second
	d := 10 * time.Minute
	if attempt < 7 {
		d = min(base<<(attempt-1), d)
	}
	jitter := (r*2 - 1) * 0.1
	return time.Duration(float64(d) * (1 + jitter))
}
