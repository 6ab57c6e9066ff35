// Back-office uploads (docs/frontend.md §4.2, §5): one controller per upload
// card and year, kept here so that closing the dialog does not stop following
// the import (the card shows its compact bar). The file is sent with POST
// /uploads (XMLHttpRequest transfer progress, abortable); the accepted
// pipeline — or that of POST /uploads/copy — is then followed by the module
// uploads' controller (uploads/upload.ts `attach`: progress, cancel, row errors).
import { acceptHMRUpdate, defineStore } from 'pinia'
import { markRaw, reactive, shallowReactive } from 'vue'

import { copyUpload, createUpload } from '@/api/uploads'
import type { Pipeline, UploadAccepted } from '@/api/types'
import { uploadFields, type UploadCard } from '@/backoffice/cards'
import { createUploader, defaultUploaderDeps, transferEstimate, type Transfer, type Uploader, type UploaderDeps } from '@/uploads/upload'

let depsFactory: () => UploaderDeps = () => defaultUploaderDeps()

/** Replaces the uploader dependencies (tests use fakes); returns a restore function. */
export function setBoUploaderDeps(factory: () => UploaderDeps): () => void {
  const previous = depsFactory
  depsFactory = factory
  return () => {
    depsFactory = previous
  }
}

export interface BoSendState {
  /** The file is on its way (before the 202). */
  sending: boolean
  transfer: Transfer | null
  /** The error of the last send or copy (shown in the dialog). */
  error: unknown
  /** The last send was aborted before the API accepted it. */
  aborted: boolean
}

export interface BoUpload {
  uploader: Uploader
  send: BoSendState
  /** Percent of the bytes sent and seconds left (null when unknown). */
  transfer(): { percent: number | null; etaSeconds: number | null }
  /** Sends a file to the card's target; resolves with the terminal pipeline. */
  start(file: File | Blob, opts?: { fileName?: string; deleteStale?: boolean; allowDuplicate?: boolean }): Promise<Pipeline>
  /** Re-imports an earlier upload into the year (POST /uploads/copy); resolves with the terminal pipeline. */
  copy(sourceUploadId: string): Promise<Pipeline>
  /** Aborts the transfer, or cancels the pipeline once accepted. */
  cancel(): Promise<void>
  reset(): void
  /** Sending or following a pipeline that has not ended. */
  busy(): boolean
}

export const boUploadKey = (card: UploadCard, year: number) => `${year}/${card.id}`

function createBoUpload(card: UploadCard, year: number, deps: UploaderDeps): BoUpload {
  const uploader = createUploader(deps)
  const send = reactive<BoSendState>({ sending: false, transfer: null, error: null, aborted: false })
  const now = deps.now ?? (() => Date.now())
  let ctl: AbortController | null = null

  async function accepted(p: Promise<UploadAccepted>): Promise<Pipeline> {
    let res: UploadAccepted
    try {
      res = await p
    } catch (err) {
      send.sending = false
      if (ctl?.signal.aborted) {
        send.aborted = true
        send.transfer = null
      } else {
        send.error = err
      }
      ctl = null
      throw err
    }
    ctl = null
    send.sending = false
    if (send.transfer && send.transfer.total > 0) send.transfer = { ...send.transfer, loaded: send.transfer.total, at: now() }
    return uploader.attach(res.upload, res.pipeline)
  }

  function begin() {
    uploader.reset()
    send.error = null
    send.aborted = false
    send.transfer = null
    send.sending = true
  }

  return {
    uploader,
    send,
    transfer: () => transferEstimate(send.transfer),
    start(file, opts = {}) {
      begin()
      const form = new FormData()
      for (const [k, v] of uploadFields(card, year, opts)) form.append(k, v)
      form.append('file', file, opts.fileName ?? (file instanceof File ? file.name : `${card.templateGroup}.csv`))
      const startedAt = now()
      ctl = new AbortController()
      const onUploadProgress = (loaded: number, total: number) => {
        send.transfer = { loaded, total, startedAt, at: now() }
      }
      return accepted(createUpload(form, { client: deps.client, signal: ctl.signal, onUploadProgress }))
    },
    copy(sourceUploadId) {
      begin()
      ctl = null
      return accepted(copyUpload({ source_upload_id: sourceUploadId, year }, { client: deps.client }))
    },
    async cancel() {
      if (send.sending) {
        ctl?.abort()
        return
      }
      await uploader.cancel()
    },
    reset() {
      ctl?.abort()
      ctl = null
      send.sending = false
      send.error = null
      send.aborted = false
      send.transfer = null
      uploader.reset()
    },
    busy: () => send.sending || uploader.busy.value,
  }
}

export const useBoUploadsStore = defineStore('boUploads', () => {
  const entries = shallowReactive(new Map<string, BoUpload>())

  /** The controller of a card in a year (created on first use). */
  function of(card: UploadCard, year: number): BoUpload {
    const key = boUploadKey(card, year)
    let e = entries.get(key)
    if (!e) {
      e = markRaw(createBoUpload(card, year, depsFactory()))
      entries.set(key, e)
    }
    return e
  }

  function clear() {
    for (const e of entries.values()) e.reset()
    entries.clear()
  }

  return { of, clear }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useBoUploadsStore, import.meta.hot))
