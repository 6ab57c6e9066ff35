package jobs

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// NewInsertClient builds the insert-only River client used by the API (and
// by CLI commands): every job kind is registered so inserts are validated,
// no queue is configured and it is never started. pool may be nil when only
// InsertTx is used.
//
// River rate-limits the insert notifications a client sends per queue to
// one per FetchCooldown (100 ms by default); a job inserted shortly after
// another one would then wait for the workers' fallback poll (up to
// WORKER_FETCH_POLL_INTERVAL). A 1 ms cooldown makes every insert wake the
// workers at once (measured by BenchmarkJobChainLatency).
func NewInsertClient(pool *pgxpool.Pool) (*river.Client[pgx.Tx], error) {
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Workers:       Workers(Deps{}),
		FetchCooldown: time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("error creating River insert client: %w", err)
	}
	return c, nil
}
