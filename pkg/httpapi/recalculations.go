package httpapi

import (
	"net/http"

	"github.com/co2-calculator/co2-calculator/jobs"
	"github.com/co2-calculator/co2-calculator/pkg/calc"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// recalcRequest is the body of POST /recalculations (docs/api.md §9).
type recalcRequest struct {
	Year    int32    `json:"year"`
	Modules []string `json:"modules"`
	// OnlyNeeded defaults to true: only the modules whose recalculation
	// is requested and not done yet.
	OnlyNeeded *bool `json:"only_needed"`
}

// postRecalculation is POST /recalculations (bo(configuration, edit)):
// 202 {pipeline} (kind recalculation: one emission_recalc per module, each
// chaining aggregate); 400 nothing_to_recalculate when only_needed finds
// nothing to do.
func (s *Server) postRecalculation(r *http.Request) (response, error) {
	var body recalcRequest
	if err := decodeJSON(r, &body); err != nil {
		return response{}, err
	}
	req := calc.RecalcRequest{Year: body.Year, OnlyNeeded: body.OnlyNeeded == nil || *body.OnlyNeeded, Actor: callerUserID(r.Context())}
	for _, m := range body.Modules {
		req.Modules = append(req.Modules, emission.ModuleKey(m))
	}
	var enqueue calc.RecalcEnqueuer
	if s.River != nil {
		enqueue = jobs.EnqueueRecalc(s.River)
	}
	p, err := calc.Recalculate(r.Context(), s.Pool, enqueue, req)
	if err != nil {
		return response{}, err
	}
	return accepted(pipelineAnswer{Pipeline: p}), nil
}
