// The caller's session: /me, /me/units and the /auth endpoints the SPA uses
// (POST /auth/refresh is the client's own business, see client.ts).
import { clientOf, requestOptions, type CallOptions } from './base'
import type { Me, MeUnit, QueryOf, ResponseOf } from './types'

/** GET /me: the caller, their roles and permissions (401 when not signed in). */
export function getMe(opts?: CallOptions): Promise<Me> {
  return clientOf(opts).get<Me>('/me', requestOptions(opts))
}

/** GET /me/units: the caller's workspaces, principal role first. */
export function getMyUnits(opts?: CallOptions): Promise<MeUnit[]> {
  return clientOf(opts).get<MeUnit[]>('/me/units', requestOptions(opts))
}

export type LogoutResult = ResponseOf<'authLogout', 200>

/** POST /auth/logout: revokes the session; the answer may name the IdP's end-session URL. */
export async function logout(opts?: CallOptions): Promise<Partial<LogoutResult>> {
  return (await clientOf(opts).post<LogoutResult | undefined>('/auth/logout', undefined, requestOptions(opts))) ?? {}
}

/** URL of the API's login endpoint (OIDC redirect), which comes back to returnTo. */
export function loginUrl(returnTo: string, extra: Omit<QueryOf<'authLogin'>, 'return_to'> = {}, opts?: CallOptions): string {
  return clientOf(opts).url('/auth/login', { return_to: returnTo, ...extra })
}
