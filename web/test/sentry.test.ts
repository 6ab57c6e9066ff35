import { describe, expect, it, vi } from 'vitest'

import { buildEvent, createReporter, installGlobalHandlers, MAX_EVENTS, parseDsn } from '@/monitoring/sentry'

describe('parseDsn', () => {
  it('builds the store endpoint', () => {
    expect(parseDsn('https://abc123@glitchtip.example.org/3')).toEqual({
      publicKey: 'abc123',
      storeUrl: 'https://glitchtip.example.org/api/3/store/?sentry_key=abc123&sentry_version=7',
    })
    expect(parseDsn('https://k@o1.ingest.sentry.io:8443/sub/42')?.storeUrl).toBe(
      'https://o1.ingest.sentry.io:8443/sub/api/42/store/?sentry_key=k&sentry_version=7',
    )
  })
  it('rejects malformed DSNs', () => {
    expect(parseDsn('')).toBeNull()
    expect(parseDsn('https://host/3')).toBeNull() // no key
    expect(parseDsn('https://k@host/')).toBeNull() // no project
    expect(parseDsn('ftp://k@host/3')).toBeNull()
  })
})

describe('reporter', () => {
  it('posts an event with the exception, capped per page', () => {
    const send = vi.fn(() => Promise.resolve(new Response(null, { status: 200 })))
    const r = createReporter('https://k@sentry.example.org/9', 'staging', send)!
    r.report(new TypeError('boom'), { mechanism: 'vue' })
    expect(send).toHaveBeenCalledTimes(1)
    const [url, init] = send.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('https://sentry.example.org/api/9/store/?sentry_key=k&sentry_version=7')
    expect(init.method).toBe('POST')
    expect(init.credentials).toBe('omit')
    const ev = JSON.parse(init.body as string)
    expect(ev.environment).toBe('staging')
    expect(ev.event_id).toMatch(/^[0-9a-f]{32}$/)
    expect(ev.exception.values[0]).toMatchObject({ type: 'TypeError', value: 'boom' })
    expect(ev.tags).toEqual({ mechanism: 'vue' })
    for (let i = 0; i < MAX_EVENTS + 5; i++) r.report('again')
    expect(send).toHaveBeenCalledTimes(MAX_EVENTS)
  })

  it('reports window errors and unhandled rejections until uninstalled', () => {
    const report = vi.fn()
    const target = new EventTarget() as unknown as Window
    const uninstall = installGlobalHandlers({ report }, target)
    target.dispatchEvent(Object.assign(new Event('error'), { error: new Error('x'), message: 'x' }))
    target.dispatchEvent(Object.assign(new Event('unhandledrejection'), { reason: 'nope' }))
    expect(report.mock.calls.map((c) => c[1].mechanism)).toEqual(['onerror', 'unhandledrejection'])
    uninstall()
    target.dispatchEvent(new Event('error'))
    expect(report).toHaveBeenCalledTimes(2)
  })

  it('builds events from non-Error values', () => {
    expect(buildEvent('plain', 'dev').exception.values[0]).toMatchObject({ type: 'Error', value: 'plain' })
    expect(buildEvent({ a: 1 }, 'dev').exception.values[0]!.value).toBe('{"a":1}')
  })
})
