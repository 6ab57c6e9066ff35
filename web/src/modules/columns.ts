// Table columns of a submodule (docs/frontend.md §3.3 "Tables"): the field
// specs shown as columns, with values the API derives taken from the entry's
// `computed` (travellers' names, distances, station names of imported trains,
// reference room surfaces, default equipment hours) and short headers where
// the form label is long, so that equipment and purchases fit 1 366 px.
import type { Entry, Taxonomy } from '@/api/types'
import { defaultsOf } from '@/entries/lookups'
import { fieldsOf, type FieldKind } from './catalogue'

/** What a column may need besides the entry: the submodule's taxonomy (default equipment hours). */
export interface ColumnContext {
  taxonomy: Taxonomy | null
}

export interface ColumnSpec {
  /** Column name and sort key (a data field or a computed sort key of the list, docs/api.md §5). */
  name: string
  /** i18n key of the header. */
  label: string
  kind: FieldKind
  /** The field whose option labels translate the value (options.<field>.<value>). */
  optionsOf?: string
  value: (e: Entry, ctx: ColumnContext) => unknown
  /** The shown value is a default, not the entry's (shown in italics). */
  defaulted?: (e: Entry) => boolean
  sortable: boolean
}

const data = (name: string) => (e: Entry) => e.data[name]
/** The data value, else the value the API computed (e.g. a default or a reference value). */
const dataOrComputed = (name: string, computedName = name) => (e: Entry) => {
  const v = e.data[name]
  return v === null || v === undefined || v === '' ? e.computed[computedName] : v
}

/** Headers shorter than the form labels (columns.<field>). */
const SHORT_HEADERS: readonly string[] = [
  'active_usage_hours_per_week',
  'standby_usage_hours_per_week',
  'purchase_institutional_code',
  'total_spent_amount',
  'equipment_id',
  'number_of_trips',
  'departure_date',
]

const traveler: ColumnSpec = {
  name: 'traveler_name',
  label: 'columns.traveler_name',
  kind: 'string',
  value: (e) => e.computed.traveler_name ?? e.data.user_institutional_id,
  sortable: true,
}
const distance: ColumnSpec = { name: 'distance_km', label: 'columns.distance_km', kind: 'number', value: (e) => e.computed.distance_km, sortable: true }

/** Columns of a submodule's table, in order (before kg CO2-eq, status, source and actions). */
export function columnsOf(submodule: string): ColumnSpec[] {
  const out: ColumnSpec[] = []
  for (const f of fieldsOf(submodule)) {
    if (f.column === false) continue
    const label = SHORT_HEADERS.includes(f.name) ? `columns.${f.name}` : `fields.${f.name}`
    // Values with a translation (options.<field>.<value>: enums, fuels, gases, AI usage…) are shown translated.
    const col: ColumnSpec = { name: f.name, label, kind: f.kind, value: data(f.name), sortable: true, optionsOf: f.name }
    if (submodule === 'plane' || submodule === 'train') {
      if (f.name === 'user_institutional_id') {
        out.push(traveler)
        continue
      }
      if (submodule === 'train' && (f.name === 'origin_key' || f.name === 'destination_key')) {
        const end = f.name === 'origin_key' ? 'origin' : 'destination'
        // Imported rows name their stations (origin_name) instead of keys: the API resolves both into computed.
        out.push({ name: `${end}_name`, label: `columns.${end}`, kind: 'string', value: dataOrComputed(`${end}_name`), sortable: true })
        continue
      }
      if (submodule === 'plane' && (f.name === 'origin_iata' || f.name === 'destination_iata')) {
        out.push({ ...col, label: `columns.${f.name === 'origin_iata' ? 'origin' : 'destination'}` })
        continue
      }
    }
    if (submodule === 'room' && f.name === 'surface_m2') col.value = dataOrComputed('surface_m2')
    if (f.name === 'active_usage_hours_per_week' || f.name === 'standby_usage_hours_per_week') {
      // Absent hours: the engine uses the class's default hours (computed, else the taxonomy's defaults, which
      // are the same factor values).
      const name = f.name
      col.value = (e, ctx) => dataOrComputed(name)(e) ?? defaultsOf(ctx.taxonomy, e.data)[name]
      col.defaulted = (e) => e.data[name] === null || e.data[name] === undefined || e.data.hours_defaulted === true
    }
    out.push(col)
    if ((submodule === 'plane' || submodule === 'train') && f.name === 'number_of_trips') out.push(distance)
  }
  return out
}

/** Submodules that hold at most one entry per unit and year (the "Add" button hides once it exists). */
export const SINGLE_ENTRY_SUBMODULES: readonly string[] = ['student']
