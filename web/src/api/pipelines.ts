// Pipelines: one pipeline (with ETag / If-None-Match), its SSE stream, the
// list, cancel, and the retry of a failed job.
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type { RequestOptions } from './client'
import type { Pipeline, PipelinePage, QueryOf } from './types'

export type PipelineFetchResult =
  | { notModified: true; etag: string | null }
  | { notModified: false; etag: string | null; pipeline: Pipeline }

const pipelinePath = (id: string) => path`/pipelines/${id}`

/** GET /pipelines/{id}; with etag (If-None-Match), a 304 answer gives {notModified: true}. */
export async function getPipeline(id: string, etag?: string | null, opts?: CallOptions): Promise<PipelineFetchResult> {
  const o: RequestOptions = requestOptions(opts, { accept: [304] as const })
  if (etag) o.headers = { 'If-None-Match': etag }
  const res = await clientOf(opts).request<Pipeline | undefined>(pipelinePath(id), o)
  const newEtag = res.headers.get('ETag') ?? etag ?? null
  if (res.status === 304 || res.data === undefined) return { notModified: true, etag: newEtag }
  return { notModified: false, etag: newEtag, pipeline: res.data }
}

/** URL of the Server-Sent Events stream of a pipeline (for EventSource). */
export function pipelineEventsUrl(id: string, opts?: CallOptions): string {
  return clientOf(opts).url(`${pipelinePath(id)}/events`)
}

/** GET /pipelines: the pipelines visible to the caller, newest first. */
export function listPipelines(query: QueryOf<'listPipelines'> = {}, opts?: CallOptions): Promise<PipelinePage> {
  return clientOf(opts).get<PipelinePage>('/pipelines', requestOptions(opts, { query }))
}

/** POST /pipelines/{id}/cancel. */
export function cancelPipeline(id: string, opts?: CallOptions): Promise<Pipeline> {
  return clientOf(opts).post<Pipeline>(`${pipelinePath(id)}/cancel`, undefined, requestOptions(opts))
}

/** POST /pipelines/{id}/jobs/{job_id}/retry (a failed or cancelled job of a terminal pipeline). */
export function retryPipelineJob(id: string, jobId: number, opts?: CallOptions): Promise<Pipeline> {
  return clientOf(opts).post<Pipeline>(path`/pipelines/${id}/jobs/${jobId}/retry`, undefined, requestOptions(opts))
}
