// Texts of an upload's progress (docs/frontend.md §5), shared by the upload
// dialog and the compact bars of the module page: the step label with the
// translated phase (upload.phases.<phase>, the API's English label
// otherwise), "done" once the pipeline ended, and the result counters.
import { useI18n } from 'vue-i18n'

import type { Pipeline } from '@/api/types'
import { formatBytes, formatDuration, formatPlain } from '@/display/format'
import { isTerminal } from '@/pipelines/follow'
import type { Uploader } from '@/uploads/upload'
import { useLang } from './useLang'

export function useUploadText() {
  const i18n = useI18n()
  const { t } = i18n
  const lang = useLang()

  function phaseName(p: Pipeline): string {
    const key = `upload.phases.${p.progress.phase}`
    return p.progress.phase && i18n.te(key) ? t(key) : p.progress.phase_label || p.progress.phase
  }

  /** "Step 2/4 · Removing previous rows", "Step 4/4 · done", "Sending the file… 45 %". */
  function phaseText(u: Uploader): string {
    if (u.state.stage === 'sending') {
      const pct = u.transfer.value.percent
      return pct === null ? t('upload.sending') : t('upload.sendingPercent', { percent: pct })
    }
    const p = u.state.pipeline
    if (!p) return t('upload.waiting')
    const total = p.progress.phases_total
    if (u.state.stage === 'done' || isTerminal(p.status)) {
      const done = p.cancelled ? t('upload.phases.cancelled') : t('upload.phases.done')
      return total > 0 ? t('upload.step', { index: total, total, phase: done }) : done
    }
    if (p.status === 'NOT_STARTED') return t('upload.waiting')
    const label = phaseName(p)
    return total > 0 ? t('upload.step', { index: p.progress.phase_index, total, phase: label }) : label
  }

  /** "1.2 MB of 2.6 MB · about 3 s left" while the file is sent; "File sent: 2.6 MB" after. */
  function transferText(u: Uploader): string {
    const tr = u.state.transfer
    if (!tr) return ''
    const total = formatBytes(tr.total, lang.value)
    if (u.state.stage !== 'sending') return tr.total > 0 ? t('upload.sent', { total }) : ''
    if (tr.total <= 0) return formatBytes(tr.loaded, lang.value)
    const eta = formatDuration(u.transfer.value.etaSeconds, lang.value)
    const bytes = t('upload.bytes', { loaded: formatBytes(tr.loaded, lang.value), total })
    return eta ? `${bytes} · ${t('upload.eta', { time: eta })}` : bytes
  }

  /** "about 2 min left" from the pipeline's ETA (empty when the API gives none or it ended). */
  function etaText(p: Pipeline | null): string {
    if (!p || isTerminal(p.status)) return ''
    const eta = formatDuration(p.progress.eta_seconds, lang.value)
    return eta ? t('upload.eta', { time: eta }) : ''
  }

  /** "12 345/50 000" while the total is known. */
  function countText(p: Pipeline | null): string {
    if (!p || p.progress.total <= 0) return ''
    return t('upload.progress', { done: formatPlain(p.progress.done, lang.value, 0), total: formatPlain(p.progress.total, lang.value, 0) })
  }

  const counter = (u: Uploader, k: string) => Math.round(u.counters.value[k] ?? 0)

  /** "Rows: 30 read · 28 imported · 2 skipped" (+ "· 30 already present" when rows duplicate existing ones). */
  function countersText(u: Uploader): string {
    const n = (k: string) => formatPlain(counter(u, k), lang.value, 0)
    const base = t('upload.counters', { total: n('rows_total'), loaded: n('rows_loaded'), skipped: n('rows_skipped') })
    const dup = counter(u, 'rows_duplicate')
    return dup > 0 ? `${base} · ${t('upload.duplicates', { n: n('rows_duplicate') }, dup)}` : base
  }

  /** The toast of an ended import. */
  function resultToast(p: Pipeline, u: Uploader): { type: 'positive' | 'warning' | 'negative' | 'info'; message: string } {
    const n = (k: string) => formatPlain(counter(u, k), lang.value, 0)
    if (p.cancelled) return { type: 'info', message: t('upload.cancelled') }
    if (p.status === 'SUCCESS') return { type: 'positive', message: t('upload.loaded', { n: n('rows_loaded') }, counter(u, 'rows_loaded')) }
    if (p.status === 'PARTIAL') return { type: 'warning', message: t('upload.partial', { loaded: n('rows_loaded'), skipped: n('rows_skipped') }) }
    return { type: 'negative', message: p.last_error || t('upload.status.FAILED') }
  }

  return { phaseText, transferText, etaText, countText, countersText, resultToast, counter }
}
