// Exports (docs/api.md §12): asked for as jobs, listed, downloaded.
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type { Pipeline, QueryOf, ResponseOf, Schemas } from './types'

export type Export = Schemas['Export']
export type ExportKind = Schemas['ExportKind']
export type ExportFormat = Export['format']
export type ExportRequest = Schemas['ExportRequest']
export type ExportPage = ResponseOf<'listExports', 200>
export interface ExportAccepted {
  export: Export
  pipeline: Pipeline
}

const exportPath = (id: string) => path`/exports/${id}`

/** POST /exports {kind, format, params} → 202 {export, pipeline}. */
export function createExport(body: ExportRequest, opts?: CallOptions): Promise<ExportAccepted> {
  return clientOf(opts).post<ExportAccepted>('/exports', body, requestOptions(opts))
}

/** GET /exports (mine, page, limit): newest first. */
export function listExports(query: QueryOf<'listExports'> = {}, opts?: CallOptions): Promise<ExportPage> {
  return clientOf(opts).get<ExportPage>('/exports', requestOptions(opts, { query }))
}

/** GET /exports/{id}. */
export function getExport(id: string, opts?: CallOptions): Promise<Export> {
  return clientOf(opts).get<Export>(exportPath(id), requestOptions(opts))
}

/** URL of GET /exports/{id}/download (a link: the file, or a redirect to it). */
export function exportDownloadUrl(id: string, opts?: CallOptions): string {
  return clientOf(opts).url(`${exportPath(id)}/download`)
}
