package entry_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/entry"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
	"github.com/co2-calculator/co2-calculator/pkg/testfactory"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

type testBundle struct {
	ctx  context.Context
	tx   pgx.Tx
	q    *dbsqlc.Queries
	svc  *entry.Service
	rep  testfactory.ReportBundle
	year int32
	user dbsqlc.User
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	tx := testdb.TestTx(ctx, t)
	rep := testfactory.Report(ctx, t, tx, nil)
	return &testBundle{
		ctx: ctx, tx: tx, q: dbsqlc.New(tx), svc: entry.New(tx), rep: rep, year: rep.Report.Year,
		user: testfactory.User(ctx, t, tx, nil),
	}
}

func (b *testBundle) scope(sub emission.SubmoduleKey) entry.Scope {
	return entry.Scope{UnitID: b.rep.Report.UnitID, Year: b.year, Module: emission.ModuleOf(sub), Submodule: sub}
}

func (b *testBundle) actor() entry.Actor { return entry.Actor{UserID: &b.user.ID} }

func (b *testBundle) factor(t *testing.T, sub emission.SubmoduleKey, cls map[string]string, vals map[string]any) dbsqlc.Factor {
	t.Helper()
	return testfactory.Factor(b.ctx, t, b.tx, &testfactory.FactorOpts{Year: &b.year, Submodule: new(string(sub)), Classification: cls, Values: vals})
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// requireAppErr checks an application error's code and wire reason.
func requireAppErr(t *testing.T, err error, code apperr.Code, reason string) *apperr.Error {
	t.Helper()
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, code, ae.Code, ae.Error())
	require.Equal(t, reason, string(ae.Reason), ae.Error())
	return ae
}

// requireFieldError checks a 422 with one detail on field with code.
func requireFieldError(t *testing.T, err error, field, code string) {
	t.Helper()
	ae := requireAppErr(t, err, apperr.CodeValidation, "")
	for _, f := range ae.Fields {
		if f.Field == field && f.Code == code {
			return
		}
	}
	require.Failf(t, "field error not found", "want %s/%s in %+v", field, code, ae.Fields)
}

// Coordinates of the worked examples (docs/domain.md §7.2).
var (
	gva = [2]float64{46.238098, 6.10895}
	zrh = [2]float64{47.458056, 8.548056}
)

func TestCRUDPerSubmodule(t *testing.T) {
	t.Parallel()

	type crudCase struct {
		sub     emission.SubmoduleKey
		prepare func(t *testing.T, b *testBundle) (create, patch map[string]any)
		wantKg  float64
		patchKg float64
		check   func(t *testing.T, e *entry.Entry)
	}
	cases := []crudCase{
		{sub: emission.SubMember, prepare: func(t *testing.T, b *testBundle) (map[string]any, map[string]any) {
			t.Helper()
			b.factor(t, emission.SubMember, nil, nil) // food.vegetarian 100 kg/FTE × 2
			return map[string]any{"name": " Ada Lovelace ", "sius_code": 53, "user_institutional_id": "123456", "fte": 0.8},
				map[string]any{"fte": 0.5}
		}, wantKg: 160, patchKg: 100, check: func(t *testing.T, e *entry.Entry) {
			t.Helper()
			require.Equal(t, "Ada Lovelace", e.Data["name"])
			require.Equal(t, "53", e.Data["sius_code"])
			require.Contains(t, e.Data, "note")
			require.Nil(t, e.Data["note"])
		}},
		{sub: emission.SubPlane, prepare: func(t *testing.T, b *testBundle) (map[string]any, map[string]any) {
			t.Helper()
			o := testfactory.Location(b.ctx, t, b.tx, &testfactory.LocationOpts{Latitude: &gva[0], Longitude: &gva[1], Name: new("Geneva Test")})
			d := testfactory.Location(b.ctx, t, b.tx, &testfactory.LocationOpts{Latitude: &zrh[0], Longitude: &zrh[1]})
			b.factor(t, emission.SubPlane, map[string]string{"cabin_class": "economy", "category": "very_short_haul"},
				map[string]any{"ef_kg_co2eq_per_km": 0.258, "rfi_adjustment": 2, "min_distance": 0, "max_distance": 500})
			return map[string]any{"origin_iata": *o.IataCode, "destination_iata": *d.IataCode, "user_institutional_id": "200001",
					"cabin_class": "Economy", "departure_date": dateIn(b.year)},
				map[string]any{"number_of_trips": 2}
		}, wantKg: 167.70, patchKg: 335.40, check: func(t *testing.T, e *entry.Entry) {
			t.Helper()
			require.Equal(t, "economy", e.Data["cabin_class"])
			require.Equal(t, "200001", *e.Row.OwnerSciper)
			require.Equal(t, "Geneva Test", e.Details.OriginName)
			require.Equal(t, "very_short_haul", e.Details.HaulBand)
		}},
		{sub: emission.SubTrain, prepare: func(t *testing.T, b *testBundle) (map[string]any, map[string]any) {
			t.Helper()
			o := testfactory.Location(b.ctx, t, b.tx, &testfactory.LocationOpts{TransportMode: new("train"), Name: new("Zürich HB T"),
				Latitude: new(47.378186), Longitude: new(8.539203)})
			d := testfactory.Location(b.ctx, t, b.tx, &testfactory.LocationOpts{TransportMode: new("train"), Name: new("Genève Cornavin T"),
				Latitude: new(46.210208), Longitude: new(6.142428)})
			b.factor(t, emission.SubTrain, nil, nil) // CH 0.004
			return map[string]any{"origin_key": o.NaturalKey, "destination_key": d.NaturalKey, "user_institutional_id": "200002",
					"cabin_class": "second"},
				map[string]any{"cabin_class": "first"}
		}, wantKg: 269 * 0.004, patchKg: 269 * 0.004, check: func(t *testing.T, e *entry.Entry) {
			t.Helper()
			require.Equal(t, "Zürich HB T", e.Data["origin_name"])
			require.Equal(t, "CH", e.Data["origin_country_code"])
			require.InDelta(t, 269, e.Details.DistanceKm, 0)
		}},
		{sub: emission.SubRoom, prepare: func(t *testing.T, b *testBundle) (map[string]any, map[string]any) {
			t.Helper()
			room := testfactory.Room(b.ctx, t, b.tx, nil) // BX, office, 20 m²
			b.factor(t, emission.SubRoom, nil, nil)       // (15+8+12+25) kWh/m² × 0.125
			return map[string]any{"building_name": "bx", "room_name": room.RoomName}, map[string]any{"room_allocation_ratio": 0.5}
		}, wantKg: 150, patchKg: 75, check: func(t *testing.T, e *entry.Entry) {
			t.Helper()
			require.Equal(t, "office", e.Data["room_type"], "defaulted from the reference room")
			require.InDelta(t, 20, e.Details.SurfaceM2, 0)
		}},
		{sub: emission.SubIT, prepare: func(t *testing.T, b *testBundle) (map[string]any, map[string]any) {
			t.Helper()
			b.factor(t, emission.SubIT, nil, nil) // 500/15 W, default 10/158 h, 0.125
			return map[string]any{"equipment_id": "INV-1", "name": "Centrifuge", "equipment_class": "centrifuge", "sub_class": "benchtop"},
				map[string]any{"active_usage_hours_per_week": 40, "standby_usage_hours_per_week": 128}
		}, wantKg: (10*500 + 158*15) * 52.0 / 1000 * 0.125, patchKg: (40*500 + 128*15) * 52.0 / 1000 * 0.125, check: func(t *testing.T, e *entry.Entry) {
			t.Helper()
			require.InDelta(t, 500, e.Details.ActivePowerW, 0)
		}},
		{sub: emission.SubITEquipment, prepare: func(t *testing.T, b *testBundle) (map[string]any, map[string]any) {
			t.Helper()
			b.factor(t, emission.SubITEquipment, nil, nil) // P1000, 0.5 kg/EUR
			_, err := b.q.FXRateUpsert(b.ctx, dbsqlc.FXRateUpsertParams{Year: b.year, Currency: "CHF", PerEur: 0.95, Source: "manual"})
			require.NoError(t, err)
			return map[string]any{"name": "Laptops", "total_spent_amount": 1000, "purchase_institutional_code": "P1000"},
				map[string]any{"currency": "eur"}
		}, wantKg: 526.32, patchKg: 500, check: func(t *testing.T, e *entry.Entry) {
			t.Helper()
			require.Equal(t, "CHF", e.Data["currency"], "default currency")
		}},
		{sub: emission.SubCloud, prepare: func(t *testing.T, b *testBundle) (map[string]any, map[string]any) {
			t.Helper()
			b.factor(t, emission.SubCloud, nil, nil) // compute/AWS 0.12 kg/EUR
			return map[string]any{"service_type": "compute", "provider": "AWS", "spent_amount": 1200}, map[string]any{"spent_amount": 100}
		}, wantKg: 144, patchKg: 12},
		{sub: emission.SubAI, prepare: func(t *testing.T, b *testBundle) (map[string]any, map[string]any) {
			t.Helper()
			b.factor(t, emission.SubAI, nil, nil) // Gemini (Google)/text 1 g
			return map[string]any{"provider": "Gemini (Google)", "usage_type": "text", "requests_per_user_per_day": "5_20", "fte_count": 2},
				map[string]any{"fte_count": 4}
		}, wantKg: 5.75, patchKg: 11.5, check: func(t *testing.T, e *entry.Entry) {
			t.Helper()
			require.Equal(t, "google", e.Details.ProviderLeaf)
			require.Len(t, e.Emissions, 1, "one row on the provider leaf (R2.1)")
		}},
		{sub: emission.SubProcessGas, prepare: func(t *testing.T, b *testBundle) (map[string]any, map[string]any) {
			t.Helper()
			b.factor(t, emission.SubProcessGas, nil, nil) // refrigerants/R134a 1430
			return map[string]any{"category": "refrigerant", "subcategory": "R134a", "quantity": 2}, map[string]any{"quantity": 1}
		}, wantKg: 2860, patchKg: 1430, check: func(t *testing.T, e *entry.Entry) {
			t.Helper()
			require.Equal(t, "refrigerants", e.Data["category"])
		}},
	}
	for _, tt := range cases {
		t.Run(string(tt.sub), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			create, patch := tt.prepare(t, b)
			sc := b.scope(tt.sub)

			e, err := b.svc.Create(b.ctx, b.actor(), sc, mustJSON(t, create))
			require.NoError(t, err)
			require.Equal(t, "ok", e.Row.CalcStatus, e.Row.CalcMessage)
			require.InDelta(t, tt.wantKg, e.Row.KgCo2eq, 0.01)
			require.NotEmpty(t, e.Emissions)
			require.Equal(t, int32(1), e.Row.Version)
			require.Equal(t, b.user.ID, e.CreatedBy.ID)
			if tt.check != nil {
				tt.check(t, e)
			}

			got, err := b.svc.Get(b.ctx, b.actor(), sc, e.Row.ID)
			require.NoError(t, err)
			require.InDelta(t, tt.wantKg, got.Row.KgCo2eq, 0.01)
			require.Equal(t, e.Data, got.Data)
			require.Equal(t, e.Details, got.Details, "GET derives the same details as the write")

			up, err := b.svc.Update(b.ctx, b.actor(), sc, e.Row.ID, mustJSON(t, patch), &e.Row.Version)
			require.NoError(t, err)
			require.Equal(t, int32(2), up.Row.Version)
			require.InDelta(t, tt.patchKg, up.Row.KgCo2eq, 0.01)
			var sum float64
			for _, em := range up.Emissions {
				sum += em.KgCo2eq
			}
			require.InDelta(t, up.Row.KgCo2eq, sum, 1e-9, "emission rows replaced, not added")

			rm, err := b.q.ReportModuleGet(b.ctx, b.rep.Module(sc.Module).ID)
			require.NoError(t, err)
			require.Equal(t, "in_progress", rm.Status)
			require.NotNil(t, rm.StatsDirtyAt)

			require.NoError(t, b.svc.Delete(b.ctx, b.actor(), sc, e.Row.ID, nil))
			_, err = b.svc.Get(b.ctx, b.actor(), sc, e.Row.ID)
			requireAppErr(t, err, apperr.CodeNotFound, "")
			rows, err := b.q.EmissionsByEntry(b.ctx, e.Row.ID)
			require.NoError(t, err)
			require.Empty(t, rows)
		})
	}
}

func dateIn(year int32) string { return strconv.Itoa(int(year)) + "-03-01" }
