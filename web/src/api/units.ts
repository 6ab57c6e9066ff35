// Units and their reports: /units/{unit_id}[/years/{year}]/… — the unit,
// its reports, a report's module status, and the results.
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type {
  BodyOf,
  ModuleRef,
  QueryOf,
  Report,
  ReportModule,
  ResponseOf,
  ResultsBreakdown,
  ResultsIT,
  ResultsSummary,
  Unit,
  UnitId,
  Year,
} from './types'

const unitPath = (unitId: UnitId) => path`/units/${unitId}`
const yearPath = (unitId: UnitId, year: Year) => path`/units/${unitId}/years/${year}`

/** GET /units/{unit_id}. */
export function getUnit(unitId: UnitId, opts?: CallOptions): Promise<Unit> {
  return clientOf(opts).get<Unit>(unitPath(unitId), requestOptions(opts))
}

/** GET /units/{unit_id}/reports: reports without modules, newest first. */
export function listUnitReports(unitId: UnitId, opts?: CallOptions): Promise<Report[]> {
  return clientOf(opts).get<Report[]>(`${unitPath(unitId)}/reports`, requestOptions(opts))
}

export type ResultsYearly = ResponseOf<'getResultsYearly', 200>

/** GET /units/{unit_id}/results/yearly: validated total of every year with a report. */
export function getResultsYearly(unitId: UnitId, query: QueryOf<'getResultsYearly'> = {}, opts?: CallOptions): Promise<ResultsYearly> {
  return clientOf(opts).get<ResultsYearly>(`${unitPath(unitId)}/results/yearly`, requestOptions(opts, { query }))
}

/** GET /units/{unit_id}/years/{year}/report: the report with its modules. */
export function getReport(unitId: UnitId, year: Year, opts?: CallOptions): Promise<Report> {
  return clientOf(opts).get<Report>(`${yearPath(unitId, year)}/report`, requestOptions(opts))
}

/** PUT /units/{unit_id}/years/{year}/report: creates the report when missing. */
export function ensureReport(unitId: UnitId, year: Year, opts?: CallOptions): Promise<Report> {
  return clientOf(opts).put<Report>(`${yearPath(unitId, year)}/report`, undefined, requestOptions(opts))
}

/** The statuses a client may set (validated, in_progress). */
export type SettableModuleStatus = BodyOf<'setModuleStatus'>['status']

/** PATCH /units/{unit_id}/years/{year}/modules/{module}/status: validate or reopen a module. */
export function setModuleStatus(
  ref: ModuleRef,
  status: SettableModuleStatus,
  opts?: CallOptions,
): Promise<ReportModule> {
  return clientOf(opts).patch<ReportModule>(
    path`/units/${ref.unitId}/years/${ref.year}/modules/${ref.module}/status`,
    { status },
    requestOptions(opts),
  )
}

/** GET …/results/summary: headline results (validated modules only). */
export function getResultsSummary(
  unitId: UnitId,
  year: Year,
  query: QueryOf<'getResultsSummary'> = {},
  opts?: CallOptions,
): Promise<ResultsSummary> {
  return clientOf(opts).get<ResultsSummary>(`${yearPath(unitId, year)}/results/summary`, requestOptions(opts, { query }))
}

/** GET …/results/breakdown: results by chart category and emission type. */
export function getResultsBreakdown(
  unitId: UnitId,
  year: Year,
  query: QueryOf<'getResultsBreakdown'> = {},
  opts?: CallOptions,
): Promise<ResultsBreakdown> {
  return clientOf(opts).get<ResultsBreakdown>(`${yearPath(unitId, year)}/results/breakdown`, requestOptions(opts, { query }))
}

/** GET …/results/it: the IT focus. */
export function getResultsIT(unitId: UnitId, year: Year, query: QueryOf<'getResultsIT'> = {}, opts?: CallOptions): Promise<ResultsIT> {
  return clientOf(opts).get<ResultsIT>(`${yearPath(unitId, year)}/results/it`, requestOptions(opts, { query }))
}
