// Year lifecycle and configuration helpers of the data-management page
// (docs/frontend.md §4.2, docs/domain.md §11): which actions a status offers,
// the nested PATCH of one configuration key, and the 422 details mapped to
// configuration paths.
import { isApiError, type ApiErrorDetail } from '@/api/client'
import type { YearInfo, YearStatus } from '@/api/years'

export interface YearActions {
  open: boolean
  close: boolean
  setup: boolean
}

/**
 * Actions of a status (docs/domain.md §11.1): open a ready or closed year,
 * close an open one, re-run the setup of a failed, ready or open year — or of
 * a setting_up year whose setup pipeline ended without completing it.
 */
export function yearActions(status: YearStatus | null | undefined, setupEnded = false): YearActions {
  return {
    open: status === 'ready' || status === 'closed',
    close: status === 'open',
    setup: status === 'setup_failed' || status === 'ready' || status === 'open' || (status === 'setting_up' && setupEnded),
  }
}

/** Uploads and copies are accepted by ready and open years (docs/api.md §9). */
export const yearAcceptsUploads = (status: YearStatus | null | undefined) => status === 'ready' || status === 'open'

/** The configuration may change unless the year is closed (or not set up). */
export const yearConfigEditable = (status: YearStatus | null | undefined) => status === 'ready' || status === 'open' || status === 'setup_failed'

/** {modules: {m: {submodules: {s: {key: value}}}}} or {modules: {m: {key: value}}}. */
export function moduleConfigPatch(module: string, submodule: string | null, key: string, value: unknown): Record<string, unknown> {
  const leaf = { [key]: value }
  return { modules: { [module]: submodule ? { submodules: { [submodule]: leaf } } : leaf } }
}

/** The configuration path of a module or submodule key, as the API names it in 422 details. */
export function configPath(module: string, submodule: string | null, key: string): string {
  return submodule ? `config.modules.${module}.submodules.${submodule}.${key}` : `config.modules.${module}.${key}`
}

/** The configured value of a module (or submodule) key, with the API's defaults (enabled, uncertainty none). */
export function configValue(year: YearInfo | null | undefined, module: string, submodule: string | null, key: string): unknown {
  const m = year?.config.modules?.[module]
  const holder = submodule ? m?.submodules?.[submodule] : m
  const v = (holder as Record<string, unknown> | undefined)?.[key]
  if (v !== undefined) return v
  if (key === 'enabled') return true
  if (key === 'uncertainty') return 'none'
  if (key === 'inputs_disabled') return false
  return null
}

/** details[].field → message of a 422 on a year (field paths such as config.modules.it.threshold_kg); {} for other errors. */
export function configFieldErrors(err: unknown, message: (d: ApiErrorDetail) => string): Record<string, string> {
  if (!isApiError(err) || (err.status !== 422 && err.status !== 409)) return {}
  const out: Record<string, string> = {}
  for (const d of err.details) if (d.field && !(d.field in out)) out[d.field] = message(d)
  return out
}
