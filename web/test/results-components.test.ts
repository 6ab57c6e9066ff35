/* eslint-disable vue/one-component-per-file -- small host components of the composable and the filter */
// Shared SPA pieces: the results pages' modules table (linked on the unit's
// page, plain in the back office's drill-down) and headline card, the
// server-side paging of the back-office tables (useServerTable) and the
// back office's filter select.
import { mount } from '@vue/test-utils'
import { QSelect, Quasar } from 'quasar'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'

import FilterSelect from '@/components/backoffice/FilterSelect.vue'
import ResultsModulesTable from '@/components/results/ResultsModulesTable.vue'
import StatCard from '@/components/results/StatCard.vue'
import { useServerTable } from '@/composables/useServerTable'
import { formatPercent, formatTonnes } from '@/display/format'
import { createAppI18n } from '@/i18n'

const modules = [
  { module: 'headcount', status: 'validated', t_co2eq: 1.5, yoy_percent: 10 },
  { module: 'equipment', status: 'in_progress', t_co2eq: 0.25, yoy_percent: null },
] as const

function router() {
  return createRouter({ history: createMemoryHistory(), routes: [{ path: '/m/:module', name: 'module', component: { render: () => null } }] })
}

describe('ResultsModulesTable', () => {
  it('links each module when given a route, and shows plain names otherwise', async () => {
    const r = router()
    const linked = mount(ResultsModulesTable, {
      props: { modules: [...modules], linkTo: (module?: string) => ({ name: 'module', params: { module: module ?? '' } }) },
      global: { plugins: [Quasar, createAppI18n('en'), r] },
    })
    await r.isReady()
    const links = linked.findAll('tbody a')
    expect(links.map((a) => a.attributes('href'))).toEqual(['/m/headcount', '/m/equipment'])
    const cells = linked.findAll('tbody tr')[0]!.findAll('td').map((td) => td.text())
    expect(cells[0]).toBe('Headcount')
    expect(cells[2]).toBe(formatTonnes(1.5, 'en'))
    expect(cells[3]).toBe(formatPercent(10, 'en', true))

    const plain = mount(ResultsModulesTable, { props: { modules: [...modules] }, global: { plugins: [Quasar, createAppI18n('en'), r] } })
    expect(plain.findAll('tbody a')).toHaveLength(0)
    expect(plain.findAll('tbody tr')).toHaveLength(2)
  })
})

describe('StatCard', () => {
  it('shows the label, the value under its data-test, and the caption', () => {
    const w = mount(StatCard, { props: { label: 'Total', value: '12.3', caption: 't', bold: true, valueTest: 'x-total' }, global: { plugins: [Quasar] } })
    const v = w.find('[data-test="x-total"]')
    expect(v.text()).toBe('12.3')
    expect(v.classes()).toContain('text-weight-bold')
    expect(w.text()).toContain('Total')
  })
})

describe('useServerTable', () => {
  it('keeps the paging of the last request and reloads', () => {
    const load = vi.fn()
    let table!: ReturnType<typeof useServerTable>
    mount(defineComponent({ setup: () => ((table = useServerTable(load)), () => h('div')) }), { global: { plugins: [createAppI18n('en')] } })
    expect(table.pagination.value).toMatchObject({ page: 1, rowsPerPage: 25, rowsNumber: 0, sortBy: null, descending: false })
    table.total.value = 240
    table.onRequest({ pagination: { page: 3, rowsPerPage: 50, sortBy: 'updated', descending: true }, filter: undefined, getCellValue: () => undefined })
    expect(load).toHaveBeenCalledTimes(1)
    expect(table.pagination.value).toMatchObject({ page: 3, rowsPerPage: 50, rowsNumber: 240, sortBy: 'updated', descending: true })
    expect(table.tableProps.value.rowsPerPageOptions).toEqual([25, 50, 100])
    expect(table.tableProps.value.paginationLabel(51, 100, 240)).toContain('240')
  })
})

describe('FilterSelect', () => {
  it('is a multiple, value-emitting q-select; searchable adds type-ahead and chips; attributes and events pass through', () => {
    const onUpdate = vi.fn()
    const onFilter = vi.fn()
    const Parent = defineComponent({
      setup: () => () =>
        h(FilterSelect, {
          modelValue: [1],
          searchable: true,
          options: [{ value: 1, label: 'One' }],
          label: 'Units',
          'data-test': 'filter-units',
          'onUpdate:modelValue': onUpdate,
          onFilter,
        }),
    })
    const w = mount(Parent, { global: { plugins: [Quasar, createAppI18n('en')] } })
    const q = w.findComponent(QSelect)
    expect(q.props('multiple')).toBe(true)
    expect(q.props('emitValue')).toBe(true)
    expect(q.props('useInput')).toBe(true)
    expect(q.props('useChips')).toBe(true)
    expect(q.props('label')).toBe('Units')
    expect(w.find('[data-test="filter-units"]').exists()).toBe(true)
    q.vm.$emit('update:modelValue', [1, 2])
    q.vm.$emit('filter', 'ab', () => undefined, () => undefined)
    expect(onUpdate).toHaveBeenCalledWith([1, 2])
    expect(onFilter).toHaveBeenCalledTimes(1)

    const plain = mount(FilterSelect, { props: { modelValue: [] }, attrs: { options: [] }, global: { plugins: [Quasar, createAppI18n('en')] } })
    expect(plain.findComponent(QSelect).props('useInput')).toBe(false)
    expect(plain.findComponent(QSelect).props('useChips')).toBe(false)
  })
})
