// Package report is the business logic of carbon reports (no HTTP): the
// module status workflow (docs/domain.md §10), report get/ensure, the cached
// statistics of report modules and reports (§12.1, §12.2) computed with
// grouped aggregate queries, and the results figures (§12.3) read from those
// pre-aggregated statistics (never from a scan of emission rows).
//
// Every function takes a postgres.DBTX: the caller owns the transaction.
// Figures are kept unrounded (float64 kg) in the stored statistics; the
// results types round at the JSON edge only (docs/domain.md §1).
package report
