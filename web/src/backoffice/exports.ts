// Export requests of the back office (docs/frontend.md §4.1, §4.5): the menu
// entries of the reporting page and the request each one sends (docs/api.md §12).
import type { ExportFormat, ExportKind, ExportRequest } from '@/api/exports'
import type { Locale } from '@/i18n'
import { exportParams, type ReportingFilters } from './filters'

export interface ExportChoice {
  kind: ExportKind
  formats: ExportFormat[]
}

/** The reporting export menu: units overview, results, detailed, usage. */
export const REPORTING_EXPORTS: readonly ExportChoice[] = [
  { kind: 'backoffice_units', formats: ['csv', 'xlsx', 'pdf'] },
  { kind: 'backoffice_results', formats: ['csv', 'xlsx'] },
  { kind: 'backoffice_detailed', formats: ['zip', 'xlsx'] },
  { kind: 'backoffice_usage', formats: ['csv', 'xlsx'] },
]

/** The POST /exports body of a reporting export with the current filters (and sort, for the units overview). */
export function reportingExport(kind: ExportKind, format: ExportFormat, f: ReportingFilters, opts: { lang: Locale; sort?: string }): ExportRequest {
  const params = exportParams(f)
  if (kind === 'backoffice_units') {
    params.lang = opts.lang
    if (opts.sort) params.sort = opts.sort
  }
  return { kind, format, params }
}
