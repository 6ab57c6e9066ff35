package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/report"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

type meUser struct {
	ID            int64      `json:"id"`
	Sciper        string     `json:"sciper"`
	Email         *string    `json:"email"`
	DisplayName   *string    `json:"display_name"`
	FunctionTitle *string    `json:"function_title"`
	Provider      string     `json:"provider"`
	LastLoginAt   *time.Time `json:"last_login_at"`
}

type meResponse struct {
	User            meUser            `json:"user"`
	Roles           []perm.Assignment `json:"roles"`
	Permissions     []perm.Grant      `json:"permissions"`
	BackofficePages []string          `json:"backoffice_pages"`
	IsDevUser       bool              `json:"is_dev_user"`
}

// me answers GET /me (a pure DB read: the session row of requireAuth).
func (s *Server) me(r *http.Request) (response, error) {
	p := principalFrom(r.Context())
	u := p.User
	return ok(meResponse{
		User: meUser{ID: u.ID, Sciper: u.Sciper, Email: u.Email, DisplayName: u.DisplayName, FunctionTitle: u.FunctionTitle,
			Provider: u.Provider, LastLoginAt: u.LastLoginAt},
		Roles: p.Perms.Roles(), Permissions: p.Perms.Grants(), BackofficePages: p.Perms.BackofficePages(),
		IsDevUser: u.Provider == "dev",
	}), nil
}

type meUnitReport struct {
	Year             int32  `json:"year"`
	OverallStatus    string `json:"overall_status"`
	ValidatedModules int16  `json:"validated_modules"`
	EnabledModules   int16  `json:"enabled_modules"`
}

type meUnit struct {
	Unit    report.Unit    `json:"unit"`
	Role    string         `json:"role"`
	Reports []meUnitReport `json:"reports"`
}

// meUnits answers GET /me/units.
func (s *Server) meUnits(r *http.Request) (response, error) {
	p := principalFrom(r.Context())
	q := dbsqlc.New(s.Pool)
	rows, err := q.MeUnits(r.Context(), p.User.ID)
	if err != nil {
		return response{}, fmt.Errorf("error listing the units of user %d: %w", p.User.ID, err)
	}
	ids := make([]int64, 0, len(rows))
	for _, row := range rows {
		ids = append(ids, row.Unit.ID)
	}
	reports, err := q.MeUnitReports(r.Context(), dbsqlc.MeUnitReportsParams{UnitIds: ids, Statuses: years.VisibleTo(p.Perms.IsAdmin())})
	if err != nil {
		return response{}, fmt.Errorf("error listing reports: %w", err)
	}
	out := make([]meUnit, 0, len(rows))
	for _, row := range rows {
		mu := meUnit{Unit: report.ToUnit(row.Unit), Role: row.Role, Reports: []meUnitReport{}}
		for _, rep := range reports {
			if rep.UnitID == row.Unit.ID {
				mu.Reports = append(mu.Reports, meUnitReport{Year: rep.Year, OverallStatus: rep.OverallStatus,
					ValidatedModules: rep.ValidatedModules, EnabledModules: rep.EnabledModules})
			}
		}
		out = append(out, mu)
	}
	slices.SortStableFunc(out, func(a, b meUnit) int {
		const principal = "principal"
		if (a.Role == principal) != (b.Role == principal) {
			if a.Role == principal {
				return -1
			}
			return 1
		}
		return 0
	})
	return ok(out), nil
}
