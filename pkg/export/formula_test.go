package export_test

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/co2-calculator/co2-calculator/pkg/export"
)

// No CSV or XLSX the exports produce holds a cell a spreadsheet would
// evaluate (docs/jobs.md §7): every kind in every tabular format (CSV,
// XLSX, the CSV and XLSX members of a ZIP), with the unit's name and a
// member's name crafted as formulas, has no text cell starting with =, +,
// -, @, tab or CR, and shows the crafted names with the leading quote.
func TestFormulaSafeEverywhere(t *testing.T) {
	t.Parallel()
	for _, kind := range export.Kinds() {
		for _, format := range export.Formats(kind) {
			if format == export.FormatPDF {
				continue
			}
			t.Run(string(kind)+"_"+string(format), func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				_, err := f.tx.Exec(t.Context(), `UPDATE units SET name = $1 WHERE id = $2`, "@"+injection, f.unit.ID)
				require.NoError(t, err)
				c, p := f.admin, map[string]any{"year": []int32{f.year}}
				switch kind {
				case export.KindUnitResults, export.KindUnitBundle:
					c, p = f.principal, map[string]any{"unit_id": f.unit.ID, "year": f.year}
				case export.KindUnitModuleEntries:
					c, p = f.principal, map[string]any{"unit_id": f.unit.ID, "year": f.year, "module": "headcount"}
				case export.KindFactors:
					p = map[string]any{"year": f.year}
				case export.KindAuditLog:
					p = map[string]any{}
				case export.KindBackofficeUnits, export.KindBackofficeResults, export.KindBackofficeDetailed, export.KindBackofficeUsage:
				}
				_, b := f.export(t, c, string(kind), string(format), p)
				cells := tabularCells(t, string(format), b)
				for _, cell := range cells {
					if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
						continue
					}
					_, err := strconv.ParseFloat(cell, 64)
					require.NoError(t, err, "cell %q would be evaluated", cell)
				}
				crafted := 0
				for _, cell := range cells {
					if strings.HasPrefix(cell, "'") && strings.Contains(cell, injection) {
						crafted++
					}
				}
				switch kind {
				case export.KindAuditLog, export.KindFactors, export.KindUnitResults:
					// No unit or member name in these files.
				case export.KindUnitModuleEntries, export.KindBackofficeUnits, export.KindBackofficeResults,
					export.KindBackofficeDetailed, export.KindBackofficeUsage, export.KindUnitBundle:
					require.Positive(t, crafted, "the crafted names are in the file, neutralised")
				}
			})
		}
	}
}

// tabularCells reads every cell of a CSV, an XLSX or the CSV and XLSX
// members of a ZIP.
func tabularCells(t *testing.T, format string, b []byte) []string {
	t.Helper()
	var out []string
	switch format {
	case "csv":
		header, rows := readCSV(t, b)
		out = append(out, header...)
		for _, r := range rows {
			out = append(out, r...)
		}
	case "xlsx":
		x, err := excelize.OpenReader(bytes.NewReader(b))
		require.NoError(t, err)
		for _, sheet := range x.GetSheetList() {
			rows, err := x.GetRows(sheet)
			require.NoError(t, err)
			for _, r := range rows {
				out = append(out, r...)
			}
		}
	case "zip":
		z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		for _, m := range z.File {
			r, err := m.Open()
			require.NoError(t, err)
			raw, err := io.ReadAll(r)
			require.NoError(t, err)
			if ext := strings.TrimPrefix(path.Ext(m.Name), "."); ext == "csv" || ext == "xlsx" {
				out = append(out, tabularCells(t, ext, raw)...)
			}
		}
	}
	return out
}
