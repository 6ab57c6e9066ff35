package years_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// serviceBundle is a years service on a schema of its own (years are keyed
// by year: tests choose theirs freely), enqueuing into a recorder.
type serviceBundle struct {
	pool     *pgxpool.Pool
	svc      *years.Service
	enqueued []*int32 // the years of the enqueued syncs
	refresh  []int32  // the years whose reports were refreshed
	blobDir  string
	admin    *int64
}

func newServiceBundle(ctx context.Context, t *testing.T) *serviceBundle {
	t.Helper()
	b := &serviceBundle{pool: testdb.TestSchema(ctx, t).Pool, blobDir: t.TempDir()}
	store, err := blob.NewLocal(b.blobDir)
	require.NoError(t, err)
	b.admin = new(testfactory.User(ctx, t, b.pool, nil).ID)
	b.svc = &years.Service{DB: b.pool, Blob: store, MaxBytes: 1 << 20,
		Enqueue: func(_ context.Context, _ pgx.Tx, _ uuid.UUID, year *int32) error {
			b.enqueued = append(b.enqueued, year)
			return nil
		},
		ReportsChanged: func(_ context.Context, _ pgx.Tx, year int32) error {
			b.refresh = append(b.refresh, year)
			return nil
		},
	}
	return b
}

func (b *serviceBundle) year(ctx context.Context, t *testing.T, y int32) dbsqlc.Year {
	t.Helper()
	row, err := dbsqlc.New(b.pool).YearGet(ctx, y)
	require.NoError(t, err)
	return row
}

func (b *serviceBundle) lastAudit(ctx context.Context, t *testing.T) (event string, diff json.RawMessage) {
	t.Helper()
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT event, coalesce(diff, 'null') FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&event, &diff))
	return event, diff
}

// requireReason checks the application error code and reason of err.
func requireReason(t *testing.T, err error, code apperr.Code, reason apperr.Reason) *apperr.Error {
	t.Helper()
	ae, ok := errors.AsType[*apperr.Error](err)
	require.True(t, ok, "want an application error, got %v", err)
	require.Equal(t, code, ae.Code, ae.Message)
	require.Equal(t, reason, ae.Reason, ae.Message)
	return ae
}

func TestCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ConfigCopiedFromTheLatestEarlierYear", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		cfg := years.DefaultConfig()
		years.MergeConfig(cfg, map[string]any{
			"modules": map[string]any{"purchases": map[string]any{"enabled": false}},
			"reduction_objectives": map[string]any{
				"files": map[string]any{"footprint": map[string]any{"upload_id": uuid.NewString(), "filename": "f.csv", "uploaded_at": "2024-01-01T00:00:00Z"}},
				"goals": []any{map[string]any{"target_year": 2030, "reference_year": 2019, "reduction_percentage": 0.5}},
			},
		})
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2024)), Config: cfg})
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2030))}) // later: not copied

		_, err := b.svc.Create(ctx, 2026, b.admin)
		require.NoError(t, err)
		got := b.year(ctx, t, 2026)
		require.NotContains(t, years.EnabledModules(got.Config), "purchases")
		var c struct {
			ReductionObjectives struct {
				Files map[string]any `json:"files"`
				Goals []any          `json:"goals"`
			} `json:"reduction_objectives"`
		}
		require.NoError(t, json.Unmarshal(got.Config, &c))
		require.Len(t, c.ReductionObjectives.Goals, 1)
		require.Nil(t, c.ReductionObjectives.Files["footprint"], "the files belong to the earlier year")
	})

	t.Run("DefaultsAndSetupPipeline", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		created, err := b.svc.Create(ctx, 2026, b.admin)
		require.NoError(t, err)
		require.Equal(t, "setting_up", created.Year.Status)
		require.Equal(t, "year_setup", created.Pipeline.Kind)
		require.Equal(t, new(int32(2026)), created.Pipeline.Year)
		require.Equal(t, &created.Pipeline.ID, created.Year.SetupPipelineID)
		require.Equal(t, []*int32{new(int32(2026))}, b.enqueued, "accred_unit_sync{2026} in the same transaction")
		require.Len(t, years.EnabledModules(created.Year.Config), 8)
		require.Empty(t, years.ValidateConfig(mustObject(t, created.Year.Config), 2026))
		event, _ := b.lastAudit(ctx, t)
		require.Equal(t, "year.create", event)
	})

	t.Run("DuplicateYear", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2026))})
		_, err := b.svc.Create(ctx, 2026, b.admin)
		requireReason(t, err, apperr.CodeConflict, years.ReasonExists)
		require.Empty(t, b.enqueued)
	})

	t.Run("NoQueue", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		b.svc.Enqueue = nil
		_, err := b.svc.Create(ctx, 2026, b.admin)
		requireReason(t, err, apperr.CodeUnavailable, "")
	})

	t.Run("OutOfRange", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		_, err := b.svc.Create(ctx, 1999, b.admin)
		ae := requireReason(t, err, apperr.CodeValidation, "")
		require.Equal(t, "year", ae.Fields[0].Field)
	})
}

func mustObject(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	patch := func(status string, config string) years.Patch {
		p := years.Patch{}
		if status != "" {
			p.Status = &status
		}
		if config != "" {
			p.Config = json.RawMessage(config)
		}
		return p
	}

	t.Run("ClosedYearConfigFrozen", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2024)), Status: new("closed")})
		_, err := b.svc.Update(ctx, 2024, patch("", `{"modules": {"equipment": {"uncertainty": "low"}}}`), b.admin)
		requireReason(t, err, apperr.CodeConflict, years.ReasonClosed)
		v, err := b.svc.Update(ctx, 2024, patch("open", `{"modules": {"equipment": {"uncertainty": "low"}}}`), b.admin)
		require.NoError(t, err, "reopened by the same request")
		require.Equal(t, "open", v.Status)
		require.Contains(t, string(v.Config), `"uncertainty": "low"`)
	})

	t.Run("ConfigMergedValidatedAudited", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		_, err := b.svc.Create(ctx, 2026, b.admin) // audited year.create: the base of the diff
		require.NoError(t, err)
		before := b.year(ctx, t, 2026)

		_, err = b.svc.Update(ctx, 2026, patch("", `{"modules": {"equipment": {"submodules": {"it": {"threshold_kg": -3}}}}}`), b.admin)
		ae := requireReason(t, err, apperr.CodeValidation, "")
		require.Equal(t, "config.modules.equipment.submodules.it.threshold_kg", ae.Fields[0].Field)
		require.Equal(t, "out_of_range", ae.Fields[0].Code)
		require.JSONEq(t, string(before.Config), string(b.year(ctx, t, 2026).Config), "nothing stored")

		_, err = b.svc.Update(ctx, 2026, patch("", `[1]`), b.admin)
		require.Equal(t, "config", requireReason(t, err, apperr.CodeValidation, "").Fields[0].Field)

		v, err := b.svc.Update(ctx, 2026, patch("", `{"modules": {"equipment": {"submodules": {"it": {"threshold_kg": 250}}}}}`), b.admin)
		require.NoError(t, err)
		var c struct {
			Modules map[string]struct {
				Enabled    bool `json:"enabled"`
				Submodules map[string]struct {
					Enabled     bool     `json:"enabled"`
					ThresholdKg *float64 `json:"threshold_kg"`
				} `json:"submodules"`
			} `json:"modules"`
		}
		require.NoError(t, json.Unmarshal(v.Config, &c))
		require.InDelta(t, 250.0, *c.Modules["equipment"].Submodules["it"].ThresholdKg, 0)
		require.True(t, c.Modules["equipment"].Submodules["it"].Enabled, "merged, not replaced")
		require.True(t, c.Modules["equipment"].Submodules["scientific"].Enabled)
		event, diff := b.lastAudit(ctx, t)
		require.Equal(t, "year.update", event)
		require.Contains(t, string(diff), "threshold_kg", "audited with the diff")
		require.Empty(t, b.refresh, "the enabled modules did not change")

		_, err = b.svc.Update(ctx, 2026, patch("", `{"modules": {"purchases": {"enabled": false}}}`), b.admin)
		require.NoError(t, err)
		require.Equal(t, []int32{2026}, b.refresh, "disabling a module refreshes the year's reports")
	})

	t.Run("IfMatch", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2026)), Status: new("open")})
		tag := years.ETag(b.year(ctx, t, 2026))
		p := patch("", `{"modules": {"equipment": {"uncertainty": "high"}}}`)
		p.IfMatch = &tag
		_, err := b.svc.Update(ctx, 2026, p, b.admin)
		require.NoError(t, err)
		_, err = b.svc.Update(ctx, 2026, p, b.admin)
		requireReason(t, err, apperr.CodePrecondition, "")
		p.IfMatch = new("*")
		_, err = b.svc.Update(ctx, 2026, p, b.admin)
		require.NoError(t, err)
	})

	t.Run("Transitions", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		// docs/domain.md §11.1: ready → open, open → closed, closed → open;
		// the current status is a no-op; everything else is refused.
		allowed := map[string][]string{"ready": {"open"}, "open": {"closed"}, "closed": {"open"}}
		y := int32(2030)
		for _, from := range []string{"setting_up", "setup_failed", "ready", "open", "closed"} {
			for _, to := range []string{"setting_up", "setup_failed", "ready", "open", "closed"} {
				y++
				testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: &y, Status: &from})
				v, err := b.svc.Update(ctx, y, patch(to, ""), b.admin)
				switch {
				case from == to:
					require.NoError(t, err, "%s → %s", from, to)
					require.Equal(t, from, v.Status)
				case slices.Contains(allowed[from], to):
					require.NoError(t, err, "%s → %s", from, to)
					require.Equal(t, to, v.Status)
					if to == "open" {
						require.NotNil(t, v.OpenedAt)
					} else {
						require.NotNil(t, v.ClosedAt)
					}
				default:
					requireReason(t, err, apperr.CodeConflict, years.ReasonInvalidTransition)
					require.Equal(t, from, b.year(ctx, t, y).Status, "%s → %s refused", from, to)
				}
			}
		}
		_, err := b.svc.Update(ctx, y, patch("archived", ""), b.admin)
		ae := requireReason(t, err, apperr.CodeValidation, "")
		require.Equal(t, "status", ae.Fields[0].Field)
		require.Equal(t, "invalid_enum", ae.Fields[0].Code)

		_, err = b.svc.Update(ctx, 2101, patch("open", ""), b.admin)
		requireReason(t, err, apperr.CodeNotFound, "")
	})
}

func TestSetup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newServiceBundle(ctx, t)
	mk := func(y int32, status string) {
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: &y, Status: &status})
	}

	mk(2020, "setup_failed")
	p, err := b.svc.Setup(ctx, 2020, b.admin)
	require.NoError(t, err)
	require.Equal(t, "year_setup", p.Kind)
	got := b.year(ctx, t, 2020)
	require.Equal(t, "setting_up", got.Status, "a retry")
	require.Equal(t, &p.ID, got.SetupPipelineID)
	event, _ := b.lastAudit(ctx, t)
	require.Equal(t, "year.setup", event)

	// Its setup pipeline has not finished: a second retry is refused.
	_, err = b.svc.Setup(ctx, 2020, b.admin)
	requireReason(t, err, apperr.CodeConflict, years.ReasonInvalidTransition)
	// Once that pipeline ended without completing the setup (cancelled
	// while queued), the year can be set up again.
	require.NoError(t, postgres.WithTx(ctx, b.pool, func(ctx context.Context, tx pgx.Tx) error {
		q := dbsqlc.New(tx)
		if err := q.PipelineJobLink(ctx, dbsqlc.PipelineJobLinkParams{PipelineID: p.ID, JobID: 1, Kind: "accred_unit_sync",
			Queue: "integrations", Role: pipeline.RoleRoot, MaxAttempts: 3}); err != nil {
			return err
		}
		if _, err := q.PipelineJobFinish(ctx, dbsqlc.PipelineJobFinishParams{JobID: 1, State: string(pipeline.JobCancelled)}); err != nil {
			return err
		}
		_, err := pipeline.Refresh(ctx, tx, p.ID, got.UpdatedAt)
		return err
	}))
	_, err = b.svc.Setup(ctx, 2020, b.admin)
	require.NoError(t, err)

	for _, st := range []string{"ready", "open"} {
		y := int32(2021)
		if st == "open" {
			y = 2022
		}
		mk(y, st)
		_, err := b.svc.Setup(ctx, y, b.admin)
		require.NoError(t, err, st)
		require.Equal(t, st, b.year(ctx, t, y).Status, "a resync keeps the status")
	}
	mk(2023, "closed")
	_, err = b.svc.Setup(ctx, 2023, b.admin)
	requireReason(t, err, apperr.CodeConflict, years.ReasonInvalidTransition)
	require.Len(t, b.enqueued, 4)
}

func TestListAndVisibility(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newServiceBundle(ctx, t)
	for y, st := range map[int32]string{2021: "closed", 2022: "open", 2023: "ready", 2024: "setting_up", 2025: "setup_failed"} {
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: &y, Status: &st})
	}
	all, err := b.svc.List(ctx, true)
	require.NoError(t, err)
	require.Len(t, all, 5)
	require.Equal(t, int32(2025), all[0].Year, "newest first")
	visible, err := b.svc.List(ctx, false)
	require.NoError(t, err)
	require.Equal(t, []years.Item{{Year: 2022, Status: "open"}, {Year: 2021, Status: "closed"}}, visible)

	_, err = b.svc.GetVisible(ctx, 2023, false)
	requireReason(t, err, apperr.CodeNotFound, "")
	v, err := b.svc.GetVisible(ctx, 2023, true)
	require.NoError(t, err)
	require.Equal(t, "ready", v.Status)
	require.True(t, strings.HasPrefix(v.ETag, `W/"y2023-`))
}

func TestReductionObjectives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := func(name, body string) years.File {
		return years.File{Name: name, ContentType: "text/csv", Body: strings.NewReader(body)}
	}
	blobs := func(t *testing.T, b *serviceBundle) int {
		t.Helper()
		n := 0
		require.NoError(t, filepath.WalkDir(b.blobDir, func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
				n++
			}
			return err
		}))
		return n
	}

	t.Run("CSVReplacesTheList", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2026)), Status: new("open")})
		v, err := b.svc.ReductionObjectives(ctx, 2026, "footprint",
			file("footprint.csv", "year,category,t_co2eq\n2019,professional_travel,12345.6\n2019,buildings,800\n"), b.admin)
		require.NoError(t, err)
		var c struct {
			ReductionObjectives struct {
				Files     map[string]map[string]string `json:"files"`
				Footprint []map[string]any             `json:"institutional_footprint"`
			} `json:"reduction_objectives"`
		}
		require.NoError(t, json.Unmarshal(v.Config, &c))
		require.Len(t, c.ReductionObjectives.Footprint, 2)
		require.Equal(t, "professional_travel", c.ReductionObjectives.Footprint[0]["category"])
		require.InDelta(t, 12345.6, c.ReductionObjectives.Footprint[0]["t_co2eq"], 1e-9)
		f := c.ReductionObjectives.Files["footprint"]
		require.Equal(t, "footprint.csv", f["filename"])
		up, err := dbsqlc.New(b.pool).UploadGet(ctx, uuid.MustParse(f["upload_id"]))
		require.NoError(t, err)
		require.Equal(t, "reduction_objectives", up.Kind)
		require.Equal(t, 1, blobs(t, b))
		event, _ := b.lastAudit(ctx, t)
		require.Equal(t, "year.update", event)

		// A second file replaces the list.
		v, err = b.svc.ReductionObjectives(ctx, 2026, "footprint", file("f2.csv", "year,category,co2\n2020,buildings,1\n"), b.admin)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(v.Config, &c))
		require.Len(t, c.ReductionObjectives.Footprint, 1)
	})

	t.Run("RowErrorsStoreNothing", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2026)), Status: new("open")})
		before := b.year(ctx, t, 2026)
		_, err := b.svc.ReductionObjectives(ctx, 2026, "scenarios",
			file("s.csv", "scenario,year,reduction_percentage\nambitious,2030,1.5\n,2030,0.2\nok,20x0,0.1\n"), b.admin)
		ae := requireReason(t, err, apperr.CodeValidation, "")
		require.Len(t, ae.Fields, 3)
		require.Equal(t, "reduction_percentage", ae.Fields[0].Field)
		require.Equal(t, "out_of_range", ae.Fields[0].Code)
		require.Equal(t, 1, ae.Fields[0].Context["row"])
		require.Equal(t, "scenario", ae.Fields[1].Field)
		require.Equal(t, "required", ae.Fields[1].Code)
		require.Equal(t, "year", ae.Fields[2].Field)
		require.Equal(t, 0, blobs(t, b), "the file is not kept")
		require.Equal(t, before.Config, b.year(ctx, t, 2026).Config)

		_, err = b.svc.ReductionObjectives(ctx, 2026, "population", file("p.csv", "year,people\n2030,1\n"), b.admin)
		ae = requireReason(t, err, apperr.CodeValidation, "csv_header_invalid")
		require.Equal(t, "missing_columns", ae.Fields[0].Code)
		_, err = b.svc.ReductionObjectives(ctx, 2026, "population", file("p.csv", "year,pop\n"), b.admin)
		requireReason(t, err, apperr.CodeValidation, "")
	})

	t.Run("OtherFormatsStored", func(t *testing.T) {
		t.Parallel()
		b := newServiceBundle(ctx, t)
		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2026)), Status: new("ready")})
		v, err := b.svc.ReductionObjectives(ctx, 2026, "population", years.File{Name: "projections.PDF", Body: strings.NewReader("%PDF-1.4")}, b.admin)
		require.NoError(t, err)
		require.Contains(t, string(v.Config), "projections.PDF")
		require.Contains(t, string(v.Config), `"population_projections": []`, "the list is left as it was")

		_, err = b.svc.ReductionObjectives(ctx, 2026, "population", years.File{Name: "p.docx", Body: strings.NewReader("x")}, b.admin)
		requireReason(t, err, apperr.CodeUnsupportedMedia, "")
		_, err = b.svc.ReductionObjectives(ctx, 2026, "budget", file("b.csv", ""), b.admin)
		requireReason(t, err, apperr.CodeNotFound, "")
		_, err = b.svc.ReductionObjectives(ctx, 2026, "population", years.File{Name: "big.pdf", Body: strings.NewReader(strings.Repeat("x", 2<<20))}, b.admin)
		requireReason(t, err, apperr.CodeTooLarge, "")
		require.Equal(t, 1, blobs(t, b))

		testfactory.Year(ctx, t, b.pool, &testfactory.YearOpts{Year: new(int32(2020)), Status: new("closed")})
		_, err = b.svc.ReductionObjectives(ctx, 2020, "population", years.File{Name: "p.pdf", Body: strings.NewReader("x")}, b.admin)
		requireReason(t, err, apperr.CodeConflict, years.ReasonClosed)
	})
}
