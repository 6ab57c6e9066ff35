// Recalculation requests (docs/api.md §9, POST /recalculations).
import { clientOf, requestOptions, type CallOptions } from './base'
import type { BodyOf, Pipeline } from './types'

export type RecalculationRequest = BodyOf<'requestRecalculation'>

/** POST /recalculations {year, modules?, only_needed?} → 202 {pipeline}. */
export function requestRecalculation(body: RecalculationRequest, opts?: CallOptions): Promise<{ pipeline: Pipeline }> {
  return clientOf(opts).post<{ pipeline: Pipeline }>('/recalculations', body, requestOptions(opts))
}
