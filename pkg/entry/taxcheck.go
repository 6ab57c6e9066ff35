package entry

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// fFacilityID is the facility id, linked to the facility name by the
// taxonomy.
const fFacilityID = "researchfacility_id"

// maxListed bounds the values a taxonomy error message lists.
const maxListed = 12

// taxChecks are the payload fields of a submodule that must hold a value of
// its taxonomy (docs/domain.md §7 "Taxonomy fields"): kind against the
// taxonomy's nodes, sub against the children of the entry's node, linked
// against the defaults of that node. A field is empty when not checked:
// enumerations of the catalogue (service_type, category, room_type,
// researchfacility_type) keep their own rule, and room buildings may be
// absent from the reference rooms.
type taxChecks struct {
	kind, sub, linked string
	kindField         string // the payload field of the taxonomy's nodes
}

func taxonomyChecks(sub emission.SubmoduleKey) (taxChecks, bool) {
	spec, ok := taxonomySpec(sub)
	if !ok || spec.fromRooms {
		return taxChecks{}, false
	}
	c := taxChecks{kindField: spec.kind, linked: spec.linked}
	if !isEnumField(sub, spec.kind) {
		c.kind = spec.kind
	}
	if spec.subkind != "" && !isEnumField(sub, spec.subkind) {
		c.sub = spec.subkind
	}
	return c, true
}

func isEnumField(sub emission.SubmoduleKey, name string) bool {
	return slices.ContainsFunc(fieldsOf(sub), func(f field) bool { return f.name == name && f.kind == kEnum })
}

// checkTaxonomy refuses a taxonomy-backed value that is not one of the
// year's taxonomy values (422 invalid_enum on that field) and stores the
// taxonomy's spelling of the others; values are compared as factors are
// matched (emission.Fold, D3). On create every field is checked; on update
// only the fields the request sends, the sub-value and the linked value
// also when the kind changes, so that an imported entry stays editable.
// A year without any factor of the submodule checks nothing (the entry
// computes no_factor), and neither does a class without sub-values for
// the sub-value (the engine then uses the class's factor).
func checkTaxonomy(ctx context.Context, q *dbsqlc.Queries, r *resolved, data map[string]any,
	sent map[string]bool, create bool, invalid map[string]bool, v *validator,
) error {
	c, ok := taxonomyChecks(r.Submodule)
	if !ok {
		return nil
	}
	check := func(name string, also ...string) bool {
		if name == "" || invalid[name] {
			return false
		}
		if _, ok := data[name].(string); !ok {
			return false
		}
		return create || sent[name] || slices.ContainsFunc(also, func(a string) bool { return sent[a] })
	}
	kind, sub, linked := check(c.kind), check(c.sub, c.kindField), check(c.linked, c.kindField)
	if !kind && !sub && !linked {
		return nil
	}
	tax, err := taxonomyOf(ctx, q, r.Submodule, r.Year)
	if err != nil {
		return err
	}
	if len(tax.Nodes) == 0 {
		return nil
	}
	kv, _ := data[c.kindField].(string)
	node := findNode(tax.Nodes, kv)
	if kind {
		if node == nil {
			v.addf(c.kind, "invalid_enum", "%q is not one of the %d values of %s: %s", kv, r.Year, c.kind, listValues(tax.Nodes))
			return nil
		}
		data[c.kind] = node.Value
	}
	if node == nil {
		return nil
	}
	if sv, _ := data[c.sub].(string); sub && len(node.Children) > 0 {
		child := findNode(node.Children, sv)
		if child == nil {
			v.addf(c.sub, "invalid_enum", "%q is not one of the %d values of %s for %s %q: %s",
				sv, r.Year, c.sub, c.kindField, node.Value, listValues(node.Children))
		} else {
			data[c.sub] = child.Value
		}
	}
	if lv, _ := data[c.linked].(string); linked {
		allowed := linkedValues(node, c.linked)
		i := slices.IndexFunc(allowed, func(a string) bool { return emission.Fold(a) == emission.Fold(lv) })
		switch {
		case len(allowed) == 0:
		case i < 0:
			v.addf(c.linked, "invalid_enum", "%q is not the %d %s of %s %q: must be %s",
				lv, r.Year, c.linked, c.kindField, node.Value, strings.Join(allowed, " or "))
		default:
			data[c.linked] = allowed[i]
		}
	}
	return nil
}

// findNode returns the node whose value folds like value.
func findNode(nodes []TaxonomyNode, value string) *TaxonomyNode {
	k := emission.Fold(value)
	for i := range nodes {
		if emission.Fold(nodes[i].Value) == k {
			return &nodes[i]
		}
	}
	return nil
}

// linkedValues returns the distinct defaults[name] of a node and its
// children.
func linkedValues(n *TaxonomyNode, name string) []string {
	var out []string
	add := func(d map[string]any) {
		if x, ok := d[name]; ok && x != nil {
			s := strings.TrimSpace(fmt.Sprint(x))
			if s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	add(n.Defaults)
	for i := range n.Children {
		add(n.Children[i].Defaults)
	}
	return out
}

// listValues lists node values for an error message (at most maxListed).
func listValues(nodes []TaxonomyNode) string {
	vals := make([]string, 0, min(len(nodes), maxListed))
	for i := range nodes {
		if i == maxListed {
			return strings.Join(vals, ", ") + fmt.Sprintf(", … (%d more)", len(nodes)-maxListed)
		}
		vals = append(vals, nodes[i].Value)
	}
	return strings.Join(vals, ", ")
}
