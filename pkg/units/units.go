// Package units is the unit directory (docs/domain.md §2.1, docs/jobs.md
// §4.8, §9.1): where the units come from (a Source: Accred, or the dev
// fixtures), how one answer of the directory is written to the units table
// (Apply: upsert by institutional code with the tree resolved after the
// whole list, absent units deactivated and never deleted, the safety check
// against a truncated answer), and the rebuild of unit_users from the
// roles stored on the users (RebuildUnitUsers). The year setup of package
// years runs them; nothing else writes units except the dev-fixture
// upserts of package auth and package seed.
package units

import (
	"context"
	"errors"
	"fmt"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
)

// Unit is one unit of a directory answer, mapped to the columns of the
// units table (docs/domain.md §3.1).
type Unit struct {
	Code string  // institutional_code (the Accred unit id)
	CF   *string // nil when the directory gives none (empty or "0")
	Name string
	// LabelEN, LabelFR and TypeLabel are optional texts.
	LabelEN, LabelFR, TypeLabel *string
	Level                       int16 // 1..4
	// ParentCode is the parent's code ("" for a root); AncestorCodes the
	// codes of the ancestors, root first, without the unit itself.
	ParentCode    string
	AncestorCodes []string
	// PathNames are the names of the ancestors then the unit (aligned with
	// AncestorCodes + Code); nil derives them from the names of the answer.
	PathNames []string
	// The unit's responsible person, when known.
	PrincipalSciper, PrincipalName, PrincipalEmail *string
	Active                                         bool
}

// Source is a unit directory: Name is the units.source it writes ("accred"
// or "dev"), Fetch reads the whole directory, reporting its progress
// (units read, units announced; total 0 while unknown).
type Source interface {
	Name() string
	Fetch(ctx context.Context, progress func(done, total int)) ([]Unit, error)
}

// Provider names (UNIT_PROVIDER) and the units.source they write.
const (
	ProviderAccred = "accred"
	ProviderDev    = "dev"
)

// The failure codes of a sync (docs/jobs.md §3): the first three end the
// job for good, the last one is retried.
const (
	// ReasonSuspiciousCount refuses an answer holding fewer than half of
	// the active units (a truncated directory): nothing is changed.
	ReasonSuspiciousCount apperr.Reason = "suspicious_unit_count"
	// ReasonUpstreamAuth: the directory refused the credentials.
	ReasonUpstreamAuth apperr.Reason = "upstream_auth_failed"
	// ReasonUpstreamSchema: the directory answered something that is not
	// the documented schema.
	ReasonUpstreamSchema apperr.Reason = "upstream_schema_changed"
	// ReasonUpstreamUnavailable: the directory could not be reached or
	// answered 429 or 5xx (transient; ErrUnavailable).
	ReasonUpstreamUnavailable apperr.Reason = "upstream_unavailable"
)

// ErrUnavailable marks a transient directory failure: the caller retries.
var ErrUnavailable = errors.New(string(ReasonUpstreamUnavailable))

// permanent builds a failure that a retry cannot fix.
func permanent(reason apperr.Reason, format string, args ...any) *apperr.Error {
	return apperr.WithReason(apperr.CodeConflict, reason, format, args...)
}

// unavailable builds a transient failure ("upstream_unavailable: …").
func unavailable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnavailable, fmt.Sprintf(format, args...))
}
