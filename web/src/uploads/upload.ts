// CSV upload of module data with pipeline progress (docs/frontend.md §3.3, §5):
//
//   1. POST the module file as multipart (fields before the file part: submodule,
//      replace_existing, then file) → 202 {upload, pipeline};
//   2. follow the pipeline (pipelines/follow.ts: SSE, then polling) until it
//      is terminal, exposing progress (phase label, percent, done/total);
//   3. on PARTIAL/FAILED, the row errors of the pipeline's jobs (fetched
//      once with getPipeline when the last frame did not carry them) and
//      the errors.csv link of the upload.
//
// The API client and the follower are injected, so it is unit-tested with
// a fake fetch and a fake follower. Open point: the byte-transfer bar of §5.1
// (XMLHttpRequest upload progress) is not shown; fetch has no upload events.
import { computed, getCurrentScope, onScopeDispose, reactive } from 'vue'

import type { ApiClient } from '@/api/client'
import { getPipeline } from '@/api/pipelines'
import type { ModuleKey, Pipeline, PipelineJob, Upload, UploadAccepted } from '@/api/types'
import { createModuleUpload, uploadErrorsCsvUrl } from '@/api/uploads'
import { browserFollowDeps, followPipeline, isTerminal, type Follower, type FollowHandlers } from '@/pipelines/follow'

export type { Upload, UploadAccepted }
export type RowError = PipelineJob['row_errors'][number]

/** Largest file accepted client-side (UPLOAD_MAX_BYTES default, 100 MiB). */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024

export type UploadStage = 'idle' | 'sending' | 'processing' | 'done' | 'error'

export interface UploadRequest {
  unitId: number
  year: number
  module: ModuleKey
  /** Omitted for the module files of equipment and purchases. */
  submodule?: string | null
  replaceExisting: boolean
  file: File | Blob
  fileName?: string
}

export interface UploaderDeps {
  /** Default the app's client. */
  client?: ApiClient | undefined
  follow(id: string, handlers: FollowHandlers): Follower
}

export function defaultUploaderDeps(client?: ApiClient): UploaderDeps {
  return { client, follow: (id, handlers) => followPipeline(id, handlers, browserFollowDeps(client)) }
}

/** Client-side checks of §5.1; returns an i18n key of upload.* or null. */
export function checkFile(file: { name: string; size: number }): 'upload.notCsv' | 'upload.tooLarge' | null {
  if (!/\.csv$/i.test(file.name)) return 'upload.notCsv'
  if (file.size > MAX_UPLOAD_BYTES) return 'upload.tooLarge'
  return null
}

/** Multipart body: fields BEFORE the file part (the API streams the file). */
export function uploadForm(req: UploadRequest): FormData {
  const form = new FormData()
  if (req.submodule) form.append('submodule', req.submodule)
  form.append('replace_existing', req.replaceExisting ? 'true' : 'false')
  const name = req.fileName ?? (req.file instanceof File ? req.file.name : `${req.submodule ?? req.module}.csv`)
  form.append('file', req.file, name)
  return form
}

/** All row errors of a pipeline's jobs, in job order. */
export function rowErrorsOf(p: Pipeline | null | undefined): RowError[] {
  return (p?.jobs ?? []).flatMap((j) => j.row_errors ?? [])
}

/** Total of row errors (the API caps the list it returns; row_errors_total counts them all). */
export function rowErrorsTotalOf(p: Pipeline | null | undefined): number {
  return (p?.jobs ?? []).reduce((n, j) => n + Math.max(j.row_errors_total ?? 0, j.row_errors?.length ?? 0), 0)
}

export function createUploader(deps: UploaderDeps = defaultUploaderDeps()) {
  interface State {
    stage: UploadStage
    upload: Upload | null
    pipeline: Pipeline | null
    error: unknown
  }
  const state = reactive<State>({ stage: 'idle', upload: null, pipeline: null, error: null })
  let follower: Follower | null = null
  let generation = 0

  const stopFollowing = () => {
    follower?.stop()
    follower = null
  }

  const percent = computed(() => {
    if (state.stage === 'done') return 100
    return Math.max(0, Math.min(100, state.pipeline?.progress.percent ?? 0))
  })
  const status = computed(() => state.pipeline?.status)
  const rowErrors = computed(() => rowErrorsOf(state.pipeline))
  const rowErrorsTotal = computed(() => rowErrorsTotalOf(state.pipeline))
  const errorsCsvUrl = computed(() =>
    state.upload ? uploadErrorsCsvUrl(state.upload.id, { client: deps.client }) : null,
  )
  const counters = computed(() => state.pipeline?.counters ?? {})

  /** Terminal PARTIAL/FAILED frames may come without row_errors: fetch the pipeline once. */
  async function completeRowErrors(p: Pipeline, gen: number) {
    if (p.status === 'SUCCESS') return
    const missing = p.jobs.some((j) => (j.row_errors_total ?? 0) > 0 && (j.row_errors?.length ?? 0) === 0)
    if (!missing) return
    try {
      const res = await getPipeline(p.id, null, { client: deps.client })
      if (gen === generation && !res.notModified && res.pipeline.version >= p.version) state.pipeline = res.pipeline
    } catch {
      // The errors.csv link still gives every row error.
    }
  }

  /** Sends the file and follows its pipeline; resolves with the terminal pipeline (or throws). */
  function start(req: UploadRequest): Promise<Pipeline> {
    stopFollowing()
    const gen = ++generation
    state.stage = 'sending'
    state.upload = null
    state.pipeline = null
    state.error = null
    return new Promise<Pipeline>((resolve, reject) => {
      const fail = (err: unknown) => {
        if (gen !== generation) return
        state.stage = 'error'
        state.error = err
        reject(err instanceof Error ? err : new Error(String(err)))
      }
      createModuleUpload(req, uploadForm(req), { client: deps.client })
        .then((accepted) => {
          if (gen !== generation) return
          state.upload = accepted.upload
          state.pipeline = accepted.pipeline
          state.stage = 'processing'
          const finish = (p: Pipeline) => {
            if (gen !== generation) return
            state.pipeline = p
            follower = null
            void completeRowErrors(p, gen).finally(() => {
              if (gen !== generation) return
              state.stage = 'done'
              resolve(state.pipeline ?? p)
            })
          }
          if (isTerminal(accepted.pipeline.status)) {
            finish(accepted.pipeline)
            return
          }
          follower = deps.follow(accepted.pipeline.id, {
            onUpdate: (p) => {
              if (gen !== generation) return
              if (!state.pipeline || p.version >= state.pipeline.version) state.pipeline = p
            },
            onEnd: finish,
            onError: fail,
          })
        })
        .catch(fail)
    })
  }

  /** Back to idle (stops following). */
  function reset() {
    stopFollowing()
    generation++
    state.stage = 'idle'
    state.upload = null
    state.pipeline = null
    state.error = null
  }

  if (getCurrentScope()) onScopeDispose(stopFollowing)

  return { state, percent, status, rowErrors, rowErrorsTotal, errorsCsvUrl, counters, start, reset, stop: stopFollowing }
}

export type Uploader = ReturnType<typeof createUploader>
