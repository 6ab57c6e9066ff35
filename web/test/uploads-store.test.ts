// The store `uploads` (src/stores/uploads.ts): one upload controller per
// target that outlives the dialog, and re-attaching to the module's running
// imports after a reload (GET …/modules/{module}/uploads, then the pipelines).
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { createApiClient } from '@/api/client'
import type { Pipeline, Upload } from '@/api/types'
import { followPipeline } from '@/pipelines/follow'
import { MODULE_FILE, setUploaderDeps, useUploadsStore } from '@/stores/uploads'
import { fakeDeps, jsonResponse, pipeline } from './fakes'

const ref = { unitId: 4, year: 2025, module: 'equipment' as const }
const P = '/api/v1/units/4/years/2025/modules/equipment'

function upload(id: string, submodule: string | null, pipelineId: string | null): Upload {
  return {
    id,
    kind: 'data',
    scope: 'unit',
    year: 2025,
    module: 'equipment',
    submodule,
    dataset: null,
    unit_id: 4,
    filename: `${id}.csv`,
    content_type: 'text/csv',
    size_bytes: 10,
    sha256: 'x',
    options: {},
    pipeline_id: pipelineId,
    copied_from_upload_id: null,
    uploaded_at: '2025-03-01T10:00:00Z',
    uploaded_by: 1,
  }
}

function setup(uploads: Upload[], pipelines: Record<string, Pipeline>) {
  const urls: string[] = []
  const fetch = vi.fn((input: RequestInfo | URL) => {
    const url = input instanceof Request ? input.url : input.toString()
    urls.push(url)
    if (url === `${P}/uploads`) return Promise.resolve(jsonResponse({ items: uploads }))
    const m = /\/pipelines\/([^/?]+)$/.exec(url)
    const p = m ? pipelines[m[1]!] : undefined
    if (p) return Promise.resolve(jsonResponse(p, 200, { ETag: `W/"p-${p.version}"` }))
    return Promise.resolve(jsonResponse({ error: { code: 'not_found', message: 'no' } }, 404))
  })
  const client = createApiClient({ fetch, readCookie: () => 'tok' })
  const fake = fakeDeps()
  const restore = setUploaderDeps(() => ({ client, follow: (id, h) => followPipeline(id, h, fake.deps) }))
  return { client, urls, fake, restore }
}

let restore: (() => void) | undefined
beforeEach(() => {
  setActivePinia(createPinia())
})
afterEach(() => {
  restore?.()
  restore = undefined
})

describe('uploads store', () => {
  it('keeps one controller per target', () => {
    const store = useUploadsStore()
    expect(store.controller(ref, 'scientific')).toBe(store.controller(ref, 'scientific'))
    expect(store.controller(ref, 'scientific')).not.toBe(store.controller(ref, MODULE_FILE))
    expect(store.controller(ref, 'scientific')).not.toBe(store.controller({ ...ref, year: 2024 }, 'scientific'))
  })

  it('re-attaches to the running pipelines of the newest uploads of each target', async () => {
    const s = setup(
      [
        upload('u4', null, 'p-module'), // module file, running
        upload('u3', 'scientific', 'p-sci-new'), // finished
        upload('u2', 'scientific', 'p-sci-old'), // older upload of the same target: not even read
        upload('u1', 'it', null), // no pipeline
      ],
      {
        'p-module': (() => {
          const p = pipeline('p-module', 4, 'RUNNING', 30)
          return { ...p, progress: { ...p.progress, phase: 'replace', phase_label: 'Removing previous rows', phase_index: 2, phases_total: 4 } }
        })(),
        'p-sci-new': pipeline('p-sci-new', 9, 'SUCCESS', 100),
        'p-sci-old': pipeline('p-sci-old', 2, 'RUNNING', 10),
      },
    )
    restore = s.restore
    const store = useUploadsStore()
    const attached = await store.reattach(ref, { client: s.client })
    expect(attached).toEqual([MODULE_FILE])
    expect(s.urls).toEqual([`${P}/uploads`, '/api/v1/pipelines/p-module', '/api/v1/pipelines/p-sci-new'])

    const active = store.active(ref)
    expect(active.map((a) => a.target)).toEqual([MODULE_FILE])
    const u = active[0]!.uploader
    expect(u.state.stage).toBe('processing')
    expect(u.state.attached).toBe(true)
    expect(u.state.upload?.id).toBe('u4')
    expect(u.percent.value).toBe(30)
    expect(s.fake.sources[0]!.url).toBe('/api/v1/pipelines/p-module/events')

    // A second reattach (e.g. the page mounted again) leaves the followed target alone.
    expect(await store.reattach(ref, { client: s.client })).toEqual([])
    expect(s.fake.sources).toHaveLength(1)

    // The end of the import is recorded for the module page (toast, table refresh).
    expect(store.lastFinished(ref)).toBeUndefined()
    s.fake.sources[0]!.frame({ ...pipeline('p-module', 8, 'SUCCESS', 100), counters: { rows_loaded: 40 } })
    await vi.waitFor(() => expect(store.lastFinished(ref)?.target).toBe(MODULE_FILE))
    expect(store.lastFinished(ref)).toMatchObject({ attached: true, pipeline: { status: 'SUCCESS' } })
    expect(store.active(ref)).toEqual([])
  })

  it('start follows a new upload and records its end', async () => {
    const fetch = vi.fn(() => Promise.resolve(jsonResponse({ upload: upload('u9', 'it', 'p9'), pipeline: pipeline('p9', 1, 'RUNNING', 0) }, 202)))
    const client = createApiClient({ fetch, readCookie: () => 'tok' })
    const fake = fakeDeps()
    restore = setUploaderDeps(() => ({ client, follow: (id, h) => followPipeline(id, h, fake.deps) }))
    const store = useUploadsStore()
    const file = new File(['a\n'], 'it.csv', { type: 'text/csv' })
    const done = store.start(ref, 'it', { ...ref, submodule: 'it', replaceExisting: false, file })
    expect(store.active(ref).map((a) => a.target)).toEqual(['it'])
    await vi.waitFor(() => expect(store.controller(ref, 'it').state.stage).toBe('processing'))
    fake.sources[0]!.frame(pipeline('p9', 2, 'SUCCESS', 100))
    await done
    expect(store.lastFinished(ref)).toMatchObject({ target: 'it', attached: false })
    expect(store.active(ref)).toEqual([])
  })
})
