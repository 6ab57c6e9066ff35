package emission

// Quantity is a physical quantity with its unit.
type Quantity struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Totals sums emission rows the way statistics do (docs/domain.md §12.1): there
// are no rollup rows (D1), every figure is a sum over leaf rows. The zero
// value is ready to use.
type Totals struct {
	Rows       int
	Total      Kg
	Main       Kg
	Additional Kg
	ByScope    map[Scope]Kg
	ByCategory map[Category]Kg
	ByType     map[EmissionType]Kg
	// QuantityByType sums row quantities per leaf (rows of one leaf share a
	// unit in practice; a row with a different unit than the first one is
	// not added).
	QuantityByType map[EmissionType]Quantity
}

// Add adds rows to the totals.
func (t *Totals) Add(rows ...Row) {
	if t.ByScope == nil {
		t.ByScope = make(map[Scope]Kg, 3)
		t.ByCategory = make(map[Category]Kg)
		t.ByType = make(map[EmissionType]Kg)
		t.QuantityByType = make(map[EmissionType]Quantity)
	}
	for i := range rows {
		r := &rows[i]
		t.Rows++
		t.Total += r.Kg
		if r.Category.IsAdditional() {
			t.Additional += r.Kg
		} else {
			t.Main += r.Kg
		}
		t.ByScope[r.Scope] += r.Kg
		t.ByCategory[r.Category] += r.Kg
		t.ByType[r.EmissionType] += r.Kg
		if r.HasQuantity() {
			q, ok := t.QuantityByType[r.EmissionType]
			if !ok {
				q.Unit = r.QuantityUnit
			}
			if q.Unit == r.QuantityUnit {
				q.Value += r.Quantity
				t.QuantityByType[r.EmissionType] = q
			}
		}
	}
}

// Under returns the prefix sum of the subtree rooted at prefix (e.g.
// "buildings.rooms" or "purchases.additional"), summed in tree order so
// the result is deterministic.
func (t *Totals) Under(prefix EmissionType) Kg {
	var sum Kg
	for i := range treeNodes {
		n := &treeNodes[i]
		if n.Leaf && IsUnder(n.Path, prefix) {
			sum += t.ByType[n.Path]
		}
	}
	return sum
}
