// Exchange rates (units of currency per 1 EUR): the year's table and the
// manual overrides (docs/api.md §8).
import { clientOf, path, requestOptions, type CallOptions } from './base'
import type { FXRate, Pipeline } from './types'

/** GET /fx-rates?year: the year's rates, sorted by currency. */
export function listFXRates(year: number, opts?: CallOptions): Promise<FXRate[]> {
  return clientOf(opts).get<FXRate[]>('/fx-rates', requestOptions(opts, { query: { year } }))
}

/** PUT /fx-rates/{year}/{currency} {per_eur}: a manual rate → {rate, pipeline} (the recalculation). */
export function setFXRate(year: number, currency: string, perEur: number, opts?: CallOptions): Promise<{ rate: FXRate; pipeline: Pipeline }> {
  return clientOf(opts).put<{ rate: FXRate; pipeline: Pipeline }>(path`/fx-rates/${year}/${currency}`, { per_eur: perEur }, requestOptions(opts))
}

/** DELETE /fx-rates/{year}/{currency}: removes a manual rate → {pipeline}. */
export function deleteFXRate(year: number, currency: string, opts?: CallOptions): Promise<{ pipeline: Pipeline }> {
  return clientOf(opts).delete<{ pipeline: Pipeline }>(path`/fx-rates/${year}/${currency}`, requestOptions(opts))
}
