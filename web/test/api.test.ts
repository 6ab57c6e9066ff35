// The API modules (src/api/*.ts) build the right method, URL and body, and
// encode every path segment, against a recording fetch.
import { describe, expect, it } from 'vitest'

import { createApiClient } from '@/api/client'
import { checkEntryUnique, createEntry, deleteEntry, getModuleBreakdown, getTripsMap, listEntries, listHeadcountMembers, patchEntry } from '@/api/entries'
import { listFXRates } from '@/api/fx'
import { getClientConfig, getVersion } from '@/api/meta'
import { cancelPipeline, getPipeline, listPipelines, pipelineEventsUrl } from '@/api/pipelines'
import { getTaxonomy, listBuildingRooms, searchLocations } from '@/api/reference'
import { getMe, getMyUnits, loginUrl, logout } from '@/api/session'
import { uploadTemplateUrl } from '@/api/templates'
import type { Pipeline, SubmoduleRef } from '@/api/types'
import { ensureReport, getReport, getResultsBreakdown, getResultsSummary, getResultsYearly, setModuleStatus } from '@/api/units'
import { copyUpload, createModuleUpload, listUploads, uploadErrorsCsvUrl } from '@/api/uploads'
import { jsonResponse, recordingFetch } from './fakes'

function setup(answer?: Parameters<typeof recordingFetch>[0]) {
  const f = recordingFetch(answer)
  const client = createApiClient({ fetch: f.fetch, readCookie: (name) => (name === 'csrf_token' ? 'tok' : undefined) })
  const last = () => {
    const c = f.calls.at(-1)!
    return { method: c.method, url: c.url, body: typeof c.body === 'string' ? (JSON.parse(c.body) as unknown) : c.body }
  }
  return { client, calls: f.calls, last }
}

const sub: SubmoduleRef = { unitId: 7, year: 2025, module: 'headcount', submodule: 'member' }

describe('session', () => {
  it('reads /me and /me/units and logs out', async () => {
    const { client, last } = setup()
    await getMe({ client })
    expect(last()).toEqual({ method: 'GET', url: '/api/v1/me', body: undefined })
    await getMyUnits({ client })
    expect(last()).toEqual({ method: 'GET', url: '/api/v1/me/units', body: undefined })
    await logout({ client })
    expect(last()).toEqual({ method: 'POST', url: '/api/v1/auth/logout', body: undefined })
  })

  it('gives an empty result when logout answers 204', async () => {
    const { client } = setup(() => new Response(null, { status: 204 }))
    await expect(logout({ client })).resolves.toEqual({})
  })

  it('builds the login URL', () => {
    expect(loginUrl('/fr/workspace?x=1')).toBe('/api/v1/auth/login?return_to=%2Ffr%2Fworkspace%3Fx%3D1')
    expect(loginUrl('/en/', { lang: 'fr' })).toBe('/api/v1/auth/login?return_to=%2Fen%2F&lang=fr')
  })
})

describe('units', () => {
  it('reads and ensures a report', async () => {
    const { client, last, calls } = setup()
    await getReport(7, 2025, { client })
    expect(last()).toEqual({ method: 'GET', url: '/api/v1/units/7/years/2025/report', body: undefined })
    await ensureReport(7, 2025, { client })
    expect(last()).toEqual({ method: 'PUT', url: '/api/v1/units/7/years/2025/report', body: undefined })
    expect(calls.at(-1)!.headers.get('X-CSRF-Token')).toBe('tok')
  })

  it('sets a module status', async () => {
    const { client, last } = setup()
    await setModuleStatus({ unitId: 7, year: 2025, module: 'equipment' }, 'validated', { client })
    expect(last()).toEqual({ method: 'PATCH', url: '/api/v1/units/7/years/2025/modules/equipment/status', body: { status: 'validated' } })
  })

  it('passes the results queries', async () => {
    const { client, last } = setup()
    await getResultsSummary(7, 2025, {}, { client })
    expect(last().url).toBe('/api/v1/units/7/years/2025/results/summary')
    await getResultsBreakdown(7, 2025, { scope: 'all', exclude_modules: ['research_facilities', 'purchases'] }, { client })
    expect(last().url).toBe('/api/v1/units/7/years/2025/results/breakdown?scope=all&exclude_modules=research_facilities&exclude_modules=purchases')
    await getResultsYearly(7, { exclude_modules: [] }, { client })
    expect(last().url).toBe('/api/v1/units/7/results/yearly')
  })
})

describe('entries', () => {
  it('lists, creates, patches and deletes entries', async () => {
    const { client, last, calls } = setup()
    await listEntries(sub, { page: 2, limit: 25, sort: '-name', q: 'a b' }, { client })
    expect(last()).toEqual({
      method: 'GET',
      url: '/api/v1/units/7/years/2025/modules/headcount/member/entries?page=2&limit=25&sort=-name&q=a+b',
      body: undefined,
    })
    await createEntry(sub, { name: 'Ada', fte: 1 }, { client })
    expect(last()).toEqual({ method: 'POST', url: '/api/v1/units/7/years/2025/modules/headcount/member/entries', body: { data: { name: 'Ada', fte: 1 } } })
    await patchEntry(sub, 42, { fte: null }, { client, ifMatch: 'W/"e42-v3"' })
    expect(last()).toEqual({ method: 'PATCH', url: '/api/v1/units/7/years/2025/modules/headcount/member/entries/42', body: { data: { fte: null } } })
    expect(calls.at(-1)!.headers.get('If-Match')).toBe('W/"e42-v3"')
    await deleteEntry(sub, 42, { client })
    expect(last()).toEqual({ method: 'DELETE', url: '/api/v1/units/7/years/2025/modules/headcount/member/entries/42', body: undefined })
    expect(calls.at(-1)!.headers.has('If-Match')).toBe(false)
  })

  it('encodes every path segment', async () => {
    const { client, last } = setup()
    await listEntries({ ...sub, submodule: 'a/b?c#d' }, {}, { client })
    expect(last().url).toBe('/api/v1/units/7/years/2025/modules/headcount/a%2Fb%3Fc%23d/entries')
    await getTaxonomy('x y/z', { year: 2025 }, { client })
    expect(last().url).toBe('/api/v1/taxonomies/x%20y%2Fz?year=2025')
    expect(pipelineEventsUrl('p/1', { client })).toBe('/api/v1/pipelines/p%2F1/events')
    expect(uploadTemplateUrl('data', 'a/b')).toBe('/api/v1/templates/data/a%2Fb.csv')
  })

  it('reaches the module-specific endpoints', async () => {
    const { client, last } = setup()
    await checkEntryUnique({ ...sub, module: 'equipment', submodule: 'it' }, { field: 'equipment_id', value: 'E-1', exclude_id: 3 }, { client })
    expect(last().url).toBe('/api/v1/units/7/years/2025/modules/equipment/it/entries/check-unique?field=equipment_id&value=E-1&exclude_id=3')
    await getModuleBreakdown({ unitId: 7, year: 2025, module: 'purchases' }, 'top_class', { client })
    expect(last().url).toBe('/api/v1/units/7/years/2025/modules/purchases/breakdown?by=top_class')
    await listHeadcountMembers(7, 2025, { client })
    expect(last().url).toBe('/api/v1/units/7/years/2025/modules/headcount/members')
    await getTripsMap(7, 2025, { client })
    expect(last().url).toBe('/api/v1/units/7/years/2025/modules/professional_travel/trips-map')
  })
})

describe('uploads', () => {
  it('posts a module file as multipart, with CSRF', async () => {
    const { client, last, calls } = setup()
    const form = new FormData()
    form.append('file', new Blob(['a\n']), 'x.csv')
    await createModuleUpload({ unitId: 7, year: 2025, module: 'professional_travel' }, form, { client })
    expect(last()).toEqual({ method: 'POST', url: '/api/v1/units/7/years/2025/modules/professional_travel/uploads', body: form })
    expect(calls.at(-1)!.headers.get('X-CSRF-Token')).toBe('tok')
    expect(calls.at(-1)!.headers.has('Content-Type')).toBe(false)
  })

  it('lists, copies and links back-office uploads', async () => {
    const { client, last } = setup()
    await listUploads({ year: 2025, kind: 'factors' }, { client })
    expect(last().url).toBe('/api/v1/uploads?year=2025&kind=factors')
    await copyUpload({ source_upload_id: 'u1', year: 2026 }, { client })
    expect(last()).toEqual({ method: 'POST', url: '/api/v1/uploads/copy', body: { source_upload_id: 'u1', year: 2026 } })
    expect(uploadErrorsCsvUrl('u 1', { client })).toBe('/api/v1/uploads/u%201/errors.csv')
  })
})

describe('pipelines', () => {
  const pipeline = { id: 'p1', status: 'RUNNING', version: 3 } as unknown as Pipeline

  it('returns the pipeline and its ETag', async () => {
    const { client, calls } = setup(() => jsonResponse(pipeline, 200, { ETag: 'W/"p-3"' }))
    await expect(getPipeline('p1', null, { client })).resolves.toEqual({ notModified: false, etag: 'W/"p-3"', pipeline })
    expect(calls[0]!.url).toBe('/api/v1/pipelines/p1')
    expect(calls[0]!.headers.has('If-None-Match')).toBe(false)
  })

  it('sends If-None-Match and understands 304', async () => {
    const { client, calls } = setup(() => new Response(null, { status: 304, headers: { ETag: 'W/"p-3"' } }))
    await expect(getPipeline('p1', 'W/"p-3"', { client })).resolves.toEqual({ notModified: true, etag: 'W/"p-3"' })
    expect(calls[0]!.headers.get('If-None-Match')).toBe('W/"p-3"')
  })

  it('rejects a 404 as ApiError', async () => {
    const { client } = setup(() => jsonResponse({ error: { code: 'not_found', message: 'pipeline p1 not found', details: [] } }, 404))
    await expect(getPipeline('p1', null, { client })).rejects.toMatchObject({ status: 404, code: 'not_found' })
  })

  it('lists and cancels', async () => {
    const { client, last } = setup()
    await listPipelines({ status: ['RUNNING', 'FAILED'], active: true }, { client })
    expect(last().url).toBe('/api/v1/pipelines?status=RUNNING&status=FAILED&active=true')
    await cancelPipeline('p1', { client })
    expect(last()).toEqual({ method: 'POST', url: '/api/v1/pipelines/p1/cancel', body: undefined })
  })
})

describe('reference, fx, meta', () => {
  it('build their URLs', async () => {
    const { client, last } = setup(() => jsonResponse([]))
    await searchLocations({ q: 'gen', mode: 'plane', limit: 5 }, { client })
    expect(last().url).toBe('/api/v1/locations?q=gen&mode=plane&limit=5')
    await listBuildingRooms({ building_name: 'BC' }, { client })
    expect(last().url).toBe('/api/v1/building-rooms?building_name=BC')
    await listFXRates(2025, { client })
    expect(last().url).toBe('/api/v1/fx-rates?year=2025')
    await getVersion({ client })
    expect(last().url).toBe('/api/v1/version')
    await getClientConfig({ client })
    expect(last().url).toBe('/api/v1/config')
  })

  it('passes the abort signal', async () => {
    const controller = new AbortController()
    const seen: (AbortSignal | null | undefined)[] = []
    const c = createApiClient({
      fetch: (_input, init) => {
        seen.push(init?.signal)
        return Promise.resolve(jsonResponse({}))
      },
    })
    await getVersion({ client: c, signal: controller.signal })
    expect(seen[0]).toBe(controller.signal)
  })
})
