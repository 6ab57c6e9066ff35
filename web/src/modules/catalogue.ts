// The module catalogue (docs/domain.md §4, pkg/emission/catalogue.go) and the
// fields of each submodule (docs/domain.md §7, pkg/entry/fields.go), for tables
// and entry forms. Labels are i18n keys: modules.<m>, submodules.<s>, fields.<f>.
//
// The structure — modules, their entry submodules, their order, the data
// field names, the room types — comes from catalogue.gen.ts, generated from
// the Go catalogue (`go test ./web -run TestCatalogue -update`; the test fails
// when the two differ). This file adds what only the SPA needs: icons and the
// field specs of the forms (kinds and limits; test/catalogue.test.ts checks
// their names against the generated data fields).
import type { ModuleKey } from '@/api/types'
import { asText } from '@/display/text'
import { MODULE_CATALOGUE, ROOM_TYPES } from './catalogue.gen'

export interface ModuleInfo {
  key: ModuleKey
  icon: string
  /** Submodules that hold entries, in display order. */
  submodules: string[]
}

/** A module key of the Go catalogue. */
type CatalogueModule = (typeof MODULE_CATALOGUE)[number]['key']
/** A submodule of the Go catalogue that holds entries. */
export type EntrySubmodule = (typeof MODULE_CATALOGUE)[number]['submodules'][number]

const ICONS = {
  headcount: 'groups',
  professional_travel: 'flight',
  buildings: 'apartment',
  equipment: 'computer',
  purchases: 'shopping_cart',
  research_facilities: 'science',
  external_cloud_ai: 'cloud',
  process_emissions: 'factory',
} as const satisfies Record<CatalogueModule, string>

export const MODULES: readonly ModuleInfo[] = MODULE_CATALOGUE.map((m) => ({
  key: m.key,
  icon: ICONS[m.key],
  submodules: [...m.submodules],
}))

export function moduleInfo(key: string): ModuleInfo | undefined {
  return MODULES.find((m) => m.key === key)
}

export function isModuleKey(key: unknown): key is ModuleKey {
  return typeof key === 'string' && MODULES.some((m) => m.key === key)
}

export type FieldKind = 'string' | 'number' | 'integer' | 'enum' | 'date'

export interface FieldSpec {
  name: string
  kind: FieldKind
  required?: boolean
  min?: number
  max?: number
  /** min is exclusive */
  minExclusive?: boolean
  maxLength?: number
  pattern?: RegExp
  options?: readonly string[]
  /** Shown in the table (default true). */
  column?: boolean
}

const SIUS_CODES = ['51', '52', '53', '54', '56', '57', '58', '59'] as const
const sciper: FieldSpec = { name: 'user_institutional_id', kind: 'string', required: true, maxLength: 20, pattern: /^[A-Za-z0-9-]+$/ }
const note: FieldSpec = { name: 'note', kind: 'string', maxLength: 1000, column: false }
const travelCommon: FieldSpec[] = [sciper, { name: 'departure_date', kind: 'date' }, { name: 'number_of_trips', kind: 'integer', min: 1, max: 1000 }]
const equipment: FieldSpec[] = [
  { name: 'equipment_id', kind: 'string', required: true, maxLength: 100 },
  { name: 'name', kind: 'string', required: true, maxLength: 300 },
  { name: 'equipment_class', kind: 'string', required: true, maxLength: 300 },
  { name: 'sub_class', kind: 'string', maxLength: 300 },
  { name: 'active_usage_hours_per_week', kind: 'integer', min: 0, max: 168 },
  { name: 'standby_usage_hours_per_week', kind: 'integer', min: 0, max: 168 },
]
const purchase: FieldSpec[] = [
  { name: 'name', kind: 'string', required: true, maxLength: 300 },
  { name: 'supplier', kind: 'string', maxLength: 300 },
  { name: 'quantity', kind: 'number', min: 0 },
  { name: 'total_spent_amount', kind: 'number', required: true, min: 0 },
  { name: 'currency', kind: 'string', maxLength: 3, pattern: /^[A-Za-z]{3}$/ },
  { name: 'purchase_institutional_code', kind: 'string', required: true, maxLength: 50 },
  { name: 'purchase_institutional_description', kind: 'string', maxLength: 1000, column: false },
  { name: 'purchase_additional_code', kind: 'string', maxLength: 100, column: false },
]
const facility = (animal: boolean): FieldSpec[] => [
  { name: 'researchfacility_id', kind: 'string', required: true, maxLength: 100 },
  { name: 'researchfacility_name', kind: 'string', required: true, maxLength: 300 },
  ...(animal ? [{ name: 'researchfacility_type', kind: 'enum', required: true, options: ['mice', 'fish'] } as FieldSpec] : []),
  { name: 'use', kind: 'number', required: true, min: 0 },
  { name: 'use_unit', kind: 'string', required: true, maxLength: 100 },
]

const FIELDS = {
  member: [
    { name: 'name', kind: 'string', required: true, maxLength: 300 },
    { name: 'sius_code', kind: 'enum', required: true, options: SIUS_CODES },
    sciper,
    { name: 'fte', kind: 'number', required: true, min: 0, max: 1 },
  ],
  student: [
    { name: 'fte', kind: 'number', min: 0, max: 100000 },
    { name: 'students', kind: 'number', min: 0 },
    { name: 'months', kind: 'number', min: 0, max: 12 },
    { name: 'average_fte', kind: 'number', min: 0, max: 1 },
  ],
  plane: [
    { name: 'origin_iata', kind: 'string', required: true, maxLength: 3, pattern: /^[A-Za-z0-9]{3}$/ },
    { name: 'destination_iata', kind: 'string', required: true, maxLength: 3, pattern: /^[A-Za-z0-9]{3}$/ },
    { name: 'cabin_class', kind: 'enum', required: true, options: ['economy', 'business', 'first'] },
    ...travelCommon,
  ],
  train: [
    { name: 'origin_key', kind: 'string', required: true, maxLength: 300 },
    { name: 'destination_key', kind: 'string', required: true, maxLength: 300 },
    { name: 'cabin_class', kind: 'enum', required: true, options: ['first', 'second'] },
    ...travelCommon,
  ],
  room: [
    { name: 'building_name', kind: 'string', required: true, maxLength: 300 },
    { name: 'room_name', kind: 'string', required: true, maxLength: 300 },
    { name: 'room_type', kind: 'enum', options: ROOM_TYPES },
    { name: 'room_allocation_ratio', kind: 'number', min: 0, max: 1, minExclusive: true },
    { name: 'building_location', kind: 'string', maxLength: 300 },
    { name: 'surface_m2', kind: 'number', min: 0, minExclusive: true },
  ],
  energy_combustion: [
    { name: 'fuel', kind: 'string', required: true, maxLength: 300 },
    { name: 'quantity', kind: 'number', required: true, min: 0 },
  ],
  scientific: equipment,
  it: equipment,
  other: equipment,
  scientific_equipment: purchase,
  it_equipment: purchase,
  consumable_accessories: purchase,
  biological_chemical_gaseous: purchase,
  services: purchase,
  vehicles: purchase,
  other_purchases: purchase,
  additional: [
    { name: 'name', kind: 'string', required: true, maxLength: 300 },
    { name: 'unit', kind: 'string', required: true, maxLength: 100 },
    { name: 'annual_consumption', kind: 'number', required: true, min: 0 },
    { name: 'coef_to_kg', kind: 'number', required: true, min: 0, minExclusive: true },
  ],
  facility: facility(false),
  animal_facility: facility(true),
  cloud: [
    { name: 'service_type', kind: 'enum', required: true, options: ['virtualisation', 'compute', 'storage'] },
    { name: 'provider', kind: 'string', required: true, maxLength: 300 },
    { name: 'spent_amount', kind: 'number', required: true, min: 0 },
    { name: 'currency', kind: 'string', maxLength: 3, pattern: /^[A-Za-z]{3}$/ },
  ],
  ai: [
    { name: 'provider', kind: 'string', required: true, maxLength: 300 },
    { name: 'usage_type', kind: 'string', required: true, maxLength: 100 },
    { name: 'requests_per_user_per_day', kind: 'enum', required: true, options: ['1_5', '5_20', '20_100', 'gt_100'] },
    { name: 'fte_count', kind: 'number', required: true, min: 0.1 },
  ],
  process_gas: [
    { name: 'category', kind: 'enum', required: true, options: ['co2', 'ch4', 'n2o', 'refrigerants'] },
    { name: 'subcategory', kind: 'string', maxLength: 300 },
    { name: 'quantity', kind: 'number', required: true, min: 0 },
  ],
} satisfies Record<EntrySubmodule, FieldSpec[]>

/** The editable fields of a submodule, note last. */
export function fieldsOf(submodule: string): FieldSpec[] {
  const fs = (FIELDS as Record<string, FieldSpec[] | undefined>)[submodule]
  return fs ? [...fs, note] : []
}

/** Client-side check of one value (instant feedback; the API re-validates). Returns an i18n key + params, or null. */
export function validateField(spec: FieldSpec, raw: unknown): { key: string; params?: Record<string, unknown> } | null {
  const empty = raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')
  if (empty) return spec.required ? { key: 'validation.required' } : null
  switch (spec.kind) {
    case 'number':
    case 'integer': {
      const n = typeof raw === 'number' ? raw : Number(asText(raw).replace(',', '.'))
      if (!Number.isFinite(n)) return { key: 'validation.number' }
      if (spec.kind === 'integer' && !Number.isInteger(n)) return { key: 'validation.integer' }
      const lowOk = spec.min === undefined || (spec.minExclusive ? n > spec.min : n >= spec.min)
      const highOk = spec.max === undefined || n <= spec.max
      if (!lowOk || !highOk) {
        if (spec.max === undefined) return { key: spec.minExclusive ? 'validation.above' : 'validation.atLeast', params: { min: spec.min } }
        return { key: 'validation.between', params: { min: spec.min ?? 0, max: spec.max } }
      }
      return null
    }
    case 'enum':
      return spec.options?.includes(asText(raw)) ? null : { key: 'validation.invalidChoice' }
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(asText(raw)) ? null : { key: 'validation.date' }
    default: {
      const s = asText(raw)
      if (spec.maxLength !== undefined && [...s].length > spec.maxLength) return { key: 'validation.tooLong', params: { max: spec.maxLength } }
      if (spec.pattern && !spec.pattern.test(s)) return { key: 'validation.format' }
      return null
    }
  }
}

/** Converts form values to the API payload: numbers parsed, empty optional values dropped (or null on edit). */
export function toPayload(specs: FieldSpec[], values: Record<string, unknown>, forPatch: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of specs) {
    const v = values[f.name]
    const empty = v === null || v === undefined || (typeof v === 'string' && v.trim() === '')
    if (empty) {
      if (forPatch) out[f.name] = null
      continue
    }
    if (f.kind === 'number' || f.kind === 'integer') out[f.name] = typeof v === 'number' ? v : Number(asText(v).replace(',', '.'))
    else out[f.name] = typeof v === 'string' ? v.trim() : v
  }
  return out
}

/** "data.fte" → "fte" (422 details[].field onto form fields). */
export function formFieldOf(apiField: string): string {
  return apiField.startsWith('data.') ? apiField.slice(5) : apiField
}
