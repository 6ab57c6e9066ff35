// Minimal Sentry/GlitchTip reporter (no SDK dependency): when GET /api/v1/config
// answers a DSN (APP_SENTRY_DSN), unhandled errors (window error,
// unhandledrejection, Vue's errorHandler) are POSTed as events to the DSN's
// store endpoint (https://HOST/api/PROJECT/store/?sentry_key=KEY&sentry_version=7).
// No breadcrumbs, no source maps, no batching: a deliberate small subset.

export interface ParsedDsn {
  storeUrl: string
  publicKey: string
}

/** Parses https://KEY@HOST[:port][/path]/PROJECT; null when malformed. */
export function parseDsn(dsn: string): ParsedDsn | null {
  let u: URL
  try {
    u = new URL(dsn)
  } catch {
    return null
  }
  if (!u.username || (u.protocol !== 'https:' && u.protocol !== 'http:')) return null
  const parts = u.pathname.split('/').filter(Boolean)
  const project = parts.pop()
  if (!project) return null
  const prefix = parts.length ? `/${parts.join('/')}` : ''
  const publicKey = decodeURIComponent(u.username)
  const storeUrl = `${u.protocol}//${u.host}${prefix}/api/${project}/store/?sentry_key=${encodeURIComponent(publicKey)}&sentry_version=7`
  return { storeUrl, publicKey }
}

export interface SentryEvent {
  event_id: string
  timestamp: number
  platform: 'javascript'
  level: 'error'
  environment: string
  release?: string
  request: { url: string; headers: { 'User-Agent': string } }
  exception: { values: { type: string; value: string; stacktrace?: { frames: { filename: string; function: string; lineno?: number; colno?: number }[] } }[] }
  tags?: Record<string, string>
}

function eventId(): string {
  const c = globalThis.crypto
  if (c?.randomUUID) return c.randomUUID().replace(/-/g, '')
  return Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('')
}

/** Stack frames of a V8/SpiderMonkey stack string, innermost last (Sentry's order). */
function frames(stack: string | undefined) {
  if (!stack) return undefined
  const out: { filename: string; function: string; lineno?: number; colno?: number }[] = []
  for (const line of stack.split('\n')) {
    const m = /^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/.exec(line) ?? /^(.*?)@(.*?):(\d+):(\d+)$/.exec(line)
    if (m) out.push({ function: m[1] || '?', filename: m[2] ?? '?', lineno: Number(m[3]), colno: Number(m[4]) })
  }
  return out.length ? { frames: out.reverse() } : undefined
}

export function buildEvent(err: unknown, env: string, tags?: Record<string, string>): SentryEvent {
  const e = err instanceof Error ? err : new Error(typeof err === 'string' ? err : JSON.stringify(err) ?? String(err))
  const stacktrace = frames(e.stack)
  const event: SentryEvent = {
    event_id: eventId(),
    timestamp: Date.now() / 1000,
    platform: 'javascript',
    level: 'error',
    environment: env,
    request: { url: globalThis.location?.href ?? '', headers: { 'User-Agent': globalThis.navigator?.userAgent ?? '' } },
    exception: { values: [{ type: e.name || 'Error', value: e.message, ...(stacktrace ? { stacktrace } : {}) }] },
  }
  if (tags) event.tags = tags
  return event
}

export interface Reporter {
  report(err: unknown, tags?: Record<string, string>): void
}

/** At most this many events per page load (an error loop must not flood the server). */
export const MAX_EVENTS = 20

export function createReporter(dsn: string, env: string, send: typeof globalThis.fetch = (i, init) => globalThis.fetch(i, init)): Reporter | null {
  const parsed = parseDsn(dsn)
  if (!parsed) return null
  let sent = 0
  return {
    report(err, tags) {
      if (sent >= MAX_EVENTS) return
      sent++
      // text/plain keeps it a "simple" CORS request (no preflight); Sentry and GlitchTip accept it.
      void send(parsed.storeUrl, {
        method: 'POST',
        body: JSON.stringify(buildEvent(err, env, tags)),
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        credentials: 'omit',
        keepalive: true,
      }).catch(() => undefined)
    },
  }
}

/** Reports window errors and unhandled rejections; returns an uninstall function. */
export function installGlobalHandlers(reporter: Reporter, target: Window = window): () => void {
  const onError = (ev: ErrorEvent) => reporter.report(ev.error ?? ev.message, { mechanism: 'onerror' })
  const onRejection = (ev: PromiseRejectionEvent) => reporter.report(ev.reason, { mechanism: 'unhandledrejection' })
  target.addEventListener('error', onError)
  target.addEventListener('unhandledrejection', onRejection)
  return () => {
    target.removeEventListener('error', onError)
    target.removeEventListener('unhandledrejection', onRejection)
  }
}
