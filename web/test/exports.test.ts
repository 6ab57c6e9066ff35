// Exports: the API module (api/exports.ts) and the store behind "My exports"
// and the layout badge (stores/exports.ts): polling while one runs, the badge
// of exports in progress or newly ready, "seen" kept in localStorage.
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest'

import { createApiClient } from '@/api/client'
import { createExport, exportDownloadUrl, getExport, listExports, type ExportPage } from '@/api/exports'
import type { Export } from '@/api/types'
import { EXPORTS_SEEN_KEY, isNewlyReady, pollDelay, setExportsDeps, useExportsStore } from '@/stores/exports'
import { jsonResponse, recordingFetch } from './fakes'

function exp(id: string, status: Export['status'], readyAt: string | null = null): Export {
  return {
    id,
    kind: 'unit_results',
    format: 'xlsx',
    params: { unit_id: 4, year: 2025 },
    status,
    filename: status === 'ready' ? `unit_results_${id}.xlsx` : null,
    size_bytes: status === 'ready' ? 1234 : null,
    row_count: status === 'ready' ? 12 : null,
    error: null,
    created_by: 3,
    created_at: '2026-12-06T10:00:00Z',
    ready_at: readyAt,
    expires_at: readyAt ? '2026-12-13T10:00:00Z' : null,
    pipeline_id: null,
    download_url: status === 'ready' ? `/api/v1/exports/${id}/download` : null,
  }
}
const page = (items: Export[]): ExportPage => ({ items, page: 1, limit: 50, total: items.length, has_more: false })

describe('exports API', () => {
  it('asks for an export, lists, reads one and links the download', async () => {
    const f = recordingFetch(() => jsonResponse({}))
    const client = createApiClient({ fetch: f.fetch, readCookie: () => 'tok' })
    await createExport({ kind: 'unit_results', format: 'pdf', params: { unit_id: 4, year: 2025 } }, { client })
    expect(f.calls[0]!.method).toBe('POST')
    expect(f.calls[0]!.url).toBe('/api/v1/exports')
    expect(JSON.parse(f.calls[0]!.body as string)).toEqual({ kind: 'unit_results', format: 'pdf', params: { unit_id: 4, year: 2025 } })
    expect(f.calls[0]!.headers.get('X-CSRF-Token')).toBe('tok')
    await listExports({ limit: 50 }, { client })
    expect(f.calls[1]!.url).toBe('/api/v1/exports?limit=50')
    await getExport('a/b', { client })
    expect(f.calls[2]!.url).toBe('/api/v1/exports/a%2Fb')
    expect(exportDownloadUrl('e1', { client })).toBe('/api/v1/exports/e1/download')
  })
})

describe('exports store', () => {
  let now = Date.parse('2026-12-06T12:00:00Z')
  let answers: Export[][]
  let list: Mock<(q: { page?: number; limit?: number }) => Promise<ExportPage>>
  let restore: () => void

  beforeEach(() => {
    vi.useFakeTimers()
    localStorage.clear()
    setActivePinia(createPinia())
    now = Date.parse('2026-12-06T12:00:00Z')
    answers = []
    list = vi.fn((_q: { page?: number; limit?: number }) => Promise.resolve(page(answers.length > 1 ? answers.shift()! : (answers[0] ?? []))))
    restore = setExportsDeps({ list, now: () => now })
  })
  afterEach(() => {
    restore()
    vi.useRealTimers()
  })

  it('counts the exports in progress and those ready since the user last looked', async () => {
    answers.push([exp('a', 'running'), exp('b', 'ready', '2026-12-06T11:00:00Z'), exp('c', 'failed'), exp('d', 'pending')])
    const store = useExportsStore()
    await store.load()
    expect(store.running.map((e) => e.id)).toEqual(['a', 'd'])
    expect(store.newlyReady.map((e) => e.id)).toEqual(['b'])
    expect(store.badge).toBe(3)
    store.markSeen()
    expect(store.badge).toBe(2)
    expect(JSON.parse(localStorage.getItem(EXPORTS_SEEN_KEY)!)).toBe(now)
    // A fresh store (a reload) keeps what was seen.
    setActivePinia(createPinia())
    expect(useExportsStore().seenAt).toBe(now)
  })

  it('polls while an export runs, and stops once none does', async () => {
    answers.push([exp('a', 'running')], [exp('a', 'running')], [exp('a', 'ready', '2026-12-06T12:00:02Z')])
    const store = useExportsStore()
    await store.load()
    expect(list).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(list).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(1000)
    expect(list).toHaveBeenCalledTimes(3)
    expect(store.items[0]!.status).toBe('ready')
    expect(store.badge).toBe(1) // newly ready
    await vi.advanceTimersByTimeAsync(10_000)
    expect(list).toHaveBeenCalledTimes(3)
  })

  it('follows an export asked for on a page (track) at once', async () => {
    const store = useExportsStore()
    await store.load()
    expect(store.badge).toBe(0)
    answers.push([exp('n', 'ready', '2026-12-06T12:00:01Z')])
    store.track(exp('n', 'pending'))
    expect(store.items.map((e) => e.id)).toEqual(['n'])
    expect(store.badge).toBe(1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(store.items[0]!.status).toBe('ready')
    store.clear()
    expect(store.items).toEqual([])
  })

  it('keeps the list when a poll fails', async () => {
    answers.push([exp('a', 'ready', '2026-12-06T11:00:00Z')])
    const store = useExportsStore()
    await store.load()
    list.mockRejectedValueOnce(new Error('down'))
    await store.load()
    expect(store.error).toBeInstanceOf(Error)
    expect(store.items).toHaveLength(1)
  })

  it('decides what is newly ready and how fast to poll', () => {
    expect(isNewlyReady(exp('a', 'ready', '2026-12-06T11:00:00Z'), 0)).toBe(true)
    expect(isNewlyReady(exp('a', 'ready', '2026-12-06T11:00:00Z'), now)).toBe(false)
    expect(isNewlyReady(exp('a', 'running'), 0)).toBe(false)
    expect(pollDelay(0)).toBe(1000)
    expect(pollDelay(60_000)).toBe(3000)
  })
})
