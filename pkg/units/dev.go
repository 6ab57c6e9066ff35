package units

import (
	"context"

	"github.com/co2-calculator/co2-calculator/pkg/auth"
)

// Dev is the directory of the dev unit fixtures (docs/domain.md §2.1,
// auth.DevUnits), for UNIT_PROVIDER=dev: what `migrate seed-demo` and the
// API (role provider dev) upsert, read through the same path as Accred.
type Dev struct{}

// Name implements Source.
func (Dev) Name() string { return ProviderDev }

// Fetch implements Source.
func (Dev) Fetch(_ context.Context, progress func(done, total int)) ([]Unit, error) {
	byCode := map[string]Unit{}
	out := make([]Unit, 0, len(auth.DevUnits))
	for _, du := range auth.DevUnits {
		u := Unit{Code: du.Code, CF: new(du.CF), Name: du.Name, LabelEN: new(du.Name + " (dev)"), LabelFR: new(du.Name + " (dév)"),
			Level: du.Level, ParentCode: du.Parent, TypeLabel: new(du.TypeLabel), Active: true}
		u.PrincipalSciper, u.PrincipalName, u.PrincipalEmail = du.PrincipalOf()
		if p, ok := byCode[du.Parent]; ok {
			u.AncestorCodes = append(append([]string{}, p.AncestorCodes...), p.Code)
			u.PathNames = append(append([]string{}, p.PathNames...), du.Name)
		} else {
			u.PathNames = []string{du.Name}
		}
		byCode[du.Code] = u
		out = append(out, u)
	}
	if progress != nil {
		progress(len(out), len(out))
	}
	return out, nil
}
