// Route guards (docs/frontend.md §1 "Guards"): authGuard (session loaded, else
// login with return_to), unitGuard (unit in /me/units with a report for the
// year, else workspace with a notice) and the page gates (module_view,
// unit_results → unauthorized page).
import type { Pinia } from 'pinia'
import type { RouteLocationNormalized, RouteLocationRaw, Router } from 'vue-router'

import { canSeeResults, canViewModule } from '@/auth/permissions'
import { isLocale } from '@/i18n'
import { isModuleKey } from '@/modules/catalogue'
import { backofficeGate } from './backoffice'
import { useSessionStore } from '@/stores/session'
import { useWorkspaceStore } from '@/stores/workspace'

function langOf(to: RouteLocationNormalized): string {
  return isLocale(to.params.lang) ? to.params.lang : 'en'
}

/** The decision for one navigation: true to proceed, or where to go instead. */
export async function guard(pinia: Pinia, to: RouteLocationNormalized): Promise<true | RouteLocationRaw> {
  if (to.meta.public) return true
  const lang = langOf(to)
  const session = useSessionStore(pinia)
  let me
  try {
    me = await session.load()
  } catch {
    return true // network or server error: the page shows it
  }
  if (!me) return { name: 'login', params: { lang }, query: { return_to: to.fullPath } }
  const bo = await backofficeGate(me, to, lang)
  if (bo !== true) return bo
  const gate = to.meta.unitGate
  if (!gate) return true

  const workspace = useWorkspaceStore(pinia)
  const unitId = Number(to.params.unitId)
  const year = Number(to.params.year)
  let units
  try {
    units = await workspace.loadUnits()
  } catch {
    return true
  }
  const mu = units.find((u) => u.unit.id === unitId)
  if (!mu || !mu.reports.some((r) => r.year === year)) {
    return { name: 'workspace', params: { lang }, query: { notice: 'unit_unavailable' } }
  }
  if (gate === 'module') {
    const module = to.params.module
    // pathMatch is the path after the language segment (the not-found route is a child of /:lang).
    if (!isModuleKey(module)) return { name: 'not-found', params: { lang, pathMatch: to.path.split('/').slice(2) } }
    if (!canViewModule(me, module, mu.unit)) return { name: 'unauthorized', params: { lang } }
  }
  if (gate === 'results' && !canSeeResults(me, mu.unit)) return { name: 'unauthorized', params: { lang } }
  return true
}

export function installGuards(router: Router, pinia: Pinia): void {
  router.beforeEach((to) => guard(pinia, to))
}
