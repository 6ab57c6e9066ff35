// Exchange rates (units of currency per 1 EUR).
import { clientOf, requestOptions, type CallOptions } from './base'
import type { FXRate } from './types'

/** GET /fx-rates?year: the year's rates, sorted by currency. */
export function listFXRates(year: number, opts?: CallOptions): Promise<FXRate[]> {
  return clientOf(opts).get<FXRate[]>('/fx-rates', requestOptions(opts, { query: { year } }))
}
