// Factor curation (docs/api.md §8): list, one factor (ETag), create, patch and
// delete with If-Match, stale factors and their purge, computed facility factors.
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type { RequestOptions } from './client'
import type { BodyOf, Pipeline, QueryOf, ResponseOf, Schemas } from './types'

export type Factor = Schemas['Factor']
export type FactorWritten = Schemas['FactorWritten']
export type FactorPage = ResponseOf<'listFactors', 200>
export type FactorCreate = BodyOf<'createFactor'>
export type FactorPatch = BodyOf<'patchFactor'>
export type PurgeResult = ResponseOf<'purgeStaleFactors', 202>
export type ComputeSubmodule = BodyOf<'computeFactors'>['submodule']

const factorPath = (id: number) => path`/factors/${id}`

/** The ETag of a factor version: W/"f<id>-v<version>" (docs/api.md §2). */
export function factorEtag(f: Pick<Factor, 'id' | 'version'>): string {
  return `W/"f${f.id}-v${f.version}"`
}

/** GET /factors (year, module, submodule, stale, q, sort, page, limit). */
export function listFactors(query: QueryOf<'listFactors'> = {}, opts?: CallOptions): Promise<FactorPage> {
  return clientOf(opts).get<FactorPage>('/factors', requestOptions(opts, { query }))
}

/** GET /factors/{id}. */
export function getFactor(id: number, opts?: CallOptions): Promise<Factor> {
  return clientOf(opts).get<Factor>(factorPath(id), requestOptions(opts))
}

/** POST /factors → 201 {factor, pipeline} (the recalculation of the module-year). */
export function createFactor(body: FactorCreate, opts?: CallOptions): Promise<FactorWritten> {
  return clientOf(opts).post<FactorWritten>('/factors', body, requestOptions(opts))
}

/** PATCH /factors/{id} with If-Match (a stale version answers 412). */
export function patchFactor(id: number, body: FactorPatch, etag?: string | null, opts?: CallOptions): Promise<FactorWritten> {
  const o: Omit<RequestOptions, 'method' | 'body'> = requestOptions(opts)
  if (etag) o.headers = { 'If-Match': etag }
  return clientOf(opts).patch<FactorWritten>(factorPath(id), body, o)
}

/** DELETE /factors/{id} with If-Match → {pipeline}. */
export function deleteFactor(id: number, etag?: string | null, opts?: CallOptions): Promise<{ pipeline: Pipeline }> {
  const o: Omit<RequestOptions, 'method' | 'body'> = requestOptions(opts)
  if (etag) o.headers = { 'If-Match': etag }
  return clientOf(opts).delete<{ pipeline: Pipeline }>(factorPath(id), o)
}

/** GET /factors/stale (year, submodule). */
export function listStaleFactors(query: QueryOf<'listStaleFactors'> = {}, opts?: CallOptions): Promise<Factor[]> {
  return clientOf(opts).get<Factor[]>('/factors/stale', requestOptions(opts, { query }))
}

/** POST /factors/stale/purge {year, submodule?} → 202 {deleted_count, pipeline}. */
export function purgeStaleFactors(year: number, submodule?: string | null, opts?: CallOptions): Promise<PurgeResult> {
  const body: BodyOf<'purgeStaleFactors'> = submodule ? { year, submodule } : { year }
  return clientOf(opts).post<PurgeResult>('/factors/stale/purge', body, requestOptions(opts))
}

/** POST /factors/compute {year, submodule} → 202 Pipeline (computed facility factors). */
export function computeFactors(year: number, submodule: ComputeSubmodule, opts?: CallOptions): Promise<Pipeline> {
  return clientOf(opts).post<Pipeline>('/factors/compute', { year, submodule }, requestOptions(opts))
}
