// Audit viewer helpers (docs/frontend.md §4.5): the filters kept in the URL
// query, the API query and export params they make, and the rows of the
// side-by-side diff of an event (pkg/audit Diff: {added, removed, changed:
// {key: {old, new}}}, flattened to the paths that differ).
import type { LocationQuery, LocationQueryRaw } from 'vue-router'

import type { AuditAction, AuditQuery, AuditShipStatus } from '@/api/audit'

export const AUDIT_ACTIONS: readonly AuditAction[] = ['C', 'R', 'U', 'D']
export const SHIP_STATUSES: readonly AuditShipStatus[] = ['pending', 'shipped', 'skipped', 'failed']

export interface AuditFilters {
  actions: AuditAction[]
  events: string[]
  entityType: string
  entityId: string
  actor: string
  /** YYYY-MM-DD, inclusive. */
  from: string
  /** YYYY-MM-DD, inclusive (the API's `to` is the next day, exclusive). */
  to: string
  module: string
  q: string
  shipStatuses: AuditShipStatus[]
}

const one = (v: LocationQuery[string] | undefined) => {
  const x = Array.isArray(v) ? v[0] : v
  return typeof x === 'string' ? x : ''
}
const list = (v: LocationQuery[string] | undefined) =>
  (Array.isArray(v) ? v : [v]).flatMap((x) => (typeof x === 'string' ? x.split(',') : [])).map((x) => x.trim()).filter(Boolean)
const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s)

/** The default date range: the last 30 days (the statistics scan the range only). */
export function defaultRange(now = new Date()): { from: string; to: string } {
  const day = (d: Date) => d.toISOString().slice(0, 10)
  const from = new Date(now)
  from.setUTCDate(from.getUTCDate() - 29)
  return { from: day(from), to: day(now) }
}

export function auditFiltersFromQuery(q: LocationQuery, now = new Date()): AuditFilters {
  const range = defaultRange(now)
  const from = one(q.from)
  const to = one(q.to)
  return {
    actions: list(q.action).filter((a): a is AuditAction => (AUDIT_ACTIONS as readonly string[]).includes(a)),
    events: list(q.event),
    entityType: one(q.entity_type),
    entityId: one(q.entity_id),
    actor: one(q.actor_sciper),
    from: isDate(from) ? from : q.from === '' ? '' : range.from,
    to: isDate(to) ? to : q.to === '' ? '' : range.to,
    module: one(q.module),
    q: one(q.q).slice(0, 100),
    shipStatuses: list(q.ship_status).filter((s): s is AuditShipStatus => (SHIP_STATUSES as readonly string[]).includes(s)),
  }
}

export function auditFiltersToQuery(f: AuditFilters): LocationQueryRaw {
  const out: LocationQueryRaw = {}
  if (f.actions.length) out.action = f.actions.join(',')
  if (f.events.length) out.event = f.events.join(',')
  if (f.entityType) out.entity_type = f.entityType
  if (f.entityId) out.entity_id = f.entityId
  if (f.actor) out.actor_sciper = f.actor
  out.from = f.from
  out.to = f.to
  if (f.module) out.module = f.module
  if (f.q) out.q = f.q
  if (f.shipStatuses.length) out.ship_status = f.shipStatuses.join(',')
  return out
}

/** RFC 3339 of a day's start (UTC), or undefined. */
export function dayStartISO(d: string): string | undefined {
  return isDate(d) ? `${d}T00:00:00Z` : undefined
}

/** RFC 3339 of the start of the day after (an exclusive bound), or undefined. */
export function dayEndISO(d: string): string | undefined {
  if (!isDate(d)) return undefined
  const x = new Date(`${d}T00:00:00Z`)
  x.setUTCDate(x.getUTCDate() + 1)
  return x.toISOString().replace('.000Z', 'Z')
}

/** The GET /audit/events query (without cursor and limit). */
export function auditApiQuery(f: AuditFilters): AuditQuery {
  const q: AuditQuery = {}
  if (f.actions.length) q.action = f.actions
  if (f.events.length) q.event = f.events
  if (f.entityType) q.entity_type = f.entityType
  if (f.entityId) q.entity_id = f.entityId
  if (f.actor) q.actor_sciper = f.actor
  const from = dayStartISO(f.from)
  if (from) q.from = from
  const to = dayEndISO(f.to)
  if (to) q.to = to
  if (f.module) q.module = f.module
  if (f.q) q.q = f.q
  if (f.shipStatuses.length) q.ship_status = f.shipStatuses
  return q
}

/** The params of an audit_log export (docs/api.md §12): the same filters. */
export function auditExportParams(f: AuditFilters): Record<string, unknown> {
  return { ...auditApiQuery(f) }
}

export interface DiffRow {
  path: string
  old: unknown
  new: unknown
  kind: 'added' | 'removed' | 'changed'
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function walk(path: string, a: unknown, b: unknown, out: DiffRow[]) {
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(path ? `${path}.${k}` : k, a[k], b[k], out)
    return
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return
  out.push({ path, old: a, new: b, kind: a === undefined ? 'added' : b === undefined ? 'removed' : 'changed' })
}

/** The paths that differ in an event's diff, nested objects flattened (a.b.c), in order. */
export function diffRows(diff: unknown): DiffRow[] {
  if (!isObject(diff)) return []
  const out: DiffRow[] = []
  const added = isObject(diff.added) ? diff.added : {}
  const removed = isObject(diff.removed) ? diff.removed : {}
  const changed = isObject(diff.changed) ? diff.changed : {}
  for (const [k, v] of Object.entries(changed)) {
    const c = isObject(v) ? v : {}
    walk(k, c.old, c.new, out)
  }
  for (const [k, v] of Object.entries(added)) walk(k, undefined, v, out)
  for (const [k, v] of Object.entries(removed)) walk(k, v, undefined, out)
  return out
}

/** A value of the diff table: JSON for objects and arrays, '–' when absent. */
export function showValue(v: unknown): string {
  if (v === undefined) return '–'
  if (typeof v === 'string') return v
  return JSON.stringify(v)
}
