// Back-office reporting across units (docs/api.md §11): years, affiliations,
// the units table, the overview, usage and results, all clamped to the
// caller's reporting scope.
import { clientOf, requestOptions, type CallOptions } from './base'
import type { QueryOf, ResponseOf, Schemas } from './types'

export type BackofficeYears = Schemas['BackofficeYears']
export type BackofficeOverview = Schemas['BackofficeOverview']
export type BackofficeUnitRow = Schemas['BackofficeUnitRow']
export type BackofficeUnitPage = ResponseOf<'listBackofficeUnits', 200>
export type AffiliationPage = ResponseOf<'listBackofficeAffiliations', 200>
export type BackofficeUsagePage = ResponseOf<'listBackofficeUsage', 200>
export type BackofficeResultsPage = ResponseOf<'listBackofficeResults', 200>
/** The common reporting filters (docs/api.md §11). */
export type ReportingQuery = QueryOf<'getBackofficeOverview'>

/** GET /backoffice/years: years with reports visible to the caller, and the latest. */
export function listBackofficeYears(opts?: CallOptions): Promise<BackofficeYears> {
  return clientOf(opts).get<BackofficeYears>('/backoffice/years', requestOptions(opts))
}

/** GET /backoffice/affiliations (level, q, page, limit). */
export function listBackofficeAffiliations(query: QueryOf<'listBackofficeAffiliations'> = {}, opts?: CallOptions): Promise<AffiliationPage> {
  return clientOf(opts).get<AffiliationPage>('/backoffice/affiliations', requestOptions(opts, { query }))
}

/** GET /backoffice/overview (common filters; year required). */
export function getBackofficeOverview(query: ReportingQuery, opts?: CallOptions): Promise<BackofficeOverview> {
  return clientOf(opts).get<BackofficeOverview>('/backoffice/overview', requestOptions(opts, { query }))
}

/** GET /backoffice/units (common filters, sort, page, limit; year required). */
export function listBackofficeUnits(query: QueryOf<'listBackofficeUnits'>, opts?: CallOptions): Promise<BackofficeUnitPage> {
  return clientOf(opts).get<BackofficeUnitPage>('/backoffice/units', requestOptions(opts, { query }))
}

/** GET /backoffice/usage. */
export function listBackofficeUsage(query: QueryOf<'listBackofficeUsage'>, opts?: CallOptions): Promise<BackofficeUsagePage> {
  return clientOf(opts).get<BackofficeUsagePage>('/backoffice/usage', requestOptions(opts, { query }))
}

/** GET /backoffice/results (basis validated or all). */
export function listBackofficeResults(query: QueryOf<'listBackofficeResults'>, opts?: CallOptions): Promise<BackofficeResultsPage> {
  return clientOf(opts).get<BackofficeResultsPage>('/backoffice/results', requestOptions(opts, { query }))
}
