// Reference data behind the entry form (docs/frontend.md §3.3 "Entry form"):
// taxonomy-backed fields (GET /taxonomies/{submodule}?year=, the year's
// factors as class → sub-class options with defaults), the currencies, and
// airports / train stations (GET /locations, /locations/distance).
//
// The API refuses a taxonomy-backed value outside the year's taxonomy (422
// invalid_enum on data.<field>), so those fields are dropdowns over these
// options, and picking a class prefills the fields its defaults name (e.g.
// equipment hours); defaults that are not fields (power, unit) are shown as
// hints.
import { previewDistance, searchLocations, getTaxonomy, type Distance } from '@/api/reference'
import type { Location, Taxonomy } from '@/api/types'
import type { CallOptions } from '@/api/base'
import type { FieldSpec } from '@/modules/catalogue'
import { asText } from '@/display/text'
import type { FormValues } from './edit'

export type TaxonomyNode = Taxonomy['nodes'][number]

/** Currencies of purchases and cloud: EUR and the ECB sync's (ECB_CURRENCIES). */
export const CURRENCIES = ['CHF', 'EUR', 'USD', 'GBP', 'AUD', 'CAD', 'CNY', 'JPY', 'SEK'] as const

/** Fields filled with an airport or station picker (docs/domain.md §8): the value is an IATA code or a natural key. */
export const LOCATION_FIELDS: Readonly<Record<string, { mode: 'plane' | 'train'; end: 'origin' | 'destination' }>> = {
  origin_iata: { mode: 'plane', end: 'origin' },
  destination_iata: { mode: 'plane', end: 'destination' },
  origin_key: { mode: 'train', end: 'origin' },
  destination_key: { mode: 'train', end: 'destination' },
}

/** Fields picked from CURRENCIES. */
export const CURRENCY_FIELDS: readonly string[] = ['currency']

/** Submodules whose class field also accepts values outside the taxonomy (the API does not check them). */
const FREE_KIND: readonly string[] = ['room']

/** Taxonomy values compare like the API's emission.Fold: case, spaces and accents do not matter. */
export function fold(v: unknown): string {
  return asText(v)
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .trim()
    .replace(/\s+/g, ' ')
    .toLowerCase()
}

export function findNode(nodes: readonly TaxonomyNode[], value: unknown): TaxonomyNode | undefined {
  if (value === null || value === undefined || value === '') return undefined
  const k = fold(value)
  return nodes.find((n) => fold(n.value) === k)
}

/** How the form renders one field given the submodule's taxonomy. */
export type FieldControl =
  | { kind: 'taxonomy'; options: readonly TaxonomyNode[]; free: boolean }
  | { kind: 'currency' }
  | { kind: 'location'; mode: 'plane' | 'train' }
  | { kind: 'plain' }

/**
 * The control of a field: the taxonomy's class field is a dropdown of its
 * nodes, the sub-class field one of the chosen class's children (free text
 * when that class has none: the API then checks nothing); fixed enums keep
 * their own options (FieldSpec.options).
 */
export function controlOf(spec: FieldSpec, submodule: string, tax: Taxonomy | null, values: FormValues): FieldControl {
  const loc = LOCATION_FIELDS[spec.name]
  if (loc) return { kind: 'location', mode: loc.mode }
  if (CURRENCY_FIELDS.includes(spec.name)) return { kind: 'currency' }
  if (spec.kind === 'enum' || !tax || tax.nodes.length === 0) return { kind: 'plain' }
  if (spec.name === tax.kind_field) return { kind: 'taxonomy', options: tax.nodes, free: FREE_KIND.includes(submodule) }
  if (spec.name === tax.subkind_field && tax.kind_field) {
    const node = findNode(tax.nodes, values[tax.kind_field])
    if (node && node.children.length > 0) return { kind: 'taxonomy', options: node.children, free: false }
  }
  return { kind: 'plain' }
}

/** Options of an enum field restricted to the taxonomy (e.g. room types of a building), when the taxonomy narrows it. */
export function enumOptionsOf(spec: FieldSpec, tax: Taxonomy | null, values: FormValues): readonly string[] {
  const all = spec.options ?? []
  if (!tax || spec.name !== tax.subkind_field || !tax.kind_field) return all
  const node = findNode(tax.nodes, values[tax.kind_field])
  if (!node || node.children.length === 0) return all
  const allowed = new Set(node.children.map((c) => fold(c.value)))
  const narrowed = all.filter((o) => allowed.has(fold(o)))
  return narrowed.length > 0 ? narrowed : all
}

/** The defaults of the chosen class and sub-class (the sub-class's win). */
export function defaultsOf(tax: Taxonomy | null, values: FormValues): Record<string, unknown> {
  if (!tax?.kind_field) return {}
  const node = findNode(tax.nodes, values[tax.kind_field])
  if (!node) return {}
  const child = tax.subkind_field ? findNode(node.children, values[tax.subkind_field]) : undefined
  return { ...node.defaults, ...(child?.defaults ?? {}) }
}

/**
 * Prefills the form fields named by the defaults: a field is filled when it
 * is empty or still holds the value a previous prefill put there (a value
 * the user typed is kept). `prefilled` records what was put (mutated).
 * Returns the names of the fields changed.
 */
export function applyDefaults(
  specs: readonly FieldSpec[],
  values: FormValues,
  defaults: Record<string, unknown>,
  prefilled: Record<string, string>,
): string[] {
  const changed: string[] = []
  for (const f of specs) {
    if (!(f.name in defaults)) continue
    const d = defaults[f.name]
    if (d === null || d === undefined) continue
    const text = asText(d)
    const cur = asText(values[f.name])
    const empty = cur.trim() === ''
    if (!empty && cur !== prefilled[f.name]) continue
    if (cur === text) continue
    values[f.name] = text
    prefilled[f.name] = text
    changed.push(f.name)
  }
  return changed
}

/** Defaults that are not form fields (equipment power, units): shown as a hint. */
export function hintDefaults(specs: readonly FieldSpec[], defaults: Record<string, unknown>): [string, unknown][] {
  const names = new Set(specs.map((s) => s.name))
  return Object.entries(defaults).filter(([k, v]) => !names.has(k) && v !== null && v !== undefined && v !== '')
}

const taxonomies = new Map<string, Promise<Taxonomy>>()

/** GET /taxonomies/{submodule}?year= once per submodule and year (a failure is retried next time). */
export function loadTaxonomy(submodule: string, year: number, opts?: CallOptions): Promise<Taxonomy> {
  const key = `${submodule}:${year}`
  let p = taxonomies.get(key)
  if (!p) {
    p = getTaxonomy(submodule, { year }, opts)
    taxonomies.set(key, p)
    p.catch(() => taxonomies.delete(key))
  }
  return p
}

/** Forgets the cached taxonomies (tests). */
export function clearTaxonomies(): void {
  taxonomies.clear()
}

export interface LocationOption {
  /** IATA code (plane) or natural key (train): what the entry stores. */
  value: string
  label: string
  /** Secondary line: municipality / country. */
  caption: string
}

export function locationOption(loc: Location, mode: 'plane' | 'train'): LocationOption {
  const place = [loc.municipality, loc.country_code].filter(Boolean).join(', ')
  if (mode === 'plane') {
    const code = loc.iata_code ?? loc.natural_key.replace(/^plane:/, '')
    return { value: code, label: `${code} · ${loc.name}`, caption: place }
  }
  return { value: loc.natural_key, label: loc.name, caption: place }
}

/** Smallest query sent to GET /locations (the API wants 2–100 characters). */
export const MIN_LOCATION_QUERY = 2

/** Airport or station suggestions for what the user typed ([] below 2 characters). */
export async function suggestLocations(q: string, mode: 'plane' | 'train', opts?: CallOptions): Promise<LocationOption[]> {
  const query = q.trim().slice(0, 100)
  if (query.length < MIN_LOCATION_QUERY) return []
  const list = await searchLocations({ q: query, mode, limit: 8 }, opts)
  return list.map((l) => locationOption(l, mode))
}

/** The distance the engine will compute (null when a location is missing). */
export async function distanceOf(
  mode: 'plane' | 'train',
  origin: unknown,
  destination: unknown,
  trips: unknown,
  opts?: CallOptions,
): Promise<Distance | null> {
  if (typeof origin !== 'string' || typeof destination !== 'string' || !origin.trim() || !destination.trim()) return null
  const n = Number(trips)
  const query: { mode: 'plane' | 'train'; origin: string; destination: string; trips?: number } = { mode, origin: origin.trim(), destination: destination.trim() }
  if (Number.isInteger(n) && n >= 1 && n <= 1000) query.trips = n
  return previewDistance(query, opts)
}
