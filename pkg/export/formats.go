package export

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// The writers of docs/jobs.md §7, each streaming its rows from the source
// to w: CSV with encoding/csv, XLSX with excelize's stream writer, ZIP with
// archive/zip, PDF with fpdf (pdf.go).

// content is what an export is made of, built by its kind from the params.
type content struct {
	// Tables are written in order: the CSV (exactly one), the XLSX sheets,
	// or the ZIP's CSV members.
	Tables []Table
	// Pages are the units of the one-page-per-unit PDF report (pdf).
	Pages func(ctx context.Context, emit func(Page) error) error
	// Members are whole documents a ZIP carries besides its tables (the
	// unit bundle's report PDF and XLSX).
	Members []Member
	// Total is the number of rows and pages the render phase writes: the
	// progress total and the too_many_rows check.
	Total int64
	// Estimate says Total only bounds the rows (a source without a count):
	// too_many_rows is then checked while writing only.
	Estimate bool
}

// Member is a document inside a ZIP.
type Member struct {
	Name    string // file name in the archive, with its extension
	Format  Format
	Content content
}

// SafeCell applies the formula-injection guard of docs/jobs.md §7 to a CSV
// text cell: a value starting with =, +, -, @, tab or CR is prefixed with
// a single quote, so that a spreadsheet shows it as text instead of
// evaluating it.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// NewCSVWriter starts a CSV of docs/jobs.md §7 on w: UTF-8 with a BOM,
// `,`, RFC 4180 quoting, CRLF line ends; text cells go through SafeCell.
// The writer is returned even when writing the BOM failed (its writes then
// fail too).
func NewCSVWriter(w io.Writer) (*csv.Writer, error) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	_, err := io.WriteString(w, "\ufeff")
	return cw, err
}

// render writes c in format f to w.
func render(ctx context.Context, w io.Writer, f Format, c content, p *progress) error {
	switch f {
	case FormatCSV:
		if len(c.Tables) != 1 {
			return fmt.Errorf("a CSV export holds one table, not %d", len(c.Tables))
		}
		return writeCSV(ctx, w, c.Tables[0], p)
	case FormatXLSX:
		return writeXLSX(ctx, w, c.Tables, p)
	case FormatZIP:
		return writeZIP(ctx, w, c, p)
	case FormatPDF:
		return writePDF(ctx, w, c.Pages, p)
	default:
		return fmt.Errorf("unknown format %q", f)
	}
}

func writeCSV(ctx context.Context, w io.Writer, t Table, p *progress) error {
	cw, err := NewCSVWriter(w)
	if err != nil {
		return err
	}
	header := t.Header()
	for i, h := range header {
		header[i] = SafeCell(h)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	err = t.Rows(ctx, func(row []any) error {
		for i := range rec {
			rec[i] = ""
			if i < len(row) {
				rec[i] = text(row[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		return p.row(ctx)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// maxSheetRows is the row limit of an XLSX sheet (header included).
const maxSheetRows = 1 << 20

func writeXLSX(ctx context.Context, w io.Writer, tables []Table, p *progress) error {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	first := f.GetSheetName(0)
	for i, t := range tables {
		if i == 0 {
			if err := f.SetSheetName(first, t.Name); err != nil {
				return fmt.Errorf("error naming sheet %q: %w", t.Name, err)
			}
		} else if _, err := f.NewSheet(t.Name); err != nil {
			return fmt.Errorf("error adding sheet %q: %w", t.Name, err)
		}
		if err := writeSheet(ctx, f, t, bold, p); err != nil {
			return err
		}
	}
	if len(tables) == 0 {
		return errors.New("an XLSX export needs at least one table")
	}
	// excelize assembles the workbook's ZIP in a memory buffer (WriteTo →
	// WriteToBuffer): its zip writer is pointed at w instead, so the sheets
	// streamed to excelize's temporary files go straight through to w and
	// the buffer stays empty. (The ZIP64 header fix-up it applies to that
	// buffer concerns parts over 4 GiB, which MaxRows keeps us far from.)
	var zw *zip.Writer
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw = zip.NewWriter(w)
		return zw
	})
	if err := f.Write(io.Discard); err != nil {
		return err
	}
	if zw == nil {
		return errors.New("excelize did not write the workbook")
	}
	return nil
}

// writeSheet streams one table into its sheet: a bold header row frozen
// above the rows, numbers as numeric cells.
func writeSheet(ctx context.Context, f *excelize.File, t Table, bold int, p *progress) error {
	sw, err := f.NewStreamWriter(t.Name)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	header := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = excelize.Cell{StyleID: bold, Value: SafeCell(c.Name)}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	n := 1
	cells := make([]any, len(t.Columns))
	err = t.Rows(ctx, func(row []any) error {
		n++
		if n > maxSheetRows {
			return errTooManyRows(int64(n-1), maxSheetRows-1)
		}
		for i := range cells {
			cells[i] = nil
			if i < len(row) {
				cells[i] = cellValue(row[i])
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, cells); err != nil {
			return err
		}
		return p.row(ctx)
	})
	if err != nil {
		return err
	}
	return sw.Flush()
}

// cellValue is the XLSX value of a row value: numbers stay numbers, times
// are RFC 3339 text, text stays text (never a formula).
func cellValue(v any) any {
	switch x := v.(type) {
	case string:
		// A text cell is never evaluated when the file opens, but editing it
		// would turn it into a formula: guarded like a CSV cell.
		return SafeCell(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case bool:
		if x {
			return "true"
		}
		return "false"
	default:
		return v
	}
}

func writeZIP(ctx context.Context, w io.Writer, c content, p *progress) error {
	zw := zip.NewWriter(w)
	now := time.Now()
	for _, m := range c.Members {
		mw, err := zw.CreateHeader(&zip.FileHeader{Name: m.Name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		if err := render(ctx, mw, m.Format, m.Content, p); err != nil {
			return err
		}
	}
	for _, t := range c.Tables {
		mw, err := zw.CreateHeader(&zip.FileHeader{Name: t.file(), Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		if err := writeCSV(ctx, mw, t, p); err != nil {
			return err
		}
	}
	return zw.Close()
}
