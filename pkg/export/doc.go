// Package export is the home of the exports (docs/api.md §12, docs/jobs.md
// §4.9 and §7): files of a unit's report, module data, factors, back-office
// tables and audit events, produced by the `export` job into the blob
// store and downloaded by their creator for EXPORT_TTL.
//
// A request (Service.Create) names a kind, a format and the kind's params:
// kinds.go holds the kinds with their formats and members, plan.go (and
// factors.go, backoffice.go, audit.go) the validation of the params (422)
// and the permission of each kind (403), checked for the caller and again,
// with the creator's roles of that moment, when the job runs. The export
// row, its pipeline (kind export), the export.create audit event and the
// job are recorded in one transaction.
//
// The job (Service.Run) reads the kind's rows through the same functions as
// the API — package report for a unit's figures, backoffice.Units, Results
// and Usage for the back-office tables, audit.List for the trail — and the
// entries and factors in keyset pages of batchSize (entries.go, factors.go),
// inside one read-only repeatable-read transaction, and writes them as they
// come (formats.go: CSV with encoding/csv, XLSX with excelize's stream
// writer, ZIP with archive/zip; pdf.go: the one-page-per-unit report with
// fpdf) into a temporary file, then streams that file into the blob store
// under the export's one key (Key): a retried attempt replaces what an
// earlier one stored, so a worker killed mid-export leaves one file. Memory
// stays bounded by a page of rows and the writers' buffers, whatever the
// number of rows (at most MaxRows).
//
// Downloads (Service.Download) redirect to a presigned URL (S3) or stream
// the local file, 409 before the export is ready, 410 after it expired;
// Service.Sweep (the hourly export_cleanup job) deletes expired and failed
// exports' files.
package export
