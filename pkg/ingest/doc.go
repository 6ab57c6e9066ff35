// Package ingest reads the CSV files of uploads, imports and seeding
// (docs/jobs.md §5) and turns their records into typed rows.
//
// The [Reader] streams records from any io.Reader: it strips a UTF-8 BOM,
// detects the delimiter (`,` or `;`) on the header line, accepts RFC 4180
// quoting (quoted newlines, LF or CRLF), normalises header names and maps
// aliases to the canonical columns of a [Table], rejects duplicate and
// missing columns, skips blank and template-filler records, and enforces
// the size limits (cell length, record count, record size) without ever
// holding more than one bounded record in memory. Failures that reject the
// whole file are [*FileError]s with the job-level codes of docs/jobs.md §3.
//
// Row parsers turn a [Record] into a typed row plus [RowError]s:
//
//   - [FactorParser]: factor files per upload group (§5.4), with submodule
//     routing for the equipment and purchases module files, the
//     class_key and the factor emission type (docs/domain.md §6.2);
//   - [LocationParser] and [RoomParser]: reference datasets (§5.5);
//   - [DataParser]: data files of every submodule (§5.2) into the JSON
//     payload the emission engine decodes (emission.DecodePayload).
//
// The cell parsers ([ParseNumber], [ParseInt], [ParseDate], [ParseBool],
// [ParseEnum]) implement the general rules of §5.1 and are usable alone.
package ingest
