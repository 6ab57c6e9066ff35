package ingest

import (
	"fmt"
	"strings"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
)

// Reference datasets (docs/jobs.md §5.5).
const (
	DatasetLocationsPlane = "locations_plane"
	DatasetLocationsTrain = "locations_train"
	DatasetBuildingRooms  = "building_rooms"
)

// ReferenceTable returns the CSV table of a reference dataset.
func ReferenceTable(dataset string) (*Table, error) {
	switch dataset {
	case DatasetLocationsPlane, DatasetLocationsTrain:
		cs := cols(req("transport_mode", "name", "latitude", "longitude"),
			[]Column{{Name: "iata_code", Required: dataset == DatasetLocationsPlane},
				{Name: "country_code", Required: dataset == DatasetLocationsTrain}},
			opt("airport_size", "continent", "municipality", "keywords"))
		return NewTable(dataset, cs, nil), nil
	case DatasetBuildingRooms:
		cs := cols(opt("building_location"), req("building_name", "room_name"), opt("room_type", "surface_m2"))
		return NewTable(dataset, cs, map[string]string{"room_surface_square_meter": "surface_m2"}), nil
	}
	return nil, fmt.Errorf("unknown reference dataset %q", dataset)
}

// LocationRow is one airport or station, with its natural key
// (docs/domain.md §3.4).
type LocationRow struct {
	Row, Line     int
	TransportMode string
	NaturalKey    string
	Name          string
	IATA          string // upper case; planes
	CountryCode   string // upper case
	Continent     string // as given (`NA` is North America)
	AirportSize   string
	Municipality  string
	Keywords      string
	Latitude      float64
	Longitude     float64
}

// LocationParser parses a locations dataset. Rows are accumulated; a later
// duplicate natural key replaces the earlier row (warning
// duplicate_in_file).
type LocationParser struct {
	mode  string
	rows  []LocationRow
	index map[string]int
}

// NewLocationParser returns a parser for locations_plane or
// locations_train.
func NewLocationParser(dataset string) (*LocationParser, error) {
	switch dataset {
	case DatasetLocationsPlane:
		return &LocationParser{mode: emission.ModePlane, index: map[string]int{}}, nil
	case DatasetLocationsTrain:
		return &LocationParser{mode: emission.ModeTrain, index: map[string]int{}}, nil
	}
	return nil, fmt.Errorf("not a locations dataset: %q", dataset)
}

// Parse parses and accumulates one record.
func (p *LocationParser) Parse(rec *Record) []RowError {
	c := newCells(rec)
	mode := c.str("transport_mode", true)
	if mode != "" && !strings.EqualFold(mode, p.mode) {
		c.add("transport_mode", CodeModeMismatch, fmt.Sprintf("transport_mode must be %s in this dataset", p.mode), mode)
	}
	l := LocationRow{Row: rec.Row, Line: rec.Line, TransportMode: p.mode}
	l.Name = c.str("name", true)
	c.maxLen("name", l.Name, 300)
	l.IATA = strings.ToUpper(c.str("iata_code", p.mode == emission.ModePlane))
	if l.IATA != "" && !isAlnum(l.IATA, 3) {
		c.add("iata_code", CodeOutOfRange, "iata_code must be 3 letters or digits", l.IATA)
	}
	l.CountryCode = strings.ToUpper(c.str("country_code", p.mode == emission.ModeTrain))
	if l.CountryCode != "" && !isAlpha(l.CountryCode, 2) {
		c.add("country_code", CodeOutOfRange, "country_code must be an ISO 3166-1 alpha-2 code", l.CountryCode)
	}
	l.Continent = strings.ToUpper(c.str("continent", false))
	if l.Continent != "" && !isAlpha(l.Continent, 2) {
		c.add("continent", CodeOutOfRange, "continent must be a two-letter code", l.Continent)
	}
	l.AirportSize = c.enum("airport_size", false, "large_airport", "medium_airport", "small_airport")
	l.Municipality = c.str("municipality", false)
	l.Keywords = c.str("keywords", false)
	var ok bool
	if l.Latitude, ok = c.between("latitude", true, -90, 90); !ok {
		l.Latitude = 0
	}
	if l.Longitude, ok = c.between("longitude", true, -180, 180); !ok {
		l.Longitude = 0
	}
	if c.failed() {
		return c.errs
	}
	if p.mode == emission.ModePlane {
		l.NaturalKey = emission.PlaneNaturalKey(l.IATA)
	} else {
		l.NaturalKey = emission.TrainNaturalKey(l.CountryCode, l.Name)
	}
	if i, dup := p.index[l.NaturalKey]; dup {
		c.warn("", CodeDuplicateInFile, fmt.Sprintf("%s already on row %d; the last row wins", l.NaturalKey, p.rows[i].Row), l.NaturalKey)
		p.rows[i] = l
		return c.errs
	}
	p.index[l.NaturalKey] = len(p.rows)
	p.rows = append(p.rows, l)
	return c.errs
}

// Rows returns the accumulated rows in file order (duplicates resolved).
func (p *LocationParser) Rows() []LocationRow { return p.rows }

// RoomRow is one reference building room.
type RoomRow struct {
	Row, Line        int
	BuildingLocation string
	BuildingName     string
	RoomName         string
	RoomType         string // one of emission.RoomTypes or ""
	SurfaceM2        *float64
}

// RoomParser parses building_rooms. A later duplicate (folded building +
// room) replaces the earlier row (warning duplicate_in_file).
type RoomParser struct {
	rows  []RoomRow
	index map[string]int
}

// NewRoomParser returns a building_rooms parser.
func NewRoomParser() *RoomParser { return &RoomParser{index: map[string]int{}} }

// Parse parses and accumulates one record.
func (p *RoomParser) Parse(rec *Record) []RowError {
	c := newCells(rec)
	r := RoomRow{Row: rec.Row, Line: rec.Line}
	r.BuildingLocation = c.str("building_location", false)
	r.BuildingName = c.str("building_name", true)
	r.RoomName = c.str("room_name", true)
	r.RoomType = c.enum("room_type", false, emission.RoomTypes()...)
	if s, ok := c.positive("surface_m2", false); ok {
		r.SurfaceM2 = &s
	}
	if c.failed() {
		return c.errs
	}
	key := emission.Fold(r.BuildingName) + "\x00" + emission.Fold(r.RoomName)
	if i, dup := p.index[key]; dup {
		c.warn("", CodeDuplicateInFile, fmt.Sprintf("room %s %s already on row %d; the last row wins", r.BuildingName, r.RoomName, p.rows[i].Row), r.RoomName)
		p.rows[i] = r
		return c.errs
	}
	p.index[key] = len(p.rows)
	p.rows = append(p.rows, r)
	return c.errs
}

// Rows returns the accumulated rows in file order (duplicates resolved).
func (p *RoomParser) Rows() []RoomRow { return p.rows }

func isAlpha(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func isAlnum(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ECBTable is the table of an ECB SDMX-CSV answer (docs/jobs.md §10): only
// CURRENCY, TIME_PERIOD and OBS_VALUE are read; the other columns are
// ignored.
func ECBTable() *Table {
	return NewTable("ecb_exr", req("currency", "time_period", "obs_value"), nil)
}
