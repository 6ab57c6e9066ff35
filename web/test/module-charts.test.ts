// ModuleCharts: below a module page's tables, the charts fetch and draw
// nothing until their section comes near the viewport (IntersectionObserver),
// so the first render of a module page is its header and tables only.
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { Quasar } from 'quasar'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'

import type { ModuleOverview } from '@/api/types'
import { createAppI18n } from '@/i18n'

const breakdown = vi.fn()
vi.mock('@/api/entries', () => ({ getModuleBreakdown: (...a: unknown[]) => breakdown(...a), getTripsMap: vi.fn() }))
vi.mock('@/api/units', () => ({ getResultsBreakdown: vi.fn() }))

const { default: ModuleCharts } = await import('@/components/ModuleCharts.vue')

const VChart = defineComponent({ props: { option: { type: Object, default: null } }, setup: (_p, { attrs }) => () => h('div', { ...attrs, class: 'fake-chart' }) })

/** A controllable IntersectionObserver: `enter()` reports the observed element as visible. */
let observers: { cb: IntersectionObserverCallback; el: Element | null; disconnected: boolean }[] = []
class FakeObserver {
  private rec: (typeof observers)[number]
  constructor(cb: IntersectionObserverCallback) {
    this.rec = { cb, el: null, disconnected: false }
    observers.push(this.rec)
  }
  observe(el: Element) {
    this.rec.el = el
  }
  disconnect() {
    this.rec.disconnected = true
  }
}
function enter() {
  for (const o of observers) {
    if (o.el && !o.disconnected) o.cb([{ isIntersecting: true, target: o.el } as IntersectionObserverEntry], o as unknown as IntersectionObserver)
  }
}

const overview = {
  totals: { kg_co2eq: 2000, main_kg_co2eq: 2000, additional_kg_co2eq: 0, entry_count: 3, calc_issues: 0 },
  by_scope_kg_co2eq: { '1': 0, '2': 0, '3': 2000 },
  by_emission_type_kg_co2eq: {},
  submodules: [],
} as unknown as ModuleOverview

function mountCharts() {
  return mount(ModuleCharts, {
    props: { unitId: 1, year: 2025, module: 'equipment', overview, canSeeResults: false },
    global: { plugins: [Quasar, createAppI18n('en'), createPinia()], components: { VChart } },
  })
}

describe('ModuleCharts', () => {
  beforeEach(() => {
    observers = []
    breakdown.mockReset()
    breakdown.mockResolvedValue([{ name: 'it', kg_co2eq: 1500, children: [{ name: 'laptop', kg_co2eq: 1500, children: [] }] }])
    vi.stubGlobal('IntersectionObserver', FakeObserver)
  })
  afterEach(() => vi.unstubAllGlobals())

  it('fetches and draws nothing before the section is near the viewport', async () => {
    const w = mountCharts()
    await flushPromises()
    expect(w.find('[data-test="module-charts-deferred"]').exists()).toBe(true)
    expect(w.find('[data-test^="chart-card-"]').exists()).toBe(false)
    expect(breakdown).not.toHaveBeenCalled()

    enter()
    await flushPromises()
    expect(breakdown).toHaveBeenCalledTimes(1)
    expect(breakdown.mock.calls[0]?.[1]).toBe('top_class')
    expect(w.find('[data-test="module-charts-deferred"]').exists()).toBe(false)
    expect(w.find('[data-test="chart-card-top-classes"]').exists()).toBe(true)
    expect(w.find('[data-test="chart-card-module-scope"]').exists()).toBe(true)
    expect(observers[0]?.disconnected).toBe(true)
  })

  it('draws at once where IntersectionObserver is missing', async () => {
    vi.stubGlobal('IntersectionObserver', undefined)
    const w = mountCharts()
    await flushPromises()
    expect(breakdown).toHaveBeenCalledTimes(1)
    expect(w.find('[data-test="chart-card-top-classes"]').exists()).toBe(true)
  })
})
