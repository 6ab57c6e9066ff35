package years

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

// The year configuration (docs/domain.md §11.2, years.config) is kept as a
// JSON object: a PATCH deep-merges into it (objects merge, arrays and
// scalars replace) and the result is validated as a whole, every problem
// named by its path under "config" (config.modules.equipment.submodules.it
// .threshold_kg, config.reduction_objectives.goals[0].target_year).

// Keys of the configuration (and of a few payloads) used more than once.
const (
	keyModules    = "modules"
	keyObjectives = "reduction_objectives"
	keyFiles      = "files"
	keyEnabled    = "enabled"
	keyUploadID   = "upload_id"
	keyFilename   = "filename"
	keyUploadedAt = "uploaded_at"
	keyYear       = "year"
	keyFootprint  = "institutional_footprint"
	keyPopulation = "population_projections"
	keyScenarios  = "unit_scenarios"
)

// Uncertainties are the values of modules.<m>.uncertainty.
var Uncertainties = []string{"none", "low", "medium", "high"}

// ObjectiveDatasets are the reduction-objective files (docs/jobs.md §5.6)
// and the configuration list each one replaces.
var ObjectiveDatasets = map[string]string{
	ingest.DatasetFootprint:  keyFootprint,
	ingest.DatasetPopulation: keyPopulation,
	ingest.DatasetScenarios:  keyScenarios,
}

// noFiles is reduction_objectives.files of a year without files.
func noFiles() map[string]any {
	out := map[string]any{}
	for ds := range ObjectiveDatasets {
		out[ds] = nil
	}
	return out
}

// maxListItems bounds each reduction-objective list.
const maxListItems = 1000

// DefaultConfig is the configuration of a year created without a previous
// one: every module and submodule enabled, uncertainty none, no threshold,
// empty reduction objectives.
func DefaultConfig() map[string]any {
	modules := map[string]any{}
	for _, m := range emission.Modules() {
		subs := map[string]any{}
		for _, s := range m.Submodules {
			subs[string(s)] = map[string]any{keyEnabled: true, "threshold_kg": nil, "inputs_disabled": false}
		}
		modules[string(m.Key)] = map[string]any{keyEnabled: true, "uncertainty": "none", "submodules": subs}
	}
	return map[string]any{
		keyModules: modules,
		keyObjectives: map[string]any{
			keyFiles:      noFiles(),
			keyFootprint:  []any{},
			keyPopulation: []any{},
			keyScenarios:  []any{},
			"goals":       []any{},
		},
	}
}

// decodeObject decodes a JSON object keeping numbers exact.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok || m == nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

// merge deep-merges patch into dst: objects merge key by key, anything
// else (arrays, scalars, null) replaces.
func merge(dst, patch map[string]any) {
	for k, v := range patch {
		pm, pok := v.(map[string]any)
		dm, dok := dst[k].(map[string]any)
		if pok && dok {
			merge(dm, pm)
			continue
		}
		dst[k] = v
	}
}

// EnabledModules lists the module keys a configuration enables, in display
// order (a module missing from it, or without "enabled", is enabled).
func EnabledModules(raw json.RawMessage) []string {
	cfg, _ := decodeObject(raw)
	mods, _ := cfg[keyModules].(map[string]any)
	out := make([]string, 0, 8)
	for _, m := range emission.Modules() {
		mc, _ := mods[string(m.Key)].(map[string]any)
		if on, ok := mc[keyEnabled].(bool); ok && !on {
			continue
		}
		out = append(out, string(m.Key))
	}
	return out
}

// submoduleEnabled reads modules.<m>.submodules.<s>.enabled (missing:
// enabled).
func submoduleEnabled(cfg map[string]any, module, sub string) bool {
	mods, _ := cfg[keyModules].(map[string]any)
	mc, _ := mods[module].(map[string]any)
	subs, _ := mc["submodules"].(map[string]any)
	sc, _ := subs[sub].(map[string]any)
	on, ok := sc[keyEnabled].(bool)
	return !ok || on
}

// validator collects the field errors of a configuration.
type validator struct {
	year int32
	errs []apperr.FieldError
}

func (v *validator) addf(path, code, format string, args ...any) {
	v.errs = append(v.errs, apperr.FieldError{Field: path, Code: code, Message: fmt.Sprintf(format, args...)})
}

// ValidateConfig checks a whole configuration of year (docs/domain.md
// §11.2); the field errors are sorted by path.
func ValidateConfig(cfg map[string]any, year int32) []apperr.FieldError {
	v := &validator{year: year}
	v.object("config", cfg, map[string]func(string, any){
		keyModules:    v.modules,
		keyObjectives: v.objectives,
	}, nil)
	slices.SortStableFunc(v.errs, func(a, b apperr.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return v.errs
}

// object checks that val is an object whose keys are known (fields), and
// runs each field's check; required names the keys that must be present.
func (v *validator) object(path string, val any, fields map[string]func(string, any), required []string) {
	m, ok := val.(map[string]any)
	if !ok {
		v.addf(path, "invalid_format", "must be an object")
		return
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		check, known := fields[k]
		if !known {
			v.addf(path+"."+k, "unknown_field", "unknown field")
			continue
		}
		check(path+"."+k, m[k])
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			v.addf(path+"."+k, "required", "%s is required", k)
		}
	}
}

func (v *validator) modules(path string, val any) {
	fields := map[string]func(string, any){}
	for _, m := range emission.Modules() {
		fields[string(m.Key)] = func(p string, x any) { v.module(p, m, x) }
	}
	v.object(path, val, fields, nil)
}

func (v *validator) module(path string, m emission.ModuleInfo, val any) {
	subs := map[string]func(string, any){}
	for _, s := range m.Submodules {
		subs[string(s)] = func(p string, x any) { v.submodule(p, s, x) }
	}
	v.object(path, val, map[string]func(string, any){
		keyEnabled:    v.boolean,
		"uncertainty": func(p string, x any) { v.enum(p, x, Uncertainties) },
		"submodules":  func(p string, x any) { v.object(p, x, subs, nil) },
	}, nil)
}

func (v *validator) submodule(path string, s emission.SubmoduleKey, val any) {
	v.object(path, val, map[string]func(string, any){
		keyEnabled:        v.boolean,
		"inputs_disabled": v.boolean,
		"threshold_kg": func(p string, x any) {
			if x == nil {
				return
			}
			if s == emission.SubMember || s == emission.SubStudent {
				v.addf(p, "not_allowed", "no threshold on %s", s)
				return
			}
			v.number(p, x, 0, math.Inf(1))
		},
	}, nil)
}

func (v *validator) objectives(path string, val any) {
	file := func(p string, x any) {
		if x == nil {
			return
		}
		v.object(p, x, map[string]func(string, any){
			keyUploadID: func(p string, x any) {
				if s, ok := x.(string); !ok || uuid.Validate(s) != nil {
					v.addf(p, "invalid_format", "must be a UUID")
				}
			},
			keyFilename: func(p string, x any) { v.text(p, x, 255) },
			keyUploadedAt: func(p string, x any) {
				if s, ok := x.(string); !ok {
					v.addf(p, "invalid_format", "must be an RFC 3339 time")
				} else if _, err := time.Parse(time.RFC3339, s); err != nil {
					v.addf(p, "invalid_format", "must be an RFC 3339 time")
				}
			},
		}, []string{keyUploadID, keyFilename, keyUploadedAt})
	}
	files := map[string]func(string, any){}
	for ds := range ObjectiveDatasets {
		files[ds] = file
	}
	year := func(p string, x any) { v.integer(p, x, Min-100, Max+100) }
	share := func(p string, x any) { v.number(p, x, 0, 1) }
	nonNeg := func(p string, x any) { v.number(p, x, 0, math.Inf(1)) }
	name := func(p string, x any) { v.text(p, x, 100) }
	v.object(path, val, map[string]func(string, any){
		keyFiles: func(p string, x any) { v.object(p, x, files, nil) },
		keyFootprint: v.list(map[string]func(string, any){
			keyYear: year, "category": name, "t_co2eq": nonNeg}, keyYear, "category", "t_co2eq"),
		keyPopulation: v.list(map[string]func(string, any){
			keyYear: year, "population": nonNeg}, keyYear, "population"),
		keyScenarios: v.list(map[string]func(string, any){
			"scenario": name, keyYear: year, "reduction_percentage": share}, "scenario", keyYear, "reduction_percentage"),
		"goals": v.goals,
	}, nil)
}

// list checks an array of objects with the given fields, all required.
func (v *validator) list(fields map[string]func(string, any), required ...string) func(string, any) {
	return func(path string, val any) {
		items, ok := val.([]any)
		if !ok {
			v.addf(path, "invalid_format", "must be an array")
			return
		}
		if len(items) > maxListItems {
			v.addf(path, "too_long", "at most %d items", maxListItems)
			return
		}
		for i, it := range items {
			v.object(path+"["+strconv.Itoa(i)+"]", it, fields, required)
		}
	}
}

// goals checks the reduction goals: target_year after the configuration's
// year, reference_year before target_year, 0 ≤ reduction_percentage ≤ 1.
func (v *validator) goals(path string, val any) {
	v.list(map[string]func(string, any){
		"target_year": func(p string, x any) {
			if v.integer(p, x, Min-100, Max+100) {
				if t, _ := toFloat(x); t <= float64(v.year) {
					v.addf(p, "out_of_range", "must be after %d", v.year)
				}
			}
		},
		"reference_year":       func(p string, x any) { v.integer(p, x, Min-100, Max+100) },
		"reduction_percentage": func(p string, x any) { v.number(p, x, 0, 1) },
	}, "target_year", "reference_year", "reduction_percentage")(path, val)
	items, _ := val.([]any)
	for i, it := range items {
		g, _ := it.(map[string]any)
		t, tok := toFloat(g["target_year"])
		r, rok := toFloat(g["reference_year"])
		if tok && rok && r >= t {
			v.addf(path+"["+strconv.Itoa(i)+"].reference_year", "out_of_range", "must be before target_year")
		}
	}
}

func (v *validator) boolean(path string, val any) {
	if _, ok := val.(bool); !ok {
		v.addf(path, "invalid_format", "must be true or false")
	}
}

func (v *validator) enum(path string, val any, allowed []string) {
	if s, ok := val.(string); !ok || !slices.Contains(allowed, s) {
		v.addf(path, "invalid_enum", "must be one of %s", strings.Join(allowed, ", "))
	}
}

func (v *validator) text(path string, val any, maxLen int) {
	s, ok := val.(string)
	switch {
	case !ok:
		v.addf(path, "invalid_format", "must be a string")
	case strings.TrimSpace(s) == "":
		v.addf(path, "required", "must not be empty")
	case len([]rune(s)) > maxLen:
		v.addf(path, "too_long", "at most %d characters", maxLen)
	}
}

func (v *validator) number(path string, val any, lo, hi float64) bool {
	f, ok := toFloat(val)
	if !ok {
		v.addf(path, "invalid_format", "must be a number")
		return false
	}
	if f < lo || f > hi {
		if math.IsInf(hi, 1) {
			v.addf(path, "out_of_range", "must be >= %g", lo)
		} else {
			v.addf(path, "out_of_range", "must be between %g and %g", lo, hi)
		}
		return false
	}
	return true
}

func (v *validator) integer(path string, val any, lo, hi float64) bool {
	f, ok := toFloat(val)
	if !ok || f != math.Trunc(f) {
		v.addf(path, "invalid_format", "must be an integer")
		return false
	}
	return v.number(path, val, lo, hi)
}

// toFloat reads a JSON number (json.Number or float64).
func toFloat(val any) (float64, bool) {
	switch x := val.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}
