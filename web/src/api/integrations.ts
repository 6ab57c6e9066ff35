// Integrations (docs/api.md §14): the overview and the manual runs.
import { clientOf, requestOptions, type CallOptions } from './base'
import type { Pipeline, Schemas } from './types'

export type Integration = Schemas['Integration']
export type IntegrationName = Integration['name']

/** GET /integrations: tableau, ecb, accred, elasticsearch, in that order. */
export function listIntegrations(opts?: CallOptions): Promise<Integration[]> {
  return clientOf(opts).get<Integration[]>('/integrations', requestOptions(opts))
}

/** POST /integrations/tableau/sync {year} → 202 pipeline. */
export function syncTableau(year: number, opts?: CallOptions): Promise<Pipeline> {
  return clientOf(opts).post<Pipeline>('/integrations/tableau/sync', { year }, requestOptions(opts))
}

/** POST /integrations/ecb/sync {years?} → 202 pipeline. */
export function syncECB(years?: number[], opts?: CallOptions): Promise<Pipeline> {
  return clientOf(opts).post<Pipeline>('/integrations/ecb/sync', years?.length ? { years } : {}, requestOptions(opts))
}

/** POST /integrations/accred/sync → 202 pipeline. */
export function syncAccred(opts?: CallOptions): Promise<Pipeline> {
  return clientOf(opts).post<Pipeline>('/integrations/accred/sync', {}, requestOptions(opts))
}
