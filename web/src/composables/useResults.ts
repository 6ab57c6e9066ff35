import { computed, ref, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'

import type { ModuleKey, ResultsBreakdown, ResultsIT, ResultsSummary } from '@/api/types'
import { getResultsBreakdown, getResultsIT, getResultsSummary, getResultsYearly, type ResultsYearly } from '@/api/units'
import {
  additionalOption,
  additionalTable,
  categoryBarOption,
  categoryTable,
  embodiedOption,
  embodiedTable,
  itOption,
  itTable,
  perFteOption,
  perFteTable,
  reductionGoalsOf,
  scopeOption,
  scopeTable,
  yearlyOption,
  yearlyTable,
} from '@/charts/results'
import { errorMessage } from '@/display/errors'
import { useChartInput } from './useChartInput'

/**
 * Loads the results of a unit-year (results/summary, breakdown, it and the
 * unit's yearly totals) and builds the chart options and their "Show data"
 * tables (docs/frontend.md §3.4).
 */
export function useResults(unitId: Ref<number>, year: Ref<number>, opts: { animation?: boolean; toolbox?: boolean } = {}) {
  const { t } = useI18n()
  const summary = ref<ResultsSummary | null>(null)
  const breakdown = ref<ResultsBreakdown | null>(null)
  const it = ref<ResultsIT | null>(null)
  const yearly = ref<ResultsYearly | null>(null)
  const error = ref('')
  const loading = ref(false)
  const includeFacilities = ref(true)
  const showAll = ref(false)
  const input = useChartInput(opts)
  let seq = 0

  async function load() {
    const my = ++seq
    loading.value = true
    error.value = ''
    const exclude: ModuleKey[] = includeFacilities.value ? [] : ['research_facilities']
    const scope = showAll.value ? 'all' : 'validated'
    try {
      const [s, b, i, y] = await Promise.all([
        getResultsSummary(unitId.value, year.value, { exclude_modules: exclude }),
        getResultsBreakdown(unitId.value, year.value, { scope, exclude_modules: exclude }),
        getResultsIT(unitId.value, year.value, { scope, exclude_modules: exclude }).catch(() => null),
        getResultsYearly(unitId.value, { exclude_modules: exclude }).catch(() => null),
      ])
      if (my !== seq) return
      summary.value = s
      breakdown.value = b
      it.value = i
      yearly.value = y
    } catch (err) {
      if (my === seq) error.value = errorMessage(t, err)
    } finally {
      if (my === seq) loading.value = false
    }
  }

  const o = input
  const categoryOption = computed(() => (breakdown.value ? categoryBarOption(breakdown.value.categories, o.value) : null))
  const categoryData = computed(() => (breakdown.value ? categoryTable(breakdown.value.categories, o.value) : null))
  const additional = computed(() => (breakdown.value ? additionalOption(breakdown.value.categories, o.value) : null))
  const additionalData = computed(() => (breakdown.value ? additionalTable(breakdown.value.categories, o.value) : null))
  const scope = computed(() => (summary.value ? scopeOption(summary.value, o.value) : null))
  const scopeData = computed(() => (summary.value ? scopeTable(summary.value, o.value) : null))
  const perFte = computed(() => (breakdown.value ? perFteOption(breakdown.value, o.value) : null))
  const perFteData = computed(() => (breakdown.value ? perFteTable(breakdown.value, o.value) : null))
  const goals = computed(() => reductionGoalsOf(summary.value?.reduction_goals))
  const yearlyChart = computed(() => (yearly.value ? yearlyOption(yearly.value, goals.value, o.value) : null))
  const yearlyData = computed(() => (yearly.value ? yearlyTable(yearly.value, goals.value, o.value) : null))
  const itChart = computed(() => (it.value ? itOption(it.value, o.value) : null))
  const itData = computed(() => (it.value ? itTable(it.value, o.value) : null))
  const embodied = computed(() => (breakdown.value ? embodiedOption(breakdown.value, o.value) : null))
  const embodiedData = computed(() => (breakdown.value ? embodiedTable(breakdown.value, o.value) : null))
  const hasMain = computed(() => !!breakdown.value?.categories.some((c) => c.group === 'main' && (c.t_co2eq ?? 0) !== 0))
  const hasAdditional = computed(() => !!breakdown.value?.categories.some((c) => c.group === 'additional' && (c.t_co2eq ?? 0) !== 0))
  const hasScope = computed(() => !!summary.value && Object.values(summary.value.by_scope_t_co2eq).some((v) => (v ?? 0) !== 0))
  const hasYearly = computed(() => (yearly.value ?? []).some((p) => p.t_co2eq !== 0) || goals.value.length > 0)
  const hasIt = computed(() => !!it.value?.categories.some((c) => (c.t_co2eq ?? 0) !== 0))
  /** Embodied energy by building: only when buildings is validated (or non-validated data is shown). */
  const hasEmbodied = computed(
    () =>
      (showAll.value || !!summary.value?.validated_modules.includes('buildings')) &&
      !!breakdown.value?.embodied_by_building?.some((b) => (b.t_co2eq ?? 0) !== 0),
  )

  return {
    summary,
    breakdown,
    it,
    yearly,
    goals,
    error,
    loading,
    includeFacilities,
    showAll,
    load,
    categoryOption,
    categoryData,
    additional,
    additionalData,
    scope,
    scopeData,
    perFte,
    perFteData,
    yearlyChart,
    yearlyData,
    itChart,
    itData,
    embodied,
    embodiedData,
    hasMain,
    hasAdditional,
    hasScope,
    hasYearly,
    hasIt,
    hasEmbodied,
    label: (key: string) => o.value.label(key),
  }
}
