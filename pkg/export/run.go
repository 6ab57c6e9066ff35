package export

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// The export job's run (docs/jobs.md §4.9): the creator's permission
// checked again, then three phases — query (the permission, the row count,
// more than MaxRows is too_many_rows), render (the rows streamed into a
// temporary file in one consistent snapshot) and store (the file streamed
// into the blob store under the export's one key) — and the export marked
// ready in the job's completion transaction.

// Pipeline phases of the export kind.
const (
	phaseQuery  = "query"
	phaseRender = "render"
	phaseStore  = "store"
)

// progressEvery is how many rows go between two progress reports (the
// reporter writes at most every pipeline.ProgressInterval anyway).
const progressEvery = 1000

// progress counts the rows and pages written and reports them.
type progress struct {
	rep   *pipeline.Reporter
	max   int64
	total int64
	done  int64
	// hook is called at every report (tests).
	hook func(done int64)
}

func (p *progress) row(ctx context.Context) error {
	p.done++
	if p.done > p.max {
		return errTooManyRows(p.done, p.max)
	}
	if p.done%progressEvery == 0 {
		p.rep.Progress(ctx, phaseRender, p.done, p.total, fmt.Sprintf("Written %d of %d rows", p.done, p.total))
		if p.hook != nil {
			p.hook(p.done)
		}
		return ctx.Err()
	}
	return nil
}

// Finish completes the job in the transaction that marks the export ready
// (pipeline.FinishTx and river.JobCompleteTx).
type Finish func(ctx context.Context, tx pgx.Tx, res pipeline.Result) error

// Run produces export id. A ready or expired export is left alone (the job
// completes). Application errors (a revoked permission, too_many_rows, an
// export that no longer exists) are permanent: the caller ends the job and
// the final-failure hook (FailTx) marks the export failed; anything else is
// retried from the start, and the new attempt's file replaces whatever an
// earlier one stored under the export's key.
func (s *Service) Run(ctx context.Context, id uuid.UUID, finish Finish) error {
	q := dbsqlc.New(s.DB)
	row, err := q.ExportStart(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		cur, gerr := q.ExportGet(ctx, id)
		if errors.Is(gerr, pgx.ErrNoRows) {
			return apperr.NotFound("export %s no longer exists", id)
		}
		if gerr != nil {
			return fmt.Errorf("error reading export %s: %w", id, gerr)
		}
		return postgres.WithTx(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
			return finish(ctx, tx, pipeline.Result{Message: "Export already " + cur.Status})
		})
	}
	if err != nil {
		return fmt.Errorf("error starting export %s: %w", id, err)
	}
	rep := pipeline.ReporterFrom(ctx)
	rep.Progress(ctx, phaseQuery, 0, 0, "Checking permissions and counting rows")
	caller, err := s.creator(ctx, row.CreatedBy)
	if err != nil {
		return err
	}
	p, _, err := newPlan(Kind(row.Kind), row.Params)
	if err != nil {
		return err
	}
	f := Format(row.Format)
	file, err := os.CreateTemp(s.TempDir, "export-*."+f.Ext())
	if err != nil {
		return fmt.Errorf("error creating the temporary file: %w", err)
	}
	defer func() {
		_ = file.Close()
		_ = os.Remove(file.Name())
	}()
	prog := &progress{rep: rep, max: s.maxRows(), hook: s.onProgress}
	if err := s.renderSnapshot(ctx, p, f, caller, file, prog); err != nil {
		return err
	}
	size, err := file.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("error sizing the export file: %w", err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("error rewinding the export file: %w", err)
	}
	rep.Progress(ctx, phaseStore, 0, size, "Storing the file")
	src := &countingReader{ctx: ctx, r: file, rep: rep, total: size}
	if _, err := s.Blob.Put(ctx, *row.BlobKey, src, size, f.ContentType()); err != nil {
		return fmt.Errorf("error storing export %s: %w", id, err)
	}
	now := s.now().UTC()
	return postgres.WithTx(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := dbsqlc.New(tx).ExportSetReady(ctx, dbsqlc.ExportSetReadyParams{ID: id, SizeBytes: &size, RowCount: &prog.done,
			ReadyAt: &now, ExpiresAt: new(now.Add(s.ttl()))})
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.WithReason(apperr.CodeConflict, "export_not_running", "export %s is no longer running", id)
		}
		if err != nil {
			return fmt.Errorf("error marking export %s ready: %w", id, err)
		}
		return finish(ctx, tx, pipeline.Result{
			Counters: map[string]any{"rows_exported": prog.done, "bytes_stored": size},
			Message:  fmt.Sprintf("Exported %d rows (%d bytes)", prog.done, size),
		})
	})
}

// renderSnapshot checks the permission, counts and renders in one
// read-only repeatable-read transaction: the count, every page of every
// table and the totals see the same data.
func (s *Service) renderSnapshot(ctx context.Context, p plan, f Format, c Caller, file *os.File, prog *progress) error {
	tx, err := s.DB.Begin(ctx)
	if err != nil {
		return fmt.Errorf("error beginning the export snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Inside a caller's transaction (tests hand the service theirs) the
	// savepoint already sees that transaction's one snapshot.
	if _, nested := s.DB.(pgx.Tx); !nested {
		if _, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"); err != nil {
			return fmt.Errorf("error setting the export snapshot: %w", err)
		}
	}
	if err := p.authorize(ctx, tx, c); err != nil {
		return err
	}
	cont, err := p.build(ctx, tx, buildEnv{format: f, caller: c, now: s.now()})
	if err != nil {
		return err
	}
	if cont.Total > prog.max && !cont.Estimate {
		return errTooManyRows(cont.Total, prog.max)
	}
	prog.total = cont.Total
	prog.rep.Progress(ctx, phaseRender, 0, cont.Total, fmt.Sprintf("Writing %d rows", cont.Total))
	w := bufio.NewWriterSize(file, 1<<20)
	if err := render(ctx, w, f, cont, prog); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("error writing the export file: %w", err)
	}
	prog.rep.Progress(ctx, phaseRender, prog.done, cont.Total, fmt.Sprintf("Written %d rows", prog.done))
	return nil
}

// creator is the export's creator as a caller, with the roles stored now:
// a revoked permission fails the export (docs/jobs.md §4.9).
func (s *Service) creator(ctx context.Context, userID int64) (Caller, error) {
	u, err := dbsqlc.New(s.DB).UserGet(ctx, userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Caller{}, apperr.New(apperr.CodeForbidden, "the creator of the export no longer exists")
	}
	if err != nil {
		return Caller{}, fmt.Errorf("error reading user %d: %w", userID, err)
	}
	if !u.IsActive {
		return Caller{}, apperr.New(apperr.CodeForbidden, "the creator of the export is no longer active")
	}
	return Caller{UserID: u.ID, Sciper: u.Sciper, Perms: perm.For(auth.StoredRoles(u.Roles))}, nil
}

// countingReader reports the bytes read (the store phase).
type countingReader struct {
	ctx   context.Context //nolint:containedctx // the reader reports on the job's context
	r     io.Reader
	rep   *pipeline.Reporter
	total int64
	done  int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.done += int64(n)
	c.rep.Progress(c.ctx, phaseStore, c.done, c.total, "Storing the file")
	return n, err
}

// FailTx marks an export failed with message, in the transaction that
// records its job's final failure (the pipeline middleware's hook).
func FailTx(ctx context.Context, tx pgx.Tx, id uuid.UUID, message string) error {
	if message == "" {
		message = "the export job was cancelled"
	}
	if err := dbsqlc.New(tx).ExportSetFailed(ctx, dbsqlc.ExportSetFailedParams{ID: id, Error: &message}); err != nil {
		return fmt.Errorf("error marking export %s failed: %w", id, err)
	}
	return nil
}

// Swept is what one sweep did.
type Swept struct {
	Expired  int // ready exports past expires_at: file deleted, expired
	Failed   int // failed exports whose partial file was deleted
	Orphaned int // pending or running exports of a FAILED pipeline, marked failed
}

// sweepBatch is how many exports one sweep query takes.
const sweepBatch = 200

// Sweep is the hourly export_cleanup (docs/jobs.md §4.9): it deletes the
// files of the exports past their expiry (the rows become expired) and of
// failed exports, and marks failed the exports whose pipeline failed before
// their job ran. A file is deleted before its row forgets its key, so a
// sweep that stops halfway leaves nothing unreferenced.
func (s *Service) Sweep(ctx context.Context) (Swept, error) {
	var out Swept
	q := dbsqlc.New(s.DB)
	n, err := q.ExportsFailOrphaned(ctx)
	if err != nil {
		return out, fmt.Errorf("error failing orphaned exports: %w", err)
	}
	out.Orphaned = int(n)
	for {
		rows, err := q.ExportsToSweep(ctx, dbsqlc.ExportsToSweepParams{Now: new(s.now()), Limit: sweepBatch})
		if err != nil {
			return out, fmt.Errorf("error listing exports to sweep: %w", err)
		}
		for _, r := range rows {
			if err := s.Blob.Delete(ctx, *r.BlobKey); err != nil {
				return out, fmt.Errorf("error deleting %s: %w", *r.BlobKey, err)
			}
			if err := q.ExportSwept(ctx, r.ID); err != nil {
				return out, fmt.Errorf("error recording the sweep of export %s: %w", r.ID, err)
			}
			if r.Status == StatusReady {
				out.Expired++
			} else {
				out.Failed++
			}
		}
		if len(rows) < sweepBatch {
			return out, nil
		}
	}
}
