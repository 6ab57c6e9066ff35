// Chart options and "show data" rows of the reporting overview, shared by the
// reporting page and its print view.
import { computed, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'

import type { BackofficeOverview } from '@/api/backoffice'
import { barOption, ordered, perFteData, scopeDonutOption, statusMatrix, type ChartDatum } from '@/charts/backoffice'
import { useLang } from '@/composables/useLang'
import { formatTonnes } from '@/display/format'
import { messages } from '@/i18n'
import { MODULES } from '@/modules/catalogue'
import { usePreferencesStore } from '@/stores/preferences'

const MODULE_ORDER = MODULES.map((m) => m.key)
const CATEGORY_ORDER = Object.keys(messages.en.categories)
const IT_ORDER = ['equipment_it', 'purchases_it', 'external_cloud_ai', 'research_facilities_it']

export function useReportingCharts(overview: Ref<BackofficeOverview | null>, opts: { animation?: boolean } = {}) {
  const i18n = useI18n()
  const { t } = i18n
  const lang = useLang()
  const prefs = usePreferencesStore()
  const label = (key: string) => (i18n.te(key) ? t(key) : (key.split('.').pop() ?? key).replace(/_/g, ' '))
  const fmt = (v: number) => `${formatTonnes(v, lang.value)} ${t('units.tco2eq')}`
  const input = computed(() => ({ label, fmt, animation: opts.animation ?? true, decal: prefs.colorBlind }))

  const byModule = computed<ChartDatum[]>(() => (overview.value ? ordered(overview.value.by_module_t_co2eq, MODULE_ORDER, (k) => label(`modules.${k}`)) : []))
  const byCategory = computed<ChartDatum[]>(() =>
    overview.value ? ordered(overview.value.by_category_t_co2eq, CATEGORY_ORDER, (k) => label(`categories.${k}`)) : [],
  )
  const perFte = computed<ChartDatum[] | null>(() => (overview.value ? perFteData(overview.value, MODULE_ORDER, (k) => label(`modules.${k}`)) : null))
  const scope = computed<ChartDatum[]>(() =>
    overview.value ? (['1', '2', '3'] as const).map((s) => ({ key: s, name: label(`results.scope${s}`), value: overview.value!.by_scope_t_co2eq[s] ?? 0 })) : [],
  )
  const it = computed<ChartDatum[]>(() => (overview.value ? ordered(overview.value.it.by_category_t_co2eq, IT_ORDER, (k) => label(`bo.it.${k}`)) : []))

  const byModuleOption = computed(() => (overview.value ? barOption(byModule.value, input.value) : null))
  const byCategoryOption = computed(() => (overview.value ? barOption(byCategory.value, input.value) : null))
  const perFteOption = computed(() => (perFte.value ? barOption(perFte.value, { ...input.value, axisName: t('results.perFteUnit') }) : null))
  const scopeOption = computed(() => (overview.value ? scopeDonutOption(overview.value, input.value) : null))
  const itOption = computed(() => (overview.value ? barOption(it.value, input.value) : null))
  const matrix = computed(() => (overview.value ? statusMatrix(overview.value, MODULE_ORDER) : null))

  return { byModule, byCategory, perFte, scope, it, byModuleOption, byCategoryOption, perFteOption, scopeOption, itOption, matrix, fmt }
}
