package ingest_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

// parseData parses a data file and returns the loaded rows and all row
// errors.
func parseData(t *testing.T, group string, opts ingest.DataOptions, input string) ([]ingest.DataRow, []ingest.RowError) {
	t.Helper()
	tbl, err := ingest.DataTable(group, opts.PerYear)
	require.NoError(t, err)
	r, err := ingest.NewReader(strings.NewReader(input), tbl, nil)
	require.NoError(t, err)
	p, err := ingest.NewDataParser(group, opts)
	require.NoError(t, err)
	var rows []ingest.DataRow
	var all []ingest.RowError
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		row, errs := p.Parse(rec)
		all = append(all, errs...)
		if !ingest.HasErrors(errs) {
			if opts.NoData {
				require.Nil(t, row.Data)
			} else {
				// The engine must accept the stored payload, and decode
				// exactly the parsed one (calc.ComputeDecoded).
				decoded, err := emission.DecodePayload(row.Submodule, row.Data)
				require.NoError(t, err)
				require.Equal(t, row.Payload, decoded)
			}
			rows = append(rows, row)
		}
	}
	return rows, all
}

func parseFactors(t *testing.T, group, input string) ([]ingest.FactorRow, []ingest.RowError, error) {
	t.Helper()
	tbl, err := ingest.FactorTable(group)
	require.NoError(t, err)
	r, err := ingest.NewReader(strings.NewReader(input), tbl, nil)
	if err != nil {
		return nil, nil, err
	}
	p, err := ingest.NewFactorParser(group, "")
	require.NoError(t, err)
	var rows []ingest.FactorRow
	var all []ingest.RowError
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rows, all, err
		}
		row, errs := p.Parse(rec)
		all = append(all, errs...)
		if !ingest.HasErrors(errs) {
			rows = append(rows, row)
		}
	}
	return rows, all, p.Finish()
}

type wantErr struct {
	row, line int
	column    string
	code      string
	severity  ingest.Severity
}

func requireErrors(t *testing.T, want []wantErr, got []ingest.RowError) {
	t.Helper()
	gotW := make([]wantErr, len(got))
	for i, e := range got {
		gotW[i] = wantErr{e.Row, e.Line, e.ColumnName(), e.Code, e.Severity}
	}
	require.Equal(t, want, gotW)
}

var onlyUnit7918 = func(cf string) ingest.UnitStatus {
	switch cf {
	case "7918":
		return ingest.UnitActive
	case "7923":
		return ingest.UnitInactive
	}
	return ingest.UnitUnknown
}

func TestDataParserFixtures(t *testing.T) {
	t.Parallel()
	perYear := ingest.DataOptions{PerYear: true, Unit: onlyUnit7918, Year: 2025}

	t.Run("MemberMixed", func(t *testing.T) {
		t.Parallel()
		rows, errs := parseData(t, "member", perYear, "unit_institutional_id,name,sius_code,user_institutional_id,fte\n"+
			"7918,Ada,54,100001,0.8\n"+
			"F7918,Bob,51.0,100002,1\n"+
			"7918,Carl,54,100003,1.5\n"+
			"ZZZ,Dora,54,100004,0.5\n")
		require.Len(t, rows, 2)
		require.Equal(t, "7918", rows[1].UnitCF, "F7918 → 7918")
		m := rows[1].Payload.(*emission.Member)
		require.Equal(t, "51", m.SiusCode)
		requireErrors(t, []wantErr{
			{3, 4, "fte", ingest.CodeOutOfRange, ingest.SeverityError},
			{4, 5, "unit_institutional_id", ingest.CodeUnknownUnit, ingest.SeverityError},
		}, errs)
	})
	t.Run("MemberNoUnitColumn", func(t *testing.T) {
		t.Parallel()
		tbl, err := ingest.DataTable("member", true)
		require.NoError(t, err)
		_, err = ingest.NewReader(strings.NewReader("name,sius_code,sciper,fte\nAda,54,1,1\n"), tbl, nil)
		fe := requireFileError(t, err, ingest.CodeMissingColumns)
		require.Equal(t, []string{"unit_institutional_id"}, fe.Columns)
	})
	t.Run("SemicolonBOM", func(t *testing.T) {
		t.Parallel()
		rows, errs := parseData(t, "member", perYear, "\uFEFFcf;Name;function_code;SCIPER;FTE\r\n7918;Ada;54;100001;0,8\r\n")
		require.Empty(t, errs)
		require.Len(t, rows, 1)
		require.InDelta(t, 0.8, rows[0].Payload.(*emission.Member).FTE, 0)
	})
	t.Run("EquipmentHoursExceedWeek", func(t *testing.T) {
		t.Parallel()
		rows, errs := parseData(t, "it", ingest.DataOptions{}, "equipment_id,name,class,active_hours,standby_hours\n"+
			"INV-1,Laptop,Laptop,100,100\nINV-2,Laptop,Laptop,40,128\n")
		require.Len(t, rows, 1)
		requireErrors(t, []wantErr{{1, 2, "standby_usage_hours_per_week", ingest.CodeHoursExceedWeek, ingest.SeverityError}}, errs)
	})
	t.Run("PlaneOverride", func(t *testing.T) {
		t.Parallel()
		rows, errs := parseData(t, "plane", perYear, "unit_institutional_id,origin,destination,sciper,class,trips,kg_co2eq\n"+
			"7918,GVA,ZRH,100001,economy,1,152.685\n"+
			"7918,CDG,JFK,100001,Economy,1,420.5\n"+
			"7918,gva,lhr,100002,business,2,380.0\n"+
			"7918,GVA,LHR,100002,business,1,-5\n"+
			"7918,GVA,LHR,100002,business,1,abc\n")
		require.Len(t, rows, 5)
		want := []float64{152.685, 420.5, 380}
		for i, w := range want {
			require.NotNil(t, rows[i].KgOverride)
			require.InDelta(t, w, *rows[i].KgOverride, 0)
		}
		require.Nil(t, rows[3].KgOverride)
		require.Nil(t, rows[4].KgOverride)
		p := rows[2].Payload.(*emission.Plane)
		require.Equal(t, "GVA", p.OriginIATA)
		require.Equal(t, "LHR", p.DestinationIATA)
		require.Equal(t, 2, p.NumberOfTrips)
		require.Equal(t, "100002", rows[2].OwnerSciper)
		requireErrors(t, []wantErr{
			{4, 5, "kg_co2eq", ingest.CodeOverrideIgnored, ingest.SeverityWarning},
			{5, 6, "kg_co2eq", ingest.CodeOverrideIgnored, ingest.SeverityWarning},
		}, errs)
	})
}

func TestDataParserErrors(t *testing.T) {
	t.Parallel()
	perYear := ingest.DataOptions{PerYear: true, Unit: onlyUnit7918, Year: 2025}
	tests := []struct {
		name   string
		group  string
		opts   ingest.DataOptions
		input  string
		loaded int
		want   []wantErr
	}{
		{
			name: "MemberFieldErrors", group: "member", opts: perYear,
			input: "cf,name,sius_code,user_institutional_id,fte,kg_co2eq\n" +
				"7923,A,54,1,0.5,\n" + // inactive unit
				"7918,,55,1 2,x,\n" + // required name, sius enum, sciper chars, fte number
				"7918,B,54,100001,0.5,10\n" + // override ignored for member
				"7918,C,54,100001,0.5,\n", // duplicate SCIPER
			loaded: 1,
			want: []wantErr{
				{1, 2, "unit_institutional_id", ingest.CodeInactiveUnit, ingest.SeverityError},
				{2, 3, "name", ingest.CodeRequired, ingest.SeverityError},
				{2, 3, "sius_code", ingest.CodeInvalidEnum, ingest.SeverityError},
				{2, 3, "user_institutional_id", ingest.CodeOutOfRange, ingest.SeverityError},
				{2, 3, "fte", ingest.CodeInvalidNumber, ingest.SeverityError},
				{3, 4, "kg_co2eq", ingest.CodeOverrideIgnored, ingest.SeverityWarning},
				{4, 5, "user_institutional_id", ingest.CodeDuplicateInstitutionalID, ingest.SeverityError},
			},
		},
		{
			name: "StudentHelpersAndDuplicate", group: "student", opts: perYear,
			input:  "cf,fte,students,months,average_fte\n7918,,13,6,1\n7918,1,,,\n7918,,13,,\n",
			loaded: 1,
			want: []wantErr{
				{2, 3, "", ingest.CodeDuplicateInFile, ingest.SeverityError},
				{3, 4, "fte", ingest.CodeRequired, ingest.SeverityError},
			},
		},
		{
			name: "PlaneDatesTripsClass", group: "plane", opts: perYear,
			input: "cf,origin_iata,destination_iata,sciper,cabin_class,departure_date,number_of_trips\n" +
				"7918,GVA,GVA,1,premium,2024-12-31,0\n" +
				"7918,GV1,ZRH,1,economy,31.02.2025,1.5\n" +
				"7918,GVA,ZRH,1,first,20250105,3.0\n",
			loaded: 1,
			want: []wantErr{
				{1, 2, "destination_iata", ingest.CodeOutOfRange, ingest.SeverityError},
				{1, 2, "cabin_class", ingest.CodeInvalidEnum, ingest.SeverityError},
				{1, 2, "departure_date", ingest.CodeOutOfRange, ingest.SeverityError},
				{1, 2, "number_of_trips", ingest.CodeOutOfRange, ingest.SeverityError},
				{2, 3, "origin_iata", ingest.CodeOutOfRange, ingest.SeverityError},
				{2, 3, "departure_date", ingest.CodeInvalidDate, ingest.SeverityError},
				{2, 3, "number_of_trips", ingest.CodeInvalidInteger, ingest.SeverityError},
			},
		},
		{
			name: "EquipmentModuleRouting", group: ingest.GroupEquipment,
			input: "category,equipment_id,name,equipment_class,active_usage_hours_per_week\n" +
				"scientific,1,Centrifuge,Centrifuge,40\n" +
				",2,PC,Laptop,10\n" +
				"lab,3,PC,Laptop,10\n" +
				"IT,4,PC,Laptop,200\n",
			loaded: 1,
			want: []wantErr{
				{2, 3, "equipment_category", ingest.CodeRequired, ingest.SeverityError},
				{3, 4, "equipment_category", ingest.CodeInvalidEnum, ingest.SeverityError},
				{4, 5, "active_usage_hours_per_week", ingest.CodeOutOfRange, ingest.SeverityError},
			},
		},
		{
			name: "EquipmentPinnedMismatch", group: "scientific",
			input:  "equipment_category,equipment_id,name,equipment_class\nit,1,PC,Laptop\nscientific,2,C,Centrifuge\n",
			loaded: 1,
			want:   []wantErr{{1, 2, "equipment_category", ingest.CodeCategoryMismatch, ingest.SeverityError}},
		},
		{
			name: "PurchasesInferred", group: ingest.GroupPurchases,
			opts: ingest.DataOptions{PurchaseCategories: func(code, add string) []emission.SubmoduleKey {
				switch code {
				case "1":
					return []emission.SubmoduleKey{emission.SubServices}
				case "2":
					return []emission.SubmoduleKey{emission.SubServices, emission.SubVehicles}
				}
				return nil
			}},
			input: "name,amount,code,currency,category\n" +
				"Consulting,100,1,chf,\n" +
				"Car,100,2,EUR,\n" +
				"X,100,3,EUR,\n" +
				"Y,100,1,EUR,furniture\n" +
				"Z,100,1,EUR,biological_chemical_gaseous_product\n" +
				"W,-1,1,EURO,\n",
			loaded: 2,
			want: []wantErr{
				{2, 3, "purchase_institutional_code", ingest.CodeAmbiguousCategory, ingest.SeverityError},
				{3, 4, "purchase_institutional_code", ingest.CodeNoFactorForCode, ingest.SeverityError},
				{4, 5, "purchase_category", ingest.CodeUnknownCategory, ingest.SeverityError},
				{6, 7, "total_spent_amount", ingest.CodeOutOfRange, ingest.SeverityError},
				{6, 7, "currency", ingest.CodeInvalidEnum, ingest.SeverityError},
			},
		},
		{
			name: "RoomAndProcessGasAndAI", group: "room",
			input: "building_name,room_name,room_type,allocation_ratio,room_surface_square_meter\n" +
				"BX,BX-1,Office,0.5,\nBX,,kitchen,0,-3\n",
			loaded: 1,
			want: []wantErr{
				{2, 3, "room_name", ingest.CodeRequired, ingest.SeverityError},
				{2, 3, "room_type", ingest.CodeInvalidEnum, ingest.SeverityError},
				{2, 3, "room_allocation_ratio", ingest.CodeOutOfRange, ingest.SeverityError},
				{2, 3, "surface_m2", ingest.CodeOutOfRange, ingest.SeverityError},
			},
		},
		{
			name: "AI", group: "ai",
			input:  "provider,usage_type,requests_per_day,user_count\nClaude,code,5_20,2\nX,text,lots,0.05\n",
			loaded: 1,
			want: []wantErr{
				{2, 3, "requests_per_user_per_day", ingest.CodeInvalidEnum, ingest.SeverityError},
				{2, 3, "fte_count", ingest.CodeOutOfRange, ingest.SeverityError},
			},
		},
		{
			name: "ProcessGasAlias", group: "process_gas",
			input:  "gas,subcategory,quantity\nRefrigerant,R134a,1.2\nh2o,,1\n",
			loaded: 1,
			want:   []wantErr{{2, 3, "category", ingest.CodeInvalidEnum, ingest.SeverityError}},
		},
		{
			name: "NoteTooLong", group: "additional",
			input:  "name,unit,consumption,coef_to_kg,note\nln2,L,10,0.8," + strings.Repeat("n", 1001) + "\nlhe,L,10,0,\n",
			loaded: 0,
			want: []wantErr{
				{1, 2, "note", ingest.CodeTooLong, ingest.SeverityError},
				{2, 3, "coef_to_kg", ingest.CodeOutOfRange, ingest.SeverityError},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, errs := parseData(t, tt.group, tt.opts, tt.input)
			require.Len(t, rows, tt.loaded)
			requireErrors(t, tt.want, errs)
			// The validate pass's parser finds the same rows and errors.
			opts := tt.opts
			opts.NoData = true
			vrows, verrs := parseData(t, tt.group, opts, tt.input)
			require.Len(t, vrows, tt.loaded)
			require.Equal(t, errs, verrs)
		})
	}
}

func TestDataParserPayloads(t *testing.T) {
	t.Parallel()
	rows, errs := parseData(t, ingest.GroupPurchases, ingest.DataOptions{},
		"purchase_category,name,total_spent_amount,currency,purchase_institutional_code,purchase_additional_code\n"+
			"it_equipment,GPU,48500,usd,43211500,IA24\n")
	require.Empty(t, errs)
	require.Equal(t, emission.SubITEquipment, rows[0].Submodule)
	require.Equal(t, emission.ModulePurchases, rows[0].Module)
	require.JSONEq(t, `{"name":"GPU","total_spent_amount":48500,"currency":"USD",
		"purchase_institutional_code":"43211500","purchase_additional_code":"IA24"}`, string(rows[0].Data))

	rows, errs = parseData(t, "train", ingest.DataOptions{},
		"origin,origin_country,destination,destination_country,sciper,class,date\nGenève Cornavin,ch,Paris Gare de Lyon,FR,100001,Second,2025/03/07\n")
	require.Empty(t, errs)
	require.JSONEq(t, `{"origin_name":"Genève Cornavin","destination_name":"Paris Gare de Lyon","origin_country_code":"CH",
		"destination_country_code":"FR","user_institutional_id":"100001","cabin_class":"second","departure_date":"2025-03-07"}`, string(rows[0].Data))
}

func TestFactorParserErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		group  string
		input  string
		loaded int
		want   []wantErr
		file   string // FileError code from Finish
	}{
		{
			name: "HeadcountNotInTree", group: "member",
			input: "headcount_category,headcount_class,headcount_subclass,number_of_unit_per_fte,ef_kg_co2eq_per_unit,unit,year\n" +
				"food,vegetarian,,30,1.8,kg,2025\n" +
				"waste,recycling,,1,1,kg,2025\n" +
				"food,vegetarian,,31,1.9,kg,2025\n" +
				"food,pizza,,1,-1,kg,2025\n",
			loaded: 1,
			want: []wantErr{
				{2, 3, "", ingest.CodeClassificationNotInTree, ingest.SeverityError},
				{3, 4, "", ingest.CodeDuplicateInFile, ingest.SeverityError},
				{4, 5, "ef_kg_co2eq_per_unit", ingest.CodeOutOfRange, ingest.SeverityError},
			},
		},
		{
			name: "PlaneBandsOverlap", group: "plane",
			input: "category,cabin_class,ef_kg_co2eq_per_km,rfi_adjustment,min_distance,max_distance,class_adjustement\n" +
				"short,economy,0.1,2,0,500,1\nlong,economy,0.1,2,400,1000,1\nbad,economy,0.1,0.5,1000,900,1\n",
			loaded: 2,
			want: []wantErr{
				{3, 4, "rfi_adjustment", ingest.CodeOutOfRange, ingest.SeverityError},
				{3, 4, "max_distance", ingest.CodeOutOfRange, ingest.SeverityError},
			},
			file: ingest.CodeOverlappingBands,
		},
		{
			name: "AnimalSharesAndRoomConversion", group: "animal_facility",
			input: "researchfacility_id,researchfacility_name,researchfacility_type,use_unit,total_use,processemissions_share\n" +
				"4201,AF,mice,cage_days,100,1.2\n4201,AF,dogs,cage_days,100,0.5\n4201,AF,fish,cage_days,100,0.5\n",
			loaded: 1,
			want: []wantErr{
				{1, 2, "process_emissions_share", ingest.CodeOutOfRange, ingest.SeverityError},
				{2, 3, "", ingest.CodeClassificationNotInTree, ingest.SeverityError},
			},
		},
		{
			name: "RoomConversion", group: "room",
			input: "building_name,room_type,lighting_kwh_per_square_meter,cooling_kwh_per_square_meter,ventilation_kwh_per_square_meter," +
				"heating_kwh_per_square_meter,ef_kg_co2eq_per_kwh,energy_type,conversion_factor\n" +
				"BX,,1,1,1,1,0.1,elec,0\nBX,office,1,1,1,1,0.1,gas,1\nBX,kitchen,1,1,1,1,0.1,thermal,1\n",
			want: []wantErr{
				{1, 2, "conversion_factor", ingest.CodeOutOfRange, ingest.SeverityError},
				{2, 3, "energy_type", ingest.CodeInvalidEnum, ingest.SeverityError},
				{3, 4, "", ingest.CodeClassificationNotInTree, ingest.SeverityError},
			},
		},
		{
			name: "PurchasesRouting", group: "purchases",
			input: "purchase_category,purchase_institutional_code,ef_kg_co2eq_per_currency\n" +
				"services,1,0.1\nfurniture,2,0.1\nbiological_chemical_gaseous_product,3,0.2\n,4,0.1\n",
			loaded: 2,
			want: []wantErr{
				{2, 3, "purchase_category", ingest.CodeUnknownCategory, ingest.SeverityError},
				{4, 5, "purchase_category", ingest.CodeRequired, ingest.SeverityError},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, errs, err := parseFactors(t, tt.group, tt.input)
			if tt.file != "" {
				requireFileError(t, err, tt.file)
			} else {
				require.NoError(t, err)
			}
			require.Len(t, rows, tt.loaded)
			requireErrors(t, tt.want, errs)
		})
	}
}

func TestFactorRow(t *testing.T) {
	t.Parallel()
	rows, errs, err := parseFactors(t, "equipment",
		"equipment_category,equipment_class,sub_class,active_power_w,standby_power_w,active_usage_hours_per_week,standby_usage_hours_per_week,ef_kg_co2eq_per_kwh\n"+
			"Scientific, Centrifuge ,Benchtop,500,15,10,158,0.125\nit,Laptop,,30,1,40,0,0.125\n")
	require.NoError(t, err)
	require.Empty(t, errs)
	require.Equal(t, emission.SubScientific, rows[0].Submodule)
	require.Equal(t, emission.ModuleEquipment, rows[0].Module)
	require.Equal(t, "equipment_class=centrifuge|sub_class=benchtop", rows[0].ClassKey)
	require.Equal(t, emission.EmissionType("equipment.scientific"), rows[0].EmissionType)
	require.Equal(t, map[string]string{"equipment_class": "Centrifuge", "sub_class": "Benchtop"}, rows[0].Classification)
	require.Equal(t, "equipment_class=laptop", rows[1].ClassKey)
	require.InDelta(t, 500.0, rows[0].Values["active_power_w"], 0)
}

func TestReferenceParsers(t *testing.T) {
	t.Parallel()
	t.Run("Plane", func(t *testing.T) {
		t.Parallel()
		tbl, err := ingest.ReferenceTable(ingest.DatasetLocationsPlane)
		require.NoError(t, err)
		r, err := ingest.NewReader(strings.NewReader("transport_mode,iata_code,name,country_code,continent,latitude,longitude,airport_size\n"+
			"plane,gva,Geneva,CH,EU,46.238098,6.10895,large_airport\n"+
			"train,ZRH,Zurich,CH,EU,47.4,8.5,large_airport\n"+
			"plane,,Nowhere,CH,EU,95,8.5,huge\n"+
			"plane,JFK,New York,US,NA,40.6,-73.7,large_airport\n"+
			"plane,GVA,Genève Aéroport,CH,EU,46.2,6.1,large_airport\n"), tbl, nil)
		require.NoError(t, err)
		p, err := ingest.NewLocationParser(ingest.DatasetLocationsPlane)
		require.NoError(t, err)
		var errs []ingest.RowError
		for rec, err := r.Next(); !errors.Is(err, io.EOF); rec, err = r.Next() {
			require.NoError(t, err)
			errs = append(errs, p.Parse(rec)...)
		}
		requireErrors(t, []wantErr{
			{2, 3, "transport_mode", ingest.CodeModeMismatch, ingest.SeverityError},
			{3, 4, "iata_code", ingest.CodeRequired, ingest.SeverityError},
			{3, 4, "airport_size", ingest.CodeInvalidEnum, ingest.SeverityError},
			{3, 4, "latitude", ingest.CodeOutOfRange, ingest.SeverityError},
			{5, 6, "", ingest.CodeDuplicateInFile, ingest.SeverityWarning},
		}, errs)
		rows := p.Rows()
		require.Len(t, rows, 2)
		require.Equal(t, "plane:GVA", rows[0].NaturalKey)
		require.Equal(t, "Genève Aéroport", rows[0].Name, "last wins")
		require.Equal(t, "NA", rows[1].Continent)
	})
	t.Run("Train", func(t *testing.T) {
		t.Parallel()
		tbl, err := ingest.ReferenceTable(ingest.DatasetLocationsTrain)
		require.NoError(t, err)
		r, err := ingest.NewReader(strings.NewReader("transport_mode;name;country_code;latitude;longitude\n"+
			"train;Zürich  HB;ch;47,378186;8,539203\ntrain;Bern;;46,9;7,4\n"), tbl, nil)
		require.NoError(t, err)
		p, err := ingest.NewLocationParser(ingest.DatasetLocationsTrain)
		require.NoError(t, err)
		var errs []ingest.RowError
		for rec, err := r.Next(); !errors.Is(err, io.EOF); rec, err = r.Next() {
			require.NoError(t, err)
			errs = append(errs, p.Parse(rec)...)
		}
		requireErrors(t, []wantErr{{2, 3, "country_code", ingest.CodeRequired, ingest.SeverityError}}, errs)
		require.Equal(t, "train:CH:zürich hb", p.Rows()[0].NaturalKey)
		require.InDelta(t, 47.378186, p.Rows()[0].Latitude, 0)
	})
	t.Run("Rooms", func(t *testing.T) {
		t.Parallel()
		tbl, err := ingest.ReferenceTable(ingest.DatasetBuildingRooms)
		require.NoError(t, err)
		r, err := ingest.NewReader(strings.NewReader("building_location,building_name,room_name,room_type,surface_m2\n"+
			"ECUBLENS,BX,BX-1,office,10\n,BX,,office,10\nECUBLENS,bx,bx-1,Laboratories,12\nX,CY,CY-1,garage,0\n"), tbl, nil)
		require.NoError(t, err)
		p := ingest.NewRoomParser()
		var errs []ingest.RowError
		for rec, err := r.Next(); !errors.Is(err, io.EOF); rec, err = r.Next() {
			require.NoError(t, err)
			errs = append(errs, p.Parse(rec)...)
		}
		requireErrors(t, []wantErr{
			{2, 3, "room_name", ingest.CodeRequired, ingest.SeverityError},
			{3, 4, "", ingest.CodeDuplicateInFile, ingest.SeverityWarning},
			{4, 5, "room_type", ingest.CodeInvalidEnum, ingest.SeverityError},
			{4, 5, "surface_m2", ingest.CodeOutOfRange, ingest.SeverityError},
		}, errs)
		require.Len(t, p.Rows(), 1)
		require.Equal(t, "laboratories", p.Rows()[0].RoomType)
	})
}
