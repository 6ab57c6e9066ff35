// Module-page uploads (docs/frontend.md §5 and §7 `uploads`): one upload
// controller (uploads/upload.ts) per target — a submodule, or the module
// file of equipment and purchases — kept here rather than in the dialog, so
// that closing the dialog does not stop following the import, and the module
// page can show a compact bar for every running upload.
//
// reattach(ref) finds the uploads of a module still running after a reload
// (or started in another tab): GET …/modules/{module}/uploads lists the
// module's uploads newest first with their pipeline_id; the pipelines of the
// newest ones are read and the non-terminal ones followed again.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { markRaw, reactive, shallowReactive } from 'vue'

import type { ApiClient } from '@/api/client'
import { getPipeline } from '@/api/pipelines'
import type { ModuleRef, Pipeline, Upload } from '@/api/types'
import { listModuleUploads } from '@/api/uploads'
import { isTerminal } from '@/pipelines/follow'
import { createUploader, defaultUploaderDeps, type Uploader, type UploaderDeps, type UploadRequest } from '@/uploads/upload'

/** The module file of equipment and purchases (no submodule). */
export const MODULE_FILE = ''

/** How many of the newest uploads reattach looks at (older ones have long ended). */
export const REATTACH_LOOKBACK = 5

let depsFactory: () => UploaderDeps = () => defaultUploaderDeps()

/** Replaces the uploader dependencies (tests use fakes); returns a restore function. */
export function setUploaderDeps(factory: () => UploaderDeps): () => void {
  const previous = depsFactory
  depsFactory = factory
  return () => {
    depsFactory = previous
  }
}

/** One ended upload, for the module page (toast, table refresh). */
export interface FinishedUpload {
  seq: number
  target: string
  pipeline: Pipeline
  /** The upload was found running (reattach) rather than started in this page. */
  attached: boolean
}

const moduleKey = (r: ModuleRef) => `${r.unitId}/${r.year}/${r.module}`
const controllerKey = (r: ModuleRef, target: string) => `${moduleKey(r)}/${target}`

export const useUploadsStore = defineStore('uploads', () => {
  const controllers = shallowReactive(new Map<string, Uploader>())
  /** Last ended upload per module (unit/year/module). */
  const finished = reactive<Record<string, FinishedUpload>>({})
  let seq = 0

  /** The controller of one target (created on first use). */
  function controller(ref: ModuleRef, target: string): Uploader {
    const key = controllerKey(ref, target)
    let c = controllers.get(key)
    if (!c) {
      c = markRaw(createUploader(depsFactory()))
      controllers.set(key, c)
    }
    return c
  }

  function markFinished(ref: ModuleRef, target: string, p: Pipeline, attached: boolean) {
    finished[moduleKey(ref)] = { seq: ++seq, target, pipeline: p, attached }
  }

  /** Sends a file to a target and follows its pipeline; the same promise as Uploader.start. */
  async function start(ref: ModuleRef, target: string, req: UploadRequest): Promise<Pipeline> {
    const p = await controller(ref, target).start(req)
    markFinished(ref, target, p, false)
    return p
  }

  /** The controllers of a module that are sending or following a running pipeline. */
  function active(ref: ModuleRef): { target: string; uploader: Uploader }[] {
    const prefix = `${moduleKey(ref)}/`
    const out: { target: string; uploader: Uploader }[] = []
    for (const [key, uploader] of controllers) {
      if (key.startsWith(prefix) && uploader.busy.value) out.push({ target: key.slice(prefix.length), uploader })
    }
    return out.sort((a, b) => a.target.localeCompare(b.target))
  }

  /** The last ended upload of a module (undefined before any). */
  function lastFinished(ref: ModuleRef): FinishedUpload | undefined {
    return finished[moduleKey(ref)]
  }

  /**
   * Follows again the module's uploads whose pipeline has not ended. Targets
   * already followed here are left alone. Returns the targets re-attached.
   * Errors (e.g. 403 without module_sync) are left to the caller.
   */
  async function reattach(ref: ModuleRef, opts: { client?: ApiClient } = {}): Promise<string[]> {
    const { items } = await listModuleUploads(ref, { client: opts.client })
    const candidates: { upload: Upload; target: string }[] = []
    const seen = new Set<string>()
    for (const upload of items.slice(0, REATTACH_LOOKBACK)) {
      const target = upload.submodule ?? MODULE_FILE
      if (!upload.pipeline_id || seen.has(target)) continue
      seen.add(target) // only the newest upload of a target can be running
      if (controller(ref, target).busy.value) continue
      candidates.push({ upload, target })
    }
    const found = await Promise.all(
      candidates.map(async (c) => {
        try {
          const res = await getPipeline(c.upload.pipeline_id!, null, { client: opts.client })
          return res.notModified ? null : { ...c, pipeline: res.pipeline }
        } catch {
          return null
        }
      }),
    )
    const attached: string[] = []
    for (const f of found) {
      if (!f || isTerminal(f.pipeline.status)) continue
      const c = controller(ref, f.target)
      if (c.busy.value) continue
      attached.push(f.target)
      c.attach(f.upload, f.pipeline)
        .then((p) => markFinished(ref, f.target, p, true))
        .catch(() => undefined)
    }
    return attached
  }

  /** Stops following everything (sign-out, tests). */
  function clear() {
    for (const c of controllers.values()) c.reset()
    controllers.clear()
    for (const k of Object.keys(finished)) delete finished[k]
  }

  return { controller, start, active, lastFinished, reattach, clear }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useUploadsStore, import.meta.hot))
