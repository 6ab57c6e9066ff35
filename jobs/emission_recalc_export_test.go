package jobs

import (
	"context"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// RecalculateForTest runs the batch loop of the worker (every batch commits
// through w.DB) without a River job: benchmarks measure production-like
// transactions this way.
func (w *EmissionRecalcWorker) RecalculateForTest(ctx context.Context, year int32, module emission.ModuleKey, lk *emission.Lookup) (int64, int64, error) {
	return w.recalculate(ctx, year, module, lk, func(int64) {})
}
