//nolint:goconst // column names, params and labels read better as literals
package export

import (
	"context"
	"errors"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/report"
)

// The one-page-per-unit PDF report (docs/jobs.md §7 unit_results, issue
// 14): A4 portrait; the unit, its affiliation, the year, the basis, the
// validation status and the factor set version; the totals table per
// module; the charts by scope and by chart category drawn as vectors
// (rectangles), every figure printed next to its bar so that the text of
// the page carries every number.

// pdfLabels are the headings of the report by language.
var pdfLabels = map[string]map[string]string{
	"en": {
		"title": "Carbon footprint report", "year": "Year", "basis": "Basis", "status": "Validation status",
		"factors": "Factor set", "generated": "Generated", "totals": "Totals (t CO2-eq)", "module": "Module",
		"module_status": "Status", "t": "t CO2-eq", "total": "Total", "fte": "FTE", "per_fte": "t CO2-eq per FTE",
		"scopes": "By scope (t CO2-eq)", "categories": "By category (t CO2-eq)", "scope": "Scope",
		"validated": "validated modules only", "all": "all modules", "modules_validated": "modules validated",
	},
	"fr": {
		"title": "Bilan carbone", "year": "Année", "basis": "Base", "status": "Statut de validation",
		"factors": "Jeu de facteurs", "generated": "Généré le", "totals": "Totaux (t CO2-eq)", "module": "Module",
		"module_status": "Statut", "t": "t CO2-eq", "total": "Total", "fte": "EPT", "per_fte": "t CO2-eq par EPT",
		"scopes": "Par scope (t CO2-eq)", "categories": "Par catégorie (t CO2-eq)", "scope": "Scope",
		"validated": "modules validés seulement", "all": "tous les modules", "modules_validated": "modules validés",
	},
}

// t3 prints tonnes with the edge rounding of docs/domain.md §1.
func t3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func writePDF(ctx context.Context, w io.Writer, pages func(context.Context, func(Page) error) error, p *progress) error {
	if pages == nil {
		return errors.New("a PDF export needs pages")
	}
	doc := fpdf.New("P", "mm", "A4", "")
	doc.SetCreator("co2-calculator", true)
	doc.SetAutoPageBreak(false, 10)
	tr := doc.UnicodeTranslatorFromDescriptor("") // cp1252: French accents
	err := pages(ctx, func(pg Page) error {
		drawPage(doc, tr, &pg)
		if err := doc.Error(); err != nil {
			return err
		}
		return p.row(ctx)
	})
	if err != nil {
		return err
	}
	return doc.Output(w)
}

const (
	pdfLeft  = 15.0
	pdfWidth = 180.0
)

var (
	scopeColors    = [][3]int{{0x1b, 0x5e, 0x20}, {0xf9, 0xa8, 0x25}, {0x15, 0x65, 0xc0}}
	categoryColors = [][3]int{{0x6a, 0x1b, 0x9a}, {0xad, 0x14, 0x57}, {0xc6, 0x28, 0x28}, {0xef, 0x6c, 0x00},
		{0xf9, 0xa8, 0x25}, {0x55, 0x8b, 0x2f}, {0x00, 0x83, 0x8f}, {0x15, 0x65, 0xc0}, {0x28, 0x35, 0x93},
		{0x4e, 0x34, 0x2e}, {0x61, 0x61, 0x61}, {0x37, 0x47, 0x4f}}
)

func drawPage(doc *fpdf.Fpdf, tr func(string) string, pg *Page) {
	l := pdfLabels[pg.Lang]
	if l == nil {
		l = pdfLabels["en"]
	}
	doc.AddPage()
	doc.SetTextColor(0, 0, 0)
	doc.SetFont("Helvetica", "B", 16)
	doc.SetXY(pdfLeft, 14)
	doc.CellFormat(pdfWidth, 8, tr(l["title"]), "", 1, "L", false, 0, "")
	doc.SetFont("Helvetica", "B", 12)
	doc.SetX(pdfLeft)
	name := pg.Unit.Name
	if cf := pg.cf(); cf != "" {
		name += " (" + cf + ")"
	}
	doc.CellFormat(pdfWidth, 7, tr(name), "", 1, "L", false, 0, "")
	doc.SetFont("Helvetica", "", 9)
	if a := pg.affiliation(); a != "" {
		doc.SetX(pdfLeft)
		doc.CellFormat(pdfWidth, 5, tr(a), "", 1, "L", false, 0, "")
	}
	doc.Ln(2)
	basis := l["validated"]
	if pg.Totals.Basis == report.ScopeAll {
		basis = l["all"]
	}
	info := [][2]string{
		{l["year"], strconv.Itoa(int(pg.Year))},
		{l["basis"], basis},
		{l["status"], pg.Report.OverallStatus + " (" + pg.completion() + " " + l["modules_validated"] + ")"},
		{l["factors"], pg.FactorSet},
		{l["generated"], pg.GeneratedAt.UTC().Format(time.RFC3339)},
	}
	for _, kv := range info {
		doc.SetX(pdfLeft)
		doc.SetFont("Helvetica", "B", 9)
		doc.CellFormat(40, 5, tr(kv[0]), "", 0, "L", false, 0, "")
		doc.SetFont("Helvetica", "", 9)
		doc.CellFormat(pdfWidth-40, 5, tr(kv[1]), "", 1, "L", false, 0, "")
	}

	// Totals per module.
	doc.Ln(4)
	heading(doc, tr, l["totals"])
	doc.SetFont("Helvetica", "B", 9)
	doc.SetFillColor(0xee, 0xee, 0xee)
	doc.SetX(pdfLeft)
	doc.CellFormat(90, 6, tr(l["module"]), "1", 0, "L", true, 0, "")
	doc.CellFormat(50, 6, tr(l["module_status"]), "1", 0, "L", true, 0, "")
	doc.CellFormat(40, 6, tr(l["t"]), "1", 1, "R", true, 0, "")
	doc.SetFont("Helvetica", "", 9)
	for _, m := range pg.Summary.Modules {
		doc.SetX(pdfLeft)
		doc.CellFormat(90, 5.5, m.Module, "1", 0, "L", false, 0, "")
		doc.CellFormat(50, 5.5, m.Status, "1", 0, "L", false, 0, "")
		doc.CellFormat(40, 5.5, t3(m.TCO2eq), "1", 1, "R", false, 0, "")
	}
	doc.SetFont("Helvetica", "B", 9)
	row := func(label, value string) {
		doc.SetX(pdfLeft)
		doc.CellFormat(140, 6, tr(label), "1", 0, "L", true, 0, "")
		doc.CellFormat(40, 6, value, "1", 1, "R", true, 0, "")
	}
	row(l["total"]+" ("+basis+")", t3(pg.Totals.TCO2eq))
	if pg.Totals.FTE != nil {
		row(l["fte"], strconv.FormatFloat(*pg.Totals.FTE, 'f', 2, 64))
	}
	if pg.Totals.TCO2eqPerFTE != nil {
		row(l["per_fte"], t3(*pg.Totals.TCO2eqPerFTE))
	}

	// Charts.
	doc.Ln(5)
	heading(doc, tr, l["scopes"])
	scopes := make([]bar, 3)
	for i := range scopes {
		scopes[i] = bar{label: l["scope"] + " " + strconv.Itoa(i+1), value: pg.Totals.ByScopeTCO2eq[strconv.Itoa(i+1)], color: scopeColors[i]}
	}
	drawBars(doc, tr, scopes)
	doc.Ln(4)
	heading(doc, tr, l["categories"])
	cats := make([]bar, 0, len(emission.Categories()))
	for i, c := range emission.Categories() {
		cats = append(cats, bar{label: string(c.Key), value: pg.Totals.ByCategoryTCO2eq[string(c.Key)],
			color: categoryColors[i%len(categoryColors)]})
	}
	drawBars(doc, tr, cats)
}

func heading(doc *fpdf.Fpdf, tr func(string) string, s string) {
	doc.SetFont("Helvetica", "B", 11)
	doc.SetX(pdfLeft)
	doc.CellFormat(pdfWidth, 7, tr(s), "", 1, "L", false, 0, "")
}

type bar struct {
	label string
	value float64
	color [3]int
}

// drawBars draws a horizontal bar chart: the label, a filled rectangle
// proportional to the value (the largest spans the chart), the value.
func drawBars(doc *fpdf.Fpdf, tr func(string) string, bars []bar) {
	const labelW, chartW, valueW, h = 55.0, 100.0, 25.0, 5.0
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.value)
	}
	doc.SetFont("Helvetica", "", 8.5)
	for _, b := range bars {
		y := doc.GetY()
		doc.SetX(pdfLeft)
		doc.CellFormat(labelW, h, tr(b.label), "", 0, "L", false, 0, "")
		if maxV > 0 && b.value > 0 {
			doc.SetFillColor(b.color[0], b.color[1], b.color[2])
			doc.Rect(pdfLeft+labelW, y+0.8, math.Max(chartW*b.value/maxV, 0.3), h-1.6, "F")
		}
		doc.SetDrawColor(0xbb, 0xbb, 0xbb)
		doc.Line(pdfLeft+labelW, y, pdfLeft+labelW, y+h)
		doc.SetDrawColor(0, 0, 0)
		doc.SetX(pdfLeft + labelW + chartW)
		doc.CellFormat(valueW, h, t3(b.value), "", 1, "R", false, 0, "")
	}
}
