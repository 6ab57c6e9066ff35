import { isApiError, NETWORK_ERROR } from '@/api/client'

type T = (key: string, params?: Record<string, unknown>) => string

/** A translated message for an error thrown by the API client. */
export function errorMessage(t: T, err: unknown): string {
  if (isApiError(err)) {
    if (err.code === NETWORK_ERROR) return t('errors.network')
    return err.message || t('errors.unknown', { code: err.code })
  }
  return t('errors.unknown', { code: err instanceof Error ? err.name : 'error' })
}
