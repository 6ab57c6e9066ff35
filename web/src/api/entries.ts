// Module data (docs/api.md §5) under P = /units/{unit_id}/years/{year}/modules/{module}:
// the module overview and breakdown, the entries of a submodule (CRUD,
// check-unique), the headcount members and the travel map.
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type {
  BodyOf,
  Entry,
  EntryList,
  EntryWriteResult,
  ModuleBreakdownNode,
  ModuleOverview,
  ModuleRef,
  QueryOf,
  ResponseOf,
  SubmoduleRef,
  TripsMap,
  UnitId,
  Year,
} from './types'

export type { ModuleRef, SubmoduleRef } from './types'

export type EntryId = number
export type EntryData = BodyOf<'createEntry'>['data']
export type ListEntriesQuery = QueryOf<'listEntries'>
export type CheckUniqueQuery = QueryOf<'checkEntryUnique'>
export type CheckUniqueResult = ResponseOf<'checkEntryUnique', 200>
export type HeadcountMember = ResponseOf<'listHeadcountMembers', 200>[number]

/** Optimistic concurrency of one entry (ETag W/"e<id>-v<version>"). */
export interface EntryWriteOptions extends CallOptions {
  ifMatch?: string | undefined
}

/**
 * The answer of an entry write: the entry, plus module_reopened (true when
 * this write moved a validated module back to in_progress).
 */
export type WrittenEntry = EntryWriteResult

/** What DELETE answers (204 has no body: nothing is known then). */
export interface DeleteResult {
  module_reopened?: boolean | undefined
}

/** The entity tag of an entry version, as the API sends it in ETag: W/"e<id>-v<version>". */
export function entryTag(entry: Pick<Entry, 'id' | 'version'>): string {
  return `W/"e${entry.id}-v${entry.version}"`
}

const modulePath = (r: ModuleRef) => path`/units/${r.unitId}/years/${r.year}/modules/${r.module}`
const entriesPath = (r: SubmoduleRef) => `${modulePath(r)}${path`/${r.submodule}/entries`}`
const entryPath = (r: SubmoduleRef, id: EntryId) => `${entriesPath(r)}${path`/${id}`}`

const ifMatch = (opts: EntryWriteOptions | undefined) => (opts?.ifMatch ? { headers: { 'If-Match': opts.ifMatch } } : {})

/** GET P: totals and breakdowns of a module from its statistics. */
export function getModuleOverview(ref: ModuleRef, opts?: CallOptions): Promise<ModuleOverview> {
  return clientOf(opts).get<ModuleOverview>(modulePath(ref), requestOptions(opts))
}

/** GET P/breakdown?by=…: by class (professional_travel) or top class (equipment, purchases, research_facilities). */
export function getModuleBreakdown(
  ref: ModuleRef,
  by: QueryOf<'getModuleBreakdown'>['by'],
  opts?: CallOptions,
): Promise<ModuleBreakdownNode[]> {
  return clientOf(opts).get<ModuleBreakdownNode[]>(`${modulePath(ref)}/breakdown`, requestOptions(opts, { query: { by } }))
}

/** GET P/{submodule}/entries: one page of entries with a summary. */
export function listEntries(ref: SubmoduleRef, query: ListEntriesQuery = {}, opts?: CallOptions): Promise<EntryList> {
  return clientOf(opts).get<EntryList>(entriesPath(ref), requestOptions(opts, { query }))
}

/** GET P/{submodule}/entries/{entry_id}: one entry with its emissions. */
export function getEntry(ref: SubmoduleRef, id: EntryId, opts?: CallOptions): Promise<Entry> {
  return clientOf(opts).get<Entry>(entryPath(ref, id), requestOptions(opts))
}

/** POST P/{submodule}/entries: creates an entry and computes its emissions. */
export function createEntry(ref: SubmoduleRef, data: EntryData, opts?: CallOptions): Promise<WrittenEntry> {
  return clientOf(opts).post<WrittenEntry>(entriesPath(ref), { data }, requestOptions(opts))
}

/**
 * PATCH P/{submodule}/entries/{entry_id}: JSON merge patch on data (null
 * clears a field). With ifMatch (entryTag), a stale version answers 412
 * precondition_failed.
 */
export function patchEntry(ref: SubmoduleRef, id: EntryId, data: EntryData, opts?: EntryWriteOptions): Promise<WrittenEntry> {
  return clientOf(opts).patch<WrittenEntry>(entryPath(ref, id), { data }, requestOptions(opts, ifMatch(opts)))
}

/** DELETE P/{submodule}/entries/{entry_id} (same If-Match rule as PATCH). */
export async function deleteEntry(ref: SubmoduleRef, id: EntryId, opts?: EntryWriteOptions): Promise<DeleteResult> {
  const res = await clientOf(opts).delete<DeleteResult | undefined>(entryPath(ref, id), requestOptions(opts, ifMatch(opts)))
  return typeof res === 'object' && res !== null ? res : {}
}

/** GET P/{submodule}/entries/check-unique: whether a SCIPER or an equipment id is free. */
export function checkEntryUnique(ref: SubmoduleRef, query: CheckUniqueQuery, opts?: CallOptions): Promise<CheckUniqueResult> {
  return clientOf(opts).get<CheckUniqueResult>(`${entriesPath(ref)}/check-unique`, requestOptions(opts, { query }))
}

/** GET …/modules/headcount/members: the traveler picker's members. */
export function listHeadcountMembers(unitId: UnitId, year: Year, opts?: CallOptions): Promise<HeadcountMember[]> {
  return clientOf(opts).get<HeadcountMember[]>(
    `${modulePath({ unitId, year, module: 'headcount' })}/members`,
    requestOptions(opts),
  )
}

/** GET …/modules/professional_travel/trips-map: plane and train legs with coordinates. */
export function getTripsMap(unitId: UnitId, year: Year, opts?: CallOptions): Promise<TripsMap> {
  return clientOf(opts).get<TripsMap>(`${modulePath({ unitId, year, module: 'professional_travel' })}/trips-map`, requestOptions(opts))
}
