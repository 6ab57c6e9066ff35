package emission

import "slices"

// ModuleKey identifies one of the eight footprint modules (README R1).
type ModuleKey string

// Module keys, in display order (docs/domain.md §4).
const (
	ModuleHeadcount          ModuleKey = "headcount"
	ModuleProfessionalTravel ModuleKey = "professional_travel"
	ModuleBuildings          ModuleKey = "buildings"
	ModuleEquipment          ModuleKey = "equipment"
	ModulePurchases          ModuleKey = "purchases"
	ModuleResearchFacilities ModuleKey = "research_facilities"
	ModuleExternalCloudAI    ModuleKey = "external_cloud_ai"
	ModuleProcessEmissions   ModuleKey = "process_emissions"
)

// SubmoduleKey identifies a submodule; every data entry and every factor
// belongs to exactly one submodule.
type SubmoduleKey string

// Submodule keys (docs/domain.md §4).
const (
	SubMember                    SubmoduleKey = "member"
	SubStudent                   SubmoduleKey = "student"
	SubPlane                     SubmoduleKey = "plane"
	SubTrain                     SubmoduleKey = "train"
	SubRoom                      SubmoduleKey = "room"
	SubEnergyCombustion          SubmoduleKey = "energy_combustion"
	SubEmbodiedEnergy            SubmoduleKey = "embodied_energy"
	SubScientific                SubmoduleKey = "scientific"
	SubIT                        SubmoduleKey = "it"
	SubOther                     SubmoduleKey = "other"
	SubScientificEquipment       SubmoduleKey = "scientific_equipment"
	SubITEquipment               SubmoduleKey = "it_equipment"
	SubConsumableAccessories     SubmoduleKey = "consumable_accessories"
	SubBiologicalChemicalGaseous SubmoduleKey = "biological_chemical_gaseous"
	SubServices                  SubmoduleKey = "services"
	SubVehicles                  SubmoduleKey = "vehicles"
	SubOtherPurchases            SubmoduleKey = "other_purchases"
	SubAdditional                SubmoduleKey = "additional"
	SubFacility                  SubmoduleKey = "facility"
	SubAnimalFacility            SubmoduleKey = "animal_facility"
	SubCloud                     SubmoduleKey = "cloud"
	SubAI                        SubmoduleKey = "ai"
	SubProcessGas                SubmoduleKey = "process_gas"
)

// SubmoduleInfo describes one submodule of the catalogue.
type SubmoduleInfo struct {
	Key    SubmoduleKey
	Module ModuleKey
	// FactorsOnly is true for submodules that carry factors but never
	// entries (embodied_energy).
	FactorsOnly bool
	// FactorGroup is the factor upload group (equipment and purchase
	// submodules share a module-level group routed by a category column).
	FactorGroup string
	// Reference is the reference dataset the submodule needs, if any
	// (locations_plane, locations_train, building_rooms).
	Reference string
	// OverrideAllowed tells whether a kg override applies (docs/domain.md §6.1
	// step 3); for member, student and room it is ignored.
	OverrideAllowed bool
	// MaxOnePerReport is true for student (one entry per report module).
	MaxOnePerReport bool
}

// ModuleInfo describes one module and its submodules in display order.
type ModuleInfo struct {
	Key        ModuleKey
	Submodules []SubmoduleKey
	// Roots are the emission-type tree roots whose rows belong to the
	// module's statistics (docs/domain.md §5).
	Roots []EmissionType
}

var submoduleInfos = []SubmoduleInfo{
	{Key: SubMember, Module: ModuleHeadcount, FactorGroup: "member"},
	{Key: SubStudent, Module: ModuleHeadcount, FactorGroup: "student", MaxOnePerReport: true},
	{Key: SubPlane, Module: ModuleProfessionalTravel, FactorGroup: "plane", Reference: "locations_plane", OverrideAllowed: true},
	{Key: SubTrain, Module: ModuleProfessionalTravel, FactorGroup: "train", Reference: "locations_train", OverrideAllowed: true},
	{Key: SubRoom, Module: ModuleBuildings, FactorGroup: "room", Reference: "building_rooms"},
	{Key: SubEnergyCombustion, Module: ModuleBuildings, FactorGroup: "energy_combustion", OverrideAllowed: true},
	{Key: SubEmbodiedEnergy, Module: ModuleBuildings, FactorGroup: "embodied_energy", FactorsOnly: true},
	{Key: SubScientific, Module: ModuleEquipment, FactorGroup: "equipment", OverrideAllowed: true},
	{Key: SubIT, Module: ModuleEquipment, FactorGroup: "equipment", OverrideAllowed: true},
	{Key: SubOther, Module: ModuleEquipment, FactorGroup: "equipment", OverrideAllowed: true},
	{Key: SubScientificEquipment, Module: ModulePurchases, FactorGroup: "purchases", OverrideAllowed: true},
	{Key: SubITEquipment, Module: ModulePurchases, FactorGroup: "purchases", OverrideAllowed: true},
	{Key: SubConsumableAccessories, Module: ModulePurchases, FactorGroup: "purchases", OverrideAllowed: true},
	{Key: SubBiologicalChemicalGaseous, Module: ModulePurchases, FactorGroup: "purchases", OverrideAllowed: true},
	{Key: SubServices, Module: ModulePurchases, FactorGroup: "purchases", OverrideAllowed: true},
	{Key: SubVehicles, Module: ModulePurchases, FactorGroup: "purchases", OverrideAllowed: true},
	{Key: SubOtherPurchases, Module: ModulePurchases, FactorGroup: "purchases", OverrideAllowed: true},
	{Key: SubAdditional, Module: ModulePurchases, FactorGroup: "additional", OverrideAllowed: true},
	{Key: SubFacility, Module: ModuleResearchFacilities, FactorGroup: "facility", OverrideAllowed: true},
	{Key: SubAnimalFacility, Module: ModuleResearchFacilities, FactorGroup: "animal_facility", OverrideAllowed: true},
	{Key: SubCloud, Module: ModuleExternalCloudAI, FactorGroup: "cloud", OverrideAllowed: true},
	{Key: SubAI, Module: ModuleExternalCloudAI, FactorGroup: "ai", OverrideAllowed: true},
	{Key: SubProcessGas, Module: ModuleProcessEmissions, FactorGroup: "process_gas", OverrideAllowed: true},
}

var moduleInfos = []ModuleInfo{
	{Key: ModuleHeadcount, Roots: []EmissionType{"food", "waste", "commuting"}},
	{Key: ModuleProfessionalTravel, Roots: []EmissionType{"professional_travel"}},
	{Key: ModuleBuildings, Roots: []EmissionType{"buildings"}},
	{Key: ModuleEquipment, Roots: []EmissionType{"equipment"}},
	{Key: ModulePurchases, Roots: []EmissionType{"purchases"}},
	{Key: ModuleResearchFacilities, Roots: []EmissionType{"research_facilities"}},
	{Key: ModuleExternalCloudAI, Roots: []EmissionType{"external_cloud_ai"}},
	{Key: ModuleProcessEmissions, Roots: []EmissionType{"process_emissions"}},
}

var submoduleByKey = func() map[SubmoduleKey]*SubmoduleInfo {
	m := make(map[SubmoduleKey]*SubmoduleInfo, len(submoduleInfos))
	for i := range submoduleInfos {
		info := &submoduleInfos[i]
		m[info.Key] = info
		for j := range moduleInfos {
			if moduleInfos[j].Key == info.Module {
				moduleInfos[j].Submodules = append(moduleInfos[j].Submodules, info.Key)
			}
		}
	}
	return m
}()

// Modules returns a copy of the module catalogue in display order.
func Modules() []ModuleInfo {
	out := make([]ModuleInfo, len(moduleInfos))
	for i, m := range moduleInfos {
		out[i] = m.clone()
	}
	return out
}

func (m ModuleInfo) clone() ModuleInfo {
	m.Submodules = slices.Clone(m.Submodules)
	m.Roots = slices.Clone(m.Roots)
	return m
}

// LookupModule returns the catalogue entry of a module.
func LookupModule(key ModuleKey) (ModuleInfo, bool) {
	for _, m := range moduleInfos {
		if m.Key == key {
			return m.clone(), true
		}
	}
	return ModuleInfo{}, false
}

// Submodules returns every submodule of the catalogue in display order,
// including the factors-only ones.
func Submodules() []SubmoduleInfo {
	out := make([]SubmoduleInfo, len(submoduleInfos))
	copy(out, submoduleInfos)
	return out
}

// LookupSubmodule returns the catalogue entry of a submodule.
func LookupSubmodule(key SubmoduleKey) (SubmoduleInfo, bool) {
	info, ok := submoduleByKey[key]
	if !ok {
		return SubmoduleInfo{}, false
	}
	return *info, true
}

// ModuleOf returns the module a submodule belongs to ("" if unknown).
func ModuleOf(key SubmoduleKey) ModuleKey {
	if info, ok := submoduleByKey[key]; ok {
		return info.Module
	}
	return ""
}

// IsEquipmentSubmodule reports whether key is scientific, it or other.
func IsEquipmentSubmodule(key SubmoduleKey) bool {
	return key == SubScientific || key == SubIT || key == SubOther
}

// IsPurchaseCategory reports whether key is one of the seven spend-based
// purchase submodules (additional excluded).
func IsPurchaseCategory(key SubmoduleKey) bool {
	switch key { //nolint:exhaustive // only purchase categories are true
	case SubScientificEquipment, SubITEquipment, SubConsumableAccessories,
		SubBiologicalChemicalGaseous, SubServices, SubVehicles, SubOtherPurchases:
		return true
	default:
		return false
	}
}
