// Labels of a pipeline in the back office (docs/frontend.md §4.4): the status
// with its phase ("Step 2/3 · Recalculating"), translated by key
// (bo.phases.<phase>, the API's English label otherwise), and its duration.
import { useI18n } from 'vue-i18n'

import type { Pipeline } from '@/api/types'
import { isTerminal } from '@/pipelines/follow'

/** Seconds between two instants (null when the start is unknown; now when the end is). */
export function durationSeconds(start: string | null | undefined, end: string | null | undefined, now = Date.now()): number | null {
  if (!start) return null
  const s = Date.parse(start)
  const e = end ? Date.parse(end) : now
  if (Number.isNaN(s) || Number.isNaN(e)) return null
  return Math.max(0, Math.round((e - s) / 1000))
}

/** "4 s", "2 min 05 s", "1 h 03 min". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '–'
  if (seconds < 60) return `${seconds} s`
  const m = Math.floor(seconds / 60)
  if (m < 60) return `${m} min ${String(seconds % 60).padStart(2, '0')} s`
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`
}

/** Failed jobs of a pipeline. */
export function failedJobs(p: Pipeline): number {
  return p.jobs.filter((j) => j.state === 'failed' || j.state === 'cancelled').length
}

export function usePipelineText() {
  const i18n = useI18n()
  const { t } = i18n

  function phaseName(p: Pipeline): string {
    const key = `bo.phases.${p.progress.phase}`
    return p.progress.phase && i18n.te(key) ? t(key) : p.progress.phase_label || p.progress.phase
  }

  /** The translated status: "Running", "Success", "Cancelled", … */
  function statusName(p: Pipeline): string {
    if (p.cancelled && isTerminal(p.status)) return t('bo.pipelineStatus.CANCELLED')
    return t(`bo.pipelineStatus.${p.status}`)
  }

  /** "Step 2/3 · Recalculating" while running; the status otherwise. */
  function stepLabel(p: Pipeline): string {
    if (p.status === 'RUNNING' && p.progress.phases_total > 0) {
      return t('bo.step', { index: p.progress.phase_index, total: p.progress.phases_total, phase: phaseName(p) })
    }
    if (p.status === 'NOT_STARTED') return t('bo.waiting')
    return statusName(p)
  }

  /** The kind of a pipeline, translated (bo.kinds.<kind>) or as is. */
  function kindName(kind: string): string {
    const key = `bo.kinds.${kind}`
    return i18n.te(key) ? t(key) : kind
  }

  return { phaseName, statusName, stepLabel, kindName }
}
