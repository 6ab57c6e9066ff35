package tableau

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

// The row mapping (docs/jobs.md §8.4): one object of the query's answer →
// one plane entry of the unit of its cost centre, or row errors. Columns
// of the row errors are the captions.

// The captions of the datasource's fields the sync reads (docs/jobs.md
// §8.2); every one must be in the metadata.
const (
	CaptionCO2           = "OUT_CO2_CORRECTED"
	CaptionDistance      = "OUT_DISTANCE_CORRECTED"
	CaptionSciper        = "SCIPER"
	CaptionCF            = "Centre financier" // a calculated field; never IN_Centre financier
	CaptionDeparture     = "IN_Departure date"
	CaptionClass         = "IN_Segment class"
	CaptionOrigin        = "IN_Segment origin airport code"
	CaptionDestination   = "IN_Segment destination airport code"
	CaptionSupplier      = "IN_Supplier"
	CaptionTicket        = "IN_Ticket number"
	CaptionPassengerType = "PASSENGER_TYPE"
	CaptionRoundTrip     = "ROUND_TRIP"
	CaptionTransportType = "TRANSPORT_TYPE"
	CaptionTrips         = "Number of trips"
)

// Captions lists the required captions in the order of the query.
func Captions() []string {
	return []string{CaptionCO2, CaptionDistance, CaptionSciper, CaptionCF, CaptionDeparture, CaptionClass,
		CaptionOrigin, CaptionDestination, CaptionSupplier, CaptionTicket, CaptionPassengerType, CaptionRoundTrip,
		CaptionTransportType, CaptionTrips}
}

// maxText bounds the reference fields kept from the provider.
const maxText = 300

var cabinClasses = map[string]string{
	"AIR ECONOMY CLASS":  "economy",
	"AIR BUSINESS CLASS": "business",
	"AIR FIRST CLASS":    "first",
}

// Mapper maps the objects of one sync.
type Mapper struct {
	// Year is the sync's year: rows departing in another year are
	// dropped.
	Year int
	// Unit returns the active unit of a normalised cost centre
	// (ingest.NormalizeUnitCF); false for an unknown or inactive one.
	Unit func(cf string) (int64, bool)
	// Airport tells whether an IATA code is a known airport; nil knows
	// none.
	Airport func(iata string) bool
}

// Mapped is the outcome of one object.
type Mapped struct {
	Row    ingest.DataRow // the entry, when Valid
	UnitID int64
	Errs   []ingest.RowError
	// OtherYear is set for a row departing outside the sync's year: it is
	// dropped silently (rows_other_year).
	OtherYear bool
}

// Valid tells whether the row is loaded (warnings do not skip it).
func (m Mapped) Valid() bool { return !m.OtherYear && !ingest.HasErrors(m.Errs) }

// rowMapping is the state of one object's mapping.
type rowMapping struct {
	row  int
	obj  Row
	errs []ingest.RowError
}

func (r *rowMapping) add(caption, code, msg, value string, sev ingest.Severity) {
	col := caption
	r.errs = append(r.errs, ingest.RowError{Row: r.row, Column: &col, Code: code, Message: msg, Value: cut(value), Severity: sev})
}

// Map maps the object at 1-based index row of the sync's rows.
func (m *Mapper) Map(row int, obj Row) Mapped {
	r := &rowMapping{row: row, obj: obj}
	var out Mapped

	// The departure date decides whether the row belongs to the year.
	date := r.text(CaptionDeparture)
	var departure string
	switch t, ok := parseDate(date); {
	case date == "":
		r.add(CaptionDeparture, ingest.CodeRequired, CaptionDeparture+" is required", "", ingest.SeverityError)
	case !ok:
		r.add(CaptionDeparture, ingest.CodeInvalidDate, CaptionDeparture+" is not a date (YYYYMMDD or YYYY-MM-DD)", date, ingest.SeverityError)
	case t.Year() != m.Year:
		return Mapped{OtherYear: true}
	default:
		departure = t.Format(time.DateOnly)
	}

	cf := r.text(CaptionCF)
	if cf == "" {
		r.add(CaptionCF, ingest.CodeRequired, "no cost centre: no matching expense report", "", ingest.SeverityError)
	} else {
		norm := ingest.NormalizeUnitCF(cf)
		id, ok := m.Unit(norm)
		if !ok {
			r.add(CaptionCF, ingest.CodeUnknownUnit, "unknown or inactive unit "+norm, cf, ingest.SeverityError)
		}
		out.UnitID = id
		out.Row.UnitCF = norm
	}

	p := &emission.Plane{DepartureDate: departure}
	p.UserInstitutionalID = r.sciper()
	p.OriginIATA = r.airport(CaptionOrigin, m.Airport)
	p.DestinationIATA = r.airport(CaptionDestination, m.Airport)
	p.CabinClass = cabinClass(r.text(CaptionClass))
	p.NumberOfTrips = r.trips()
	if d, ok := r.nonNegative(CaptionDistance); ok {
		p.ProviderDistanceKm = &d
	}
	p.Supplier = r.reference(CaptionSupplier)
	p.TicketNumber = r.reference(CaptionTicket)
	p.TransportType = r.reference(CaptionTransportType)
	p.PassengerType = r.reference(CaptionPassengerType)
	roundTrip := strings.EqualFold(r.text(CaptionRoundTrip), "YES")
	p.RoundTrip = &roundTrip
	if kg, ok := r.nonNegative(CaptionCO2); ok {
		out.Row.KgOverride = &kg
	}

	out.Errs = r.errs
	if !out.Valid() {
		return out
	}
	data, err := json.Marshal(p)
	if err != nil {
		r.add("", ingest.CodeOutOfRange, "error encoding the trip: "+err.Error(), "", ingest.SeverityError)
		out.Errs = r.errs
		return out
	}
	out.Row.Row = row
	out.Row.Module, out.Row.Submodule = emission.ModuleProfessionalTravel, emission.SubPlane
	out.Row.Payload, out.Row.Data = p, data
	out.Row.OwnerSciper = p.UserInstitutionalID
	return out
}

// text is a field as text: a JSON string trimmed, a number as written,
// a boolean; "" for null or a missing field.
func (r *rowMapping) text(caption string) string {
	raw := bytes.TrimSpace(r.obj[caption])
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
			return strings.TrimSpace(string(raw[1 : len(raw)-1])) // no escape: the bytes are the text
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	if raw[0] == '{' || raw[0] == '[' {
		return ""
	}
	return string(raw)
}

// number reads a numeric field: a JSON number or a numeric string. present
// is false for null, a missing field or "".
func (r *rowMapping) number(caption string) (v float64, present, ok bool) {
	s := r.text(caption)
	if s == "" {
		return 0, false, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, true, false
	}
	return f, true, true
}

// nonNegative reads an optional number >= 0; another value is ignored with
// a warning (the row is loaded without it).
func (r *rowMapping) nonNegative(caption string) (float64, bool) {
	f, present, ok := r.number(caption)
	switch {
	case !present:
		return 0, false
	case !ok || f < 0:
		code := ingest.CodeInvalidNumber
		if ok {
			code = ingest.CodeOutOfRange
		}
		if caption == CaptionCO2 {
			code = ingest.CodeOverrideIgnored
		}
		r.add(caption, code, caption+" is not a number >= 0; it is ignored", r.text(caption), ingest.SeverityWarning)
		return 0, false
	}
	return f, true
}

func (r *rowMapping) sciper() string {
	v := r.text(CaptionSciper)
	switch {
	case v == "":
		r.add(CaptionSciper, ingest.CodeRequired, CaptionSciper+" is required", "", ingest.SeverityError)
		return ""
	case len(v) > 20:
		r.add(CaptionSciper, ingest.CodeTooLong, CaptionSciper+" is longer than 20 characters", v, ingest.SeverityError)
		return ""
	}
	for i := range len(v) {
		ch := v[i]
		if (ch < 'a' || ch > 'z') && (ch < 'A' || ch > 'Z') && (ch < '0' || ch > '9') && ch != '-' {
			r.add(CaptionSciper, ingest.CodeOutOfRange, CaptionSciper+" may only hold letters, digits and -", v, ingest.SeverityError)
			return ""
		}
	}
	return v
}

// airport reads a required airport code, upper-cased; a code that names no
// known airport is loaded with an unknown_location warning.
func (r *rowMapping) airport(caption string, known func(string) bool) string {
	v := strings.ToUpper(r.text(caption))
	switch {
	case v == "":
		r.add(caption, ingest.CodeRequired, caption+" is required", "", ingest.SeverityError)
	case len(v) > 10:
		r.add(caption, ingest.CodeTooLong, caption+" is longer than 10 characters", v, ingest.SeverityError)
	case known == nil || !known(v):
		r.add(caption, ingest.CodeUnknownLocation, "unknown airport "+v+": the trip is loaded, its kg come from the provider", v, ingest.SeverityWarning)
	}
	return v
}

// trips is Number of trips: an integer, 1 when null, missing or < 1.
func (r *rowMapping) trips() int {
	f, present, ok := r.number(CaptionTrips)
	switch {
	case !present || (ok && f < 1):
		return 1
	case !ok || f != math.Trunc(f) || f > 1000:
		r.add(CaptionTrips, ingest.CodeInvalidInteger, CaptionTrips+" must be an integer up to 1000", r.text(CaptionTrips), ingest.SeverityError)
		return 1
	}
	return int(f)
}

// reference reads a read-only reference field, cut to maxText characters.
func (r *rowMapping) reference(caption string) string {
	v := r.text(caption)
	if utf8.RuneCountInString(v) > maxText {
		v = string([]rune(v)[:maxText])
	}
	return v
}

// cabinClass maps IN_Segment class; anything else is economy.
func cabinClass(v string) string {
	if c, ok := cabinClasses[strings.ToUpper(strings.Join(strings.Fields(v), " "))]; ok {
		return c
	}
	return "economy"
}

// parseDate reads YYYYMMDD or an ISO date (a time part is ignored).
func parseDate(s string) (time.Time, bool) {
	if len(s) == 8 {
		t, err := time.Parse("20060102", s)
		return t, err == nil
	}
	if len(s) >= 10 {
		t, err := time.Parse(time.DateOnly, s[:10])
		return t, err == nil && (len(s) == 10 || s[10] == 'T' || s[10] == ' ')
	}
	return time.Time{}, false
}

// cut bounds a value shown in a row error (100 characters, valid UTF-8).
func cut(s string) string {
	if utf8.RuneCountInString(s) <= 100 {
		return s
	}
	return string([]rune(s)[:100])
}
