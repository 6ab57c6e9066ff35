// CSV upload of module data with pipeline progress (docs/frontend.md §3.3, §5):
//
//   1. POST the module file as multipart (fields before the file part: submodule,
//      replace_existing, allow_duplicate when the user confirmed a duplicate,
//      then file) → 202 {upload, pipeline}; a file identical to an earlier
//      successful upload answers 409 duplicate_upload (duplicateOf). The app's
//      client sends it with XMLHttpRequest, whose upload events give the
//      transfer bar (bytes sent, percent, ETA: `transfer`); cancel() while
//      sending aborts the request;
//   2. follow the pipeline (pipelines/follow.ts: SSE, then polling) until it
//      is terminal, exposing progress (phase label, percent, done/total) —
//      or attach() to a pipeline already running (re-attaching after the
//      dialog was closed or the page reloaded, stores/uploads.ts); cancel()
//      asks the API to cancel it;
//   3. on PARTIAL/FAILED, the row errors of the pipeline's jobs (fetched
//      once with getPipeline when the last frame did not carry them) and
//      the errors.csv link of the upload.
//
// The API client, the follower and the clock are injected, so it is
// unit-tested with a fake fetch (or XMLHttpRequest) and a fake follower.
import { computed, getCurrentScope, onScopeDispose, reactive } from 'vue'

import { isApiError, type ApiClient } from '@/api/client'
import { cancelPipeline, getPipeline } from '@/api/pipelines'
import type { ModuleKey, Pipeline, PipelineJob, Upload, UploadAccepted } from '@/api/types'
import { createModuleUpload, uploadErrorsCsvUrl } from '@/api/uploads'
import { browserFollowDeps, followPipeline, isTerminal, type Follower, type FollowHandlers } from '@/pipelines/follow'

export type { Upload, UploadAccepted }
export type RowError = PipelineJob['row_errors'][number]

/** Largest file accepted client-side (UPLOAD_MAX_BYTES default, 100 MiB). */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024

export type UploadStage = 'idle' | 'sending' | 'processing' | 'done' | 'error'

/** The file transfer of §5.1: bytes sent of total (0 when unknown), since startedAt (ms). */
export interface Transfer {
  loaded: number
  total: number
  startedAt: number
  /** Time of the last progress event (ms). */
  at: number
}

/**
 * Percent of the bytes sent (null while the total is unknown) and the
 * seconds left at the average rate since the start (null before a rate is
 * known or once everything is sent).
 */
export function transferEstimate(t: Transfer | null): { percent: number | null; etaSeconds: number | null } {
  if (!t || t.total <= 0) return { percent: null, etaSeconds: null }
  const loaded = Math.min(t.loaded, t.total)
  const percent = Math.floor((loaded / t.total) * 100)
  const elapsed = (t.at - t.startedAt) / 1000
  if (loaded <= 0 || loaded >= t.total || elapsed <= 0) return { percent, etaSeconds: null }
  return { percent, etaSeconds: Math.ceil((t.total - loaded) / (loaded / elapsed)) }
}

export interface UploadRequest {
  unitId: number
  year: number
  module: ModuleKey
  /** Omitted for the module files of equipment and purchases. */
  submodule?: string | null
  replaceExisting: boolean
  /** Send the file even when it equals an earlier upload (after the user confirmed the 409 duplicate_upload). */
  allowDuplicate?: boolean
  file: File | Blob
  fileName?: string
}

export interface UploaderDeps {
  /** Default the app's client. */
  client?: ApiClient | undefined
  follow(id: string, handlers: FollowHandlers): Follower
  /** Clock of the transfer estimate (default Date.now). */
  now?: (() => number) | undefined
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
  if (req.allowDuplicate) form.append('allow_duplicate', 'true')
  const name = req.fileName ?? (req.file instanceof File ? req.file.name : `${req.submodule ?? req.module}.csv`)
  form.append('file', req.file, name)
  return form
}

/** The earlier upload a 409 duplicate_upload names. */
export interface DuplicateUpload {
  uploadId: string | null
  uploadedAt: string | null
}

/** The 409 duplicate_upload of a file identical to an earlier successful upload into the same target, else null. */
export function duplicateOf(err: unknown): DuplicateUpload | null {
  if (!isApiError(err) || err.status !== 409) return null
  const detail = err.details.find((d) => d.code === 'duplicate_upload') as (Record<string, unknown> | undefined)
  if (err.code !== 'duplicate_upload' && !detail) return null
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null)
  return { uploadId: str(detail?.upload_id), uploadedAt: str(detail?.uploaded_at) }
}

/**
 * Sends an upload, and when the API answers 409 duplicate_upload asks the
 * user (confirm) whether to send the same file again with allow_duplicate.
 * Resolves with the terminal pipeline, or null when the user declined;
 * other errors are thrown.
 */
export async function sendConfirmingDuplicate(
  send: (allowDuplicate: boolean) => Promise<Pipeline>,
  confirm: (dup: DuplicateUpload) => Promise<boolean>,
): Promise<Pipeline | null> {
  try {
    return await send(false)
  } catch (err) {
    const dup = duplicateOf(err)
    if (!dup) throw err
    if (!(await confirm(dup))) return null
    return send(true)
  }
}

/** A pipeline that ended because someone cancelled it. */
export function isCancelled(p: Pipeline | null | undefined): boolean {
  return !!p?.cancelled
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
    /** A cancel request is on its way. */
    cancelling: boolean
    /** The error of the last cancel request (e.g. 403 for someone else's upload). */
    cancelError: unknown
    /** True when the pipeline was found running (attach) rather than started here. */
    attached: boolean
    /** The file transfer (null when attached, or before the first byte). */
    transfer: Transfer | null
    /** The transfer was cancelled before the API accepted the file. */
    aborted: boolean
  }
  const state = reactive<State>({ stage: 'idle', upload: null, pipeline: null, error: null, cancelling: false, cancelError: null, attached: false, transfer: null, aborted: false })
  let follower: Follower | null = null
  let generation = 0
  let sending: AbortController | null = null
  const now = deps.now ?? (() => Date.now())

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
  /** The transfer bar: percent of the bytes sent and seconds left. */
  const transfer = computed(() => transferEstimate(state.transfer))

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

  /** Follows an accepted pipeline to its end (shared by start and attach). */
  function follow(gen: number, upload: Upload | null, p: Pipeline, resolve: (p: Pipeline) => void, reject: (err: Error) => void) {
    state.upload = upload
    state.pipeline = p
    state.stage = 'processing'
    const fail = (err: unknown) => {
      if (gen !== generation) return
      state.stage = 'error'
      state.error = err
      reject(err instanceof Error ? err : new Error(String(err)))
    }
    const finish = (last: Pipeline) => {
      if (gen !== generation) return
      if (!state.pipeline || last.version >= state.pipeline.version) state.pipeline = last
      follower = null
      const end = state.pipeline ?? last
      void completeRowErrors(end, gen).finally(() => {
        if (gen !== generation) return
        state.stage = 'done'
        state.cancelling = false
        resolve(state.pipeline ?? end)
      })
    }
    if (isTerminal(p.status)) {
      finish(p)
      return
    }
    follower = deps.follow(p.id, {
      onUpdate: (next) => {
        if (gen !== generation) return
        if (!state.pipeline || next.version >= state.pipeline.version) state.pipeline = next
      },
      onEnd: finish,
      onError: fail,
    })
  }

  function begin(): number {
    stopFollowing()
    sending?.abort()
    sending = null
    const gen = ++generation
    state.upload = null
    state.pipeline = null
    state.error = null
    state.cancelling = false
    state.cancelError = null
    state.attached = false
    state.transfer = null
    state.aborted = false
    return gen
  }

  /** Sends the file and follows its pipeline; resolves with the terminal pipeline (or throws). */
  function start(req: UploadRequest): Promise<Pipeline> {
    const gen = begin()
    state.stage = 'sending'
    const startedAt = now()
    const ctl = new AbortController()
    sending = ctl
    const onUploadProgress = (loaded: number, total: number) => {
      if (gen === generation) state.transfer = { loaded, total, startedAt, at: now() }
    }
    return new Promise<Pipeline>((resolve, reject) => {
      createModuleUpload(req, uploadForm(req), { client: deps.client, signal: ctl.signal, onUploadProgress })
        .then((accepted) => {
          if (gen !== generation) return
          sending = null
          if (state.transfer && state.transfer.total > 0) state.transfer = { ...state.transfer, loaded: state.transfer.total, at: now() }
          follow(gen, accepted.upload, accepted.pipeline, resolve, reject)
        })
        .catch((err: unknown) => {
          if (sending === ctl) sending = null
          if (ctl.signal.aborted) {
            // cancel() while sending: nothing was accepted.
            if (gen === generation) {
              state.stage = 'idle'
              state.aborted = true
              state.transfer = null
            }
            reject(new DOMException('The upload was cancelled.', 'AbortError'))
            return
          }
          if (gen !== generation) return
          state.stage = 'error'
          state.error = err
          reject(err instanceof Error ? err : new Error(String(err)))
        })
    })
  }

  /**
   * Follows an upload's pipeline found running (GET …/uploads after a reload
   * or from another tab); resolves with the terminal pipeline like start.
   */
  function attach(upload: Upload | null, p: Pipeline): Promise<Pipeline> {
    const gen = begin()
    state.attached = true
    return new Promise<Pipeline>((resolve, reject) => follow(gen, upload, p, resolve, reject))
  }

  /**
   * POST /pipelines/{id}/cancel for the running upload. The follower then
   * sees the pipeline end (cancelled); a pipeline that already ended (409
   * pipeline_terminal) is left to the follower too. While the file is still
   * being sent, the request is aborted instead (stage back to idle, aborted).
   */
  async function cancel(): Promise<void> {
    if (state.stage === 'sending') {
      sending?.abort()
      return
    }
    const p = state.pipeline
    if (!p || state.stage !== 'processing' || state.cancelling) return
    const gen = generation
    state.cancelling = true
    state.cancelError = null
    try {
      const next = await cancelPipeline(p.id, { client: deps.client })
      if (gen === generation && state.pipeline && next.version >= state.pipeline.version) state.pipeline = next
    } catch (err) {
      if (gen !== generation) return
      if (!(isApiError(err) && err.code === 'pipeline_terminal')) {
        state.cancelling = false
        state.cancelError = err
      }
    }
  }

  /** Back to idle (stops following). */
  function reset() {
    begin()
    state.stage = 'idle'
  }

  if (getCurrentScope())
    onScopeDispose(() => {
      stopFollowing()
      sending?.abort()
    })

  /** Sending or following a pipeline that has not ended. */
  const busy = computed(() => state.stage === 'sending' || state.stage === 'processing')

  return { state, percent, status, busy, rowErrors, rowErrorsTotal, errorsCsvUrl, counters, transfer, start, attach, cancel, reset, stop: stopFollowing }
}

export type Uploader = ReturnType<typeof createUploader>
