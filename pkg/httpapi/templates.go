package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

// templateTable resolves GET /templates/{kind}/{group}.csv to its CSV
// table: data_<group> (per-year layout), factors_<group>,
// reference_<dataset> (docs/jobs.md §5).
func templateTable(kind, group string) (*ingest.Table, error) {
	var (
		t   *ingest.Table
		err error
	)
	switch kind {
	case "data":
		t, err = ingest.DataTable(group, true)
	case "factors":
		t, err = ingest.FactorTable(group)
	case "reference":
		t, err = ingest.ReferenceTable(group)
	default:
		return nil, apperr.NotFound("no template kind %q", kind)
	}
	if err != nil {
		return nil, apperr.NotFound("no %s template %q", kind, group)
	}
	return t, nil
}

// getTemplate is GET /templates/{kind}/{group}.csv (auth): the header line
// of an upload group, as a CSV attachment.
func (s *Server) getTemplate(r *http.Request) (response, error) {
	kind, group := chi.URLParam(r, "kind"), chi.URLParam(r, "group")
	t, err := templateTable(kind, group)
	if err != nil {
		return response{}, err
	}
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Name
	}
	return stream(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		cw := newCSVResponse(w, templatePrefix(kind)+group+".csv")
		_ = cw.Write(header)
		cw.Flush()
	}), nil
}

func templatePrefix(kind string) string {
	if kind == "factors" {
		return "factors_"
	}
	return kind + "_"
}
