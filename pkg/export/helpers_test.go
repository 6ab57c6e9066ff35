package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/export"
	"github.com/co2-calculator/co2-calculator/pkg/pipeline"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

// injection is a member name a spreadsheet would evaluate as a formula.
const injection = "=HYPERLINK(\"http://x\",\"y\")"

// fixture is, in a test transaction: a faculty with an institute and a lab
// (unit) whose report of year has a process-gas entry and two members
// (headcount validated), a second faculty with a lab of its own (other),
// the year's factors, and a user of each role.
type fixture struct {
	tx       pgx.Tx
	svc      *export.Service
	blobDir  string
	year     int32
	faculty  dbsqlc.Unit
	unit     dbsqlc.Unit
	other    dbsqlc.Unit
	otherFac dbsqlc.Unit
	rep      testfactory.ReportBundle

	principal, standard, metier, otherMetier, admin export.Caller
}

func caller(ctx context.Context, t *testing.T, tx pgx.Tx, roles ...perm.Assignment) export.Caller {
	t.Helper()
	if roles == nil {
		roles = []perm.Assignment{}
	}
	u := testfactory.User(ctx, t, tx, &testfactory.UserOpts{Roles: roles})
	return export.Caller{UserID: u.ID, Sciper: u.Sciper, Perms: perm.For(roles)}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	tx := testdb.TestTx(ctx, t)
	dir := t.TempDir()
	store, err := blob.NewLocal(dir)
	require.NoError(t, err)
	f := &fixture{tx: tx, blobDir: dir, svc: &export.Service{DB: tx, Blob: store, TempDir: t.TempDir(),
		Enqueue: func(context.Context, pgx.Tx, uuid.UUID, uuid.UUID) error { return nil }}}
	f.year = testfactory.Year(ctx, t, tx, nil).Year
	f.faculty = testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Level: new(int16(2)), Name: new("FAC-" + uuid.NewString()[:8])})
	inst := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Level: new(int16(3)), Parent: &f.faculty})
	f.unit = testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Parent: &inst, PrincipalName: new("Dr Principal")})
	f.otherFac = testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Level: new(int16(2))})
	f.other = testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Parent: &f.otherFac})
	f.rep = testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &f.unit.ID, Year: &f.year})
	otherRep := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &f.other.ID, Year: &f.year})

	testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &f.year, Submodule: new("process_gas")})
	testfactory.Factor(ctx, t, tx, &testfactory.FactorOpts{Year: &f.year, Submodule: new("member")})
	pe, hc := f.rep.Module(emission.ModuleProcessEmissions), f.rep.Module(emission.ModuleHeadcount)
	testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &pe, Submodule: new("process_gas")})
	testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &hc, Submodule: new("member"),
		Data: map[string]any{"name": injection, "sius_code": "53", "user_institutional_id": "100001", "fte": 1}})
	testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &hc, Submodule: new("member"),
		Data: map[string]any{"name": "B", "sius_code": "53", "user_institutional_id": "100002", "fte": 0.5}})
	ope := otherRep.Module(emission.ModuleProcessEmissions)
	testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &ope, Submodule: new("process_gas")})
	for _, m := range []emission.ModuleKey{emission.ModuleProcessEmissions, emission.ModuleHeadcount} {
		lk, err := calc.LoadLookup(ctx, tx, int(f.year), m)
		require.NoError(t, err)
		entries, err := dbsqlc.New(tx).EntriesByYearModuleAfter(ctx, dbsqlc.EntriesByYearModuleAfterParams{Year: f.year, Module: string(m), Limit: 100})
		require.NoError(t, err)
		_, err = calc.ComputeAndStore(ctx, tx, lk, entries, time.Now())
		require.NoError(t, err)
	}
	_, err = dbsqlc.New(tx).ReportModuleSetStatus(ctx, dbsqlc.ReportModuleSetStatusParams{ID: hc.ID, Status: report.StatusValidated})
	require.NoError(t, err)
	var ids []int64
	for _, rep := range []testfactory.ReportBundle{f.rep, otherRep} {
		for _, m := range rep.Modules {
			ids = append(ids, m.ID)
		}
	}
	require.NoError(t, report.RefreshModuleIDs(ctx, tx, ids, time.Now()))

	f.principal = caller(ctx, t, tx, perm.New(perm.RolePrincipal, *f.unit.Cf))
	f.standard = caller(ctx, t, tx, perm.New(perm.RoleStandard, *f.unit.Cf))
	f.metier = caller(ctx, t, tx, perm.New(perm.RoleMetier, *f.faculty.Cf))
	f.otherMetier = caller(ctx, t, tx, perm.New(perm.RoleMetier, *f.otherFac.Cf))
	f.admin = caller(ctx, t, tx, perm.New(perm.RoleAdmin, ""))
	return f
}

func params(t *testing.T, v map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func noFinish(context.Context, pgx.Tx, pipeline.Result) error { return nil }

// export asks for an export as c, runs its job and returns the ready
// export and its file.
func (f *fixture) export(t *testing.T, c export.Caller, kind, format string, p map[string]any) (dbsqlc.Export, []byte) {
	t.Helper()
	ctx := t.Context()
	created, err := f.svc.Create(ctx, c, export.Request{Kind: kind, Format: format, Params: params(t, p)})
	require.NoError(t, err)
	require.Equal(t, export.StatusPending, created.Export.Status)
	require.NoError(t, f.svc.Run(ctx, created.Export.ID, noFinish))
	d, err := f.svc.Download(ctx, c, created.Export.ID)
	require.NoError(t, err)
	defer func() { _ = d.Body.Close() }()
	b, err := io.ReadAll(d.Body)
	require.NoError(t, err)
	require.Equal(t, export.StatusReady, d.Export.Status)
	require.Equal(t, int64(len(b)), *d.Export.SizeBytes)
	return d.Export, b
}

// readCSV parses a CSV export (BOM, CRLF) into its header and rows.
func readCSV(t *testing.T, b []byte) ([]string, [][]string) {
	t.Helper()
	require.True(t, bytes.HasPrefix(b, []byte("\ufeff")), "UTF-8 BOM")
	require.Contains(t, string(b), "\r\n", "CRLF line ends")
	recs, err := csv.NewReader(bytes.NewReader(b[len("\ufeff"):])).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	return recs[0], recs[1:]
}

// column returns the values of the named column.
func column(t *testing.T, header []string, rows [][]string, name string) []string {
	t.Helper()
	i := -1
	for j, h := range header {
		if h == name {
			i = j
		}
	}
	require.GreaterOrEqual(t, i, 0, "column %s in %v", name, header)
	out := make([]string, len(rows))
	for k, r := range rows {
		out[k] = r[i]
	}
	return out
}

// pdfText extracts the text of a PDF with pdftotext (poppler-utils).
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	require.NoError(t, err, "pdftotext (Debian poppler-utils) is needed: make test installs it")
	path := filepath.Join(t.TempDir(), "export.pdf")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	out, err := exec.CommandContext(t.Context(), bin, "-layout", path, "-").Output()
	require.NoError(t, err)
	return string(out)
}

// t3 formats tonnes like the reports (3 decimals).
func t3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// killSwitch is a blob store whose Put, once armed, stores the file and
// then kills the attempt (its context is cancelled and Put fails): a worker
// dying between the store and the commit of the ready export.
type killSwitch struct {
	blob.Store
	cancel context.CancelFunc
	armed  bool
}

func (k *killSwitch) arm(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	k.cancel, k.armed = cancel, true
	return ctx
}

func (k *killSwitch) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (blob.Info, error) {
	info, err := k.Store.Put(ctx, key, r, size, contentType)
	if err != nil || !k.armed {
		return info, err
	}
	k.cancel()
	return blob.Info{}, context.Canceled
}

// addMembers adds n members to the headcount module rm.
func addMembers(ctx context.Context, t *testing.T, f *fixture, rm dbsqlc.ReportModule, n int) {
	t.Helper()
	_, err := f.tx.Exec(ctx, `
		INSERT INTO data_entries (report_module_id, unit_id, year, module, submodule, data, source, calc_status, kg_co2eq)
		SELECT $1, $2, $3, 'headcount', 'member',
		       jsonb_build_object('name', 'M' || g, 'sius_code', '53', 'user_institutional_id', (200000 + g)::text, 'fte', 1),
		       'csv_year', 'ok', 1.5
		FROM generate_series(1, $4::int) AS g`, rm.ID, rm.UnitID, rm.Year, n)
	require.NoError(t, err)
}

// entryTrain adds a train trip of traveller sciper.
func entryTrain(ctx context.Context, t *testing.T, f *fixture, rm dbsqlc.ReportModule, sciper string) {
	t.Helper()
	testfactory.Entry(ctx, t, f.tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new("train"),
		Data: map[string]any{"origin_key": "8503000", "destination_key": "8501008", "cabin_class": "second",
			"user_institutional_id": sciper, "number_of_trips": 1}})
}
