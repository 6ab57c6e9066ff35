// The option builders of the module charts (charts/module.ts) and of the
// results charts added for issue 15 (charts/results.ts): what they draw, their
// "Show data" tables, and that ECharts renders every option (server-side SVG).
import { init, registerMap } from 'echarts/core'
import { describe, expect, it } from 'vitest'

import '@/charts/echarts'
import type { ModuleBreakdownNode, ModuleOverview, ResultsBreakdown, ResultsIT } from '@/api/types'
import {
  buildingEnergyOption,
  buildingEnergyTable,
  classTable,
  classTreemapOption,
  fteOption,
  fteRows,
  fteTable,
  greatCircle,
  hasRoomEnergy,
  moduleScopes,
  topClassOption,
  topClassTable,
  travelerTotals,
  tripsMapOption,
  tripRoutes,
  tripsTable,
  type TripLeg,
} from '@/charts/module'
import {
  categoryBarOption,
  categoryTable,
  embodiedOption,
  embodiedTable,
  goalTrajectory,
  itOption,
  itTable,
  reductionGoalsOf,
  scopeTable,
  yearlyOption,
  yearlyTable,
  type ChartOptionsInput,
} from '@/charts/results'

const o: ChartOptionsInput = {
  label: (k) => k,
  fmt: (t) => `${t} t`,
  num: (v) => String(v),
  animation: false,
  toolbox: { png: 'PNG', data: 'Data' },
}

function render(option: object): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width: 600, height: 400 })
  chart.setOption(option as never)
  const svg = chart.renderToSVGString()
  chart.dispose()
  return svg
}

// A square "continent" for the geo component (the real outline is loaded by charts/worldMap.ts).
registerMap('test-world', {
  type: 'FeatureCollection',
  features: [{ type: 'Feature', properties: { name: 'land' }, geometry: { type: 'Polygon', coordinates: [[[-170, -60], [170, -60], [170, 70], [-170, 70], [-170, -60]]] } }],
} as never)

const totals = {
  kg_co2eq: 20873.04,
  t_co2eq: 20.873,
  main_kg_co2eq: 0,
  additional_kg_co2eq: 20873.04,
  entry_count: 21,
  calc_issues: 0,
  fte: 23.3,
  fte_by_sius_code: { '51': 1, '52': 0.2, '53': 2.8, '54': 9.5, '56': 0.6, '57': 1.3, '58': 1.4 },
} as ModuleOverview['totals']

describe('headcount FTE bar', () => {
  it('lists the SIUS functions in order, then the students (total − members)', () => {
    const rows = fteRows(totals, o)
    expect(rows.map((r) => r.name)).toEqual([...['51', '52', '53', '54', '56', '57', '58'].map((c) => `options.sius_code.${c}`), 'charting.students'])
    expect(rows.at(-1)!.value).toBe(6.5)
    const table = fteTable(totals, o)
    expect(table.rows.at(-1)).toEqual(['charting.total', '23.3'])
    expect(table.numeric).toEqual([false, true])
    expect(render(fteOption(totals, o))).toContain('options.sius_code.54')
  })

  it('has no student bar when the members make the whole FTE', () => {
    expect(fteRows({ ...totals, fte: 16.8 }, o).map((r) => r.name)).not.toContain('charting.students')
  })
})

const classes: ModuleBreakdownNode[] = [
  { name: 'plane', kg_co2eq: 41867.84, children: [{ name: 'economy', kg_co2eq: 27560.68, percent: 65.6 }, { name: 'business', kg_co2eq: 13971.76, percent: 33.3 }, { name: 'first', kg_co2eq: 335.4, percent: 0.8 }] },
  { name: 'train', kg_co2eq: 128.11, children: [{ name: 'second', kg_co2eq: 112.15, percent: 0.3 }, { name: 'first', kg_co2eq: 15.96, percent: 0 }] },
]

describe('travel treemap', () => {
  it('nests cabin classes under their mode, in t', () => {
    const opt = classTreemapOption(classes, o)
    const data = opt.series[0]!.data
    expect(data.map((d) => [d.name, d.value])).toEqual([['submodules.plane', 41.868], ['submodules.train', 0.128]])
    expect(data[0]!.children.map((c) => c.name)).toEqual(['options.cabin_class.economy', 'options.cabin_class.business', 'options.cabin_class.first'])
    expect(render(opt)).toContain('submodules.plane')
    const table = classTable(classes, o)
    expect(table.rows[1]).toEqual(['', 'options.cabin_class.economy', '27.561 t', '65.6 %'])
  })
})

describe('great circles', () => {
  it('starts and ends at the airports and bends towards the pole', () => {
    const gva: [number, number] = [6.109, 46.238]
    const jfk: [number, number] = [-73.779, 40.639]
    const pts = greatCircle(gva, jfk, 16)
    expect(pts).toHaveLength(17)
    expect(pts[0]![0]).toBeCloseTo(gva[0], 2)
    expect(pts[0]![1]).toBeCloseTo(gva[1], 2)
    expect(pts[16]![0]).toBeCloseTo(jfk[0], 2)
    expect(pts[16]![1]).toBeCloseTo(jfk[1], 2)
    // The great circle GVA → JFK passes north of both ends (about 52° N midway).
    expect(Math.max(...pts.map((p) => p[1]))).toBeGreaterThan(50)
  })

  it('keeps a leg across the antimeridian continuous', () => {
    const pts = greatCircle([140.386, 35.765], [-122.375, 37.619], 32) // Tokyo → San Francisco
    for (let i = 1; i < pts.length; i++) expect(Math.abs(pts[i]![0] - pts[i - 1]![0])).toBeLessThan(20)
    expect(pts.at(-1)![0]).toBeCloseTo(-122.375 + 360, 1)
  })

  it('gives the two points of a zero-length leg', () => {
    expect(greatCircle([6, 46], [6, 46])).toEqual([[6, 46], [6, 46]])
  })
})

const legs: TripLeg[] = [
  { mode: 'plane', origin: { name: 'Geneva', lat: 46.238, lon: 6.109 }, destination: { name: 'JFK', lat: 40.639, lon: -73.779 }, kg_co2eq: 5502.7, number_of_trips: 1, traveler_name: 'Claire Dubois' },
  { mode: 'plane', origin: { name: 'Zurich', lat: 47.458, lon: 8.548 }, destination: { name: 'Narita', lat: 35.765, lon: 140.386 }, kg_co2eq: 8469.06, number_of_trips: 1, traveler_name: 'Claire Dubois' },
  { mode: 'train', origin: { name: 'Lausanne', lat: 46.517, lon: 6.629 }, destination: { name: 'Bern', lat: 46.949, lon: 7.439 }, kg_co2eq: 3.2, number_of_trips: 2, traveler_name: 'Marco Bianchi' },
]

describe('trips map', () => {
  it('draws planes as great circles and trains as straight lines on the geo map', () => {
    const opt = tripsMapOption(legs, o, 'test-world')
    expect(opt.geo.map).toBe('test-world')
    const [planes, trains, places] = opt.series
    expect(planes!.data).toHaveLength(2)
    expect((planes!.data[0] as { coords: number[][] }).coords.length).toBe(33)
    expect((trains!.data[0] as { coords: number[][] }).coords).toEqual([[6.629, 46.517], [7.439, 46.949]])
    expect(places!.data).toHaveLength(6)
    expect(render(opt)).toContain('<path')
  })

  it('draws one line per route, trips and emissions summed', () => {
    const many: TripLeg[] = Array.from({ length: 1000 }, (_, i) => ({ ...legs[i % 2]!, kg_co2eq: 10, number_of_trips: 1, traveler_name: `T${i}` }))
    const routes = tripRoutes(many)
    expect(routes.map((r) => [r.destination.name, r.kg_co2eq, r.number_of_trips])).toEqual([
      ['JFK', 5000, 500],
      ['Narita', 5000, 500],
    ])
    expect(tripsMapOption(many, o, 'test-world').series[0]!.data).toHaveLength(2)
    expect(tripsTable(many, o).rows).toHaveLength(2)
  })

  it('lists the routes by emissions and the travellers by total', () => {
    expect(tripsTable(legs, o).rows.map((r) => r[2])).toEqual(['Narita', 'JFK', 'Bern'])
    expect(travelerTotals(legs)).toEqual([
      { name: 'Claire Dubois', kg: 13971.76, trips: 2 },
      { name: 'Marco Bianchi', kg: 3.2, trips: 2 },
    ])
  })
})

const top: ModuleBreakdownNode[] = [
  { submodule: 'scientific_equipment', kg_co2eq: 14703.14, children: [{ name: 'rest', kg_co2eq: 3864.9 }, { name: '41100000', label: 'Laboratory equipment', kg_co2eq: 5403.67 }, { name: '41103000', label: 'Cooling', kg_co2eq: 2760 }, { name: '41110000', label: 'Instruments', kg_co2eq: 2674.57 }] },
  { submodule: 'animal_facility', kg_co2eq: 3291.47, children: [{ name: 'mice', kg_co2eq: 2476.8 }, { name: 'fish', kg_co2eq: 814.67 }] },
]

describe('top classes', () => {
  it('stacks the top 3 by rank and the rest last, whatever the order listed', () => {
    const opt = topClassOption(top, o)
    expect(opt.series.map((s) => s.name)).toEqual(['charting.rank1', 'charting.rank2', 'charting.rank3', 'charting.rest'])
    expect(opt.series[0]!.data[0]).toEqual({ name: '41100000 · Laboratory equipment', value: 5.404 })
    expect(opt.series[3]!.data[0]).toEqual({ name: 'charting.rest', value: 3.865 })
    // Animal facilities: animal types translated; no third class, no rest.
    expect(opt.series[0]!.data[1]!.name).toBe('options.researchfacility_type.mice')
    expect(opt.series[2]!.data[1]).toEqual({ name: '', value: 0 })
    expect(render(opt)).toContain('charting.rank1')
    expect(topClassTable(top, o).rows).toHaveLength(8)
  })
})

const buildings = {
  by_emission_type_kg_co2eq: {
    'buildings.combustion.natural_gas': 8400,
    'buildings.rooms.cooling.laboratories': 1136.25,
    'buildings.rooms.heating_thermal.laboratories': 1920,
    'buildings.rooms.lighting.office': 195,
    'buildings.rooms.lighting.laboratories': 757.5,
  },
  by_scope_kg_co2eq: { '1': 11610, '2': 6454.38, '3': 3248.78 },
} as unknown as ModuleOverview

describe('buildings and scopes', () => {
  it('stacks room types per energy use, in the order of use', () => {
    const opt = buildingEnergyOption(buildings, o)
    expect(opt.xAxis.data).toEqual(['charting.energy.lighting', 'charting.energy.cooling', 'charting.energy.heating_thermal'])
    expect(opt.series.map((s) => [s.name, s.data])).toEqual([
      ['options.room_type.laboratories', [0.758, 1.136, 1.92]],
      ['options.room_type.office', [0.195, 0, 0]],
    ])
    expect(buildingEnergyTable(buildings, o).rows).toHaveLength(4)
    expect(hasRoomEnergy(buildings)).toBe(true)
    expect(hasRoomEnergy({ by_emission_type_kg_co2eq: {} })).toBe(false)
    expect(render(opt)).toContain('options.room_type.office')
  })

  it('gives the module scopes in t', () => {
    expect(moduleScopes(buildings)).toEqual({ '1': 11.61, '2': 6.454, '3': 3.249 })
    expect(scopeTable({ by_scope_t_co2eq: moduleScopes(buildings) }, o).rows[0]).toEqual(['results.scope1', '11.61 t'])
  })
})

describe('yearly line and reduction goals', () => {
  const yearly = [
    { year: 2025, t_co2eq: 150, validated_modules: 8, enabled_modules: 8 },
    { year: 2024, t_co2eq: 180, validated_modules: 7, enabled_modules: 8 },
  ]

  it('keeps the well-formed goals only, sorted by target year', () => {
    expect(
      reductionGoalsOf([
        { target_year: 2040, reference_year: 2024, reduction_percentage: 0.8 },
        { target_year: 2030, reference_year: 2024, reduction_percentage: '0.5' },
        { target_year: 2030, reference_year: 2031, reduction_percentage: 0.5 },
        { target_year: 2030, reference_year: 2024, reduction_percentage: 2 },
        'nonsense',
        null,
      ]),
    ).toEqual([
      { target_year: 2030, reference_year: 2024, reduction_percentage: 0.5 },
      { target_year: 2040, reference_year: 2024, reduction_percentage: 0.8 },
    ])
  })

  it('draws a dashed trajectory from the reference year to the target value', () => {
    const goal = { target_year: 2030, reference_year: 2024, reduction_percentage: 0.5 }
    expect(goalTrajectory(goal, yearly)).toEqual({ from: [2024, 180], to: [2030, 90] })
    // A reference year without a report: the earliest year with a total.
    expect(goalTrajectory({ ...goal, reference_year: 2019 }, yearly)).toEqual({ from: [2024, 180], to: [2030, 90] })
    expect(goalTrajectory(goal, [])).toBeNull()
    const opt = yearlyOption(yearly, [goal], o)
    expect(opt.series[0]!.data).toEqual([[2024, 180], [2025, 150]])
    const traj = opt.series[1] as { lineStyle: { type: string }; data: { value: number[] }[] }
    expect(traj.lineStyle.type).toBe('dashed')
    expect(traj.data.map((d) => d.value)).toEqual([[2024, 180], [2030, 90]])
    expect(opt.xAxis.max).toBe(2030)
    expect(render(opt)).toContain('<path')
    const table = yearlyTable(yearly, [goal], o)
    expect(table.rows).toEqual([
      ['2024', '180 t', '7/8', ''],
      ['2025', '150 t', '8/8', ''],
      ['2030', '90 t', '', 'results.goal: −50 % (2024)'],
    ])
  })

  it('renders one year without goals', () => {
    const opt = yearlyOption([{ year: 2025, t_co2eq: 0, validated_modules: 0, enabled_modules: 8 }], [], o)
    expect([opt.xAxis.min, opt.xAxis.max]).toEqual([2024, 2026])
    expect(render(opt)).toContain('<svg')
  })
})

describe('IT focus and embodied energy', () => {
  const it_: ResultsIT = {
    scope: 'all',
    total_t_co2eq: 37.528,
    t_co2eq_per_fte: 1.611,
    percent_of_total: 19.5,
    by_scope_t_co2eq: { '2': 2.918, '3': 34.61 },
    categories: [
      { key: 'equipment_it', t_co2eq: 2.918, percent: 7.8, validated: false, top_items: [{ label: 'GPU node', t_co2eq: 2.184 }] },
      { key: 'purchases_it', t_co2eq: 32.543, percent: 86.7, validated: true, top_items: [] },
      { key: 'external_cloud_ai', t_co2eq: 0, percent: 0, validated: true, top_items: [] },
    ],
  } as unknown as ResultsIT

  it('bars the non-zero IT categories and lists their top items', () => {
    const opt = itOption(it_, o)
    expect(opt.yAxis.data).toEqual(['results.itCategories.equipment_it (results.notValidated)', 'results.itCategories.purchases_it'])
    expect(render(opt)).toContain('results.itCategories.purchases_it')
    expect(itTable(it_, o).rows).toEqual([
      ['results.itCategories.equipment_it (results.notValidated)', '', '2.918 t', '7.8 %'],
      ['', 'GPU node', '2.184 t', ''],
      ['results.itCategories.purchases_it', '', '32.543 t', '86.7 %'],
      ['results.itCategories.external_cloud_ai', '', '0 t', '0 %'],
    ])
  })

  it('bars the embodied energy of each building', () => {
    const b = { embodied_by_building: [{ building_name: 'BX', t_co2eq: 1.2155 }, { building_name: 'CY', t_co2eq: 0 }] } as Pick<ResultsBreakdown, 'embodied_by_building'>
    expect(embodiedOption(b, o).xAxis.data).toEqual(['BX'])
    expect(embodiedTable(b, o).rows).toEqual([['BX', '1.216 t']])
  })
})

describe('results category bar', () => {
  const cats = [
    { category: 'purchases', group: 'main', validated: false, t_co2eq: 84.8, t_co2eq_per_fte: 3.6, emission_types: [{ emission_type: 'purchases.it', key: 'it', parent_key: 'purchases', t_co2eq: 84.8, quantity: 1, quantity_unit: 'EUR' }] },
    { category: 'professional_travel', group: 'main', validated: true, t_co2eq: 42, t_co2eq_per_fte: 1.8, emission_types: [] },
  ] as unknown as ResultsBreakdown['categories']

  it('labels and hatches the categories that are not validated, and tables every value', () => {
    const opt = categoryBarOption(cats, o)
    expect(opt.yAxis.data).toEqual(['categories.purchases (results.notValidated)', 'categories.professional_travel'])
    const first = opt.series[0]!.data[0] as { itemStyle?: { opacity: number; decal: object } }
    expect(first.itemStyle?.opacity).toBeLessThan(1)
    expect(first.itemStyle?.decal).toBeDefined()
    expect(opt.toolbox?.feature.saveAsImage.title).toBe('PNG')
    expect(categoryTable(cats, o).rows).toEqual([
      ['categories.purchases (results.notValidated)', 'emissionTypes.it', '84.8 t'],
      ['categories.professional_travel', '', '42 t'],
    ])
  })
})

describe('world map outline', () => {
  it('cuts a ring that crosses the antimeridian into its west and east parts', async () => {
    const { splitAtAntimeridian } = await import('@/charts/worldMap')
    const parts = splitAtAntimeridian([
      [170, 60],
      [-170, 60],
      [-170, 70],
      [170, 70],
    ])
    expect(parts).toEqual([
      [
        [-180, 60],
        [-170, 60],
        [-170, 70],
        [-180, 70],
      ],
      [
        [170, 60],
        [180, 60],
        [180, 70],
        [170, 70],
      ],
    ])
    const plain: [number, number][] = [[0, 0], [10, 0], [10, 10]]
    expect(splitAtAntimeridian(plain)[0]).toBe(plain)
  })

  it('leaves no ring of the Natural Earth land outline jumping across the map', async () => {
    const { splitGeometry } = await import('@/charts/worldMap')
    const topojson = await import('topojson-client')
    const atlas = (await import('world-atlas/land-110m.json')).default as unknown as Parameters<typeof topojson.feature>[0]
    const land = topojson.feature(atlas, atlas.objects.land)
    const features = 'features' in land ? land.features : [land]
    let rings = 0
    for (const f of features) {
      const g = splitGeometry(f.geometry as { type: string; coordinates: unknown })
      for (const poly of g.coordinates as [number, number][][][]) {
        for (const ring of poly) {
          rings++
          for (let i = 1; i < ring.length; i++) expect(Math.abs(ring[i]![0] - ring[i - 1]![0])).toBeLessThanOrEqual(180)
          for (const p of ring) expect(Math.abs(p[0])).toBeLessThanOrEqual(180.000001)
        }
      }
    }
    expect(rings).toBeGreaterThan(100)
  })
})
