package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/export"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// Every file is read back with the library of its format and compared with
// what the results and lists serve (package report, package backoffice).
func TestFormats(t *testing.T) {
	t.Parallel()

	t.Run("BackofficeResultsXLSX", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		e, b := f.export(t, f.metier, "backoffice_results", "xlsx", map[string]any{"year": []int32{f.year}, "basis": "all"})
		require.Equal(t, int64(1), *e.RowCount, "the metier's scope holds one report")
		x, err := excelize.OpenReader(bytes.NewReader(b))
		require.NoError(t, err)
		rows, err := x.GetRows("results")
		require.NoError(t, err)
		require.Len(t, rows, 2)
		require.Equal(t, []string{"year", "unit_cf", "unit_name", "affiliation", "basis", "scope_1_kg", "scope_2_kg", "scope_3_kg", "total_kg"}, rows[0][:9])
		require.Len(t, rows[0], 9+len(emission.Categories())+2)
		tot, err := report.GetTotals(t.Context(), f.tx, f.unit.ID, f.year, report.Options{Scope: report.ScopeAll})
		require.NoError(t, err)
		kg, err := strconv.ParseFloat(rows[1][8], 64)
		require.NoError(t, err)
		require.InDelta(t, tot.TCO2eq*1000, kg, 0.5)
		require.Equal(t, *f.unit.Cf, rows[1][1])
	})

	t.Run("BackofficeUnitsCSV", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, b := f.export(t, f.admin, "backoffice_units", "csv", map[string]any{"year": []int32{f.year}, "sort": "unit_name"})
		header, rows := readCSV(t, b)
		require.Equal(t, []string{"unit_id", "unit_name", "cf", "affiliation", "year", "overall_status", "completion", "principal",
			"data_updated_at", "highest_category_module", "t_co2eq", "fte", "view_url"}, header)
		require.Len(t, rows, 2, "admin: both reports")
		require.Contains(t, column(t, header, rows, "cf"), *f.unit.Cf)
		require.Contains(t, column(t, header, rows, "completion"), "1/8")
	})

	t.Run("BackofficeUnitsPDFOnePagePerUnit", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		e, b := f.export(t, f.admin, "backoffice_units", "pdf", map[string]any{"year": []int32{f.year}, "lang": "fr"})
		require.Equal(t, int64(2), *e.RowCount)
		text := pdfText(t, b)
		require.Equal(t, 2, strings.Count(text, "\f"), "two A4 pages")
		require.Contains(t, text, "Bilan carbone")
		require.Contains(t, text, f.unit.Name)
		require.Contains(t, text, f.other.Name)
	})

	t.Run("BackofficeDetailedZIP", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		e, b := f.export(t, f.metier, "backoffice_detailed", "zip", map[string]any{"year": []int32{f.year},
			"modules": []string{"headcount", "process_emissions"}})
		require.Equal(t, int64(3), *e.RowCount, "the metier's unit: two members and one gas")
		z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		var names []string
		for _, m := range z.File {
			names = append(names, m.Name)
		}
		require.Equal(t, []string{"headcount__member.csv", "headcount__student.csv", "process_emissions__process_gas.csv"}, names)
		r, err := z.File[0].Open()
		require.NoError(t, err)
		raw, err := io.ReadAll(r)
		require.NoError(t, err)
		header, rows := readCSV(t, raw)
		require.Equal(t, []string{"unit_id", "unit_cf", "unit_name", "affiliation", "year", "module_status", "entry_id", "source",
			"name", "sius_code", "user_institutional_id", "fte", "note", "calc_status", "kg_co2eq", "kg_co2eq_additional", "factor_id"}, header)
		require.Len(t, rows, 2)
		require.Equal(t, []string{"validated", "validated"}, column(t, header, rows, "module_status"))
	})

	t.Run("BackofficeUsageCSV", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, b := f.export(t, f.metier, "backoffice_usage", "csv", map[string]any{"year": []int32{f.year}})
		header, rows := readCSV(t, b)
		require.Equal(t, []string{"year", "unit_cf", "unit_name", "affiliation", "module", "status", "status_changed_at", "data_updated_at"}, header)
		require.Len(t, rows, 8, "the eight modules of the metier's one report")
	})

	t.Run("FactorsCSV", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, b := f.export(t, f.admin, "factors", "csv", map[string]any{"year": f.year})
		header, rows := readCSV(t, b)
		require.Len(t, rows, 2)
		require.Equal(t, []string{"factor_id", "year", "module", "submodule", "emission_type", "class_key"}, header[:6])
		require.Contains(t, header, "classification.category")
		require.ElementsMatch(t, []string{"member", "process_gas"}, column(t, header, rows, "submodule"))
	})

	t.Run("ModuleEntriesCSVFormulaSafe", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, b := f.export(t, f.principal, "unit_module_entries", "csv", map[string]any{"unit_id": f.unit.ID, "year": f.year, "module": "headcount"})
		header, rows := readCSV(t, b)
		require.Equal(t, "submodule", header[6])
		require.Len(t, rows, 2)
		names := column(t, header, rows, "name")
		require.Contains(t, names, "'"+injection, "a formula is neutralised")
		require.NotContains(t, names, injection)
		// kg as the entries list shows them (2 decimals).
		var sum float64
		for _, v := range column(t, header, rows, "kg_co2eq") {
			kg, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			sum += kg
		}
		s, err := report.GetSummary(t.Context(), f.tx, f.unit.ID, f.year, report.Options{})
		require.NoError(t, err)
		for _, m := range s.Modules {
			if m.Module == "headcount" {
				require.InDelta(t, m.TCO2eq*1000, sum, 1)
			}
		}
	})

	t.Run("ModuleEntriesXLSXTypedAndFrozen", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, b := f.export(t, f.principal, "unit_module_entries", "xlsx", map[string]any{"unit_id": f.unit.ID, "year": f.year, "module": "headcount"})
		x, err := excelize.OpenReader(bytes.NewReader(b))
		require.NoError(t, err)
		require.Equal(t, []string{"member", "student"}, x.GetSheetList())
		rows, err := x.GetRows("member")
		require.NoError(t, err)
		require.Len(t, rows, 3)
		require.Equal(t, "unit_id", rows[0][0])
		panes, err := x.GetPanes("member")
		require.NoError(t, err)
		require.True(t, panes.Freeze)
		require.Equal(t, 1, panes.YSplit)
		fteCol := slices.Index(rows[0], "fte") + 1
		cell, err := excelize.CoordinatesToCellName(fteCol, 2)
		require.NoError(t, err)
		typ, err := x.GetCellType("member", cell)
		require.NoError(t, err)
		require.NotEqual(t, excelize.CellTypeInlineString, typ)
		require.NotEqual(t, excelize.CellTypeSharedString, typ)
		v, err := x.GetCellValue("member", cell)
		require.NoError(t, err)
		require.Contains(t, []string{"1", "0.5"}, v)
		name, err := x.GetCellValue("member", "I2")
		require.NoError(t, err)
		require.Contains(t, []string{"'" + injection, "B"}, name, "XLSX keeps text as text, formula-guarded like CSV")
	})

	t.Run("ModuleEntriesOwnScope", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ctx := t.Context()
		pt := f.rep.Module(emission.ModuleProfessionalTravel)
		for _, sciper := range []string{f.standard.Sciper, "999999"} {
			entryTrain(ctx, t, f, pt, sciper)
		}
		_, b := f.export(t, f.standard, "unit_module_entries", "csv", map[string]any{"unit_id": f.unit.ID, "year": f.year,
			"module": "professional_travel"})
		header, rows := readCSV(t, b)
		require.Equal(t, []string{f.standard.Sciper}, column(t, header, rows, "user_institutional_id"), "D7: own trips only")
		_, b = f.export(t, f.principal, "unit_module_entries", "csv", map[string]any{"unit_id": f.unit.ID, "year": f.year,
			"module": "professional_travel"})
		_, rows = readCSV(t, b)
		require.Len(t, rows, 2)
	})

	t.Run("UnitBundleZIP", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, b := f.export(t, f.principal, "unit_bundle", "zip", map[string]any{"unit_id": f.unit.ID, "year": f.year})
		z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		names := map[string]*zip.File{}
		for _, m := range z.File {
			names[m.Name] = m
		}
		require.Contains(t, names, "report.pdf")
		require.Contains(t, names, "report.xlsx")
		require.Contains(t, names, "headcount__member.csv")
		require.Contains(t, names, "process_emissions__process_gas.csv")
		r, err := names["report.pdf"].Open()
		require.NoError(t, err)
		pdf, err := io.ReadAll(r)
		require.NoError(t, err)
		require.Contains(t, pdfText(t, pdf), f.unit.Name)

		// A business manager's bundle holds the results only (D8).
		_, b = f.export(t, f.metier, "unit_bundle", "zip", map[string]any{"unit_id": f.unit.ID, "year": f.year})
		z, err = zip.NewReader(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		require.Len(t, z.File, 2)
	})

	t.Run("UnitResultsCSV", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, b := f.export(t, f.principal, "unit_results", "csv", map[string]any{"unit_id": f.unit.ID, "year": f.year, "basis": "all"})
		header, rows := readCSV(t, b)
		require.Equal(t, []string{"unit_cf", "unit_name", "year", "basis", "category", "emission_type", "scope", "t_co2eq",
			"quantity", "quantity_unit"}, header)
		bd, err := report.GetBreakdown(t.Context(), f.tx, f.unit.ID, f.year, report.Options{Scope: report.ScopeAll})
		require.NoError(t, err)
		var want []string
		for _, c := range bd.Categories {
			for _, et := range c.EmissionTypes {
				want = append(want, et.EmissionType+"="+strconv.FormatFloat(et.TCO2eq, 'f', -1, 64))
			}
		}
		var got []string
		for _, r := range rows {
			got = append(got, r[5]+"="+r[7])
		}
		require.Equal(t, want, got)
		require.NotEmpty(t, got)
	})

	t.Run("UnitResultsPDF", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		e, b := f.export(t, f.principal, "unit_results", "pdf", map[string]any{"unit_id": f.unit.ID, "year": f.year})
		require.Equal(t, int64(1), *e.RowCount)
		require.True(t, bytes.HasPrefix(b, []byte("%PDF-")))
		text := pdfText(t, b)
		require.Equal(t, 1, strings.Count(text, "\f"), "one A4 page")
		s, err := report.GetSummary(t.Context(), f.tx, f.unit.ID, f.year, report.Options{})
		require.NoError(t, err)
		require.Contains(t, text, f.unit.Name+" ("+*f.unit.Cf+")")
		require.Contains(t, text, strconv.Itoa(int(f.year)))
		require.Contains(t, text, "in_progress (1/8 modules validated)")
		require.Contains(t, text, "2 factors")
		require.Regexp(t, `Total \(validated modules only\)\s+`+t3(s.Totals.TCO2eq), text)
		for _, sc := range []string{"1", "2", "3"} {
			require.Regexp(t, `Scope `+sc+`\s+`+t3(s.ByScopeTCO2eq[sc]), text)
		}
		for _, m := range s.Modules {
			require.Regexp(t, m.Module+`\s+`+m.Status+`\s+`+t3(m.TCO2eq), text)
		}
	})

	t.Run("UnitResultsXLSX", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, b := f.export(t, f.metier, "unit_results", "xlsx", map[string]any{"unit_id": f.unit.ID, "year": f.year})
		x, err := excelize.OpenReader(bytes.NewReader(b))
		require.NoError(t, err)
		require.Equal(t, []string{"summary", "modules", "categories", "emission_types"}, x.GetSheetList())
		rows, err := x.GetRows("summary")
		require.NoError(t, err)
		s, err := report.GetSummary(t.Context(), f.tx, f.unit.ID, f.year, report.Options{})
		require.NoError(t, err)
		got := map[string]string{}
		for _, r := range rows[1:] {
			got[r[0]] = r[1]
		}
		require.Equal(t, strconv.FormatFloat(s.Totals.TCO2eq, 'f', -1, 64), got["t_co2eq"])
		require.Equal(t, f.unit.Name, got["unit_name"])
	})
}

// The bad requests and the faults of issue 14, one test each.
func TestFaults(t *testing.T) {
	t.Parallel()

	requireCode := func(t *testing.T, err error, code apperr.Code, field string) {
		t.Helper()
		ae, ok := err.(*apperr.Error) //nolint:errorlint // the service returns the error itself
		require.True(t, ok, "%v", err)
		require.Equal(t, code, ae.Code, ae.Error())
		if field != "" {
			require.NotEmpty(t, ae.Fields)
			require.Equal(t, field, ae.Fields[0].Field)
		}
	}
	create := func(t *testing.T, f *fixture, c export.Caller, kind, format string, p map[string]any) error {
		t.Helper()
		_, err := f.svc.Create(t.Context(), c, export.Request{Kind: kind, Format: format, Params: params(t, p)})
		return err
	}

	t.Run("ExpiredIsGone", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		e, _ := f.export(t, f.principal, "unit_results", "csv", map[string]any{"unit_id": f.unit.ID, "year": f.year})
		later := &export.Service{DB: f.tx, Blob: f.svc.Blob, Now: func() time.Time { return e.ExpiresAt.Add(time.Second) }}
		_, err := later.Download(t.Context(), f.principal, e.ID)
		requireCode(t, err, apperr.CodeGone, "")
		require.Equal(t, export.ReasonGone, err.(*apperr.Error).Reason) //nolint:errorlint,forcetypeassert // checked above

		// The sweep deletes the file and marks the export expired.
		swept, err := later.Sweep(t.Context())
		require.NoError(t, err)
		require.GreaterOrEqual(t, swept.Expired, 1)
		got, err := f.svc.Get(t.Context(), f.principal, e.ID)
		require.NoError(t, err)
		require.Equal(t, export.StatusExpired, got.Status)
		require.Nil(t, got.BlobKey)
		require.Empty(t, blobFiles(t, f.blobDir))
		_, err = f.svc.Download(t.Context(), f.principal, e.ID)
		requireCode(t, err, apperr.CodeGone, "")
	})

	t.Run("ForbiddenKinds", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		requireCode(t, create(t, f, f.standard, "unit_module_entries", "csv", map[string]any{"unit_id": f.unit.ID, "year": f.year, "module": "headcount"}), apperr.CodeForbidden, "")
		requireCode(t, create(t, f, f.principal, "backoffice_results", "csv", map[string]any{}), apperr.CodeForbidden, "")
		requireCode(t, create(t, f, f.metier, "audit_log", "csv", map[string]any{}), apperr.CodeForbidden, "")
		requireCode(t, create(t, f, f.metier, "factors", "csv", map[string]any{"year": f.year}), apperr.CodeForbidden, "")
		requireCode(t, create(t, f, f.otherMetier, "unit_results", "pdf", map[string]any{"unit_id": f.unit.ID, "year": f.year}), apperr.CodeForbidden, "")
	})

	t.Run("MetierOtherAffiliation", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		err := create(t, f, f.metier, "backoffice_results", "xlsx", map[string]any{"affiliation": []int64{f.otherFac.ID}})
		requireCode(t, err, apperr.CodeForbidden, "params.affiliation")
		err = create(t, f, f.metier, "backoffice_units", "csv", map[string]any{"year": []int32{f.year}, "unit": []int64{f.other.ID}})
		requireCode(t, err, apperr.CodeForbidden, "params.unit")
		require.NoError(t, create(t, f, f.metier, "backoffice_results", "xlsx", map[string]any{"affiliation": []int64{f.faculty.ID}}))
	})

	t.Run("NotReady", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		c, err := f.svc.Create(t.Context(), f.principal, export.Request{Kind: "unit_results", Format: "pdf",
			Params: params(t, map[string]any{"unit_id": f.unit.ID, "year": f.year})})
		require.NoError(t, err)
		_, err = f.svc.Download(t.Context(), f.principal, c.Export.ID)
		requireCode(t, err, apperr.CodeConflict, "")
		require.Equal(t, export.ReasonNotReady, err.(*apperr.Error).Reason) //nolint:errorlint,forcetypeassert // checked above
	})

	t.Run("RevokedAtRun", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		c, err := f.svc.Create(t.Context(), f.metier, export.Request{Kind: "backoffice_results", Format: "csv", Params: params(t, nil)})
		require.NoError(t, err)
		_, err = f.tx.Exec(t.Context(), `UPDATE users SET roles = '[]' WHERE id = $1`, f.metier.UserID)
		require.NoError(t, err)
		err = f.svc.Run(t.Context(), c.Export.ID, noFinish)
		requireCode(t, err, apperr.CodeForbidden, "")
		require.Empty(t, blobFiles(t, f.blobDir), "nothing stored")
	})

	t.Run("SomeoneElsesExport", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		e, _ := f.export(t, f.principal, "unit_results", "csv", map[string]any{"unit_id": f.unit.ID, "year": f.year})
		_, err := f.svc.Get(t.Context(), f.standard, e.ID)
		requireCode(t, err, apperr.CodeNotFound, "")
		_, err = f.svc.Download(t.Context(), f.metier, e.ID)
		requireCode(t, err, apperr.CodeNotFound, "")
		d, err := f.svc.Download(t.Context(), f.admin, e.ID)
		require.NoError(t, err, "an administrator may")
		require.NoError(t, d.Body.Close())
		_, _, err = f.svc.List(t.Context(), f.principal, false, 0, 10)
		requireCode(t, err, apperr.CodeForbidden, "")
		rows, total, err := f.svc.List(t.Context(), f.standard, true, 0, 10)
		require.NoError(t, err)
		require.Empty(t, rows)
		require.Zero(t, total)
	})

	t.Run("TooManyRows", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.svc.MaxRows = 1
		c, err := f.svc.Create(t.Context(), f.principal, export.Request{Kind: "unit_module_entries", Format: "csv",
			Params: params(t, map[string]any{"unit_id": f.unit.ID, "year": f.year, "module": "headcount"})})
		require.NoError(t, err)
		err = f.svc.Run(t.Context(), c.Export.ID, noFinish)
		requireCode(t, err, apperr.CodeValidation, "")
		require.Equal(t, export.ReasonTooManyRows, err.(*apperr.Error).Reason) //nolint:errorlint,forcetypeassert // checked above
	})

	t.Run("Unprocessable", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		tests := []struct {
			name, kind, format string
			params             map[string]any
			field              string
		}{
			{"UnknownKind", "carbon_poster", "pdf", nil, "kind"},
			{"NoKind", "", "csv", nil, "kind"},
			{"FormatNotOffered", "unit_module_entries", "pdf", nil, "format"},
			{"UnknownParam", "unit_results", "pdf", map[string]any{"unit_id": f.unit.ID, "year": f.year, "colour": "red"}, "params.colour"},
			{"ParamOfAnotherKind", "factors", "csv", map[string]any{"year": f.year, "module": "headcount"}, "params.module"},
			{"WrongType", "unit_results", "pdf", map[string]any{"unit_id": "one", "year": f.year}, "params.unit_id"},
			{"MissingUnit", "unit_results", "pdf", map[string]any{"year": f.year}, "params.unit_id"},
			{"UnknownUnit", "unit_results", "pdf", map[string]any{"unit_id": 999999999, "year": f.year}, "params.unit_id"},
			{"NoReport", "unit_results", "pdf", map[string]any{"unit_id": f.unit.ID, "year": 2100}, "params.year"},
			{"BadBasis", "unit_results", "pdf", map[string]any{"unit_id": f.unit.ID, "year": f.year, "basis": "some"}, "params.basis"},
			{"BadLang", "unit_results", "pdf", map[string]any{"unit_id": f.unit.ID, "year": f.year, "lang": "de"}, "params.lang"},
			{"UnknownModule", "unit_module_entries", "csv", map[string]any{"unit_id": f.unit.ID, "year": f.year, "module": "cars"}, "params.module"},
			{"UnknownStatusFilter", "backoffice_results", "csv", map[string]any{"status": []string{"done"}}, "params.status"},
			{"BadModuleStatusFilter", "backoffice_usage", "csv", map[string]any{"module_status": []string{"headcount:ok"}}, "params.module_status"},
			{"UnknownUnitFilter", "backoffice_results", "csv", map[string]any{"unit": []int64{999999999}}, "params.unit"},
			{"UnitsWithoutYear", "backoffice_units", "csv", map[string]any{}, "params.year"},
			{"BadSort", "backoffice_units", "csv", map[string]any{"year": []int32{f.year}, "sort": "colour"}, "params.sort"},
			{"AuditBadAction", "audit_log", "csv", map[string]any{"action": []string{"X"}}, "params.action"},
			{"AuditBadTime", "audit_log", "csv", map[string]any{"from": "yesterday"}, "params.from"},
			{"UnknownSubmodule", "factors", "xlsx", map[string]any{"year": f.year, "submodule": "sofa"}, "params.submodule"},
		}
		for _, tt := range tests {
			err := create(t, f, f.admin, tt.kind, tt.format, tt.params)
			requireCode(t, err, apperr.CodeValidation, tt.field)
		}
	})
}

// A worker killed mid-export: the attempt stops anywhere — while writing
// the rows, or after the file was stored but before the export was marked
// ready — and the retry produces the export with one file under its key,
// no temporary file and no other blob left behind.
func TestKilledMidExport(t *testing.T) {
	t.Parallel()
	for _, at := range []string{"Render", "AfterStore"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := t.Context()
			hc := f.rep.Module(emission.ModuleHeadcount)
			addMembers(ctx, t, f, hc, 2500)
			c, err := f.svc.Create(ctx, f.principal, export.Request{Kind: "unit_module_entries", Format: "csv",
				Params: params(t, map[string]any{"unit_id": f.unit.ID, "year": f.year, "module": "headcount"})})
			require.NoError(t, err)

			killed := &killSwitch{Store: f.svc.Blob}
			first := *f.svc
			first.Blob = killed
			var kctx context.Context
			if at == "Render" {
				// Killed at the first progress report (row 1 000 of 2 502).
				var cancel context.CancelFunc
				kctx, cancel = context.WithCancel(ctx)
				export.OnProgress(&first, func(int64) { cancel() })
			} else {
				kctx = killed.arm(ctx)
			}
			err = first.Run(kctx, c.Export.ID, noFinish)
			require.Error(t, err)
			got, err := f.svc.Get(ctx, f.principal, c.Export.ID)
			require.NoError(t, err)
			require.Equal(t, export.StatusRunning, got.Status, "the attempt left it running")
			require.Empty(t, tempFiles(t, f.svc.TempDir), "the rendered file is removed")

			// River retries the job: the next attempt completes it.
			require.NoError(t, f.svc.Run(ctx, c.Export.ID, noFinish))
			got, err = f.svc.Get(ctx, f.principal, c.Export.ID)
			require.NoError(t, err)
			require.Equal(t, export.StatusReady, got.Status)
			require.Equal(t, int64(2502), *got.RowCount)
			require.Equal(t, []string{filepath.Join("exports", c.Export.ID.String()+".csv")}, blobFiles(t, f.blobDir))
			require.Empty(t, tempFiles(t, f.svc.TempDir))
		})
	}
}

// Failed exports: the final-failure hook marks them, and the sweep deletes
// whatever file an attempt stored before failing.
func TestFailedSweep(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	c, err := f.svc.Create(ctx, f.principal, export.Request{Kind: "unit_results", Format: "csv",
		Params: params(t, map[string]any{"unit_id": f.unit.ID, "year": f.year})})
	require.NoError(t, err)
	killed := &killSwitch{Store: f.svc.Blob}
	first := *f.svc
	first.Blob = killed
	require.Error(t, first.Run(killed.arm(ctx), c.Export.ID, noFinish))
	require.Len(t, blobFiles(t, f.blobDir), 1, "a file stored by the attempt")
	require.NoError(t, export.FailTx(ctx, f.tx, c.Export.ID, "attempt 3 of 3 failed"))
	swept, err := f.svc.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, swept.Failed)
	require.Empty(t, blobFiles(t, f.blobDir))
	got, err := f.svc.Get(ctx, f.principal, c.Export.ID)
	require.NoError(t, err)
	require.Equal(t, export.StatusFailed, got.Status)
	require.Equal(t, "attempt 3 of 3 failed", *got.Error)
	_, err = f.svc.Download(ctx, f.principal, c.Export.ID)
	require.Error(t, err)
}

// blobFiles lists the stored blobs (without the local store's sidecars and
// temporary files, which must not exist either).
func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		base := filepath.Base(rel)
		if strings.HasPrefix(base, ".tmp-") {
			out = append(out, rel) // a temporary file left behind is a failure
		}
		if !strings.HasPrefix(base, ".") {
			out = append(out, rel)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
