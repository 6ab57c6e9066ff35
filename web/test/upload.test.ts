import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { createApiClient } from '@/api/client'
import type { Pipeline, PipelineJob } from '@/api/types'
import { followPipeline } from '@/pipelines/follow'
import { ApiError } from '@/api/client'
import {
  checkFile,
  createUploader,
  duplicateOf,
  rowErrorsOf,
  rowErrorsTotalOf,
  sendConfirmingDuplicate,
  uploadForm,
  type UploaderDeps,
} from '@/uploads/upload'
import { fakeDeps, pipeline } from './fakes'

const UPLOAD = {
  id: '11111111-1111-4111-8111-111111111111',
  file_name: 'plane_2025.csv',
}

function job(rowErrors: PipelineJob['row_errors'], total = rowErrors.length): PipelineJob {
  return {
    job_id: 1,
    kind: 'csv_import',
    queue: 'imports',
    role: 'root',
    state: 'succeeded',
    attempt: 1,
    max_attempts: 3,
    result: {},
    row_errors: rowErrors,
    row_errors_total: total,
  }
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}

/** A fake fetch: POST …/uploads answers 202 with the given pipeline; GET /pipelines/{id} answers `full`. */
function setup(opts: { accepted: Pipeline; full?: Pipeline; postStatus?: number; sse?: boolean }) {
  const calls: { url: string; init: RequestInit }[] = []
  const fetch = vi.fn((input: RequestInfo | URL, init?: RequestInit) => Promise.resolve(answer(input instanceof Request ? input.url : input.toString(), init)))
  function answer(url: string, init?: RequestInit): Response {
    calls.push({ url, init: init ?? {} })
    if (url.endsWith('/uploads') && init?.method === 'POST') {
      if (opts.postStatus && opts.postStatus >= 400)
        return json({ error: { code: 'validation_failed', message: 'missing columns', details: [{ field: 'origin_iata', code: 'missing' }] } }, opts.postStatus)
      return json({ upload: UPLOAD, pipeline: opts.accepted }, 202)
    }
    if (url.includes('/pipelines/') && opts.full) return json(opts.full, 200, { ETag: `W/"p-${opts.full.version}"` })
    return json({ error: { code: 'not_found', message: 'no' } }, 404)
  }
  const client = createApiClient({ fetch, readCookie: () => 'tok' })
  const fake = fakeDeps(opts.sse === false ? { sse: false } : {})
  const follow = vi.fn<UploaderDeps['follow']>((id, handlers) => followPipeline(id, handlers, fake.deps))
  const uploader = createUploader({ client, follow })
  return { uploader, calls, fake, follow, fetch }
}

const file = () => new File(['a,b\n1,2\n'], 'plane_2025.csv', { type: 'text/csv' })
const request = () => ({ unitId: 7, year: 2025, module: 'professional_travel' as const, submodule: 'plane', replaceExisting: true, file: file() })

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('checkFile / uploadForm', () => {
  it('accepts .csv up to 100 MiB', () => {
    expect(checkFile({ name: 'a.CSV', size: 10 })).toBeNull()
    expect(checkFile({ name: 'a.xlsx', size: 10 })).toBe('upload.notCsv')
    expect(checkFile({ name: 'a.csv', size: 101 * 1024 * 1024 })).toBe('upload.tooLarge')
  })

  it('puts the fields before the file part', () => {
    const form = uploadForm(request())
    expect([...form.keys()]).toEqual(['submodule', 'replace_existing', 'file'])
    expect(form.get('replace_existing')).toBe('true')
    expect((form.get('file') as File).name).toBe('plane_2025.csv')
    const noSub = uploadForm({ ...request(), submodule: null, replaceExisting: false })
    expect([...noSub.keys()]).toEqual(['replace_existing', 'file'])
    expect(noSub.get('replace_existing')).toBe('false')
    // allow_duplicate (after the user confirmed a 409 duplicate_upload) also comes before the file.
    const dup = uploadForm({ ...request(), allowDuplicate: true })
    expect([...dup.keys()]).toEqual(['submodule', 'replace_existing', 'allow_duplicate', 'file'])
    expect(dup.get('allow_duplicate')).toBe('true')
  })
})

describe('createUploader', () => {
  it('posts multipart with CSRF, follows the pipeline over SSE to SUCCESS', async () => {
    const { uploader, calls, fake, follow } = setup({ accepted: pipeline('p1', 1, 'NOT_STARTED') })
    const done = uploader.start(request())
    expect(uploader.state.stage).toBe('sending')
    await vi.waitFor(() => expect(uploader.state.stage).toBe('processing'))

    const post = calls[0]!
    expect(post.url).toBe('/api/v1/units/7/years/2025/modules/professional_travel/uploads')
    expect(post.init.method).toBe('POST')
    expect(post.init.body).toBeInstanceOf(FormData)
    expect(new Headers(post.init.headers).get('X-CSRF-Token')).toBe('tok')
    expect(follow).toHaveBeenCalledWith('p1', expect.anything())
    expect(uploader.state.upload?.id).toBe(UPLOAD.id)
    expect(uploader.errorsCsvUrl.value).toBe(`/api/v1/uploads/${UPLOAD.id}/errors.csv`)

    fake.sources[0]!.frame(pipeline('p1', 2, 'RUNNING', 40))
    expect(uploader.percent.value).toBe(40)
    expect(uploader.state.pipeline?.progress.phase_label).toBe('Loading')

    const end = { ...pipeline('p1', 3, 'SUCCESS', 100), counters: { rows_total: 30, rows_loaded: 30, rows_skipped: 0 } }
    fake.sources[0]!.frame(end)
    const p = await done
    expect(p.status).toBe('SUCCESS')
    expect(uploader.state.stage).toBe('done')
    expect(uploader.percent.value).toBe(100)
    expect(uploader.counters.value.rows_loaded).toBe(30)
    expect(fake.sources[0]!.closed).toBe(true)
    expect(uploader.rowErrors.value).toEqual([])
  })

  it('falls back to polling and fetches the row errors of a PARTIAL pipeline', async () => {
    const errs = [
      { row: 3, line: 4, column: 'origin_iata', code: 'unknown_airport', message: 'unknown airport XXX', severity: 'error' as const },
      { row: 9, line: 10, column: 'departure_date', code: 'invalid_date', message: 'bad date', severity: 'error' as const },
    ]
    // The polled terminal frame carries no row errors; the full GET has them.
    const partialBare = { ...pipeline('p2', 5, 'PARTIAL', 100), jobs: [job([], 2)], counters: { rows_loaded: 28, rows_skipped: 2 } }
    const partialFull = { ...partialBare, jobs: [job(errs)] }
    const { uploader, fake } = setup({ accepted: pipeline('p2', 1, 'RUNNING', 10), full: partialFull, sse: false })
    fake.answers.push(pipeline('p2', 2, 'RUNNING', 60), partialBare)

    const done = uploader.start(request())
    await vi.waitFor(() => expect(uploader.percent.value).toBe(60))
    await vi.advanceTimersByTimeAsync(1000)
    const p = await done
    expect(p.status).toBe('PARTIAL')
    expect(uploader.rowErrors.value.map((e) => [e.row, e.column, e.code])).toEqual([
      [3, 'origin_iata', 'unknown_airport'],
      [9, 'departure_date', 'invalid_date'],
    ])
    expect(uploader.rowErrorsTotal.value).toBe(2)
  })

  it('reports a rejected upload (422) without following anything', async () => {
    const { uploader, follow } = setup({ accepted: pipeline('p3', 1), postStatus: 422 })
    await expect(uploader.start(request())).rejects.toMatchObject({ status: 422, code: 'validation_failed' })
    expect(uploader.state.stage).toBe('error')
    expect(follow).not.toHaveBeenCalled()
    uploader.reset()
    expect(uploader.state.stage).toBe('idle')
    expect(uploader.state.error).toBeNull()
  })

  it('a FAILED pipeline answered at once is terminal without a follower', async () => {
    const failed = { ...pipeline('p4', 2, 'FAILED'), last_error: 'header: missing column origin_iata', jobs: [job([{ row: 1, code: 'x', message: 'y' }])] }
    const { uploader, follow } = setup({ accepted: failed })
    const p = await uploader.start(request())
    expect(p.status).toBe('FAILED')
    expect(follow).not.toHaveBeenCalled()
    expect(uploader.rowErrors.value).toHaveLength(1)
  })

  it('reset stops the follower', async () => {
    const { uploader, fake } = setup({ accepted: pipeline('p5', 1, 'RUNNING') })
    void uploader.start(request()).catch(() => undefined)
    await vi.waitFor(() => expect(uploader.state.stage).toBe('processing'))
    uploader.reset()
    expect(fake.sources[0]!.closed).toBe(true)
    expect(uploader.state.pipeline).toBeNull()
  })
})

describe('rowErrorsOf / rowErrorsTotalOf', () => {
  it('flattens the jobs', () => {
    const p = { ...pipeline('x', 1), jobs: [job([{ row: 1 }]), job([{ row: 2 }, { row: 3 }], 7)] }
    expect(rowErrorsOf(p).map((e) => e.row)).toEqual([1, 2, 3])
    expect(rowErrorsTotalOf(p)).toBe(8)
    expect(rowErrorsOf(null)).toEqual([])
  })
})

const duplicate409 = () =>
  new ApiError(409, 'duplicate_upload', 'this file was already uploaded', [
    { field: 'file', code: 'duplicate_upload', message: 'same file', upload_id: 'u-1', uploaded_at: '2025-03-01T10:00:00Z' } as never,
  ])

describe('duplicate uploads (409 duplicate_upload)', () => {
  it('reads the earlier upload from the 409', () => {
    expect(duplicateOf(duplicate409())).toEqual({ uploadId: 'u-1', uploadedAt: '2025-03-01T10:00:00Z' })
    expect(duplicateOf(new ApiError(409, 'year_closed', 'closed'))).toBeNull()
    expect(duplicateOf(new ApiError(422, 'duplicate_upload', 'x'))).toBeNull()
    expect(duplicateOf(new Error('x'))).toBeNull()
  })

  it('asks the user, then resends with allow_duplicate, or stops', async () => {
    const done = pipeline('p9', 3, 'SUCCESS', 100)
    const send = vi.fn((allow: boolean) => (allow ? Promise.resolve(done) : Promise.reject(duplicate409())))
    const yes = vi.fn(() => Promise.resolve(true))
    await expect(sendConfirmingDuplicate(send, yes)).resolves.toBe(done)
    expect(send.mock.calls).toEqual([[false], [true]])
    expect(yes).toHaveBeenCalledWith({ uploadId: 'u-1', uploadedAt: '2025-03-01T10:00:00Z' })

    const send2 = vi.fn((allow: boolean) => (allow ? Promise.resolve(done) : Promise.reject(duplicate409())))
    await expect(sendConfirmingDuplicate(send2, () => Promise.resolve(false))).resolves.toBeNull()
    expect(send2.mock.calls).toEqual([[false]])

    // Other errors are not questions.
    const ask = vi.fn(() => Promise.resolve(true))
    await expect(sendConfirmingDuplicate(() => Promise.reject(new ApiError(422, 'csv_header_invalid', 'bad')), ask)).rejects.toMatchObject({ status: 422 })
    expect(ask).not.toHaveBeenCalled()
  })

  it('the uploader posts the second form with allow_duplicate', async () => {
    const forms: FormData[] = []
    const fetch = vi.fn((_input: RequestInfo | URL, init?: RequestInit) => {
      const form = init?.body as FormData
      forms.push(form)
      if (form.get('allow_duplicate') !== 'true') {
        return Promise.resolve(json({ error: { code: 'duplicate_upload', message: 'dup', details: [{ field: 'file', code: 'duplicate_upload', message: 'dup', upload_id: 'u-1', uploaded_at: '2025-03-01T10:00:00Z' }] } }, 409))
      }
      return Promise.resolve(json({ upload: UPLOAD, pipeline: pipeline('p10', 2, 'SUCCESS', 100) }, 202))
    })
    const uploader = createUploader({ client: createApiClient({ fetch, readCookie: () => 'tok' }), follow: vi.fn() })
    const p = await sendConfirmingDuplicate((allowDuplicate) => uploader.start({ ...request(), allowDuplicate }), () => Promise.resolve(true))
    expect(p?.status).toBe('SUCCESS')
    expect(forms.map((f) => f.get('allow_duplicate'))).toEqual([null, 'true'])
  })
})

describe('attach and cancel', () => {
  it('attaches to a running pipeline and cancels it', async () => {
    const calls: { url: string; method: string }[] = []
    const fetch = vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : input.toString()
      calls.push({ url, method: init?.method ?? 'GET' })
      if (url.endsWith('/cancel')) return Promise.resolve(json({ ...pipeline('p11', 6, 'RUNNING', 50), cancelled: true }, 202))
      return Promise.resolve(json({ error: { code: 'not_found', message: 'no' } }, 404))
    })
    const fake = fakeDeps()
    const uploader = createUploader({ client: createApiClient({ fetch, readCookie: () => 'tok' }), follow: (id, h) => followPipeline(id, h, fake.deps) })
    const done = uploader.attach(null, pipeline('p11', 5, 'RUNNING', 40))
    expect(uploader.state.stage).toBe('processing')
    expect(uploader.state.attached).toBe(true)
    expect(uploader.busy.value).toBe(true)
    expect(uploader.percent.value).toBe(40)

    await uploader.cancel()
    expect(calls).toEqual([{ url: '/api/v1/pipelines/p11/cancel', method: 'POST' }])
    expect(uploader.state.pipeline?.cancelled).toBe(true)
    expect(uploader.state.cancelling).toBe(true)

    fake.sources[0]!.frame({ ...pipeline('p11', 7, 'FAILED', 50), cancelled: true })
    const end = await done
    expect(end.cancelled).toBe(true)
    expect(uploader.state.stage).toBe('done')
    expect(uploader.busy.value).toBe(false)
    expect(uploader.state.cancelling).toBe(false)
  })
})
