// Table columns (src/modules/columns.ts): what the API derives (computed) and
// the taxonomy's defaults fill the cells the entry leaves empty.
import { describe, expect, it } from 'vitest'

import type { Entry, Taxonomy } from '@/api/types'
import { columnsOf } from '@/modules/columns'

const entry = (data: Record<string, unknown>, computed: Record<string, unknown> = {}) =>
  ({ id: 1, data, computed: { calc_status: 'ok', calc_message: null, factor_id: 1, kg_co2eq: 1, kg_co2eq_additional: 0, ...computed } }) as unknown as Entry
const noTax = { taxonomy: null }
const col = (submodule: string, name: string) => {
  const c = columnsOf(submodule).find((x) => x.name === name)
  if (!c) throw new Error(`no column ${name} in ${submodule}`)
  return c
}

describe('columnsOf', () => {
  it('shows travellers by name and the distance in travel tables', () => {
    expect(columnsOf('train').map((c) => c.name)).toEqual(['origin_name', 'destination_name', 'cabin_class', 'traveler_name', 'departure_date', 'number_of_trips', 'distance_km'])
    expect(columnsOf('plane').map((c) => c.name)).toContain('traveler_name')
    const e = entry({ user_institutional_id: '100001', origin_key: null, origin_name: null }, { traveler_name: 'Claire Dubois', distance_km: 376, origin_name: 'Lausanne' })
    expect(col('train', 'traveler_name').value(e, noTax)).toBe('Claire Dubois')
    expect(col('train', 'distance_km').value(e, noTax)).toBe(376)
    expect(col('train', 'origin_name').value(e, noTax)).toBe('Lausanne')
    expect(col('plane', 'traveler_name').value(entry({ user_institutional_id: '9' }), noTax)).toBe('9')
  })

  it('fills room surfaces from computed and equipment hours from the class defaults', () => {
    expect(col('room', 'surface_m2').value(entry({ surface_m2: null }, { surface_m2: 62.5 }), noTax)).toBe(62.5)
    expect(col('room', 'surface_m2').value(entry({ surface_m2: 40 }, { surface_m2: 62.5 }), noTax)).toBe(40)
    const tax: Taxonomy = {
      submodule: 'scientific',
      year: 2025,
      kind_field: 'equipment_class',
      subkind_field: 'sub_class',
      nodes: [{ value: 'Incubator', label: 'Incubator', defaults: {}, children: [{ value: 'CO2', label: 'Incubator', defaults: { active_usage_hours_per_week: 168 }, children: [] }] }],
    }
    const hours = col('scientific', 'active_usage_hours_per_week')
    const e = entry({ equipment_class: 'Incubator', sub_class: 'CO2', active_usage_hours_per_week: null })
    expect(hours.value(e, { taxonomy: tax })).toBe(168)
    expect(hours.defaulted?.(e)).toBe(true)
    expect(hours.value(entry({ active_usage_hours_per_week: 40 }), { taxonomy: tax })).toBe(40)
    expect(hours.defaulted?.(entry({ active_usage_hours_per_week: 40 }))).toBe(false)
  })
})
