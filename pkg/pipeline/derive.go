package pipeline

import (
	"encoding/json"
	"math"
	"slices"
	"time"
)

// Status of a pipeline (spec docs/jobs.md §2.4).
type Status string

const (
	StatusNotStarted Status = "NOT_STARTED"
	StatusRunning    Status = "RUNNING"
	StatusSuccess    Status = "SUCCESS"
	StatusPartial    Status = "PARTIAL"
	StatusFailed     Status = "FAILED"
)

// Terminal reports whether no further change is expected.
func (s Status) Terminal() bool {
	return s == StatusSuccess || s == StatusPartial || s == StatusFailed
}

// JobState is the state of one job as seen by its pipelines.
type JobState string

const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobRetrying  JobState = "retrying"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
)

// Terminal reports whether the job will not run again on its own.
func (s JobState) Terminal() bool {
	return s == JobSucceeded || s == JobFailed || s == JobCancelled
}

// Kind is a pipeline kind; its phases are fixed (docs/jobs.md §2.4).
type Kind string

const (
	KindDataUpload      Kind = "data_upload"
	KindFactorUpload    Kind = "factor_upload"
	KindFactorCompute   Kind = "factor_compute"
	KindReferenceUpload Kind = "reference_upload"
	KindRecalculation   Kind = "recalculation"
	KindTableauSync     Kind = "tableau_sync"
	KindECBSync         Kind = "ecb_sync"
	KindAccredSync      Kind = "accred_sync"
	KindYearSetup       Kind = "year_setup"
	KindExport          Kind = "export"
	KindFXManual        Kind = "fx_manual"
	KindFactorEdit      Kind = "factor_edit"
)

var kindPhases = map[Kind][]string{
	KindDataUpload:      {"validate", "replace", "load", "aggregate"},
	KindFactorUpload:    {"import", "recalculate", "aggregate"},
	KindFactorCompute:   {"import", "recalculate", "aggregate"},
	KindReferenceUpload: {"import", "recalculate", "aggregate"},
	KindRecalculation:   {"recalculate", "aggregate"},
	KindFXManual:        {"recalculate", "aggregate"},
	KindFactorEdit:      {"recalculate", "aggregate"},
	KindTableauSync:     {"fetch", "load", "aggregate"},
	KindECBSync:         {"fetch", "recalculate", "aggregate"},
	KindAccredSync:      {"fetch", "upsert", "reports"},
	KindYearSetup:       {"fetch", "upsert", "reports"},
	KindExport:          {"query", "render", "store"},
}

// Phases returns the ordered phases of a pipeline kind, or nil when the kind
// is unknown.
func (k Kind) Phases() []string { return slices.Clone(kindPhases[k]) }

// Valid reports whether k is a known pipeline kind.
func (k Kind) Valid() bool { _, ok := kindPhases[k]; return ok }

// jobKindPhases lists the phases each job kind reports, in order.
var jobKindPhases = map[string][]string{
	"upload_import":       {"validate", "replace", "load"}, // replace is skipped (load follows validate) when nothing is replaced
	"factor_import":       {"import"},
	"reference_import":    {"import"},
	"emission_recalc":     {"recalculate"},
	"aggregate":           {"aggregate"},
	"tableau_travel_sync": {"fetch", "load"},
	"ecb_fx_sync":         {"fetch"},
	"accred_unit_sync":    {"fetch", "upsert", "reports"},
	"export":              {"query", "render", "store"},
}

var phaseLabels = map[string]string{
	"validate":    "Validating rows",
	"replace":     "Removing previous rows",
	"load":        "Loading data",
	"aggregate":   "Refreshing statistics",
	"import":      "Importing",
	"recalculate": "Recalculating emissions",
	"fetch":       "Fetching",
	"upsert":      "Updating units",
	"reports":     "Creating reports",
	"query":       "Querying",
	"render":      "Rendering",
	"store":       "Storing",
}

// PhaseLabel is the English label of a phase; the SPA translates the key.
func PhaseLabel(phase string) string { return phaseLabels[phase] }

// JobProgress is what a running job last reported.
type JobProgress struct {
	Phase string `json:"phase,omitempty"`
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
}

// Job is one linked job, the input of Derive.
type Job struct {
	Kind       string
	Role       string // "root" or "child"
	State      JobState
	StartedAt  *time.Time
	FinishedAt *time.Time
	Message    string
	Progress   JobProgress
	Result     map[string]float64 // counters
}

// Derived is everything about a pipeline that is a function of its jobs.
type Derived struct {
	Status         Status
	Phase          string
	PhaseIndex     int // 1-based
	Done, Total    int64
	Percent        int
	ETASeconds     *int
	Message        string
	Counters       map[string]float64
	LastError      string
	JobCount       int
	FailedJobCount int
	StartedAt      *time.Time
	FinishedAt     *time.Time
}

// CountersJSON renders the counters for storage.
func (d Derived) CountersJSON() json.RawMessage {
	b, _ := json.Marshal(d.Counters) //nolint:errchkjson // map[string]float64 always marshals
	return b
}

// Derive computes the status and progress of a pipeline of kind k from its
// linked jobs (docs/jobs.md §2.4). It is pure: now is passed in.
func Derive(k Kind, cancelled bool, jobs []Job, now time.Time) Derived {
	phases := kindPhases[k]
	d := Derived{Counters: map[string]float64{}, JobCount: len(jobs)}

	// With no linked job nothing is terminal yet: the first phase is the
	// current one (not the last, which would show 66 % before any work).
	started, allTerminal := false, len(jobs) > 0
	rootCount, rootFailed, anyFailed := 0, 0, false
	var firstFailAt *time.Time
	for _, j := range jobs {
		if j.State != JobQueued || j.StartedAt != nil {
			started = true
		}
		if !j.State.Terminal() {
			allTerminal = false
		}
		failed := j.State == JobFailed || j.State == JobCancelled
		if failed {
			anyFailed = true
			d.FailedJobCount++
			if j.Message != "" && (firstFailAt == nil || (j.FinishedAt != nil && j.FinishedAt.Before(*firstFailAt))) {
				d.LastError = j.Message
				firstFailAt = j.FinishedAt
				if firstFailAt == nil {
					firstFailAt = &now
				}
			}
		}
		if j.Role == "root" {
			rootCount++
			if failed {
				rootFailed++
			}
		}
		for key, v := range j.Result {
			d.Counters[key] += v
		}
		if j.StartedAt != nil && (d.StartedAt == nil || j.StartedAt.Before(*d.StartedAt)) {
			d.StartedAt = j.StartedAt
		}
	}

	switch {
	case !started:
		d.Status = StatusNotStarted
	case !allTerminal:
		d.Status = StatusRunning
	case cancelled:
		d.Status = StatusFailed
	case rootCount > 0 && rootFailed == rootCount:
		d.Status = StatusFailed
	case anyFailed || d.Counters["rows_skipped"] > 0:
		d.Status = StatusPartial
	default:
		d.Status = StatusSuccess
	}
	if d.Status.Terminal() {
		for _, j := range jobs {
			if j.FinishedAt != nil && (d.FinishedAt == nil || j.FinishedAt.After(*d.FinishedAt)) {
				d.FinishedAt = j.FinishedAt
			}
		}
		if d.FinishedAt == nil {
			d.FinishedAt = &now
		}
	}

	// Current phase: the first phase not yet complete.
	d.PhaseIndex = len(phases)
	if len(phases) > 0 {
		d.Phase = phases[len(phases)-1]
	}
	for i, ph := range phases {
		if !phaseComplete(ph, jobs, allTerminal) {
			d.PhaseIndex, d.Phase = i+1, ph
			break
		}
	}

	var phaseStart *time.Time
	for _, j := range jobs {
		if !slices.Contains(jobKindPhases[j.Kind], d.Phase) {
			continue
		}
		switch {
		case j.State.Terminal() || jobPastPhase(j, d.Phase):
			total := max(j.Progress.Total, j.Progress.Done)
			d.Done += total
			d.Total += total
		case j.Progress.Phase == d.Phase:
			d.Done += j.Progress.Done
			d.Total += j.Progress.Total
			if j.Message != "" {
				d.Message = j.Message
			}
		}
		if j.StartedAt != nil && (phaseStart == nil || j.StartedAt.Before(*phaseStart)) {
			phaseStart = j.StartedAt
		}
	}

	frac := 0.0
	if d.Total > 0 {
		frac = min(float64(d.Done)/float64(d.Total), 1)
	}
	if n := len(phases); n > 0 {
		d.Percent = int(math.Floor(100 * (float64(d.PhaseIndex-1) + frac) / float64(n)))
	}
	switch d.Status {
	case StatusSuccess, StatusPartial:
		d.Percent = 100
	default:
		d.Percent = min(d.Percent, 99)
	}
	if d.Status == StatusRunning && phaseStart != nil && d.Done > 0 && d.Total > d.Done {
		elapsed := now.Sub(*phaseStart).Seconds()
		eta := int(math.Ceil(elapsed / float64(d.Done) * float64(d.Total-d.Done)))
		d.ETASeconds = &eta
	}
	if d.Message == "" {
		switch d.Status {
		case StatusNotStarted:
			d.Message = "Waiting for a worker"
		case StatusRunning:
			d.Message = PhaseLabel(d.Phase)
		case StatusSuccess:
			d.Message = "Completed"
		case StatusPartial:
			d.Message = "Completed with errors"
		case StatusFailed:
			d.Message = "Failed"
			if cancelled {
				d.Message = "Cancelled"
			}
		}
	}
	return d
}

// phaseComplete: complete when every job reporting the phase is terminal or
// has moved past it; a phase no job reports is complete once every job is
// terminal.
func phaseComplete(phase string, jobs []Job, allTerminal bool) bool {
	reported := false
	for _, j := range jobs {
		if !slices.Contains(jobKindPhases[j.Kind], phase) {
			continue
		}
		reported = true
		if !j.State.Terminal() && !jobPastPhase(j, phase) {
			return false
		}
	}
	if !reported {
		return allTerminal
	}
	return true
}

// jobPastPhase reports whether a running job has reported a phase later than
// phase in its own phase list.
func jobPastPhase(j Job, phase string) bool {
	list := jobKindPhases[j.Kind]
	return slices.Index(list, j.Progress.Phase) > slices.Index(list, phase) && slices.Index(list, phase) >= 0
}
