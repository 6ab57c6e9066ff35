package emission_test

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// Minimal CSV loading of ../../../shared/data for tests only; the
// production reader lives elsewhere. Files follow docs/jobs.md §5 with canonical
// column names.

const sharedData = "../../../shared/data"

func readCSV(t testing.TB, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, records)
	header := records[0]
	out := make([]map[string]string, 0, len(records)-1)
	for _, rec := range records[1:] {
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = strings.TrimSpace(rec[i])
		}
		out = append(out, row)
	}
	return out
}

func parseFloat(t testing.TB, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, s)
	return f
}

// factorClassification lists the classification columns of each factor
// upload group (docs/jobs.md §5.4); routing columns are listed separately.
var factorClassification = map[string][]string{
	"member":            {"headcount_category", "headcount_class", "headcount_subclass"},
	"student":           {"headcount_category", "headcount_class", "headcount_subclass"},
	"plane":             {"category", "cabin_class"},
	"train":             {"country_code"},
	"room":              {"building_name", "room_type"},
	"energy_combustion": {"name"},
	"embodied_energy":   {"building_name", "category"},
	"equipment":         {"equipment_class", "sub_class"},
	"purchases":         {"purchase_institutional_code", "purchase_additional_code"},
	"additional":        {"name"},
	"facility":          {"researchfacility_id", "researchfacility_name"},
	"animal_facility":   {"researchfacility_id", "researchfacility_name", "researchfacility_type"},
	"cloud":             {"service_type", "provider"},
	"ai":                {"provider", "usage_type"},
	"process_gas":       {"category", "subcategory"},
}

var routingColumn = map[string]string{"equipment": "equipment_category", "purchases": "purchase_category"}

func loadFactors(t testing.TB) []emission.Factor {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(sharedData, "factors", "*_factors_2025.csv"))
	require.NoError(t, err)
	require.Len(t, paths, len(factorClassification))
	var factors []emission.Factor
	id := emission.FactorID(0)
	for _, p := range paths {
		group := strings.TrimSuffix(filepath.Base(p), "_factors_2025.csv")
		clsCols, ok := factorClassification[group]
		require.True(t, ok, group)
		for _, row := range readCSV(t, p) {
			id++
			f := emission.Factor{ID: id, Submodule: emission.SubmoduleKey(group), Classification: map[string]string{}, Values: map[string]any{}}
			if col, ok := routingColumn[group]; ok {
				f.Submodule = emission.SubmoduleKey(row[col])
				delete(row, col)
			}
			for _, c := range clsCols {
				f.Classification[c] = row[c]
				delete(row, c)
			}
			for k, v := range row {
				if v == "" {
					continue
				}
				if k == "purchase_institutional_description" {
					k = "description"
				}
				f.Values[k] = v // numeric strings are accepted by the index
			}
			factors = append(factors, f)
		}
	}
	return factors
}

func loadLocations(t testing.TB) []emission.Location {
	t.Helper()
	var locs []emission.Location
	for _, mode := range []string{"plane", "train"} {
		for _, row := range readCSV(t, filepath.Join(sharedData, "locations", "locations_"+mode+".csv")) {
			locs = append(locs, emission.Location{
				Mode: row["transport_mode"], IATA: row["iata_code"], Name: row["name"], CountryCode: row["country_code"],
				Latitude: parseFloat(t, row["latitude"]), Longitude: parseFloat(t, row["longitude"]),
			})
		}
	}
	return locs
}

func loadRooms(t testing.TB) []emission.Room {
	t.Helper()
	var rooms []emission.Room
	for _, row := range readCSV(t, filepath.Join(sharedData, "reference", "building_rooms.csv")) {
		rooms = append(rooms, emission.Room{
			BuildingLocation: row["building_location"], BuildingName: row["building_name"], RoomName: row["room_name"],
			RoomType: row["room_type"], SurfaceM2: parseFloat(t, row["room_surface_square_meter"]),
		})
	}
	return rooms
}

// numericFields are the payload fields that are JSON numbers.
var numericFields = map[string]bool{
	"fte": true, "students": true, "months": true, "average_fte": true, "number_of_trips": true,
	"room_allocation_ratio": true, "surface_m2": true, "quantity": true,
	"active_usage_hours_per_week": true, "standby_usage_hours_per_week": true,
	"total_spent_amount": true, "annual_consumption": true, "coef_to_kg": true,
	"use": true, "spent_amount": true, "fte_count": true,
}

type sampleEntry struct {
	file  string
	line  int // 1-based data row
	raw   map[string]string
	entry emission.Entry
}

// loadSamples turns every sample row into an entry through its JSON payload
// (as a DB layer would), routing module files by their category column.
func loadSamples(t testing.TB) []sampleEntry {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(sharedData, "samples", "*_2025.csv"))
	require.NoError(t, err)
	require.Len(t, paths, 14)
	var out []sampleEntry
	for _, p := range paths {
		group := strings.TrimSuffix(filepath.Base(p), "_2025.csv")
		for i, row := range readCSV(t, p) {
			sub := emission.SubmoduleKey(group)
			if col, ok := routingColumn[group]; ok {
				sub = emission.SubmoduleKey(row[col])
			}
			obj := map[string]any{}
			for k, v := range row {
				if v == "" {
					continue
				}
				if numericFields[k] {
					obj[k] = json.Number(v)
				} else {
					obj[k] = v
				}
			}
			data, err := json.Marshal(obj)
			require.NoError(t, err)
			payload, err := emission.DecodePayload(sub, data)
			require.NoError(t, err, "%s row %d", p, i+1)
			out = append(out, sampleEntry{
				file: group, line: i + 1, raw: row,
				entry: emission.Entry{Submodule: sub, Payload: payload},
			})
		}
	}
	return out
}

// demoLookup builds the 2025 lookup of the demo lab: the factor files, the
// reference data and the 2025 ECB annual rates (docs/domain.md Appendix A).
func demoLookup(t testing.TB) *emission.Lookup {
	t.Helper()
	idx, err := emission.NewFactorIndex(loadFactors(t))
	require.NoError(t, err)
	return &emission.Lookup{
		Year:      2025,
		Factors:   idx,
		Locations: emission.NewLocations(loadLocations(t)),
		Rooms:     emission.NewRooms(loadRooms(t)),
		FX:        emission.FXRates{"CHF": 0.9360, "USD": 1.1295},
	}
}
