// The caller's exports (docs/frontend.md §7 `exports`): the newest page of
// GET /exports, polled while any is pending or running; the badge of the
// layout counts those in progress and those that became ready since the user
// last opened "My exports" (localStorage co2.exports.seen). Pages that ask
// for an export (results, reporting) call track() with the 202 answer.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { listExports, type ExportPage } from '@/api/exports'
import type { Export } from '@/api/types'
import { localStore, readJSON, writeJSON } from './storage'

export const EXPORTS_SEEN_KEY = 'co2.exports.seen'
/** Exports listed (and polled) by the store: the newest ones. */
export const EXPORTS_LIMIT = 50
/** Poll delay while an export runs: 1 s for the first 30 s, then 3 s. */
export function pollDelay(elapsedMs: number): number {
  return elapsedMs < 30_000 ? 1000 : 3000
}

export const inProgress = (e: Pick<Export, 'status'>) => e.status === 'pending' || e.status === 'running'

/** Ready exports that became ready after `seenAt` (ms; 0 = never looked). */
export function isNewlyReady(e: Pick<Export, 'status' | 'ready_at'>, seenAt: number): boolean {
  if (e.status !== 'ready') return false
  const at = e.ready_at ? Date.parse(e.ready_at) : NaN
  return Number.isNaN(at) || at > seenAt
}

interface Deps {
  list: (query: { page?: number; limit?: number }) => Promise<ExportPage>
  now: () => number
}
let deps: Deps = { list: (q) => listExports(q), now: () => Date.now() }

/** Replaces the list call and the clock (tests); returns a restore function. */
export function setExportsDeps(d: Partial<Deps>): () => void {
  const previous = deps
  deps = { ...deps, ...d }
  return () => {
    deps = previous
  }
}

export const useExportsStore = defineStore('exports', () => {
  const items = ref<Export[]>([])
  const total = ref(0)
  const loaded = ref(false)
  const error = ref<unknown>(null)
  const seenAt = ref<number>(Number(readJSON<number>(localStore(), EXPORTS_SEEN_KEY) ?? 0) || 0)
  let timer: ReturnType<typeof setTimeout> | undefined
  let pollingSince: number | null = null
  let inflight: Promise<void> | null = null

  const running = computed(() => items.value.filter(inProgress))
  const newlyReady = computed(() => items.value.filter((e) => isNewlyReady(e, seenAt.value)))
  /** The layout badge: in progress + newly ready. */
  const badge = computed(() => running.value.length + newlyReady.value.length)

  function schedule() {
    clearTimeout(timer)
    timer = undefined
    if (running.value.length === 0) {
      pollingSince = null
      return
    }
    pollingSince ??= deps.now()
    timer = setTimeout(() => void load(), pollDelay(deps.now() - pollingSince))
  }

  /** GET /exports (newest first); polls again while one is in progress. */
  function load(): Promise<void> {
    inflight ??= deps
      .list({ page: 1, limit: EXPORTS_LIMIT })
      .then((page) => {
        items.value = page.items
        total.value = page.total
        loaded.value = true
        error.value = null
      })
      .catch((err: unknown) => {
        error.value = err
      })
      .finally(() => {
        inflight = null
        schedule()
      })
    return inflight
  }

  /** An export just asked for (the 202 answer): listed at once, then followed. */
  function track(e: Export) {
    items.value = [e, ...items.value.filter((x) => x.id !== e.id)]
    total.value = Math.max(total.value, items.value.length)
    schedule()
  }

  /** The user looked at "My exports": ready exports are no longer new. */
  function markSeen() {
    seenAt.value = deps.now()
    writeJSON(localStore(), EXPORTS_SEEN_KEY, seenAt.value)
  }

  /** Stops polling and forgets the list (sign-out, tests). */
  function clear() {
    clearTimeout(timer)
    timer = undefined
    pollingSince = null
    items.value = []
    total.value = 0
    loaded.value = false
    error.value = null
  }

  return { items, total, loaded, error, seenAt, running, newlyReady, badge, load, track, markSeen, clear }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useExportsStore, import.meta.hot))
