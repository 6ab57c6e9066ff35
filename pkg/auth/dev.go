package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// DevUser is a fixture user of docs/domain.md §2.1.
type DevUser struct {
	Key      string // login_hint of the dev OIDC provider
	Sciper   string
	Name     string
	Given    string
	Family   string
	Email    string
	Function string
	Roles    []perm.Assignment
}

const (
	devGiven = "Dev"
	typeLab  = "Laboratoire"
)

// DevUsers are the five fixture users.
var DevUsers = []DevUser{
	{Key: "standard", Sciper: "DEV-000001", Name: "Dev Standard", Given: devGiven, Family: "Standard", Email: "dev-standard@example.org", Function: "Lab member",
		Roles: []perm.Assignment{perm.New(perm.RoleStandard, "7918")}},
	{Key: "principal", Sciper: "DEV-000002", Name: "Dev Principal", Given: devGiven, Family: "Principal", Email: "dev-principal@example.org", Function: "Unit manager",
		Roles: []perm.Assignment{perm.New(perm.RolePrincipal, "7918")}},
	{Key: "metier", Sciper: "DEV-000003", Name: "Dev Metier", Given: devGiven, Family: "Metier", Email: "dev-metier@example.org", Function: "Business manager",
		Roles: []perm.Assignment{perm.New(perm.RoleMetier, "13030")}},
	{Key: "admin", Sciper: "DEV-000004", Name: "Dev Admin", Given: devGiven, Family: "Admin", Email: "dev-admin@example.org", Function: "Service manager",
		Roles: []perm.Assignment{perm.New(perm.RoleAdmin, "")}},
	{Key: "principal_other", Sciper: "DEV-000005", Name: "Dev Principal Other", Given: devGiven, Family: "Principal Other", Email: "dev-principal_other@example.org", Function: "Unit manager",
		Roles: []perm.Assignment{perm.New(perm.RolePrincipal, "13033")}},
}

// DevUserByKey returns the fixture user with that key.
func DevUserByKey(key string) (DevUser, bool) {
	i := slices.IndexFunc(DevUsers, func(u DevUser) bool { return u.Key == key })
	if i < 0 {
		return DevUser{}, false
	}
	return DevUsers[i], true
}

// DevUnit is a fixture unit of docs/domain.md §2.1.
type DevUnit struct {
	Code, CF, Name string
	Level          int16
	Parent         string // institutional code
	TypeLabel      string
	Principal      string // SCIPER of the unit's responsible (a DevUsers key's user), or ""
}

// DevUnits are the seven fixture units, parents first.
var DevUnits = []DevUnit{
	{Code: "10000", CF: "10000", Name: "EPFL-TEST", Level: 1, TypeLabel: "Ecole"},
	{Code: "13030", CF: "13030", Name: "ENAC-TEST", Level: 2, Parent: "10000", TypeLabel: "Faculté"},
	{Code: "13031", CF: "13031", Name: "ENAC-SG-TEST", Level: 3, Parent: "13030", TypeLabel: "Institut"},
	{Code: "13032", CF: "7918", Name: "LAB-DEMO", Level: 4, Parent: "13031", TypeLabel: typeLab, Principal: "DEV-000002"},
	{Code: "13033", CF: "13033", Name: "ENAC-OTHER-TEST", Level: 4, Parent: "13031", TypeLabel: typeLab, Principal: "DEV-000005"},
	{Code: "14000", CF: "14000", Name: "SB-TEST", Level: 2, Parent: "10000", TypeLabel: "Faculté"},
	{Code: "14001", CF: "14001", Name: "SB-LAB-TEST", Level: 4, Parent: "14000", TypeLabel: typeLab},
}

// UpsertDevUnits inserts or updates the dev fixture units (source "dev")
// under advisory lock (3,0), as accred_unit_sync does. It is idempotent.
func UpsertDevUnits(ctx context.Context, db postgres.TxBeginner, now time.Time) error {
	return postgres.WithTx(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		if err := dbsqlc.New(tx).LockUnitUpserts(ctx); err != nil {
			return err
		}
		q := dbsqlc.New(tx)
		byCode := map[string]dbsqlc.Unit{}
		for _, u := range DevUnits {
			if held, ok, err := DevUnitTakenOver(ctx, q, u.Code, u.CF); err != nil {
				return err
			} else if ok {
				byCode[u.Code] = held
				continue
			}
			codes, cfs, names := []string{u.Code}, []string{u.CF}, []string{u.Name}
			var parentID *int64
			if u.Parent != "" {
				p, ok := byCode[u.Parent]
				if !ok {
					return fmt.Errorf("dev unit %s: parent %s not upserted first", u.Code, u.Parent)
				}
				parentID = &p.ID
				codes = append(slices.Clone(p.PathCodes), u.Code)
				cfs = append(slices.Clone(p.PathCfs), u.CF)
				names = append(slices.Clone(p.PathNames), u.Name)
			}
			cf, name, typeLabel := u.CF, u.Name, u.TypeLabel
			labelEn, labelFr := u.Name+" (dev)", u.Name+" (dév)"
			sciper, pname, pemail := u.PrincipalOf()
			row, err := q.UnitUpsert(ctx, dbsqlc.UnitUpsertParams{
				InstitutionalCode: u.Code, Cf: &cf, Name: name, LabelEn: &labelEn, LabelFr: &labelFr, Level: u.Level,
				ParentID: parentID, PathCodes: codes, PathCfs: cfs, PathNames: names, UnitTypeLabel: &typeLabel,
				PrincipalSciper: sciper, PrincipalName: pname, PrincipalEmail: pemail,
				IsActive: true, Source: "dev", SyncedAt: &now,
			})
			if err != nil {
				return fmt.Errorf("error upserting dev unit %s: %w", u.Code, err)
			}
			byCode[u.Code] = row
		}
		return nil
	})
}

// PrincipalOf returns the SCIPER, name and e-mail of the fixture unit's
// responsible (nil when it has none).
func (u DevUnit) PrincipalOf() (sciper, name, email *string) {
	if u.Principal == "" {
		return nil, nil, nil
	}
	for _, du := range DevUsers {
		if du.Sciper == u.Principal {
			return &du.Sciper, &du.Name, &du.Email
		}
	}
	return &u.Principal, nil, nil
}

// unitSourceDev is units.source of the fixture units.
const unitSourceDev = "dev"

// DevUnitTakenOver tells whether the Accred unit directory took a dev
// fixture over (docs/jobs.md §4.8): a unit of source accred holds the
// fixture's institutional code or its cf. The fixture upserts then leave
// that unit alone (it is the fixture's unit now: same id, reports and
// entries) and return it.
func DevUnitTakenOver(ctx context.Context, q *dbsqlc.Queries, code, cf string) (dbsqlc.Unit, bool, error) {
	u, err := q.UnitGetByInstitutionalCode(ctx, code)
	if err == nil && u.Source != unitSourceDev {
		return u, true, nil
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return u, false, fmt.Errorf("error reading unit %s: %w", code, err)
	}
	if cf == "" {
		return dbsqlc.Unit{}, false, nil
	}
	u, err = q.UnitGetByCF(ctx, cf)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return u, false, nil
	case err != nil:
		return u, false, fmt.Errorf("error reading unit of cf %s: %w", cf, err)
	}
	return u, u.Source != unitSourceDev, nil
}
