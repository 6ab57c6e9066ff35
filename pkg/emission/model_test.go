package emission_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

func TestCatalogue(t *testing.T) {
	t.Parallel()

	t.Run("ModulesInDisplayOrder", func(t *testing.T) {
		t.Parallel()
		var keys []emission.ModuleKey
		for _, m := range emission.Modules() {
			keys = append(keys, m.Key)
			require.NotEmpty(t, m.Submodules)
			require.NotEmpty(t, m.Roots)
		}
		require.Equal(t, []emission.ModuleKey{
			"headcount", "professional_travel", "buildings", "equipment",
			"purchases", "research_facilities", "external_cloud_ai", "process_emissions",
		}, keys)
	})

	t.Run("Submodules", func(t *testing.T) {
		t.Parallel()
		want := map[emission.ModuleKey][]emission.SubmoduleKey{
			"headcount":           {"member", "student"},
			"professional_travel": {"plane", "train"},
			"buildings":           {"room", "energy_combustion", "embodied_energy"},
			"equipment":           {"scientific", "it", "other"},
			"purchases": {"scientific_equipment", "it_equipment", "consumable_accessories",
				"biological_chemical_gaseous", "services", "vehicles", "other_purchases", "additional"},
			"research_facilities": {"facility", "animal_facility"},
			"external_cloud_ai":   {"cloud", "ai"},
			"process_emissions":   {"process_gas"},
		}
		for _, m := range emission.Modules() {
			require.Equal(t, want[m.Key], m.Submodules, m.Key)
			for _, s := range m.Submodules {
				require.Equal(t, m.Key, emission.ModuleOf(s))
			}
		}
		require.Len(t, emission.Submodules(), 23)
	})

	t.Run("SubmoduleFlags", func(t *testing.T) {
		t.Parallel()
		for _, s := range emission.Submodules() {
			require.Equal(t, s.Key == "embodied_energy", s.FactorsOnly, s.Key)
			require.Equal(t, s.Key == "student", s.MaxOnePerReport, s.Key)
			noOverride := s.Key == "member" || s.Key == "student" || s.Key == "room" || s.Key == "embodied_energy"
			require.Equal(t, !noOverride, s.OverrideAllowed, s.Key)
			if !s.FactorsOnly {
				_, err := emission.NewPayload(s.Key)
				require.NoError(t, err, s.Key)
			}
		}
		info, ok := emission.LookupSubmodule("plane")
		require.True(t, ok)
		require.Equal(t, "locations_plane", info.Reference)
		_, ok = emission.LookupSubmodule("nope")
		require.False(t, ok)
		require.Empty(t, emission.ModuleOf("nope"))
	})
}

func TestTree(t *testing.T) {
	t.Parallel()

	t.Run("LeafCountsAndAttributes", func(t *testing.T) {
		t.Parallel()
		leaves := emission.Leaves()
		require.Len(t, leaves, 100)
		perRoot := map[string]int{}
		for _, l := range leaves {
			perRoot[string(emission.Ancestors(l.Path)[0])]++
			require.NotZero(t, l.Scope, l.Path)
			require.NotEmpty(t, l.Category, l.Path)
			require.Empty(t, emission.Children(l.Path))
		}
		require.Equal(t, map[string]int{
			"food": 2, "waste": 17, "commuting": 5, "professional_travel": 5, "buildings": 42,
			"process_emissions": 4, "equipment": 3, "purchases": 9, "research_facilities": 4, "external_cloud_ai": 9,
		}, perRoot)
	})

	t.Run("ScopesAndCategories", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			path  emission.EmissionType
			leaf  bool
			scope emission.Scope
			cat   emission.Category
		}{
			{"buildings", false, 0, ""},
			{"buildings.rooms", false, 0, ""},
			{"buildings.rooms.heating_elec.office", true, 2, "buildings_room"},
			{"buildings.rooms.heating_thermal", false, 1, "buildings_energy_combustion"},
			{"buildings.rooms.heating_thermal.archives", true, 1, "buildings_energy_combustion"},
			{"buildings.combustion.other", true, 1, "buildings_energy_combustion"},
			{"buildings.construction_and_renovation.demolition", true, 3, "embodied_energy"},
			{"commuting.public_transport", true, 3, "commuting"},
			{"equipment.it", true, 2, "equipment"},
			{"external_cloud_ai.ai.others", true, 3, "external_cloud_ai"},
			{"process_emissions.refrigerants", true, 1, "process_emissions"},
			{"professional_travel.train", false, 3, "professional_travel"},
			{"purchases.additional", false, 1, "purchases"},
			{"purchases.additional.ln2", true, 1, "purchases"},
			{"purchases.other", true, 3, "purchases"},
			{"research_facilities.animal.fish", true, 3, "research_facilities"},
			{"waste.recycling.toner_and_ink_cartridges", true, 3, "waste"},
		}
		for _, tt := range tests {
			n, ok := emission.LookupNode(tt.path)
			require.True(t, ok, tt.path)
			require.Equal(t, tt.leaf, n.Leaf, tt.path)
			require.Equal(t, tt.leaf, emission.IsLeaf(tt.path), tt.path)
			require.Equal(t, tt.scope, n.Scope, tt.path)
			require.Equal(t, tt.cat, n.Category, tt.path)
		}
		_, ok := emission.LookupNode("buildings.rooms.heating")
		require.False(t, ok)
	})

	t.Run("PrefixHelpers", func(t *testing.T) {
		t.Parallel()
		require.True(t, emission.IsUnder("purchases.additional.ln2", "purchases"))
		require.True(t, emission.IsUnder("purchases", "purchases"))
		require.False(t, emission.IsUnder("purchases_x", "purchases"))
		require.False(t, emission.IsUnder("purchases", "purchases.additional"))
		require.Len(t, emission.Subtree("buildings.rooms"), 36)
		require.Len(t, emission.Subtree("external_cloud_ai"), 12)
		require.Empty(t, emission.Subtree("nope"))
		require.Equal(t, []emission.EmissionType{"buildings", "buildings.rooms", "buildings.rooms.lighting"},
			emission.Ancestors("buildings.rooms.lighting.office"))
		var keys []string
		for _, n := range emission.Children("professional_travel.plane") {
			keys = append(keys, n.Key)
		}
		require.Equal(t, []string{"first", "business", "economy"}, keys)
		// Every parent is listed before its children.
		seen := map[emission.EmissionType]bool{}
		for _, n := range emission.Nodes() {
			if n.Parent != "" {
				require.True(t, seen[n.Parent], n.Path)
			}
			seen[n.Path] = true
		}
	})

	t.Run("Categories", func(t *testing.T) {
		t.Parallel()
		cats := emission.Categories()
		require.Len(t, cats, 12)
		for i, c := range cats {
			require.Equal(t, i+1, c.Order)
			want := emission.GroupMain
			if i >= 8 {
				want = emission.GroupAdditional
			}
			require.Equal(t, want, c.Group, c.Key)
			require.Equal(t, want, c.Key.Group())
			require.Equal(t, want == emission.GroupAdditional, c.Key.IsAdditional())
		}
	})
}

func TestFactorEmissionType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sub  emission.SubmoduleKey
		cls  map[string]string
		want emission.EmissionType // "" = rejected
	}{
		{"additional", cls{"name": " Liquid  Nitrogen "}, "purchases.additional.ln2"},
		{"additional", cls{"name": "Azote liquide"}, "purchases.additional.ln2"},
		{"additional", cls{"name": "lhe"}, "purchases.additional.other"},
		{"ai", cls{"provider": "Le Chat (Mistral)", "usage_type": "text"}, "external_cloud_ai.ai.mistral_ai"},
		{"ai", cls{"provider": "Llama"}, "external_cloud_ai.ai.others"},
		{"animal_facility", cls{"researchfacility_id": "1", "researchfacility_type": "rats"}, ""},
		{"animal_facility", cls{"researchfacility_id": "1", "researchfacility_type": "Mice"}, "research_facilities.animal.mice"},
		{"cloud", cls{"service_type": "gpu"}, ""},
		{"cloud", cls{"service_type": "Storage"}, "external_cloud_ai.clouds.storage"},
		{"embodied_energy", cls{"building_name": "BX", "category": "new-tech"}, "buildings.construction_and_renovation.new_tech"},
		{"embodied_energy", cls{"building_name": "BX", "category": "rebuild"}, ""},
		{"energy_combustion", cls{"name": "coal"}, "buildings.combustion.other"},
		{"energy_combustion", cls{"name": "Natural Gas"}, "buildings.combustion.natural_gas"},
		{"facility", cls{"researchfacility_id": "4102", "researchfacility_name": "RCP"}, "research_facilities.it_facilities"},
		{"facility", cls{"researchfacility_id": "4103", "researchfacility_name": "CLEANROOM"}, "research_facilities.facilities"},
		{"it", cls{"equipment_class": "Laptop"}, "equipment.it"},
		{"member", cls{"headcount_category": "food", "headcount_class": "pizza"}, ""},
		{"member", cls{"headcount_category": "waste", "headcount_class": "recycling"}, ""},
		{"member", cls{"headcount_category": "Waste", "headcount_class": "recycling", "headcount_subclass": "Non ferrous metals"}, "waste.recycling.non_ferrous_metals"},
		{"nope", cls{}, ""},
		{"other_purchases", cls{"purchase_institutional_code": "1"}, "purchases.other"},
		{"plane", cls{"category": "x", "cabin_class": "premium"}, ""},
		{"plane", cls{"category": "x", "cabin_class": "first"}, "professional_travel.plane.first"},
		{"process_gas", cls{"category": "refrigerant"}, "process_emissions.refrigerants"},
		{"room", cls{"building_name": "BX", "room_type": "kitchen"}, ""},
		{"room", cls{"building_name": "BX"}, "buildings.rooms"},
		{"train", cls{"country_code": "RoW"}, "professional_travel.train"},
	}
	for _, tt := range tests {
		got, err := emission.FactorEmissionType(tt.sub, tt.cls)
		if tt.want == "" {
			require.Error(t, err, "%s %v", tt.sub, tt.cls)
			continue
		}
		require.NoError(t, err, "%s %v", tt.sub, tt.cls)
		require.Equal(t, tt.want, got)
	}
	_, err := emission.FactorEmissionType("cloud", cls{"service_type": "gpu"})
	require.ErrorIs(t, err, emission.ErrClassificationNotInTree)
}

func TestNewFactorIndexRejectsInvalidFactors(t *testing.T) {
	t.Parallel()
	factors := []emission.Factor{
		{ID: 1, Submodule: "train", Classification: cls{"country_code": "CH"}, Values: vals{"ef_kg_co2eq_per_km": "0.004"}},
		{ID: 2, Submodule: "train", Classification: cls{"country_code": "FR"}, Values: vals{}},
		{ID: 3, Submodule: "train", Classification: cls{"country_code": "DE"}, Values: vals{"ef_kg_co2eq_per_km": -1.0}},
		{ID: 4, Submodule: "plane", Classification: cls{"category": "x", "cabin_class": "economy"}, Values: band(0.1, 500, 100)},
		{ID: 5, Submodule: "room", Classification: cls{"building_name": "BX"}, Values: vals{
			"lighting_kwh_per_square_meter": 1, "cooling_kwh_per_square_meter": 1, "ventilation_kwh_per_square_meter": 1,
			"heating_kwh_per_square_meter": 1, "ef_kg_co2eq_per_kwh": 1, "energy_type": "nuclear",
		}},
		{ID: 6, Submodule: "cloud", Classification: cls{"service_type": "gpu"}, Values: vals{"ef_kg_co2eq_per_currency": 1}},
		{ID: 7, Submodule: "ai", Classification: cls{"provider": "x"}, Values: vals{"ef_g_co2eq_per_request": "abc"}},
		{ID: 8, Submodule: "embodied_energy", Classification: cls{"building_name": "default", "category": "demolition"}, Values: vals{"ef_kgco2eq_per_m2": 0.3}},
	}
	idx, err := emission.NewFactorIndex(factors)
	require.Error(t, err)
	require.Equal(t, 2, idx.Len())
	require.Equal(t, 1, idx.Count("train"))
	require.Equal(t, 1, idx.Count("embodied_energy"))
	require.Zero(t, idx.Count("plane"))

	var fe *emission.FactorError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, emission.FactorID(2), fe.ID)
	require.ErrorIs(t, err, emission.ErrMissingValue)
	require.ErrorIs(t, err, emission.ErrInvalidValue)
	require.ErrorIs(t, err, emission.ErrClassificationNotInTree)
	var rejected []emission.FactorID
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		require.ErrorAs(t, e, &fe)
		rejected = append(rejected, fe.ID)
	}
	require.Equal(t, []emission.FactorID{2, 3, 4, 5, 6, 7}, rejected)
}

func TestClassKeyAndFold(t *testing.T) {
	t.Parallel()
	require.Equal(t, "equipment_class=centrifuge|sub_class=benchtop",
		emission.ClassKey(map[string]string{"sub_class": " Benchtop", "equipment_class": "Centrifuge"}))
	require.Equal(t, "equipment_class=laptop", emission.ClassKey(map[string]string{"equipment_class": "LAPTOP", "sub_class": "  "}))

	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"  Mistral   AI ", "mistral ai"},
		{"Genève\tCornavin", "genève cornavin"},
		{"ZÜRICH HB", "zürich hb"},
		{"\u212a", "k"}, // Kelvin sign folds to k
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, emission.Fold(tt.in), tt.in)
	}
	require.Equal(t, "train:CH:zürich hb", emission.TrainNaturalKey("ch", " Zürich  HB"))
	require.Equal(t, "plane:GVA", emission.PlaneNaturalKey("gva"))
}

func TestAIProviderLeaf(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"Gemini (Google)": "google", "google": "google", "Mistral AI": "mistral_ai", "Claude 3": "anthropic",
		"Anthropic": "anthropic", "ChatGPT": "openai", "GPT-4o": "openai", "OpenAI": "openai",
		"Cohere": "cohere", "Others": "others", "Llama": "others",
	}
	for in, want := range tests {
		require.Equal(t, want, emission.AIProviderLeaf(in).Key, in)
	}
	for bucket, want := range map[string]float64{"1_5": 3, "5_20": 12.5, "20_100": 60, "gt_100": 100} {
		got, ok := emission.RequestsMidpoint(bucket)
		require.True(t, ok)
		require.InDelta(t, want, got, 0)
	}
	_, ok := emission.RequestsMidpoint("0")
	require.False(t, ok)
}

func TestDecodePayload(t *testing.T) {
	t.Parallel()

	t.Run("Equipment", func(t *testing.T) {
		t.Parallel()
		p, err := emission.DecodePayload("it", []byte(`{"equipment_id":"INV-1","name":"Laptop","equipment_class":"laptop",
			"sub_class":null,"active_usage_hours_per_week":40,"standby_usage_hours_per_week":128,"hours_defaulted":false,"note":null}`))
		require.NoError(t, err)
		want := &emission.Equipment{EquipmentID: "INV-1", Name: "Laptop", EquipmentClass: "laptop",
			ActiveUsageHoursPerWeek: new(40), StandbyUsageHoursPerWeek: new(128)}
		require.Empty(t, cmp.Diff(want, p))
		require.True(t, p.Accepts("scientific"))
		require.False(t, p.Accepts("scientific_equipment"))
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		_, err := emission.DecodePayload("embodied_energy", []byte(`{}`))
		require.ErrorIs(t, err, emission.ErrUnknownSubmodule)
		_, err = emission.DecodePayload("member", []byte(`{"fte":"x"}`))
		require.Error(t, err)
	})

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		p, err := emission.DecodePayload("member", []byte(`{"name":"Ada","sius_code":"53","user_institutional_id":"123456","fte":0.8}`))
		require.NoError(t, err)
		rows, out := emission.Compute(&emission.Entry{Submodule: "member", Payload: p}, fixtureLookup(t, nil), nil)
		require.Len(t, rows, 2)
		require.InDelta(t, 400, float64(out.Kg), 1e-9)
	})
}
