package jobs

import (
	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// EnqueueUnitSyncWithOpts is EnqueueUnitSync with insert options (tests:
// one attempt, so that a failure is final without waiting for a backoff).
func EnqueueUnitSyncWithOpts(client pipeline.Inserter, opts *river.InsertOpts) years.Enqueuer {
	return enqueueUnitSync(client, opts)
}
