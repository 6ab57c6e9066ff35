package jobs

import (
	"errors"

	"github.com/riverqueue/river"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
)

// failure maps an error of the domain to River's outcome, in one place for
// every worker. An application error (*apperr.Error: a refused year, a
// rejected file, a missing upload) cannot be fixed by a retry: the job ends
// for good (river.JobCancel) with "<code>: <message>", which the pipeline
// shows, the code being the error's typed reason (year_closed,
// no_valid_rows, …). Anything else (database or blob I/O, an unavailable
// dependency) is returned as is, and River retries it.
func failure(err error) error {
	ae, ok := errors.AsType[*apperr.Error](err)
	if !ok || ae.Code == apperr.CodeInternal || ae.Code == apperr.CodeUnavailable {
		return err
	}
	return river.JobCancel(errors.New(ae.Label() + ": " + ae.Message))
}
