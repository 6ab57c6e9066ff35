package report

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// RefreshYear refreshes the statistics and derived status fields of every
// report of year (RefreshReports) in tx: the years service calls it when a
// configuration change enables or disables modules (docs/domain.md §11.2).
func RefreshYear(ctx context.Context, tx pgx.Tx, year int32) error {
	rows, err := dbsqlc.New(tx).ReportsByYear(ctx, year)
	if err != nil {
		return fmt.Errorf("error listing the reports of %d: %w", year, err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return RefreshReports(ctx, tx, ids, time.Now())
}
