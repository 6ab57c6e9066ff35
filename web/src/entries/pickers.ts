// The entry form's person and place pickers (docs/frontend.md §3.3 "Entry
// form"), next to the taxonomy and location lookups of lookups.ts:
//
//   - the traveller of a plane or train trip from GET …/modules/headcount/members
//     (own-scoped users — standard members — see and may pick only themselves);
//   - building → room: the reference buildings (GET /building-rooms/buildings)
//     with the taxonomy's, then the rooms of the chosen building (GET
//     /building-rooms?building_name=), whose reference type prefills the room
//     type and whose surface is shown read-only (the engine uses it);
//   - uniqueness on blur (GET P/{submodule}/entries/check-unique): a member's
//     SCIPER (enforced by the API: shown as an error) and an equipment id
//     (advisory: shown as a hint);
//   - the student FTE helper: students × months × average FTE / 12.
import { checkEntryUnique, listHeadcountMembers, type CheckUniqueQuery, type HeadcountMember } from '@/api/entries'
import { listBuildingRooms, listBuildings, type Building } from '@/api/reference'
import type { CallOptions } from '@/api/base'
import type { BuildingRoom, Me, SubmoduleRef } from '@/api/types'
import { asText } from '@/display/text'
import type { FormValues } from './edit'
import { fold, type TaxonomyNode } from './lookups'

export interface PickerOption {
  value: string
  label: string
}

// ───────────────────────── traveller ─────────────────────────

/** The traveller field of plane and train trips. */
export const TRAVELER_FIELD = 'user_institutional_id'
export const TRAVEL_SUBMODULES: readonly string[] = ['plane', 'train']

export function isTravelerField(submodule: string, field: string): boolean {
  return field === TRAVELER_FIELD && TRAVEL_SUBMODULES.includes(submodule)
}

/**
 * Own-scoped on a module (docs/domain.md §9.3): every grant of the module on
 * the unit is of kind `own` (standard members and their trips).
 */
export function isOwnScoped(me: Me | null | undefined, module: string, cf: string | null | undefined): boolean {
  if (!me || !cf) return false
  const grants = me.permissions.filter((g) => g.resource === `modules.${module}` && (g.scope.kind === 'global' || g.scope.cf === cf || g.scope.kind === 'affiliation'))
  return grants.length > 0 && grants.every((g) => g.scope.kind === 'own')
}

/** GET …/headcount/members (a failure gives no options: the SCIPER can still be typed). */
export async function loadMembers(unitId: number, year: number, opts?: CallOptions): Promise<HeadcountMember[]> {
  try {
    return await listHeadcountMembers(unitId, year, opts)
  } catch {
    return []
  }
}

/**
 * The traveller options: the unit's members as "Name · SCIPER"; an
 * own-scoped user gets only himself (from the list, else from /me).
 */
export function travelerOptions(members: readonly HeadcountMember[], self: Pick<Me['user'], 'sciper' | 'display_name'> | null, ownOnly: boolean): PickerOption[] {
  const opt = (m: HeadcountMember) => ({ value: m.sciper, label: m.name ? `${m.name} · ${m.sciper}` : m.sciper })
  if (ownOnly) {
    if (!self?.sciper) return []
    const mine = members.find((m) => m.sciper === self.sciper)
    return [opt(mine ?? { sciper: self.sciper, name: self.display_name ?? '' })]
  }
  return members.map(opt)
}

// ───────────────────────── buildings and rooms ─────────────────────────

let buildings: Promise<Building[]> | null = null

/** GET /building-rooms/buildings once (reference data; a failure is retried next time). */
export function loadBuildings(opts?: CallOptions): Promise<Building[]> {
  buildings ??= listBuildings({}, opts).catch((err: unknown) => {
    buildings = null
    throw err
  })
  return buildings
}

const rooms = new Map<string, Promise<BuildingRoom[]>>()

/** GET /building-rooms?building_name= (up to 1 000 rooms), once per building. */
export function loadRooms(building: string, opts?: CallOptions): Promise<BuildingRoom[]> {
  const key = fold(building)
  let p = rooms.get(key)
  if (!p) {
    p = listBuildingRooms({ building_name: building, limit: 1000 }, opts)
    rooms.set(key, p)
    p.catch(() => rooms.delete(key))
  }
  return p
}

/** Forgets the cached buildings and rooms (tests). */
export function clearPlaces(): void {
  buildings = null
  rooms.clear()
}

/**
 * The building options: the taxonomy's buildings (those with factors) and the
 * reference buildings, once each (folded), with their location as caption.
 */
export function buildingOptions(nodes: readonly TaxonomyNode[], reference: readonly Building[]): PickerOption[] {
  const out = new Map<string, PickerOption>()
  for (const b of reference) {
    out.set(fold(b.building_name), { value: b.building_name, label: b.building_location ? `${b.building_name} · ${b.building_location}` : b.building_name })
  }
  for (const n of nodes) {
    if (!out.has(fold(n.value)) && fold(n.value) !== 'default') out.set(fold(n.value), { value: n.value, label: n.value })
  }
  return [...out.values()].sort((a, b) => a.value.localeCompare(b.value))
}

/** The location of a reference building (null when unknown). */
export function buildingLocation(reference: readonly Building[], name: unknown): string | null {
  const k = fold(name)
  return reference.find((b) => fold(b.building_name) === k)?.building_location ?? null
}

export function findRoom(list: readonly BuildingRoom[], name: unknown): BuildingRoom | undefined {
  const k = fold(name)
  return k ? list.find((r) => fold(r.room_name) === k) : undefined
}

/** A room option: its name, then type and surface as a hint of what the engine will use. */
export function roomOption(r: BuildingRoom, typeLabel: (t: string) => string, surface: (m2: number) => string): PickerOption {
  const extra = [r.room_type ? typeLabel(r.room_type) : '', typeof r.surface_m2 === 'number' ? surface(r.surface_m2) : ''].filter(Boolean).join(', ')
  return { value: r.room_name, label: extra ? `${r.room_name} · ${extra}` : r.room_name }
}

// ───────────────────────── uniqueness ─────────────────────────

/** Fields checked on blur, per submodule: `enforced` ones are refused by the API (409), the others only advised. */
export const UNIQUE_FIELDS: Readonly<Record<string, { field: CheckUniqueQuery['field']; enforced: boolean }>> = {
  member: { field: 'user_institutional_id', enforced: true },
  scientific: { field: 'equipment_id', enforced: false },
  it: { field: 'equipment_id', enforced: false },
  other: { field: 'equipment_id', enforced: false },
}

export function uniqueFieldOf(submodule: string, field: string): { field: CheckUniqueQuery['field']; enforced: boolean } | null {
  const u = UNIQUE_FIELDS[submodule]
  return u && u.field === field ? u : null
}

/**
 * Whether the value is free in the report module (GET …/check-unique with the
 * entry being edited excluded); null when it could not be checked.
 */
export async function isUnique(ref: SubmoduleRef, field: CheckUniqueQuery['field'], value: unknown, excludeId: number | null, opts?: CallOptions): Promise<boolean | null> {
  const v = asText(value).trim()
  if (!v) return null
  try {
    const res = await checkEntryUnique(ref, excludeId === null ? { field, value: v } : { field, value: v, exclude_id: excludeId }, opts)
    return res.unique
  } catch {
    return null
  }
}

// ───────────────────────── student FTE ─────────────────────────

const toNumber = (v: unknown): number | null => {
  const s = asText(v).trim().replace(',', '.')
  if (s === '') return null
  const n = Number(s)
  return Number.isFinite(n) ? n : null
}

/**
 * The student line's FTE from its helper fields (docs/domain.md §7.1):
 * students × months × average FTE / 12, rounded to 3 decimals; null unless
 * all three are valid (students ≥ 0, 0 ≤ months ≤ 12, 0 ≤ average ≤ 1).
 */
export function studentFte(values: FormValues): number | null {
  const students = toNumber(values.students)
  const months = toNumber(values.months)
  const avg = toNumber(values.average_fte)
  if (students === null || months === null || avg === null) return null
  if (students < 0 || months < 0 || months > 12 || avg < 0 || avg > 1) return null
  return Math.round(((students * months * avg) / 12) * 1000) / 1000
}
