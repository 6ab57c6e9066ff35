// The byte transfer of uploads (docs/frontend.md §5.1): the client sends a
// request with onUploadProgress over XMLHttpRequest (upload events, CSRF,
// credentials, the 401 refresh), the uploader exposes percent and ETA, and a
// cancel while sending aborts the request.
import { describe, expect, it, vi } from 'vitest'

import { ApiError, createApiClient, parseXhrHeaders, type XhrLike } from '@/api/client'
import { createUploader, transferEstimate, type UploaderDeps } from '@/uploads/upload'
import { jsonResponse, pipeline, recordingFetch } from './fakes'

/** A fake XMLHttpRequest: records the request; the test drives progress and the answer. */
class FakeXhr {
  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: unknown
  withCredentials = false
  status = 0
  statusText = ''
  responseText = ''
  responseHeaders = ''
  aborted = false
  upload: { onprogress: ((ev: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null
  ontimeout: (() => void) | null = null

  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name.toLowerCase()] = value
  }
  getAllResponseHeaders() {
    return this.responseHeaders
  }
  send(body: unknown) {
    this.body = body
  }
  abort() {
    this.aborted = true
    this.onabort?.()
  }
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: total > 0 })
  }
  answer(status: number, body: unknown, headers = 'Content-Type: application/json\r\nETag: W/"x"\r\n') {
    this.status = status
    this.responseText = body === undefined ? '' : JSON.stringify(body)
    this.responseHeaders = headers
    this.onload?.()
  }
}

function setup(fetchAnswer?: Parameters<typeof recordingFetch>[0]) {
  const xhrs: FakeXhr[] = []
  const f = recordingFetch(fetchAnswer)
  const client = createApiClient({
    fetch: f.fetch,
    readCookie: () => 'tok',
    xhr: () => {
      const x = new FakeXhr()
      xhrs.push(x)
      return x as unknown as XhrLike
    },
  })
  return { client, xhrs, fetchCalls: f.calls }
}

const flush = () => new Promise((r) => setTimeout(r, 0))

describe('client: requests with upload progress', () => {
  it('go through XMLHttpRequest with credentials and the CSRF token, and report the bytes sent', async () => {
    const { client, xhrs, fetchCalls } = setup()
    const seen: [number, number][] = []
    const form = new FormData()
    form.append('file', new Blob(['a,b\n1,2\n']), 'x.csv')
    const p = client.post<{ ok: boolean }>('/units/1/years/2025/modules/headcount/uploads', form, { onUploadProgress: (l, t) => seen.push([l, t]) })
    await flush()
    const x = xhrs[0]!
    expect([x.method, x.url, x.withCredentials]).toEqual(['POST', '/api/v1/units/1/years/2025/modules/headcount/uploads', true])
    expect(x.headers['x-csrf-token']).toBe('tok')
    expect(x.headers['content-type']).toBeUndefined() // the browser sets the multipart boundary
    expect(x.body).toBe(form)
    x.progress(5, 10)
    x.progress(10, 10)
    x.answer(202, { ok: true })
    await expect(p).resolves.toEqual({ ok: true })
    expect(seen).toEqual([
      [5, 10],
      [10, 10],
    ])
    expect(fetchCalls).toHaveLength(0)
  })

  it('turns error answers into ApiError, and refreshes the session once on 401', async () => {
    const { client, xhrs, fetchCalls } = setup(() => new Response(null, { status: 204 }))
    const p = client.post('/units/1/years/2025/modules/headcount/uploads', new FormData(), { onUploadProgress: () => undefined })
    await flush()
    xhrs[0]!.answer(401, { error: { code: 'unauthenticated', message: 'sign in' } })
    await flush()
    await flush()
    expect(fetchCalls.map((c) => c.url)).toEqual(['/api/v1/auth/refresh'])
    expect(xhrs).toHaveLength(2)
    xhrs[1]!.answer(422, { error: { code: 'csv_header_invalid', message: 'bad header', details: [{ field: 'file', code: 'missing_columns' }] } })
    const err = await p.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('csv_header_invalid')
  })

  it('maps a network failure and an abort like fetch', async () => {
    const { client, xhrs } = setup()
    const p1 = client.post('/uploads', new FormData(), { onUploadProgress: () => undefined })
    await flush()
    xhrs[0]!.onerror?.()
    await expect(p1).rejects.toMatchObject({ status: 0, code: 'network' })
    const ctl = new AbortController()
    const p2 = client.post('/uploads', new FormData(), { onUploadProgress: () => undefined, signal: ctl.signal })
    await flush()
    ctl.abort()
    await expect(p2).rejects.toMatchObject({ name: 'AbortError' })
    expect(xhrs[1]!.aborted).toBe(true)
  })

  it('uses fetch when the client has no XMLHttpRequest (no progress then)', async () => {
    const f = recordingFetch(() => jsonResponse({ ok: 1 }, 202))
    const client = createApiClient({ fetch: f.fetch })
    const progress = vi.fn()
    await client.post('/uploads', new FormData(), { onUploadProgress: progress })
    expect(f.calls).toHaveLength(1)
    expect(progress).not.toHaveBeenCalled()
  })

  it('parses the raw response headers', () => {
    const h = parseXhrHeaders('content-type: application/json\r\netag: W/"p-3"\r\n')
    expect(h.get('ETag')).toBe('W/"p-3"')
  })
})

describe('transfer estimate', () => {
  it('gives the percent and the seconds left at the average rate', () => {
    expect(transferEstimate(null)).toEqual({ percent: null, etaSeconds: null })
    expect(transferEstimate({ loaded: 10, total: 0, startedAt: 0, at: 1000 })).toEqual({ percent: null, etaSeconds: null })
    // 2 MB of 10 MB in 4 s → 0.5 MB/s → 16 s left.
    expect(transferEstimate({ loaded: 2e6, total: 1e7, startedAt: 1000, at: 5000 })).toEqual({ percent: 20, etaSeconds: 16 })
    expect(transferEstimate({ loaded: 1e7, total: 1e7, startedAt: 1000, at: 5000 })).toEqual({ percent: 100, etaSeconds: null })
  })
})

describe('uploader: transfer bar and cancel while sending', () => {
  function uploaderWith() {
    const { client, xhrs } = setup()
    let now = 1000
    const follow = vi.fn<UploaderDeps['follow']>(() => ({ stop: vi.fn(), mode: 'sse' as const }))
    const uploader = createUploader({ client, follow, now: () => now })
    return { uploader, xhrs, follow, tick: (ms: number) => (now += ms) }
  }
  const req = { unitId: 4, year: 2025, module: 'professional_travel' as const, submodule: 'plane', replaceExisting: false, file: new Blob(['x'.repeat(100)]), fileName: 'plane.csv' }

  it('shows the bytes sent, then follows the pipeline', async () => {
    const { uploader, xhrs, follow, tick } = uploaderWith()
    void uploader.start(req)
    await flush()
    expect(uploader.state.stage).toBe('sending')
    expect(uploader.transfer.value).toEqual({ percent: null, etaSeconds: null })
    tick(2000)
    xhrs[0]!.progress(25, 100)
    expect(uploader.transfer.value).toEqual({ percent: 25, etaSeconds: 6 })
    tick(6000)
    xhrs[0]!.progress(100, 100)
    xhrs[0]!.answer(202, { upload: { id: 'u1' }, pipeline: pipeline('p1', 1, 'NOT_STARTED') })
    await flush()
    expect(uploader.state.stage).toBe('processing')
    expect(uploader.state.transfer).toMatchObject({ loaded: 100, total: 100 })
    expect(follow).toHaveBeenCalledWith('p1', expect.anything())
  })

  it('aborts the request when cancelled while sending: nothing was accepted', async () => {
    const { uploader, xhrs, follow } = uploaderWith()
    const done = uploader.start(req)
    await flush()
    xhrs[0]!.progress(10, 100)
    await uploader.cancel()
    await expect(done).rejects.toMatchObject({ name: 'AbortError' })
    expect(xhrs[0]!.aborted).toBe(true)
    expect(uploader.state.stage).toBe('idle')
    expect(uploader.state.aborted).toBe(true)
    expect(uploader.state.transfer).toBeNull()
    expect(follow).not.toHaveBeenCalled()
  })
})
