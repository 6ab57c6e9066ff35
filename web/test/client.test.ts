import { describe, expect, it, vi } from 'vitest'

import { safeReturnTo } from '@/api/auth'
import { loginUrl } from '@/api/session'
import {
  ApiError,
  buildQuery,
  createApiClient,
  CSRF_HEADER,
  NETWORK_ERROR,
  readDocumentCookie,
  type ApiClientOptions,
} from '@/api/client'
import type { Version } from '@/api/types'

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })

const envelope = (code: string, message: string, details: unknown[] = []) => ({ error: { code, message, details } })

interface Call {
  url: string
  method: string
  headers: Headers
  body: BodyInit | null | undefined
  credentials: RequestCredentials | undefined
}

/** A fetch fake answering from a queue of responses (or functions of the call). */
function fakeFetch(...answers: (Response | Error | ((c: Call) => Response | Promise<Response>))[]) {
  const calls: Call[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: Call = {
      url: input instanceof Request ? input.url : input.toString(),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: init?.body,
      credentials: init?.credentials,
    }
    calls.push(call)
    const next = answers.shift()
    if (next === undefined) throw new Error(`unexpected request ${call.method} ${call.url}`)
    if (next instanceof Error) throw next
    return typeof next === 'function' ? next(call) : next
  })
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls }
}

function client(f: ReturnType<typeof fakeFetch>, opts: Omit<ApiClientOptions, 'fetch'> = {}) {
  return createApiClient({ readCookie: (name) => (name === 'csrf_token' ? 'tok-1' : undefined), ...opts, fetch: f.fetch })
}

const version: Version = { version: 'v1.2.3', git_sha: 'abc', build_time: '2026-01-02T03:04:05Z', schema_version: 7, env: 'test' }

describe('createApiClient', () => {
  it('sends credentials and no CSRF token on GET', async () => {
    const f = fakeFetch(json(200, version))
    await expect(client(f).get('/version')).resolves.toEqual(version)
    expect(f.calls).toHaveLength(1)
    expect(f.calls[0]!.url).toBe('/api/v1/version')
    expect(f.calls[0]!.credentials).toBe('include')
    expect(f.calls[0]!.headers.has(CSRF_HEADER)).toBe(false)
    expect(f.calls[0]!.headers.get('Accept')).toBe('application/json')
  })

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'] as const)('sends the csrf_token cookie as X-CSRF-Token on %s', async (method) => {
    const f = fakeFetch(new Response(null, { status: 204 }))
    const res = await client(f).request('/things/1', { method, body: method === 'DELETE' ? undefined : { a: 1 } })
    expect(res.status).toBe(204)
    expect(res.data).toBeUndefined()
    expect(f.calls[0]!.headers.get(CSRF_HEADER)).toBe('tok-1')
    expect(f.calls[0]!.credentials).toBe('include')
  })

  it('encodes JSON bodies and passes FormData through', async () => {
    const f = fakeFetch(json(201, { id: 1 }), json(202, { ok: true }))
    const c = client(f)
    await expect(c.post('/entries', { fte: 0.5 })).resolves.toEqual({ id: 1 })
    expect(f.calls[0]!.body).toBe('{"fte":0.5}')
    expect(f.calls[0]!.headers.get('Content-Type')).toBe('application/json')

    const form = new FormData()
    form.append('file', new Blob(['a,b\n']), 'x.csv')
    await c.post('/uploads', form)
    expect(f.calls[1]!.body).toBe(form)
    expect(f.calls[1]!.headers.has('Content-Type')).toBe(false) // the browser sets the multipart boundary
  })

  it('builds query strings, skipping empty values and repeating arrays', () => {
    expect(buildQuery({ year: 2024, q: 'a b', skip: undefined, none: null, module: ['headcount', 'travel'] })).toBe(
      '?year=2024&q=a+b&module=headcount&module=travel',
    )
    expect(buildQuery({})).toBe('')
    expect(createApiClient().url('/pipelines/x/events', { a: 1 })).toBe('/api/v1/pipelines/x/events?a=1')
  })

  it('parses the error envelope into an ApiError with field errors', async () => {
    const details = [
      { field: 'data.fte', code: 'out_of_range', message: 'must be between 0 and 1' },
      { field: 'year', code: 'required', message: 'is required' },
    ]
    const f = fakeFetch(json(422, envelope('validation_failed', '2 fields are invalid', details)))
    const err = await client(f).post('/entries', {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    const e = err as ApiError
    expect(e.status).toBe(422)
    expect(e.code).toBe('validation_failed')
    expect(e.message).toBe('2 fields are invalid')
    expect(e.details).toEqual(details)
    expect(e.fieldErrors).toEqual({ 'data.fte': 'must be between 0 and 1', year: 'is required' })
  })

  it('makes an ApiError of a response without envelope', async () => {
    const f = fakeFetch(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }))
    await expect(client(f).get('/version')).rejects.toMatchObject({ status: 502, code: 'http_502', message: 'Bad Gateway' })
  })

  it('makes an ApiError of a network failure, but lets aborts through', async () => {
    const f = fakeFetch(new TypeError('Failed to fetch'), new DOMException('aborted', 'AbortError'))
    const c = client(f)
    await expect(c.get('/version')).rejects.toMatchObject({ status: 0, code: NETWORK_ERROR })
    await expect(c.get('/version')).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('rejects malformed JSON on success', async () => {
    const f = fakeFetch(new Response('{nope', { status: 200, headers: { 'Content-Type': 'application/json' } }))
    await expect(client(f).get('/version')).rejects.toMatchObject({ code: 'bad_response' })
  })

  it('calls onForbidden on 403 and still rejects', async () => {
    const onForbidden = vi.fn()
    const f = fakeFetch(json(403, envelope('forbidden', 'not allowed')))
    await expect(client(f, { onForbidden }).delete('/entries/1')).rejects.toMatchObject({ status: 403, code: 'forbidden' })
    expect(onForbidden).toHaveBeenCalledOnce()
    expect(onForbidden.mock.calls[0]![0]).toBeInstanceOf(ApiError)
  })

  describe('401', () => {
    it('refreshes once and retries the request', async () => {
      const onUnauthorized = vi.fn()
      const f = fakeFetch(json(401, envelope('unauthorized', 'expired')), new Response(null, { status: 204 }), json(200, version))
      await expect(client(f, { onUnauthorized }).get('/version')).resolves.toEqual(version)
      expect(f.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
        'GET /api/v1/version',
        'POST /api/v1/auth/refresh',
        'GET /api/v1/version',
      ])
      expect(f.calls[1]!.headers.get(CSRF_HEADER)).toBe('tok-1')
      expect(f.calls[1]!.credentials).toBe('include')
      expect(onUnauthorized).not.toHaveBeenCalled()
    })

    it('shares one refresh among concurrent requests (single flight)', async () => {
      let releaseRefresh!: () => void
      const refreshDone = new Promise<void>((r) => (releaseRefresh = r))
      const urls: string[] = []
      const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = input instanceof Request ? input.url : input.toString()
        urls.push(`${init?.method ?? 'GET'} ${url}`)
        if (url.endsWith('/auth/refresh')) {
          await refreshDone
          return new Response(null, { status: 204 })
        }
        // First attempt of each request: 401; after the refresh: 200.
        return urls.filter((u) => u.endsWith('/auth/refresh')).length === 0
          ? json(401, envelope('unauthorized', 'expired'))
          : json(200, { url })
      })
      const c = createApiClient({ fetch: fetch as unknown as typeof globalThis.fetch, readCookie: () => undefined })
      const all = Promise.all([c.get('/a'), c.get('/b'), c.get('/c')])
      await vi.waitFor(() => expect(urls.filter((u) => u.startsWith('POST'))).toHaveLength(1))
      releaseRefresh()
      await expect(all).resolves.toEqual([{ url: '/api/v1/a' }, { url: '/api/v1/b' }, { url: '/api/v1/c' }])
      expect(urls.filter((u) => u === 'POST /api/v1/auth/refresh')).toHaveLength(1)
      expect(urls).toHaveLength(7) // 3 × 401, 1 refresh, 3 retries
    })

    it('goes to login after a second 401', async () => {
      const onUnauthorized = vi.fn()
      const f = fakeFetch(
        json(401, envelope('unauthorized', 'expired')),
        new Response(null, { status: 204 }),
        json(401, envelope('unauthorized', 'still expired')),
      )
      await expect(client(f, { onUnauthorized }).get('/version')).rejects.toMatchObject({ status: 401, message: 'still expired' })
      expect(onUnauthorized).toHaveBeenCalledOnce()
      expect(f.calls).toHaveLength(3)
    })

    it('goes to login without retrying when the refresh fails', async () => {
      const onUnauthorized = vi.fn()
      const f = fakeFetch(json(401, envelope('unauthorized', 'expired')), json(401, envelope('unauthorized', 'no session')))
      await expect(client(f, { onUnauthorized }).post('/x', {})).rejects.toMatchObject({ status: 401, message: 'expired' })
      expect(onUnauthorized).toHaveBeenCalledOnce()
      expect(f.calls.map((c) => c.method)).toEqual(['POST', 'POST'])
    })

    it('hooks can be set after creation', async () => {
      const onUnauthorized = vi.fn()
      const f = fakeFetch(json(401, envelope('unauthorized', 'x')), new TypeError('offline'))
      const c = client(f)
      c.configure({ onUnauthorized })
      await expect(c.get('/version')).rejects.toMatchObject({ status: 401 })
      expect(onUnauthorized).toHaveBeenCalledOnce()
    })
  })
})

describe('readDocumentCookie', () => {
  it('reads and decodes one cookie', () => {
    document.cookie = 'other=1'
    document.cookie = 'csrf_token=a%2Bb%3D'
    expect(readDocumentCookie('csrf_token')).toBe('a+b=')
    expect(readDocumentCookie('missing')).toBeUndefined()
  })
})

describe('login helpers', () => {
  it.each([
    ['/fr/u/1/2024?tab=x#y', '/fr/u/1/2024?tab=x#y'],
    ['//evil.example/x', '/en/workspace'],
    ['/\\evil.example', '/en/workspace'],
    ['https://evil.example/', '/en/workspace'],
    ['javascript:alert(1)', '/en/workspace'],
    ['/a\nb', '/en/workspace'],
    [undefined, '/en/workspace'],
    [['/a', '/b'], '/en/workspace'],
  ])('safeReturnTo(%j) = %s', (raw, want) => {
    expect(safeReturnTo(raw, '/en/workspace')).toBe(want)
  })

  it('builds the API login URL', () => {
    expect(loginUrl('/fr/workspace?x=1')).toBe('/api/v1/auth/login?return_to=%2Ffr%2Fworkspace%3Fx%3D1')
  })
})
