// return_to sanitising of the login flow (the login URL itself: session.ts loginUrl).

/**
 * A return_to value is only followed when it is a local absolute path: it
 * starts with a single "/" (no "//host" or "/\host", which browsers treat as
 * another origin) and holds no control characters.
 */
export function safeReturnTo(raw: unknown, fallback: string): string {
  if (typeof raw !== 'string' || raw === '') return fallback
  // eslint-disable-next-line no-control-regex
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\') || /[\u0000-\u001f\u007f]/.test(raw)) {
    return fallback
  }
  return raw
}
