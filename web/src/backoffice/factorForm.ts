// The factor form (docs/frontend.md §4.3): rows of classification keys and
// values, the body of POST /factors, the changed-keys body of PATCH
// /factors/{id} (a key set to null is removed), and the API's 422/409
// details mapped onto the rows (classification.<key>, values.<key>).
import { isApiError, type ApiErrorDetail } from '@/api/client'
import type { Factor, FactorCreate, FactorPatch } from '@/api/factors'

export type FactorSection = 'classification' | 'values'

export interface FactorRow {
  section: FactorSection
  key: string
  /** As typed: numbers stay strings until sent. */
  value: string
}

/** The rows of a factor (classification first, keys in their stored order). Derived flags are left out. */
export function rowsOf(f: Pick<Factor, 'classification' | 'values'>, opts: { emptyValues?: boolean } = {}): FactorRow[] {
  const cls = Object.entries(f.classification).map(([key, value]) => ({ section: 'classification' as const, key, value: opts.emptyValues ? '' : String(value) }))
  const vals = Object.entries(f.values)
    .filter(([key]) => key !== 'kg_co2eq_sum_from_csv')
    .map(([key, value]) => ({ section: 'values' as const, key, value: opts.emptyValues || value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value) }))
  return [...cls, ...vals]
}

/** A value as sent: a number when the text is one, else the trimmed text. */
export function parseValue(text: string): number | string {
  const s = text.trim()
  if (s !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s)
  return s
}

function sections(rows: FactorRow[]) {
  const classification: Record<string, string> = {}
  const values: Record<string, number | string> = {}
  for (const r of rows) {
    const key = r.key.trim()
    if (!key) continue
    if (r.section === 'classification') classification[key] = r.value.trim()
    else if (r.value.trim() !== '') values[key] = parseValue(r.value)
  }
  return { classification, values }
}

/** POST /factors body. */
export function createBody(year: number, submodule: string, rows: FactorRow[]): FactorCreate {
  return { year, submodule, ...sections(rows) }
}

/**
 * PATCH /factors/{id} body: only the changed keys; a key of the factor that
 * is no longer in the rows (or emptied, for values) is sent as null. Null when
 * nothing changed.
 */
export function patchBody(f: Pick<Factor, 'classification' | 'values'>, rows: FactorRow[]): FactorPatch | null {
  const next = sections(rows)
  const cls: Record<string, string | null> = {}
  const vals: Record<string, number | string | null> = {}
  for (const [k, v] of Object.entries(next.classification)) if (f.classification[k] !== v) cls[k] = v
  for (const k of Object.keys(f.classification)) if (!(k in next.classification)) cls[k] = null
  for (const [k, v] of Object.entries(next.values)) if (f.values[k] !== v) vals[k] = v
  for (const k of Object.keys(f.values)) if (k !== 'kg_co2eq_sum_from_csv' && !(k in next.values)) vals[k] = null
  const body: FactorPatch = {}
  if (Object.keys(cls).length) body.classification = cls
  if (Object.keys(vals).length) body.values = vals
  return Object.keys(body).length ? body : null
}

/** The form field a detail names: "classification.<key>" / "values.<key>" → that row; "classification", "submodule", "" → the form. */
export function rowFieldErrors(err: unknown, message: (d: ApiErrorDetail) => string): { rows: Record<string, string>; form: string[] } {
  const rows: Record<string, string> = {}
  const form: string[] = []
  if (!isApiError(err)) return { rows, form }
  for (const d of err.details) {
    const m = /^(classification|values)\.(.+)$/.exec(d.field ?? '')
    const text = message(d)
    if (m) rows[`${m[1]}.${m[2]}`] ??= text
    else form.push(d.field ? `${d.field}: ${text}` : text)
  }
  return { rows, form }
}
