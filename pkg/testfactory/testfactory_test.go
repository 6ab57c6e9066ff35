package testfactory_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

func TestDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Entry", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		e := testfactory.Entry(ctx, t, tx, nil)
		require.Equal(t, "headcount", e.Module)
		require.Equal(t, "member", e.Submodule)
		require.Equal(t, "manual", e.Source)
		p, err := emission.DecodePayload(emission.SubMember, e.Data)
		require.NoError(t, err, "the default payload is a valid member")
		require.NotNil(t, p)

		// Every entry submodule has a decodable default payload.
		rep := testfactory.Report(ctx, t, tx, nil)
		for _, m := range emission.Modules() {
			for _, sub := range m.Submodules {
				if info, _ := emission.LookupSubmodule(sub); info.FactorsOnly {
					continue
				}
				rm := rep.Module(m.Key)
				e := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{ReportModule: &rm, Submodule: new(string(sub))})
				_, err := emission.DecodePayload(sub, e.Data)
				require.NoError(t, err, "%s: %s", sub, e.Data)
				if sub == emission.SubPlane || sub == emission.SubTrain {
					require.NotNil(t, e.OwnerSciper)
				}
			}
		}
	})

	t.Run("EntryComputed", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		e := testfactory.Entry(ctx, t, tx, &testfactory.EntryOpts{KgCO2eq: new(12.5)})
		require.Equal(t, "ok", e.CalcStatus)
		require.InDelta(t, 12.5, e.KgCo2eq, 0)
		require.NotNil(t, e.ComputedAt)
	})

	t.Run("Factor", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		f := testfactory.Factor(ctx, t, tx, nil)
		require.Equal(t, "process_emissions", f.Module)
		require.Equal(t, "process_gas", f.Submodule)
		require.Equal(t, "process_emissions.refrigerants", f.EmissionType)
		require.Equal(t, "category=refrigerants|subcategory=r134a", f.ClassKey)

		// The stored row round-trips into an engine factor index.
		var cls map[string]string
		var vals map[string]any
		require.NoError(t, json.Unmarshal(f.Classification, &cls))
		require.NoError(t, json.Unmarshal(f.Values, &vals))
		_, err := emission.NewFactorIndex([]emission.Factor{{ID: emission.FactorID(f.ID), Submodule: emission.SubmoduleKey(f.Submodule), Classification: cls, Values: vals}})
		require.NoError(t, err)
	})

	t.Run("LocationAndRoom", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		a := testfactory.Location(ctx, t, tx, nil)
		require.Equal(t, "plane", a.TransportMode)
		require.Equal(t, emission.PlaneNaturalKey(*a.IataCode), a.NaturalKey)
		s := testfactory.Location(ctx, t, tx, &testfactory.LocationOpts{TransportMode: new("train"), Name: new("Lausanne")})
		require.Equal(t, "train:CH:lausanne", s.NaturalKey)
		require.Nil(t, s.IataCode)

		r := testfactory.Room(ctx, t, tx, &testfactory.RoomOpts{RoomType: new("")})
		require.Equal(t, "BX", r.BuildingName)
		require.Nil(t, r.RoomType)
	})

	t.Run("ReportAndYear", func(t *testing.T) {
		t.Parallel()
		tx := testdb.TestTx(ctx, t)
		y := testfactory.Year(ctx, t, tx, nil)
		require.Equal(t, "open", y.Status)
		var cfg struct {
			Modules map[string]struct {
				Enabled    bool                       `json:"enabled"`
				Submodules map[string]json.RawMessage `json:"submodules"`
			} `json:"modules"`
		}
		require.NoError(t, json.Unmarshal(y.Config, &cfg))
		require.Len(t, cfg.Modules, 8)
		require.Len(t, cfg.Modules["purchases"].Submodules, 8)

		u := testfactory.Unit(ctx, t, tx, &testfactory.UnitOpts{Name: new("ENAC-IT")})
		require.Equal(t, "ENAC-IT", u.Name)
		rep := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &u.ID, Year: &y.Year})
		require.Len(t, rep.Modules, 8)
		require.Equal(t, "headcount", rep.Modules[0].Module)
		again := testfactory.Report(ctx, t, tx, &testfactory.ReportOpts{UnitID: &u.ID, Year: &y.Year})
		require.Equal(t, rep.Report.ID, again.Report.ID)

		usr := testfactory.User(ctx, t, tx, nil)
		require.Equal(t, "dev", usr.Provider)
		require.JSONEq(t, `[]`, string(usr.Roles))
	})
}
