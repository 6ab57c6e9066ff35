// Package emission is the pure emission engine of the co2-calculator: it turns
// one data entry (an activity row of a submodule) into zero or more emission
// rows of kg CO2-eq, using the emission factors, reference data and FX rates
// of the report year.
//
// The package performs no I/O: no files, no database, no network, no clock.
// Everything it needs is passed in as plain Go values, so the same function
// serves interactive writes, CSV imports and recalculations, and a
// recalculation of unchanged inputs gives identical rows (spec docs/domain.md §6.1).
//
// # Model
//
//   - The catalogue ([Modules], [LookupSubmodule]) lists the eight modules and
//     their submodules (docs/domain.md §4). Some submodules only carry factors
//     (embodied_energy).
//   - The emission-type tree ([LookupNode], [Nodes], [IsUnder]) is a fixed tree
//     of dotted paths such as "professional_travel.plane.economy" (docs/domain.md
//     §5). Every node has a GHG [Scope] and a chart [Category]; categories are
//     main or additional. Emission rows attach to leaves only, and no rollup
//     rows are ever produced (rule D1): subtree totals are prefix sums.
//   - A [Factor] is a year-scoped coefficient set of one submodule: string
//     classification keys plus values. [NewFactorIndex] validates and compiles
//     the factors of a year into per-submodule hash indexes keyed by folded
//     classification values (rule D3: case-insensitive, trimmed, inner
//     whitespace collapsed), so that resolving a factor costs one or two map
//     lookups and no allocation.
//   - A [Lookup] bundles the factor index with the reference data (airports
//     and train stations in [Locations], building rooms in [Rooms]) and the
//     [FXRates] of the year.
//   - An [Entry] is a submodule key, a typed [Payload] (one struct per
//     submodule, JSON tags matching the field names of docs/domain.md §7, see
//     [DecodePayload]) and an optional kg override.
//   - [Compute] evaluates the submodule's formula (docs/domain.md §7) and appends
//     the resulting [Row]s to a caller-owned slice; the returned [Outcome]
//     carries the calc status (ok, override, no_factor, missing_input,
//     unknown_location, missing_fx_rate), a human-readable message, the
//     primary factor id, the entry totals and a few derived values shown by
//     the API (distance, haul band, amount in EUR…).
//
// Quantities are kept unrounded (float64); rounding happens only at the edges
// (JSON, exports, UI). The one exception is travel distance, which docs/domain.md §1
// defines with integer rounding half away from zero ([GreatCircleKm],
// [PlaneTripKm], [TrainTripKm]).
//
// A kg override (CSV kg_co2eq column or Tableau) applies once per entry: it
// produces exactly one row on the leaf the formula would have used (rule
// R2.5). Overrides are ignored for member, student and room entries.
package emission
