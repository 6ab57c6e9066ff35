// Live rows of the pipelines console (docs/frontend.md §4.4): the running rows
// of a table refresh by ETag polling (GET /pipelines/{id} with If-None-Match,
// a 304 changes nothing) rather than one event stream each, which would take
// the browser's few connections per host.
import { onScopeDispose, ref, type Ref } from 'vue'

import { getPipeline } from '@/api/pipelines'
import type { Pipeline } from '@/api/types'
import { isTerminal } from '@/pipelines/follow'

export const LIVE_INTERVAL_MS = 2000

/** The rows with the ones still running replaced by their latest version, every interval. */
export function useLiveRows(rows: Ref<Pipeline[]>, opts: { interval?: number; onEnd?: (p: Pipeline) => void } = {}) {
  const etags = new Map<string, string | null>()
  const timer = ref<ReturnType<typeof setTimeout> | null>(null)
  let stopped = false

  async function tick() {
    const running = rows.value.filter((p) => !isTerminal(p.status))
    await Promise.all(
      running.map(async (p) => {
        try {
          const res = await getPipeline(p.id, etags.get(p.id) ?? null)
          etags.set(p.id, res.etag)
          if (res.notModified) return
          const i = rows.value.findIndex((x) => x.id === p.id)
          if (i >= 0 && res.pipeline.version >= rows.value[i]!.version) {
            rows.value.splice(i, 1, res.pipeline)
            if (isTerminal(res.pipeline.status)) opts.onEnd?.(res.pipeline)
          }
        } catch {
          // The next tick tries again.
        }
      }),
    )
    if (!stopped) timer.value = setTimeout(() => void tick(), opts.interval ?? LIVE_INTERVAL_MS)
  }

  function stop() {
    stopped = true
    if (timer.value) clearTimeout(timer.value)
  }

  timer.value = setTimeout(() => void tick(), opts.interval ?? LIVE_INTERVAL_MS)
  onScopeDispose(stop)
  return { stop, tick }
}
