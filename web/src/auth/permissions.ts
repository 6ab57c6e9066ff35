// Permission helpers (docs/frontend.md §6, docs/domain.md §2.3): the UI hides or
// disables what the caller may not do; the API stays the authority.
import type { Grant, Me } from '@/api/types'

export type Action = Grant['actions'][number]

/** The unit a check is about: its cost centre (scopes name units by cf). */
export interface UnitRef {
  cf: string | null | undefined
}

/** True when the grant's scope covers the unit (or any unit when unit is omitted). */
export function scopeCovers(grant: Grant, unit?: UnitRef): boolean {
  const s = grant.scope
  if (unit === undefined) return true
  switch (s.kind) {
    case 'global':
      return true
    case 'unit':
    case 'own':
      return !!unit.cf && s.cf === unit.cf
    case 'affiliation':
      // Affiliation subtrees are resolved by the API; the UI cannot tell, so it allows.
      return true
    default:
      return false
  }
}

/** can(me, "modules.headcount", "edit", unit): a grant with that action covering the unit. */
export function can(me: Me | null | undefined, resource: string, action: Action, unit?: UnitRef): boolean {
  if (!me) return false
  return me.permissions.some((g) => g.resource === resource && g.actions.includes(action) && scopeCovers(g, unit))
}

/** unit_member(u): a unit or own scope on the unit's cf. */
export function isUnitMember(me: Me | null | undefined, unit: UnitRef): boolean {
  if (!me || !unit.cf) return false
  return [...me.permissions.map((g) => g.scope), ...me.roles.map((r) => r.scope)].some(
    (s) => (s.kind === 'unit' || s.kind === 'own') && s.cf === unit.cf,
  )
}

/** unit_results(u): member, any global role, or reporting:view (affiliation checked by the API). */
export function canSeeResults(me: Me | null | undefined, unit: UnitRef): boolean {
  if (!me) return false
  return (
    isUnitMember(me, unit) ||
    me.roles.some((r) => r.scope.kind === 'global') ||
    can(me, 'backoffice.reporting', 'view', unit)
  )
}

export const canViewModule = (me: Me | null | undefined, module: string, unit: UnitRef) =>
  can(me, `modules.${module}`, 'view', unit)

export const canEditModule = (me: Me | null | undefined, module: string, unit: UnitRef) =>
  can(me, `modules.${module}`, 'edit', unit)

export const canSyncModule = (me: Me | null | undefined, module: string, unit: UnitRef) =>
  can(me, `modules.${module}`, 'sync', unit)

/** module_validate(u) without the year check: module_status:edit on the unit. */
export const canValidateModules = (me: Me | null | undefined, unit: UnitRef) => can(me, 'module_status', 'edit', unit)

/** True when the year accepts changes (docs/frontend.md §1 "Year state"). */
export function yearIsOpen(yearStatus: string | null | undefined): boolean {
  return yearStatus === 'open'
}
