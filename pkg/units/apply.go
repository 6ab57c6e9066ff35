package units

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// Applied counts what Apply did.
type Applied struct {
	Synced      int   // units upserted
	Active      int   // of which active
	Deactivated int64 // units of the source absent from the answer, now inactive
	// Adopted counts dev fixture units taken over by an Accred unit
	// sharing their cf (a development database switching to Accred).
	Adopted int
	// Released counts units that lost a cf the directory now gives to
	// another unit.
	Released int64
	// Warnings are the answer's oddities that did not stop the sync
	// (a cf given twice, a parent missing from the answer).
	Warnings []string
}

// Apply writes one directory answer of source (ProviderAccred or
// ProviderDev) to the units table in tx (docs/jobs.md §4.8), under the
// unit-upsert lock (3, ·):
//
//   - the safety check first: an answer with no active unit, or with fewer
//     active units than half of the source's active units, is refused
//     (suspicious_unit_count) and nothing is changed;
//   - units are upserted by institutional code, so a unit keeps its id,
//     and with it its reports and entries, wherever the tree moves it;
//     parents are resolved after the whole list is known (parents first by
//     level, then a second pass for a parent listed after its child);
//   - units of the source absent from the answer become inactive, never
//     deleted;
//   - a cf belongs to the unit the directory gives it to: another unit
//     holding it loses it first (the unique cf never collides);
//   - development databases hold dev fixture units: an Accred unit whose
//     cf a dev unit holds takes that unit over (it keeps its id), and the
//     dev directory leaves alone the fixtures Accred took over (as the
//     fixture upserts of package auth and package seed do).
func Apply(ctx context.Context, tx postgres.DBTX, source string, list []Unit, now time.Time) (Applied, error) {
	q := dbsqlc.New(tx)
	var out Applied
	if err := q.LockUnitUpserts(ctx); err != nil {
		return out, fmt.Errorf("error locking the units: %w", err)
	}
	rows, err := q.UnitsDirectory(ctx)
	if err != nil {
		return out, fmt.Errorf("error reading the units: %w", err)
	}
	byCode := make(map[string]dbsqlc.UnitsDirectoryRow, len(rows))
	byCF := make(map[string]dbsqlc.UnitsDirectoryRow, len(rows))
	activeNow := 0
	for _, r := range rows {
		byCode[r.InstitutionalCode] = r
		if r.Cf != nil {
			byCF[*r.Cf] = r
		}
		if r.IsActive && r.Source == source {
			activeNow++
		}
	}

	if source == ProviderDev {
		list = slices.DeleteFunc(slices.Clone(list), func(u Unit) bool {
			held := func(r dbsqlc.UnitsDirectoryRow, ok bool) bool { return ok && r.Source != ProviderDev }
			if held(byCode[u.Code], has(byCode, u.Code)) || (u.CF != nil && held(byCF[*u.CF], has(byCF, *u.CF))) {
				out.Warnings = append(out.Warnings, fmt.Sprintf("dev unit %s is held by an Accred unit: left alone", u.Code))
				return true
			}
			return false
		})
	}
	list, out.Warnings = dedupe(list, out.Warnings)

	answerActive := 0
	for _, u := range list {
		if u.Active {
			answerActive++
		}
	}
	if answerActive == 0 || 2*answerActive < activeNow {
		return out, permanent(ReasonSuspiciousCount,
			"the %s directory lists %d active units, %d are active now: refusing a probably truncated answer, nothing changed",
			source, answerActive, activeNow)
	}

	inAnswer := make(map[string]Unit, len(list))
	for _, u := range list {
		inAnswer[u.Code] = u
	}
	if source == ProviderAccred {
		for _, u := range list {
			if u.CF == nil || has(byCode, u.Code) {
				continue
			}
			h, ok := byCF[*u.CF]
			if !ok || h.Source != ProviderDev || has(inAnswer, h.InstitutionalCode) {
				continue
			}
			if err := q.UnitAdopt(ctx, dbsqlc.UnitAdoptParams{InstitutionalCode: u.Code, ID: h.ID}); err != nil {
				return out, fmt.Errorf("error taking dev unit %s over as %s: %w", h.InstitutionalCode, u.Code, err)
			}
			delete(byCode, h.InstitutionalCode)
			h.InstitutionalCode = u.Code
			byCode[u.Code] = h
			out.Adopted++
		}
	}

	codes, cfs := []string{}, []string{}
	for _, u := range list {
		if u.CF != nil {
			codes, cfs = append(codes, u.Code), append(cfs, *u.CF)
		}
	}
	if out.Released, err = q.UnitsReleaseCFs(ctx, dbsqlc.UnitsReleaseCFsParams{Codes: codes, Cfs: cfs}); err != nil {
		return out, fmt.Errorf("error releasing reassigned cfs: %w", err)
	}

	// Parents first: a sane tree has every parent at a lower level.
	slices.SortStableFunc(list, func(a, b Unit) int { return cmp.Or(cmp.Compare(a.Level, b.Level), cmp.Compare(a.Code, b.Code)) })
	ids := make(map[string]int64, len(byCode)+len(list))
	for code, r := range byCode {
		ids[code] = r.ID
	}
	cfOf := func(code string) string {
		if u, ok := inAnswer[code]; ok {
			if u.CF != nil {
				return *u.CF
			}
			return ""
		}
		if r, ok := byCode[code]; ok && r.Cf != nil {
			return *r.Cf
		}
		return ""
	}
	var orphans []Unit
	for _, u := range list {
		pathCodes := append(slices.Clone(u.AncestorCodes), u.Code)
		pathCFs := make([]string, len(pathCodes))
		for i, c := range pathCodes {
			pathCFs[i] = cfOf(c)
		}
		pathNames := alignNames(u, pathCodes, inAnswer)
		var parentID *int64
		if u.ParentCode != "" {
			if id, ok := ids[u.ParentCode]; ok {
				parentID = &id
			} else {
				orphans = append(orphans, u)
			}
		}
		row, err := q.UnitUpsert(ctx, dbsqlc.UnitUpsertParams{
			InstitutionalCode: u.Code, Cf: u.CF, Name: u.Name, LabelEn: u.LabelEN, LabelFr: u.LabelFR, Level: u.Level,
			ParentID: parentID, PathCodes: pathCodes, PathCfs: pathCFs, PathNames: pathNames, UnitTypeLabel: u.TypeLabel,
			PrincipalSciper: u.PrincipalSciper, PrincipalName: u.PrincipalName, PrincipalEmail: u.PrincipalEmail,
			IsActive: u.Active, Source: source, SyncedAt: &now,
		})
		if err != nil {
			return out, fmt.Errorf("error upserting unit %s: %w", u.Code, err)
		}
		ids[u.Code] = row.ID
		out.Synced++
		if u.Active {
			out.Active++
		}
	}
	for _, u := range orphans {
		id, ok := ids[u.ParentCode]
		if !ok {
			out.Warnings = append(out.Warnings, fmt.Sprintf("unit %s: parent %s is unknown, stored as a root", u.Code, u.ParentCode))
			continue
		}
		if err := q.UnitSetParent(ctx, dbsqlc.UnitSetParentParams{ParentID: &id, ID: ids[u.Code]}); err != nil {
			return out, fmt.Errorf("error setting the parent of unit %s: %w", u.Code, err)
		}
	}
	keep := make([]string, 0, len(list))
	for _, u := range list {
		keep = append(keep, u.Code)
	}
	if out.Deactivated, err = q.UnitsDeactivateMissing(ctx, dbsqlc.UnitsDeactivateMissingParams{Source: source, KeepCodes: keep}); err != nil {
		return out, fmt.Errorf("error deactivating absent units: %w", err)
	}
	return out, nil
}

func has[V any](m map[string]V, k string) bool { _, ok := m[k]; return ok }

// dedupe keeps the first unit of each code, and gives a cf listed twice to
// the first active unit holding it (the others are stored without cf).
func dedupe(list []Unit, warnings []string) ([]Unit, []string) {
	seen := map[string]bool{}
	out := make([]Unit, 0, len(list))
	for _, u := range list {
		if !seen[u.Code] {
			seen[u.Code] = true
			out = append(out, u)
		}
	}
	owner := map[string]int{}
	for i, u := range out {
		if u.CF == nil {
			continue
		}
		j, taken := owner[*u.CF]
		switch {
		case !taken:
			owner[*u.CF] = i
		case u.Active && !out[j].Active:
			warnings = append(warnings, fmt.Sprintf("cf %s is listed for units %s and %s: kept by the active %s", *u.CF, out[j].Code, u.Code, u.Code))
			out[j].CF = nil
			owner[*u.CF] = i
		default:
			warnings = append(warnings, fmt.Sprintf("cf %s is listed for units %s and %s: kept by %s", *u.CF, out[j].Code, u.Code, out[j].Code))
			out[i].CF = nil
		}
	}
	return out, warnings
}

// alignNames returns path names aligned with pathCodes (the units_path
// check): the unit's own when they align, else the names of the answer.
func alignNames(u Unit, pathCodes []string, inAnswer map[string]Unit) []string {
	if len(u.PathNames) == len(pathCodes) {
		return u.PathNames
	}
	out := make([]string, len(pathCodes))
	for i, c := range pathCodes {
		out[i] = inAnswer[c].Name
	}
	out[len(out)-1] = u.Name
	return out
}

// RebuildUnitUsers rebuilds unit_users for every user from the roles
// stored on them (docs/domain.md §2.2): one row per unit whose cf matches a
// unit or own scope, role principal when a principal scope matches. It
// returns the rows inserted or changed.
func RebuildUnitUsers(ctx context.Context, db postgres.DBTX) (int64, error) {
	q := dbsqlc.New(db)
	rows, err := q.UnitsDirectory(ctx)
	if err != nil {
		return 0, fmt.Errorf("error reading the units: %w", err)
	}
	unitByCF := make(map[string]int64, len(rows))
	for _, r := range rows {
		if r.Cf != nil {
			unitByCF[*r.Cf] = r.ID
		}
	}
	users, err := q.UsersRoles(ctx)
	if err != nil {
		return 0, fmt.Errorf("error reading the users' roles: %w", err)
	}
	var p dbsqlc.UnitUsersReplaceAllParams
	p.UserIds, p.UnitIds, p.Roles = []int64{}, []int64{}, []string{}
	for _, u := range users {
		for cf, role := range perm.Memberships(auth.StoredRoles(u.Roles)) {
			if id, ok := unitByCF[cf]; ok {
				p.UserIds, p.UnitIds, p.Roles = append(p.UserIds, u.ID), append(p.UnitIds, id), append(p.Roles, role)
			}
		}
	}
	n, err := q.UnitUsersReplaceAll(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("error rebuilding unit_users: %w", err)
	}
	return n, nil
}
