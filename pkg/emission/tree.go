package emission

import (
	"slices"
	"strings"
)

// EmissionType is a dotted path of the emission-type tree (docs/domain.md §5),
// e.g. "professional_travel.plane.economy".
type EmissionType string

// Scope is a GHG scope: 1, 2 or 3. Zero means "no scope" (only the grouping
// nodes buildings and buildings.rooms).
type Scope int

// GHG scopes.
const (
	Scope1 Scope = 1
	Scope2 Scope = 2
	Scope3 Scope = 3
)

// Category is a chart category (docs/domain.md §5).
type Category string

// Chart categories, in chart order.
const (
	CatProcessEmissions          Category = "process_emissions"
	CatBuildingsEnergyCombustion Category = "buildings_energy_combustion"
	CatBuildingsRoom             Category = "buildings_room"
	CatEquipment                 Category = "equipment"
	CatExternalCloudAI           Category = "external_cloud_ai"
	CatPurchases                 Category = "purchases"
	CatResearchFacilities        Category = "research_facilities"
	CatProfessionalTravel        Category = "professional_travel"
	CatCommuting                 Category = "commuting"
	CatFood                      Category = "food"
	CatWaste                     Category = "waste"
	CatEmbodiedEnergy            Category = "embodied_energy"
)

// CategoryGroup is "main" or "additional".
type CategoryGroup string

// Category groups.
const (
	GroupMain       CategoryGroup = "main"
	GroupAdditional CategoryGroup = "additional"
)

// CategoryInfo describes a chart category.
type CategoryInfo struct {
	Key   Category
	Group CategoryGroup
	// Order is the 1-based chart order.
	Order int
}

var categoryInfos = []CategoryInfo{
	{CatProcessEmissions, GroupMain, 1},
	{CatBuildingsEnergyCombustion, GroupMain, 2},
	{CatBuildingsRoom, GroupMain, 3},
	{CatEquipment, GroupMain, 4},
	{CatExternalCloudAI, GroupMain, 5},
	{CatPurchases, GroupMain, 6},
	{CatResearchFacilities, GroupMain, 7},
	{CatProfessionalTravel, GroupMain, 8},
	{CatCommuting, GroupAdditional, 9},
	{CatFood, GroupAdditional, 10},
	{CatWaste, GroupAdditional, 11},
	{CatEmbodiedEnergy, GroupAdditional, 12},
}

// Categories returns the chart categories in chart order.
func Categories() []CategoryInfo { return slices.Clone(categoryInfos) }

// IsAdditional reports whether the category belongs to the additional group
// (commuting, food, waste, embodied_energy).
func (c Category) IsAdditional() bool {
	return c == CatCommuting || c == CatFood || c == CatWaste || c == CatEmbodiedEnergy
}

// Group returns the category group; unknown categories are main.
func (c Category) Group() CategoryGroup {
	if c.IsAdditional() {
		return GroupAdditional
	}
	return GroupMain
}

// Node is one node of the emission-type tree.
type Node struct {
	Path   EmissionType
	Parent EmissionType // "" for roots
	// Key is the last path segment.
	Key      string
	Leaf     bool
	Scope    Scope
	Category Category
}

// roomTypes are the six room types, in tree order (docs/domain.md §7.3).
var roomTypes = []string{"office", "laboratories", "archives", "libraries", "auditoriums", "miscellaneous"}

// RoomTypes returns the six room types in tree order.
func RoomTypes() []string { return slices.Clone(roomTypes) }

// room energy uses, in row order.
var roomEnergies = []string{"lighting", "cooling", "ventilation", "heating_elec", "heating_thermal"}

const (
	energyLighting = iota
	energyCooling
	energyVentilation
	energyHeatingElec
	energyHeatingThermal
)

// Embodied-energy categories in tree order (factor categories use "-").
var embodiedCategories = []string{"new_tech", "new_env", "ren_tech", "ren_env", "demolition"}

var recyclingLeaves = []string{
	"paper", "cardboard", "plastics", "glass", "ferrous_metals", "non_ferrous_metals", "electronics",
	"wood", "pet", "aluminum", "textile", "toner_and_ink_cartridges", "inert_waste",
}

var (
	treeNodes  = buildTree()
	treeByPath = indexTree(treeNodes)
)

func indexTree(nodes []Node) map[EmissionType]*Node {
	m := make(map[EmissionType]*Node, len(nodes))
	for i := range nodes {
		m[nodes[i].Path] = &nodes[i]
	}
	return m
}

func buildTree() []Node {
	var b treeBuilder
	b.group("food", Scope3, CatFood, "vegetarian", "non_vegetarian")
	b.node("waste", false, Scope3, CatWaste)
	b.leaves("waste", Scope3, CatWaste, "incineration", "composting")
	b.group("waste.biogas", Scope3, CatWaste, "organic_waste_food_leftovers", "cooking_vegetable_oil")
	b.group("waste.recycling", Scope3, CatWaste, recyclingLeaves...)
	b.group("commuting", Scope3, CatCommuting, "walking", "cycling", "powered_two_wheeler", "public_transport", "car")
	b.node("professional_travel", false, Scope3, CatProfessionalTravel)
	b.group("professional_travel.train", Scope3, CatProfessionalTravel, "first", "second")
	b.group("professional_travel.plane", Scope3, CatProfessionalTravel, "first", "business", "economy")
	b.node("buildings", false, 0, "")
	b.node("buildings.rooms", false, 0, "")
	for _, e := range roomEnergies {
		scope, cat := Scope2, CatBuildingsRoom
		if e == "heating_thermal" {
			scope, cat = Scope1, CatBuildingsEnergyCombustion
		}
		b.group("buildings.rooms."+e, scope, cat, roomTypes...)
	}
	b.group("buildings.combustion", Scope1, CatBuildingsEnergyCombustion, combustionFuels...)
	b.leaves("buildings.combustion", Scope1, CatBuildingsEnergyCombustion, "other")
	b.group("buildings.construction_and_renovation", Scope3, CatEmbodiedEnergy, embodiedCategories...)
	b.group("process_emissions", Scope1, CatProcessEmissions, "ch4", "co2", "n2o", "refrigerants")
	b.group("equipment", Scope2, CatEquipment, "scientific", "it", "other")
	b.group("purchases", Scope3, CatPurchases,
		"scientific_equipment", "it_equipment", "consumable_accessories", "biological_chemical_gaseous",
		"services", "vehicles", "other")
	b.group("purchases.additional", Scope1, CatPurchases, "ln2", "other")
	b.node("research_facilities", false, Scope3, CatResearchFacilities)
	b.leaves("research_facilities", Scope3, CatResearchFacilities, "facilities", "it_facilities")
	b.group("research_facilities.animal", Scope3, CatResearchFacilities, "mice", "fish")
	b.node("external_cloud_ai", false, Scope3, CatExternalCloudAI)
	b.group("external_cloud_ai.clouds", Scope3, CatExternalCloudAI, "virtualisation", "compute", "storage")
	b.group("external_cloud_ai.ai", Scope3, CatExternalCloudAI, aiProviderLeaves...)
	return b.nodes
}

type treeBuilder struct{ nodes []Node }

func (b *treeBuilder) node(path string, leaf bool, scope Scope, cat Category) {
	parent, key := "", path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent, key = path[:i], path[i+1:]
	}
	b.nodes = append(b.nodes, Node{
		Path: EmissionType(path), Parent: EmissionType(parent), Key: key,
		Leaf: leaf, Scope: scope, Category: cat,
	})
}

func (b *treeBuilder) leaves(parent string, scope Scope, cat Category, keys ...string) {
	for _, k := range keys {
		b.node(parent+"."+k, true, scope, cat)
	}
}

// group adds an intermediate node and its leaves.
func (b *treeBuilder) group(path string, scope Scope, cat Category, keys ...string) {
	b.node(path, false, scope, cat)
	b.leaves(path, scope, cat, keys...)
}

// LookupNode returns the tree node of a path.
func LookupNode(path EmissionType) (Node, bool) {
	n, ok := treeByPath[path]
	if !ok {
		return Node{}, false
	}
	return *n, true
}

// IsLeaf reports whether path is a leaf of the tree.
func IsLeaf(path EmissionType) bool {
	n, ok := treeByPath[path]
	return ok && n.Leaf
}

// Nodes returns every node in tree order (parents before children).
func Nodes() []Node { return slices.Clone(treeNodes) }

// Leaves returns every leaf in tree order.
func Leaves() []Node {
	out := make([]Node, 0, len(treeNodes))
	for _, n := range treeNodes {
		if n.Leaf {
			out = append(out, n)
		}
	}
	return out
}

// Children returns the direct children of path in tree order.
func Children(path EmissionType) []Node {
	var out []Node
	for _, n := range treeNodes {
		if n.Parent == path {
			out = append(out, n)
		}
	}
	return out
}

// Subtree returns the node at prefix and all its descendants in tree order
// (empty when prefix is not a node).
func Subtree(prefix EmissionType) []Node {
	var out []Node
	for _, n := range treeNodes {
		if IsUnder(n.Path, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// IsUnder reports whether path equals prefix or is a descendant of it,
// respecting segment boundaries ("purchases.additional.ln2" is under
// "purchases.additional" but "purchases_x" is not under "purchases").
func IsUnder(path, prefix EmissionType) bool {
	if !strings.HasPrefix(string(path), string(prefix)) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '.'
}

// Ancestors returns the ancestors of path from the root down, path excluded.
func Ancestors(path EmissionType) []EmissionType {
	var out []EmissionType
	s := string(path)
	for i := range len(s) {
		if s[i] == '.' {
			out = append(out, EmissionType(s[:i]))
		}
	}
	return out
}

// mustNode returns a pointer to a node that is known to exist.
func mustNode(path string) *Node {
	n, ok := treeByPath[EmissionType(path)]
	if !ok {
		panic("emission: unknown tree node " + path)
	}
	return n
}
