// Reporting filters (docs/frontend.md §4.1): kept in the URL query so a view
// can be shared, turned into the /backoffice/* query and into the params of
// the exports (docs/api.md §12: the repeatable filters as JSON arrays), and
// carried to the print view as ?filters=<base64url JSON>.
import type { LocationQuery, LocationQueryRaw } from 'vue-router'

export type OverallStatus = 'not_started' | 'in_progress' | 'validated'
export const OVERALL_STATUSES: readonly OverallStatus[] = ['not_started', 'in_progress', 'validated']

export interface ReportingFilters {
  years: number[]
  affiliations: number[]
  units: number[]
  statuses: OverallStatus[]
  /** `<module>` or `<module>:<status>`. */
  moduleStatuses: string[]
  q: string
}

export interface TableState {
  page: number
  limit: number
  /** e.g. "-t_co2eq" or "unit_name" ('' = the API default). */
  sort: string
}

export const emptyFilters = (): ReportingFilters => ({ years: [], affiliations: [], units: [], statuses: [], moduleStatuses: [], q: '' })

function list(v: LocationQuery[string] | undefined): string[] {
  if (v === undefined || v === null) return []
  const arr = Array.isArray(v) ? v : [v]
  return arr.flatMap((x) => (typeof x === 'string' ? x.split(',') : [])).map((x) => x.trim()).filter(Boolean)
}

function ints(v: LocationQuery[string] | undefined): number[] {
  return [...new Set(list(v).map(Number).filter((n) => Number.isInteger(n) && n > 0))]
}

function one(v: LocationQuery[string] | undefined): string {
  const x = Array.isArray(v) ? v[0] : v
  return typeof x === 'string' ? x : ''
}

/** Filters from the route query (unknown values dropped). */
export function filtersFromQuery(q: LocationQuery): ReportingFilters {
  return {
    years: ints(q.year),
    affiliations: ints(q.affiliation),
    units: ints(q.unit),
    statuses: list(q.status).filter((s): s is OverallStatus => (OVERALL_STATUSES as readonly string[]).includes(s)),
    moduleStatuses: [...new Set(list(q.module_status).filter((s) => /^[a-z_]+(:(not_started|in_progress|validated))?$/.test(s)))],
    q: one(q.q).slice(0, 100),
  }
}

/** Table state from the route query. */
export function tableFromQuery(q: LocationQuery, defaults: TableState = { page: 1, limit: 25, sort: '' }): TableState {
  const page = Number(one(q.page))
  const limit = Number(one(q.limit))
  const sort = one(q.sort)
  return {
    page: Number.isInteger(page) && page >= 1 ? page : defaults.page,
    limit: [10, 25, 50, 100].includes(limit) ? limit : defaults.limit,
    sort: /^-?[a-z][a-z0-9_]*(,-?[a-z][a-z0-9_]*)?$/.test(sort) ? sort : defaults.sort,
  }
}

/** The route query of filters and table state (empty values left out; lists comma-joined). */
export function toQuery(f: ReportingFilters, table?: TableState): LocationQueryRaw {
  const out: LocationQueryRaw = {}
  if (f.years.length) out.year = f.years.join(',')
  if (f.affiliations.length) out.affiliation = f.affiliations.join(',')
  if (f.units.length) out.unit = f.units.join(',')
  if (f.statuses.length) out.status = f.statuses.join(',')
  if (f.moduleStatuses.length) out.module_status = f.moduleStatuses.join(',')
  if (f.q.trim()) out.q = f.q.trim()
  if (table) {
    if (table.page > 1) out.page = String(table.page)
    if (table.limit !== 25) out.limit = String(table.limit)
    if (table.sort) out.sort = table.sort
  }
  return out
}

/** The query of GET /backoffice/overview and /backoffice/units (repeated parameters). */
export function apiQuery(f: ReportingFilters) {
  return {
    year: f.years,
    affiliation: f.affiliations,
    unit: f.units,
    status: f.statuses,
    module_status: f.moduleStatuses,
    ...(f.q.trim() ? { q: f.q.trim() } : {}),
  }
}

/** The params of a reporting export (docs/api.md §12): the filters as arrays, empty ones left out. */
export function exportParams(f: ReportingFilters): Record<string, unknown> {
  const out: Record<string, unknown> = { year: f.years }
  if (f.affiliations.length) out.affiliation = f.affiliations
  if (f.units.length) out.unit = f.units
  if (f.statuses.length) out.status = f.statuses
  if (f.moduleStatuses.length) out.module_status = f.moduleStatuses
  if (f.q.trim()) out.q = f.q.trim()
  return out
}

function utf8ToBinary(s: string): string {
  return Array.from(new TextEncoder().encode(s), (b) => String.fromCharCode(b)).join('')
}

/** base64url of the filters' JSON (the print view's ?filters=). */
export function encodeFilters(f: ReportingFilters): string {
  return btoa(utf8ToBinary(JSON.stringify(f))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** The filters of a ?filters= value; empty filters when it cannot be read. */
export function decodeFilters(s: string | null | undefined): ReportingFilters {
  if (!s) return emptyFilters()
  try {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/')
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
    const json = new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))
    const raw = JSON.parse(json) as Record<string, unknown>
    const toQ = (v: unknown) => (Array.isArray(v) ? v.map(String).join(',') : typeof v === 'string' ? v : undefined)
    return filtersFromQuery({
      year: toQ(raw.years) ?? null,
      affiliation: toQ(raw.affiliations) ?? null,
      unit: toQ(raw.units) ?? null,
      status: toQ(raw.statuses) ?? null,
      module_status: toQ(raw.moduleStatuses) ?? null,
      q: typeof raw.q === 'string' ? raw.q : null,
    })
  } catch {
    return emptyFilters()
  }
}

/** True when two filter sets select the same reports. */
export function sameFilters(a: ReportingFilters, b: ReportingFilters): boolean {
  return JSON.stringify(toQuery(a)) === JSON.stringify(toQuery(b))
}
