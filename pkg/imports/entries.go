package imports

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// The entry loader of the imports, for rows that do not come from an
// uploaded file (the Tableau sync, docs/jobs.md §4.6): the same batch
// writer as a data upload's load pass (emissions computed in Go, entries
// COPYed with their totals, then their emission rows, one batch written
// while the next one fills).

// EntryTarget is what every entry a load writes shares.
type EntryTarget struct {
	Year   int32
	Source string // data_entries.source: csv_year, csv_unit, tableau
	// UploadID is the upload the entries come from (nil: none).
	UploadID *uuid.UUID
	// By is created_by and updated_by (nil: the system).
	By *int64
	// LocationWarnings adds an unknown_location warning to a loaded row
	// whose computation found an unknown airport or station (the CSV
	// imports); a loader that reports unknown locations itself leaves it
	// off.
	LocationWarnings bool
}

// Written is what an EntryWriter wrote.
type Written struct {
	Loaded   int // entries written
	Computed int // entries computed (= Loaded)
	Issues   int // entries whose computation has an issue (no factor, unknown location, …)
}

// EntryWriter writes valid data rows as entries of a load transaction, in
// batches, through the batch writer of the data imports. Add and Close are
// called by one goroutine; the transaction belongs to the writer between
// the first Add and Close.
type EntryWriter struct {
	w         *batchWriter
	shared    *batchShared
	cur       *entryBatch
	batchSize int
	errs      RowErrors
	ls        loadStats
}

// NewEntryWriter starts a writer of entries on tx computed with lk;
// batchSize 0 means ImportBatch. now stamps computed_at.
func NewEntryWriter(ctx context.Context, tx pgx.Tx, lk *emission.Lookup, target EntryTarget, now time.Time, batchSize int) *EntryWriter {
	if batchSize <= 0 {
		batchSize = ImportBatch
	}
	ew := &EntryWriter{w: startBatchWriter(ctx), batchSize: batchSize}
	ew.shared = &batchShared{target: target, q: dbsqlc.New(tx), tx: tx, lk: lk, now: now, errs: &ew.errs, ls: &ew.ls}
	ew.cur = &entryBatch{batchShared: ew.shared}
	return ew
}

// Add queues a valid row (Module, Submodule, Data, KgOverride, OwnerSciper
// set) for report module rm of unit. It fails with the writer's error when
// a batch could not be written.
func (ew *EntryWriter) Add(row ingest.DataRow, rm, unit int64) error {
	ew.cur.recs = append(ew.cur.recs, recordErrs{row: len(ew.cur.rows)})
	ew.cur.add(row, rm, unit)
	if len(ew.cur.rows) < ew.batchSize {
		return nil
	}
	b := ew.cur
	ew.cur = &entryBatch{batchShared: ew.shared}
	return ew.w.send(b)
}

// Close writes the last batch, waits for the writer and returns what was
// written. The transaction is free again when it returns.
func (ew *EntryWriter) Close() (Written, error) {
	if len(ew.cur.rows) > 0 {
		b := ew.cur
		ew.cur = &entryBatch{batchShared: ew.shared}
		if err := ew.w.send(b); err != nil {
			_ = ew.w.close()
			return Written{}, err
		}
	}
	if err := ew.w.close(); err != nil {
		return Written{}, err
	}
	return Written{Loaded: ew.ls.loaded, Computed: ew.ls.computed, Issues: ew.ls.issues}, nil
}
