// The audit trail (docs/api.md §13): events (cursor pages), one event with its
// snapshot and diff, statistics, chain verification, shipping retry.
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type { QueryOf, Schemas } from './types'

export type AuditEvent = Schemas['AuditEvent']
export type AuditEventDetail = Schemas['AuditEventDetail']
export type AuditEventPage = Schemas['AuditEventPage']
export type AuditStats = Schemas['AuditStats']
export type AuditVerifyReport = Schemas['AuditVerifyReport']
export type AuditAction = Schemas['AuditAction']
export type AuditShipStatus = Schemas['AuditShipStatus']
export type AuditQuery = QueryOf<'listAuditEvents'>

/** GET /audit/events (filters, cursor, limit) → {items, next_cursor}. */
export function listAuditEvents(query: AuditQuery = {}, opts?: CallOptions): Promise<AuditEventPage> {
  return clientOf(opts).get<AuditEventPage>('/audit/events', requestOptions(opts, { query }))
}

/** GET /audit/events/{id}. */
export function getAuditEvent(id: number, opts?: CallOptions): Promise<AuditEventDetail> {
  return clientOf(opts).get<AuditEventDetail>(path`/audit/events/${id}`, requestOptions(opts))
}

/** GET /audit/stats (from, to). */
export function getAuditStats(query: QueryOf<'getAuditStats'> = {}, opts?: CallOptions): Promise<AuditStats> {
  return clientOf(opts).get<AuditStats>('/audit/stats', requestOptions(opts, { query }))
}

/** GET /audit/verify (from_seq, to_seq; default the last 100 000 events). */
export function verifyAuditChain(query: QueryOf<'verifyAuditChain'> = {}, opts?: CallOptions): Promise<AuditVerifyReport> {
  return clientOf(opts).get<AuditVerifyReport>('/audit/verify', requestOptions(opts, { query }))
}

/** POST /audit/shipping/retry-failed → {reset_count}. */
export function retryFailedAuditShipping(opts?: CallOptions): Promise<{ reset_count: number }> {
  return clientOf(opts).post<{ reset_count: number }>('/audit/shipping/retry-failed', {}, requestOptions(opts))
}
