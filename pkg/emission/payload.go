package emission

import (
	"encoding/json"
	"fmt"
)

// Payload is the typed, validated data of an entry: one struct per
// submodule (docs/domain.md §7). Field names and JSON tags are the documented field
// names, so a payload stored as JSONB decodes into these structs
// ([DecodePayload]). Both the struct and a pointer to it may be used as a
// Payload; pointers avoid a copy.
//
// The engine assumes the payload was validated (ranges, enums, required
// fields); it still degrades gracefully (missing_input) on bad values.
type Payload interface {
	// Accepts reports whether the payload type belongs to a submodule.
	Accepts(sub SubmoduleKey) bool
}

// Member is a headcount member (submodule member).
type Member struct {
	Name                string  `json:"name"`
	SiusCode            string  `json:"sius_code"`
	UserInstitutionalID string  `json:"user_institutional_id"`
	FTE                 float64 `json:"fte"`
	Note                string  `json:"note,omitempty"`
}

// Student is the single student line of a report module (submodule
// student). FTE is required unless Students, Months and AverageFTE are all
// given (fte = students × months × average_fte / 12).
type Student struct {
	FTE        *float64 `json:"fte,omitempty"`
	Students   *float64 `json:"students,omitempty"`
	Months     *float64 `json:"months,omitempty"`
	AverageFTE *float64 `json:"average_fte,omitempty"`
	Note       string   `json:"note,omitempty"`
}

// Plane is one plane trip (submodule plane). The provider_* and ticket
// fields are system fields set by the Tableau sync only.
type Plane struct {
	OriginIATA          string   `json:"origin_iata"`
	DestinationIATA     string   `json:"destination_iata"`
	UserInstitutionalID string   `json:"user_institutional_id"`
	CabinClass          string   `json:"cabin_class"`
	DepartureDate       string   `json:"departure_date,omitempty"`
	NumberOfTrips       int      `json:"number_of_trips,omitempty"` // 0 means the default 1
	ProviderDistanceKm  *float64 `json:"provider_distance_km,omitempty"`
	Supplier            string   `json:"supplier,omitempty"`
	TicketNumber        string   `json:"ticket_number,omitempty"`
	TransportType       string   `json:"transport_type,omitempty"`
	PassengerType       string   `json:"passenger_type,omitempty"`
	RoundTrip           *bool    `json:"round_trip,omitempty"`
	Note                string   `json:"note,omitempty"`
}

// Train is one train trip (submodule train). Stations are resolved by
// natural key when present, else by (name, country code).
type Train struct {
	OriginKey              string `json:"origin_key,omitempty"`
	DestinationKey         string `json:"destination_key,omitempty"`
	OriginName             string `json:"origin_name"`
	DestinationName        string `json:"destination_name"`
	OriginCountryCode      string `json:"origin_country_code"`
	DestinationCountryCode string `json:"destination_country_code"`
	UserInstitutionalID    string `json:"user_institutional_id"`
	CabinClass             string `json:"cabin_class"`
	DepartureDate          string `json:"departure_date,omitempty"`
	NumberOfTrips          int    `json:"number_of_trips,omitempty"` // 0 means the default 1
	Note                   string `json:"note,omitempty"`
}

// RoomEntry is one room occupied by the unit (submodule room). RoomType
// defaults to the reference room's type; SurfaceM2 is used only when the
// room is not in the reference data.
type RoomEntry struct {
	BuildingName        string   `json:"building_name"`
	RoomName            string   `json:"room_name"`
	RoomType            string   `json:"room_type,omitempty"`
	RoomAllocationRatio *float64 `json:"room_allocation_ratio,omitempty"` // default 1
	BuildingLocation    string   `json:"building_location,omitempty"`
	SurfaceM2           *float64 `json:"surface_m2,omitempty"`
	Note                string   `json:"note,omitempty"`
}

// EnergyCombustion is a fuel consumption (submodule energy_combustion);
// Quantity is in the factor's unit.
type EnergyCombustion struct {
	Fuel     string  `json:"fuel"`
	Quantity float64 `json:"quantity"`
	Note     string  `json:"note,omitempty"`
}

// Equipment is a device (submodules scientific, it, other). Absent hours
// fall back to the factor's default hours (normally copied at write time).
type Equipment struct {
	EquipmentID              string `json:"equipment_id"`
	Name                     string `json:"name"`
	EquipmentClass           string `json:"equipment_class"`
	SubClass                 string `json:"sub_class,omitempty"`
	ActiveUsageHoursPerWeek  *int   `json:"active_usage_hours_per_week,omitempty"`
	StandbyUsageHoursPerWeek *int   `json:"standby_usage_hours_per_week,omitempty"`
	HoursDefaulted           bool   `json:"hours_defaulted,omitempty"`
	Note                     string `json:"note,omitempty"`
}

// Purchase is a spend-based purchase line (the seven purchase category
// submodules). Currency defaults to CHF.
type Purchase struct {
	Name                             string   `json:"name"`
	Supplier                         string   `json:"supplier,omitempty"`
	Quantity                         *float64 `json:"quantity,omitempty"`
	TotalSpentAmount                 float64  `json:"total_spent_amount"`
	Currency                         string   `json:"currency,omitempty"`
	PurchaseInstitutionalCode        string   `json:"purchase_institutional_code"`
	PurchaseInstitutionalDescription string   `json:"purchase_institutional_description,omitempty"`
	PurchaseAdditionalCode           string   `json:"purchase_additional_code,omitempty"`
	Note                             string   `json:"note,omitempty"`
}

// Additional is an additional purchase in physical units, e.g. LN2
// (submodule additional).
type Additional struct {
	Name              string  `json:"name"`
	Unit              string  `json:"unit"`
	AnnualConsumption float64 `json:"annual_consumption"`
	CoefToKg          float64 `json:"coef_to_kg"`
	Note              string  `json:"note,omitempty"`
}

// Facility is the use of a research facility (submodule facility).
type Facility struct {
	ResearchfacilityID   string  `json:"researchfacility_id"`
	ResearchfacilityName string  `json:"researchfacility_name"`
	Use                  float64 `json:"use"`
	UseUnit              string  `json:"use_unit"`
	Note                 string  `json:"note,omitempty"`
}

// AnimalFacility is the use of an animal facility (submodule
// animal_facility); ResearchfacilityType is mice or fish.
type AnimalFacility struct {
	ResearchfacilityID   string  `json:"researchfacility_id"`
	ResearchfacilityName string  `json:"researchfacility_name"`
	ResearchfacilityType string  `json:"researchfacility_type"`
	Use                  float64 `json:"use"`
	UseUnit              string  `json:"use_unit"`
	Note                 string  `json:"note,omitempty"`
}

// Cloud is a cloud spend line (submodule cloud). Currency defaults to EUR.
type Cloud struct {
	ServiceType string  `json:"service_type"`
	Provider    string  `json:"provider"`
	SpentAmount float64 `json:"spent_amount"`
	Currency    string  `json:"currency,omitempty"`
	Note        string  `json:"note,omitempty"`
}

// AI is a generative-AI usage line (submodule ai).
type AI struct {
	Provider              string  `json:"provider"`
	UsageType             string  `json:"usage_type"`
	RequestsPerUserPerDay string  `json:"requests_per_user_per_day"` // 1_5, 5_20, 20_100, gt_100
	FTECount              float64 `json:"fte_count"`
	Note                  string  `json:"note,omitempty"`
}

// ProcessGas is a released quantity of gas in kg (submodule process_gas).
type ProcessGas struct {
	Category    string  `json:"category"`
	Subcategory string  `json:"subcategory,omitempty"`
	Quantity    float64 `json:"quantity"`
	Note        string  `json:"note,omitempty"`
}

// Accepts implements Payload.
func (Member) Accepts(sub SubmoduleKey) bool { return sub == SubMember }

// Accepts implements Payload.
func (Student) Accepts(sub SubmoduleKey) bool { return sub == SubStudent }

// Accepts implements Payload.
func (Plane) Accepts(sub SubmoduleKey) bool { return sub == SubPlane }

// Accepts implements Payload.
func (Train) Accepts(sub SubmoduleKey) bool { return sub == SubTrain }

// Accepts implements Payload.
func (RoomEntry) Accepts(sub SubmoduleKey) bool { return sub == SubRoom }

// Accepts implements Payload.
func (EnergyCombustion) Accepts(sub SubmoduleKey) bool { return sub == SubEnergyCombustion }

// Accepts implements Payload.
func (Equipment) Accepts(sub SubmoduleKey) bool { return IsEquipmentSubmodule(sub) }

// Accepts implements Payload.
func (Purchase) Accepts(sub SubmoduleKey) bool { return IsPurchaseCategory(sub) }

// Accepts implements Payload.
func (Additional) Accepts(sub SubmoduleKey) bool { return sub == SubAdditional }

// Accepts implements Payload.
func (Facility) Accepts(sub SubmoduleKey) bool { return sub == SubFacility }

// Accepts implements Payload.
func (AnimalFacility) Accepts(sub SubmoduleKey) bool { return sub == SubAnimalFacility }

// Accepts implements Payload.
func (Cloud) Accepts(sub SubmoduleKey) bool { return sub == SubCloud }

// Accepts implements Payload.
func (AI) Accepts(sub SubmoduleKey) bool { return sub == SubAI }

// Accepts implements Payload.
func (ProcessGas) Accepts(sub SubmoduleKey) bool { return sub == SubProcessGas }

// NewPayload returns a pointer to a zero payload of the submodule's type,
// ready to be decoded into.
func NewPayload(sub SubmoduleKey) (Payload, error) {
	switch {
	case IsEquipmentSubmodule(sub):
		return &Equipment{}, nil
	case IsPurchaseCategory(sub):
		return &Purchase{}, nil
	}
	switch sub { //nolint:exhaustive // handled above / factors-only
	case SubMember:
		return &Member{}, nil
	case SubStudent:
		return &Student{}, nil
	case SubPlane:
		return &Plane{}, nil
	case SubTrain:
		return &Train{}, nil
	case SubRoom:
		return &RoomEntry{}, nil
	case SubEnergyCombustion:
		return &EnergyCombustion{}, nil
	case SubAdditional:
		return &Additional{}, nil
	case SubFacility:
		return &Facility{}, nil
	case SubAnimalFacility:
		return &AnimalFacility{}, nil
	case SubCloud:
		return &Cloud{}, nil
	case SubAI:
		return &AI{}, nil
	case SubProcessGas:
		return &ProcessGas{}, nil
	}
	return nil, fmt.Errorf("%w %q (or factors-only)", ErrUnknownSubmodule, sub)
}

// DecodePayload decodes a JSON object (e.g. data_entries.data) into the
// submodule's payload type and returns a pointer to it. Unknown fields are
// ignored; strict validation is the API layer's job.
func DecodePayload(sub SubmoduleKey, data []byte) (Payload, error) {
	p, err := NewPayload(sub)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("error decoding %s payload: %w", sub, err)
	}
	return p, nil
}

// payloadAs returns the payload as *T, accepting T and *T.
func payloadAs[T any](p Payload) (*T, bool) {
	switch v := any(p).(type) {
	case *T:
		return v, v != nil
	case T:
		return &v, true
	}
	return nil, false
}
