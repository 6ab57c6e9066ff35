// Shared plumbing of the API modules (session.ts, units.ts, entries.ts, …):
// the path builder and the per-call options. Pages, components, stores and
// composables call those modules, never the generic client with a path.
import { api, type ApiClient, type RequestOptions } from './client'

/** Options every API function takes last. */
export interface CallOptions {
  /** The client to use (tests pass one over a fake fetch); default the app's client. */
  client?: ApiClient | undefined
  signal?: AbortSignal | undefined
}

/** A value that becomes one path segment. */
export type Segment = string | number

/**
 * Tag of API paths: every interpolated value is one path segment, encoded
 * with encodeURIComponent, e.g. path`/units/${unitId}/years/${year}`.
 */
export function path(strings: TemplateStringsArray, ...segments: readonly Segment[]): string {
  let out = strings[0] ?? ''
  segments.forEach((s, i) => {
    out += encodeURIComponent(String(s)) + (strings[i + 1] ?? '')
  })
  return out
}

export function clientOf(opts: CallOptions | undefined): ApiClient {
  return opts?.client ?? api
}

/** RequestOptions with the call's signal (when it has one) and the extra options. */
export function requestOptions<O extends Omit<RequestOptions, 'method' | 'body'>>(opts: CallOptions | undefined, extra?: O): O {
  const out = { ...extra } as O
  if (opts?.signal) out.signal = opts.signal
  return out
}
