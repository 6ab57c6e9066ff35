package audit

import (
	"context"

	"github.com/co2-calculator/co2-calculator/pkg/postgres"
)

// VerifyChunked is Verify reading chunk events at a time.
func VerifyChunked(ctx context.Context, db postgres.DBTX, fromSeq, toSeq int64, chunk int32) (Report, error) {
	return verify(ctx, db, fromSeq, toSeq, chunk)
}
