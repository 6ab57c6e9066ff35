import { computed, ref, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'

import type { ModuleKey, ResultsBreakdown, ResultsSummary } from '@/api/types'
import { getResultsBreakdown, getResultsSummary } from '@/api/units'
import { additionalOption, categoryBarOption, perFteOption, scopeOption } from '@/charts/results'
import { usePreferencesStore } from '@/stores/preferences'
import { errorMessage } from '@/display/errors'
import { formatTonnes } from '@/display/format'
import { useLang } from './useLang'

/** Loads results/summary and results/breakdown of a unit-year and builds the chart options. */
export function useResults(unitId: Ref<number>, year: Ref<number>, opts: { animation?: boolean } = {}) {
  const i18n = useI18n()
  const { t } = i18n
  const te = (key: string) => i18n.te(key)
  const lang = useLang()
  const prefs = usePreferencesStore()
  const summary = ref<ResultsSummary | null>(null)
  const breakdown = ref<ResultsBreakdown | null>(null)
  const error = ref('')
  const loading = ref(false)
  const includeFacilities = ref(true)
  const showAll = ref(false)

  const label = (key: string) => (te(key) ? t(key) : (key.split('.').pop() ?? key).replace(/_/g, ' '))
  const fmt = (v: number) => `${formatTonnes(v, lang.value)} ${t('units.tco2eq')}`

  async function load() {
    loading.value = true
    error.value = ''
    const exclude: ModuleKey[] = includeFacilities.value ? [] : ['research_facilities']
    try {
      const [s, b] = await Promise.all([
        getResultsSummary(unitId.value, year.value, { exclude_modules: exclude }),
        getResultsBreakdown(unitId.value, year.value, { scope: showAll.value ? 'all' : 'validated', exclude_modules: exclude }),
      ])
      summary.value = s
      breakdown.value = b
    } catch (err) {
      error.value = errorMessage(t, err)
    } finally {
      loading.value = false
    }
  }

  const chartInput = computed(() => ({ label, fmt, animation: opts.animation ?? true, decal: prefs.colorBlind }))
  const categoryOption = computed(() => (breakdown.value ? categoryBarOption(breakdown.value.categories, chartInput.value) : null))
  const additional = computed(() => (breakdown.value ? additionalOption(breakdown.value.categories, chartInput.value) : null))
  const scope = computed(() => (summary.value ? scopeOption(summary.value, chartInput.value) : null))
  const perFte = computed(() => (breakdown.value ? perFteOption(breakdown.value, chartInput.value) : null))
  const hasMain = computed(() => !!breakdown.value?.categories.some((c) => c.group === 'main' && (c.t_co2eq ?? 0) !== 0))
  const hasAdditional = computed(() => !!breakdown.value?.categories.some((c) => c.group === 'additional' && (c.t_co2eq ?? 0) !== 0))

  return { summary, breakdown, error, loading, includeFacilities, showAll, load, categoryOption, additional, scope, perFte, hasMain, hasAdditional, label }
}
