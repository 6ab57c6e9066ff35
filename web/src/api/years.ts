// Years and their configuration (docs/api.md §7): the list, one year (ETag),
// creation with its setup pipeline, transitions and configuration (If-Match),
// re-running the setup, the data-management matrix and the reduction-objective
// files.
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type { RequestOptions } from './client'
import type { BodyOf, Pipeline, ResponseOf, Schemas } from './types'

export type YearInfo = Schemas['Year']
export type YearItem = Schemas['YearItem']
export type YearStatus = Schemas['YearStatus']
export type YearConfig = Schemas['YearConfig']
export type DataStatusModule = Schemas['DataStatusModule']
export type DataStatusSubmodule = DataStatusModule['submodules'][number]
export type DataStatusInput = Schemas['DataStatusInput']
export type YearCreated = ResponseOf<'createYear', 202>
export type YearPatch = BodyOf<'patchYear'>
export type ObjectivesDataset = 'footprint' | 'population' | 'scenarios'

const yearPath = (year: number) => path`/years/${year}`

/** A year with the ETag of its version (W/"y<year>-<µs>"). */
export interface TaggedYear {
  year: YearInfo
  etag: string | null
}

/** GET /years: [{year, status}] newest first (non-admins: open and closed only). */
export function listYears(opts?: CallOptions): Promise<YearItem[]> {
  return clientOf(opts).get<YearItem[]>('/years', requestOptions(opts))
}

/** GET /years/{year} with its ETag. */
export async function getYear(year: number, opts?: CallOptions): Promise<TaggedYear> {
  const res = await clientOf(opts).request<YearInfo>(yearPath(year), requestOptions(opts))
  return { year: res.data, etag: res.headers.get('ETag') }
}

/** POST /years {year}: 202 with the year (setting_up) and its setup pipeline. */
export function createYear(year: number, opts?: CallOptions): Promise<YearCreated> {
  return clientOf(opts).post<YearCreated>('/years', { year }, requestOptions(opts))
}

/**
 * PATCH /years/{year} {status?, config?}: a transition and/or a configuration
 * merge; with etag (If-Match) a concurrent change answers 412.
 */
export async function patchYear(year: number, body: YearPatch, etag?: string | null, opts?: CallOptions): Promise<TaggedYear> {
  const o: RequestOptions = { method: 'PATCH', body }
  if (opts?.signal) o.signal = opts.signal
  if (etag) o.headers = { 'If-Match': etag }
  const res = await clientOf(opts).request<YearInfo>(yearPath(year), o)
  return { year: res.data, etag: res.headers.get('ETag') }
}

/** POST /years/{year}/setup: re-runs the setup → 202 pipeline. */
export function setupYear(year: number, opts?: CallOptions): Promise<Pipeline> {
  return clientOf(opts).post<Pipeline>(`${yearPath(year)}/setup`, undefined, requestOptions(opts))
}

/** GET /years/{year}/data-status: the data-management matrix. */
export function getYearDataStatus(year: number, opts?: CallOptions): Promise<DataStatusModule[]> {
  return clientOf(opts).get<DataStatusModule[]>(`${yearPath(year)}/data-status`, requestOptions(opts))
}

/** POST /years/{year}/reduction-objectives/{dataset} (multipart file; synchronous) → Year. */
export function uploadReductionObjectives(year: number, dataset: ObjectivesDataset, file: Blob, fileName: string, opts?: CallOptions): Promise<YearInfo> {
  const form = new FormData()
  form.append('file', file, fileName)
  return clientOf(opts).post<YearInfo>(path`/years/${year}/reduction-objectives/${dataset}`, form, requestOptions(opts))
}
