// Job operations (docs/api.md §10): workers, queues, raw River jobs with retry
// and cancel, stale statistics.
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type { QueryOf, Schemas } from './types'

export type OpsWorker = Schemas['OpsWorker']
export type OpsQueue = Schemas['OpsQueue']
export type OpsJob = Schemas['OpsJob']
export type OpsJobPage = Schemas['OpsJobPage']
export type RiverJobState = Schemas['RiverJobState']
export type StaleModule = Schemas['StaleModule']

/** GET /ops/workers. */
export function listOpsWorkers(opts?: CallOptions): Promise<OpsWorker[]> {
  return clientOf(opts).get<OpsWorker[]>('/ops/workers', requestOptions(opts))
}

/** GET /ops/queues. */
export function listOpsQueues(opts?: CallOptions): Promise<OpsQueue[]> {
  return clientOf(opts).get<OpsQueue[]>('/ops/queues', requestOptions(opts))
}

/** GET /ops/jobs (kind, state, queue, page, limit). */
export function listOpsJobs(query: QueryOf<'listOpsJobs'> = {}, opts?: CallOptions): Promise<OpsJobPage> {
  return clientOf(opts).get<OpsJobPage>('/ops/jobs', requestOptions(opts, { query }))
}

/** POST /ops/jobs/{id}/retry → 202 job. */
export function retryOpsJob(id: number, opts?: CallOptions): Promise<OpsJob> {
  return clientOf(opts).post<OpsJob>(path`/ops/jobs/${id}/retry`, undefined, requestOptions(opts))
}

/** POST /ops/jobs/{id}/cancel → 202 job. */
export function cancelOpsJob(id: number, opts?: CallOptions): Promise<OpsJob> {
  return clientOf(opts).post<OpsJob>(path`/ops/jobs/${id}/cancel`, undefined, requestOptions(opts))
}

/** GET /ops/stale-stats?older_than_minutes. */
export function listOpsStaleStats(query: QueryOf<'listOpsStaleStats'> = {}, opts?: CallOptions): Promise<StaleModule[]> {
  return clientOf(opts).get<StaleModule[]>('/ops/stale-stats', requestOptions(opts, { query }))
}
