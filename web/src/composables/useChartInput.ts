// What the chart option builders (charts/results.ts, charts/module.ts) need
// from the page: translated labels (a missing key shows its last segment),
// t CO2-eq and plain number formatting in the UI language, the colour-blind
// decals (preferences) and the toolbox titles.
import { computed } from 'vue'
import { useI18n } from 'vue-i18n'

import type { ChartOptionsInput } from '@/charts/results'
import { formatPlain, formatTonnes } from '@/display/format'
import { usePreferencesStore } from '@/stores/preferences'
import { useLang } from './useLang'

export function useChartInput(opts: { animation?: boolean; toolbox?: boolean } = {}) {
  const i18n = useI18n()
  const { t } = i18n
  const lang = useLang()
  const prefs = usePreferencesStore()
  const label = (key: string) => (i18n.te(key) ? t(key) : (key.split('.').pop() ?? key).replace(/_/g, ' '))
  return computed<ChartOptionsInput>(() => ({
    label,
    fmt: (v: number) => `${formatTonnes(v, lang.value)} ${t('units.tco2eq')}`,
    num: (v: number) => formatPlain(v, lang.value, 2),
    animation: opts.animation ?? true,
    decal: prefs.colorBlind,
    ...(opts.toolbox === false ? {} : { toolbox: { png: t('charting.png'), data: t('charting.dataView') } }),
  }))
}
