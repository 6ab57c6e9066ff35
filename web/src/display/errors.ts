import { isApiError, NETWORK_ERROR, type ApiErrorDetail } from '@/api/client'
import { messages } from '@/i18n'

type T = (key: string, params?: Record<string, unknown>) => string

/** Whether errorCodes.<code> is translated (en and fr have the same keys, test/i18n.test.ts). */
function known(code: string | undefined | null): code is string {
  return !!code && Object.hasOwn(messages.en.errorCodes, code)
}

/**
 * A translated message for an error thrown by the API client: the code's
 * translation (errorCodes.<code>, docs/api.md §1.1) when there is one, else
 * the API's (English) message.
 */
export function errorMessage(t: T, err: unknown): string {
  if (isApiError(err)) {
    if (err.code === NETWORK_ERROR) return t('errors.network')
    return codeMessage(t, err.code) || err.message || t('errors.unknown', { code: err.code })
  }
  return t('errors.unknown', { code: err instanceof Error ? err.name : 'error' })
}

/** The translation of an error, detail or row-error code (errorCodes.<code>), or '' when there is none. */
export function codeMessage(t: T, code: string | undefined | null): string {
  return known(code) ? t(`errorCodes.${code}`) : ''
}

/** The message of one error detail (a field error): its translated code, else the API's message. */
export function detailMessage(t: T, d: Pick<ApiErrorDetail, 'code' | 'message'>): string {
  return codeMessage(t, d.code) || d.message || d.code || ''
}
