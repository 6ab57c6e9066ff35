// ChartCard: the chart and its "Show data" table (docs/frontend.md §1
// "Accessibility"), mounted with Quasar and the app's messages; the chart
// itself is stubbed (no canvas here).
import { mount } from '@vue/test-utils'
import { Quasar } from 'quasar'
import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'

import ChartCard from '@/components/ChartCard.vue'
import { createAppI18n } from '@/i18n'
import { formatBytes, formatDuration } from '@/display/format'

const VChart = defineComponent({ props: { option: { type: Object, default: null } }, setup: (_p, { attrs }) => () => h('div', { ...attrs, class: 'fake-chart' }) })

function mountCard(props: Record<string, unknown>) {
  return mount(ChartCard, {
    props: { name: 'scope', title: 'By scope', option: { series: [] }, ...props },
    global: { plugins: [Quasar, createAppI18n('en')], components: { VChart } },
  })
}

describe('ChartCard', () => {
  it('shows the chart, and its data table on demand', async () => {
    const w = mountCard({ table: { head: ['Scope', 't CO2-eq'], rows: [['Scope 1', '11.61'], ['Scope 2', '6.45']], numeric: [false, true] } })
    expect(w.find('[data-test="chart-scope"]').exists()).toBe(true)
    expect(w.find('[data-test="chart-scope-data"]').exists()).toBe(false)
    const toggle = w.find('[data-test="chart-scope-show-data"]')
    expect(toggle.text()).toContain('Show data')
    expect(toggle.attributes('aria-expanded')).toBe('false')
    await toggle.trigger('click')
    const table = w.find('[data-test="chart-scope-data"]')
    expect(table.exists()).toBe(true)
    expect(table.findAll('tbody tr').map((r) => r.text())).toEqual(['Scope 111.61', 'Scope 26.45'])
    expect(table.find('tbody td:last-child').classes()).toContain('text-right')
    expect(w.find('[data-test="chart-scope-show-data"]').text()).toContain('Hide data')
  })

  it('shows the empty text instead of an empty chart, and no toggle without data', () => {
    const w = mountCard({ empty: true, table: { head: ['a'], rows: [], numeric: [false] } })
    expect(w.find('[data-test="chart-scope"]').exists()).toBe(false)
    expect(w.find('[data-test="chart-scope-empty"]').text()).toBe('No data')
    expect(w.find('[data-test="chart-scope-show-data"]').exists()).toBe(false)
  })
})

describe('sizes and durations', () => {
  it('formats bytes and the time left', () => {
    expect(formatBytes(950, 'en')).toBe('950 B')
    expect(formatBytes(12_500, 'en')).toBe('12.5 kB')
    expect(formatBytes(3_210_000, 'en')).toBe('3.2 MB')
    expect(formatDuration(4.2, 'en')).toBe('5 s')
    expect(formatDuration(125, 'en')).toBe('3 min')
    expect(formatDuration(3900, 'en')).toBe('1 h 5 min')
    expect(formatDuration(null, 'en')).toBeNull()
  })
})
