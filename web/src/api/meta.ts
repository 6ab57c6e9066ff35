// About the running system: GET /version (build) and GET /config (what the
// SPA reads at boot). Both are public.
import { clientOf, requestOptions, type CallOptions } from './base'
import type { ClientConfig, Version } from './types'

/** GET /version: build and schema information. */
export function getVersion(opts?: CallOptions): Promise<Version> {
  return clientOf(opts).get<Version>('/version', requestOptions(opts))
}

/** GET /config: the Sentry DSN (empty: reporting off) and APP_ENV. */
export function getClientConfig(opts?: CallOptions): Promise<ClientConfig> {
  return clientOf(opts).get<ClientConfig>('/config', requestOptions(opts))
}

/** URL of GET /openapi.json (a link: the API's OpenAPI 3.1 document). */
export function openApiUrl(opts?: CallOptions): string {
  return clientOf(opts).url('/openapi.json')
}
