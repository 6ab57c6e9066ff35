// ECharts options of the module charts (docs/frontend.md §3.3 "Charts"), each
// with its "Show data" table; pure functions over the module overview
// (GET P), the module breakdowns (P/breakdown?by=class|top_class) and the
// trips map (…/professional_travel/trips-map). Values arrive in kg and are
// drawn in t CO2-eq.
import type { ModuleBreakdownNode, ModuleOverview, TripsMap } from '@/api/types'
import { base, round3, type ChartOptionsInput, type ChartTable } from './results'

export type TripLeg = TripsMap['legs'][number]

const t = (kg: number | null | undefined) => round3((kg ?? 0) / 1000)
const num = (o: ChartOptionsInput, v: number) => (o.num ? o.num(v) : String(v))

/** SIUS codes of members, in order (docs/domain.md §7.1). */
export const SIUS_CODES = ['51', '52', '53', '54', '56', '57', '58', '59'] as const

// ───────────────────────── headcount: FTE by SIUS function + students ─────────────────────────

/** FTE per SIUS function (non-zero), then the students (total FTE − members' FTE). */
export function fteRows(totals: ModuleOverview['totals'], o: ChartOptionsInput): { name: string; value: number }[] {
  const by = totals.fte_by_sius_code ?? {}
  const rows = SIUS_CODES.filter((c) => (by[c] ?? 0) !== 0).map((c) => ({ name: o.label(`options.sius_code.${c}`), value: round3(by[c]) }))
  const members = Object.values(by).reduce((s, v) => s + (v ?? 0), 0)
  const students = round3((totals.fte ?? 0) - members)
  if (students > 0) rows.push({ name: o.label('charting.students'), value: students })
  return rows
}

export function fteOption(totals: ModuleOverview['totals'], o: ChartOptionsInput) {
  const rows = fteRows(totals, o)
  return {
    ...base(o),
    tooltip: { trigger: 'axis' as const, axisPointer: { type: 'shadow' as const }, valueFormatter: (v: unknown) => `${num(o, Number(v))} ${o.label('charting.fte')}` },
    grid: { left: 8, right: 24, top: 28, bottom: 32, containLabel: true },
    xAxis: { type: 'value' as const, name: o.label('charting.fte'), nameLocation: 'middle' as const, nameGap: 24 },
    yAxis: { type: 'category' as const, data: rows.map((r) => r.name), inverse: true },
    series: [{ name: o.label('charting.fte'), type: 'bar' as const, data: rows.map((r) => r.value), label: { show: true, position: 'right' as const } }],
  }
}

export function fteTable(totals: ModuleOverview['totals'], o: ChartOptionsInput): ChartTable {
  const rows = fteRows(totals, o).map((r) => [r.name, num(o, r.value)])
  rows.push([o.label('charting.total'), num(o, round3(totals.fte ?? 0))])
  return { head: [o.label('charting.function'), o.label('charting.fte')], rows, numeric: [false, true] }
}

// ───────────────────────── professional travel: treemap by mode and cabin class ─────────────────────────

export function classTreemapOption(nodes: readonly ModuleBreakdownNode[], o: ChartOptionsInput) {
  const data = nodes
    .filter((n) => n.kg_co2eq > 0)
    .map((n) => ({
      name: o.label(`submodules.${n.name ?? ''}`),
      value: t(n.kg_co2eq),
      children: n.children.filter((c) => c.kg_co2eq > 0).map((c) => ({ name: o.label(`options.cabin_class.${c.name}`), value: t(c.kg_co2eq) })),
    }))
  return {
    ...base(o),
    tooltip: { trigger: 'item' as const, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    series: [
      {
        type: 'treemap' as const,
        name: o.label('charting.travelByClass'),
        roam: false,
        nodeClick: false as const,
        breadcrumb: { show: false },
        top: 36,
        bottom: 8,
        left: 8,
        right: 8,
        label: { formatter: '{b}' },
        // The root has no label; modes label their box, cabin classes their tile.
        levels: [
          { itemStyle: { gapWidth: 4, borderWidth: 0 }, upperLabel: { show: false } },
          { itemStyle: { gapWidth: 1, borderWidth: 2, borderColor: '#fff' }, upperLabel: { show: true, height: 22 } },
          {},
        ],
        data,
      },
    ],
  }
}

export function classTable(nodes: readonly ModuleBreakdownNode[], o: ChartOptionsInput): ChartTable {
  const rows: string[][] = []
  for (const n of nodes) {
    rows.push([o.label(`submodules.${n.name ?? ''}`), '', o.fmt(t(n.kg_co2eq)), ''])
    for (const c of n.children) rows.push(['', o.label(`options.cabin_class.${c.name}`), o.fmt(t(c.kg_co2eq)), c.percent === undefined ? '' : `${num(o, c.percent)} %`])
  }
  return { head: [o.label('charting.mode'), o.label('charting.cabinClass'), o.label('units.tco2eq'), o.label('charting.percentOfModule')], rows, numeric: [false, false, true, true] }
}

// ───────────────────────── professional travel: trips map ─────────────────────────

type LonLat = [number, number]
const rad = (d: number) => (d * Math.PI) / 180
const deg = (r: number) => (r * 180) / Math.PI

/**
 * Points of the great circle from a to b ([lon, lat] in degrees), n segments
 * (spherical interpolation). Longitudes are unwrapped so that a leg across
 * the antimeridian stays one continuous line (values may pass ±180).
 */
export function greatCircle(a: LonLat, b: LonLat, n = 32): LonLat[] {
  const [l1, p1] = [rad(a[0]), rad(a[1])]
  const [l2, p2] = [rad(b[0]), rad(b[1])]
  const d = 2 * Math.asin(Math.sqrt(Math.sin((p2 - p1) / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin((l2 - l1) / 2) ** 2))
  if (!Number.isFinite(d) || d < 1e-9) return [a, b]
  const out: LonLat[] = []
  let prev: number | null = null
  for (let i = 0; i <= n; i++) {
    const f = i / n
    const A = Math.sin((1 - f) * d) / Math.sin(d)
    const B = Math.sin(f * d) / Math.sin(d)
    const x = A * Math.cos(p1) * Math.cos(l1) + B * Math.cos(p2) * Math.cos(l2)
    const y = A * Math.cos(p1) * Math.sin(l1) + B * Math.cos(p2) * Math.sin(l2)
    const z = A * Math.sin(p1) + B * Math.sin(p2)
    let lon = deg(Math.atan2(y, x))
    const lat = deg(Math.atan2(z, Math.sqrt(x * x + y * y)))
    if (prev !== null) {
      while (lon - prev > 180) lon -= 360
      while (lon - prev < -180) lon += 360
    }
    prev = lon
    out.push([round3(lon), round3(lat)])
  }
  return out
}

/** Name of the world map registered by charts/worldMap.ts. */
export const WORLD_MAP = 'world'

/** One route of the trips map: every leg of one mode between the same two places, summed. */
export interface TripRoute {
  mode: TripLeg['mode']
  origin: TripLeg['origin']
  destination: TripLeg['destination']
  kg_co2eq: number
  number_of_trips: number
}

/**
 * The legs grouped by route (mode, origin, destination), emissions and trips
 * summed, largest first: a unit with 50 000 trips over a few hundred routes
 * draws a few hundred lines, not 50 000 (which froze the page for seconds).
 */
export function tripRoutes(legs: readonly TripLeg[]): TripRoute[] {
  const by = new Map<string, TripRoute>()
  for (const l of legs) {
    const key = `${l.mode}|${l.origin.lon},${l.origin.lat}|${l.destination.lon},${l.destination.lat}`
    const cur = by.get(key)
    if (cur) {
      cur.kg_co2eq += l.kg_co2eq
      cur.number_of_trips += l.number_of_trips
    } else by.set(key, { mode: l.mode, origin: l.origin, destination: l.destination, kg_co2eq: l.kg_co2eq, number_of_trips: l.number_of_trips })
  }
  return [...by.values()].map((r) => ({ ...r, kg_co2eq: Math.round(r.kg_co2eq * 100) / 100 })).sort((a, b) => b.kg_co2eq - a.kg_co2eq)
}

/** Routes as great-circle lines (planes) or straight lines (trains) on the world map, airports and stations as points. */
export function tripsMapOption(legs: readonly TripLeg[], o: ChartOptionsInput, mapName = WORLD_MAP) {
  const modes = ['plane', 'train'] as const
  const routes = tripRoutes(legs)
  const maxKg = routes.reduce((m, r) => Math.max(m, r.kg_co2eq), 1)
  const places = new Map<string, { name: string; value: [number, number] }>()
  for (const l of routes) {
    for (const p of [l.origin, l.destination]) places.set(`${p.lon},${p.lat}`, { name: p.name, value: [p.lon, p.lat] })
  }
  return {
    ...base(o),
    tooltip: { trigger: 'item' as const },
    legend: { bottom: 0, data: modes.filter((m) => routes.some((l) => l.mode === m)).map((m) => o.label(`submodules.${m}`)) },
    geo: {
      map: mapName,
      roam: true,
      silent: true,
      top: 28,
      bottom: 28,
      itemStyle: { areaColor: '#e8ecef', borderColor: '#b0bac2' },
      emphasis: { disabled: true },
    },
    series: [
      ...modes.map((m) => ({
        name: o.label(`submodules.${m}`),
        type: 'lines' as const,
        coordinateSystem: 'geo' as const,
        polyline: true,
        lineStyle: { width: 1.5, opacity: 0.6, curveness: 0 },
        tooltip: { formatter: (p: { dataIndex: number }) => routeTooltip(routes.filter((l) => l.mode === m)[p.dataIndex], o) },
        data: routes
          .filter((l) => l.mode === m)
          .map((l) => ({
            coords: m === 'plane' ? greatCircle([l.origin.lon, l.origin.lat], [l.destination.lon, l.destination.lat]) : [[l.origin.lon, l.origin.lat], [l.destination.lon, l.destination.lat]],
            lineStyle: { width: 1 + 4 * Math.sqrt(l.kg_co2eq / maxKg) },
          })),
      })),
      {
        name: o.label('charting.places'),
        type: 'scatter' as const,
        coordinateSystem: 'geo' as const,
        symbolSize: 5,
        itemStyle: { color: '#37474f' },
        tooltip: { formatter: '{b}' },
        data: [...places.values()],
      },
    ],
  }
}

function routeTooltip(r: TripRoute | undefined, o: ChartOptionsInput): string {
  if (!r) return ''
  return `${r.origin.name} → ${r.destination.name}<br/>${o.fmt(t(r.kg_co2eq))} · ${num(o, r.number_of_trips)} ×`
}

/** The "Show data" table of the map: one row per route, largest first (travellers: the top list). */
export function tripsTable(legs: readonly TripLeg[], o: ChartOptionsInput): ChartTable {
  const rows = tripRoutes(legs).map((r) => [o.label(`submodules.${r.mode}`), r.origin.name, r.destination.name, num(o, r.number_of_trips), o.fmt(t(r.kg_co2eq))])
  return {
    head: [o.label('charting.mode'), o.label('charting.from'), o.label('charting.to'), o.label('charting.trips'), o.label('units.tco2eq')],
    rows,
    numeric: [false, false, false, true, true],
  }
}

/** Per-traveller totals of the legs, largest first (the top list). */
export function travelerTotals(legs: readonly TripLeg[]): { name: string; kg: number; trips: number }[] {
  const by = new Map<string, { name: string; kg: number; trips: number }>()
  for (const l of legs) {
    const name = l.traveler_name ?? ''
    const cur = by.get(name) ?? { name, kg: 0, trips: 0 }
    cur.kg += l.kg_co2eq
    cur.trips += l.number_of_trips
    by.set(name, cur)
  }
  return [...by.values()].map((x) => ({ ...x, kg: Math.round(x.kg * 100) / 100 })).sort((a, b) => b.kg - a.kg || a.name.localeCompare(b.name))
}

// ───────────────────────── equipment, purchases, research facilities: top classes ─────────────────────────

const ANIMAL_TYPES: readonly string[] = ['mice', 'fish']

/** The name of a top class ("rest" translated; purchases add the factor's label). */
function className(c: ModuleBreakdownNode['children'][number], o: ChartOptionsInput): string {
  if (c.name === 'rest') return o.label('charting.rest')
  if (c.label) return `${c.name} · ${c.label}`
  // Animal facilities are split by animal type (mice, fish): translated.
  return ANIMAL_TYPES.includes(c.name) ? o.label(`options.researchfacility_type.${c.name}`) : c.name
}

/**
 * One horizontal stacked bar per submodule: its top 3 classes and the rest
 * (four series by rank; every segment labelled with its class).
 */
export function topClassOption(nodes: readonly ModuleBreakdownNode[], o: ChartOptionsInput) {
  const subs = nodes.filter((n) => n.kg_co2eq > 0)
  const ranks = [0, 1, 2, 3]
  const rankName = (r: number) => (r === 3 ? o.label('charting.rest') : o.label(`charting.rank${r + 1}`))
  return {
    ...base(o),
    tooltip: { trigger: 'item' as const, formatter: (p: { name: string; value: number; seriesName: string }) => `${p.seriesName}: ${p.name}<br/>${o.fmt(p.value)}` },
    legend: { bottom: 0 },
    grid: { left: 8, right: 24, top: 28, bottom: 56, containLabel: true },
    xAxis: { type: 'value' as const, name: o.label('units.tco2eq'), nameLocation: 'middle' as const, nameGap: 24 },
    yAxis: { type: 'category' as const, data: subs.map((n) => o.label(`submodules.${n.submodule ?? ''}`)), inverse: true, axisLabel: { width: 140, overflow: 'break' as const, lineHeight: 14 } },
    series: ranks.map((r) => ({
      name: rankName(r),
      type: 'bar' as const,
      stack: 'total',
      barMaxWidth: 28,
      data: subs.map((n) => {
        const c = childAtRank(n, r)
        return c ? { name: className(c, o), value: t(c.kg_co2eq) } : { name: '', value: 0 }
      }),
    })),
  }
}

/** The child of rank r (0–2 the top classes, 3 the rest), whatever the order the API lists them in. */
function childAtRank(n: ModuleBreakdownNode, r: number) {
  const top = n.children.filter((c) => c.name !== 'rest')
  return r === 3 ? n.children.find((c) => c.name === 'rest') : top[r]
}

export function topClassTable(nodes: readonly ModuleBreakdownNode[], o: ChartOptionsInput): ChartTable {
  const rows: string[][] = []
  for (const n of nodes) {
    rows.push([o.label(`submodules.${n.submodule ?? ''}`), '', o.fmt(t(n.kg_co2eq))])
    for (const c of n.children) rows.push(['', className(c, o), o.fmt(t(c.kg_co2eq))])
  }
  return { head: [o.label('charting.submodule'), o.label('charting.class'), o.label('units.tco2eq')], rows, numeric: [false, false, true] }
}

// ───────────────────────── buildings: energy type × room type ─────────────────────────

/** The rooms' emission types buildings.rooms.<energy>.<room_type>, as energy → room type → t. */
function roomEnergy(byType: Record<string, number | undefined>): { energies: string[]; roomTypes: string[]; value: (e: string, r: string) => number } {
  const cells = new Map<string, number>()
  const energies: string[] = []
  const roomTypes: string[] = []
  for (const [key, kg] of Object.entries(byType)) {
    const m = /^buildings\.rooms\.([^.]+)\.([^.]+)$/.exec(key)
    if (!m || !kg) continue
    const [, energy = '', room = ''] = m
    if (!energies.includes(energy)) energies.push(energy)
    if (!roomTypes.includes(room)) roomTypes.push(room)
    cells.set(`${energy}/${room}`, (cells.get(`${energy}/${room}`) ?? 0) + kg)
  }
  const order = ['lighting', 'cooling', 'ventilation', 'heating_elec', 'heating_thermal']
  energies.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b))
  roomTypes.sort()
  return { energies, roomTypes, value: (e, r) => t(cells.get(`${e}/${r}`)) }
}

export function buildingEnergyOption(overview: Pick<ModuleOverview, 'by_emission_type_kg_co2eq'>, o: ChartOptionsInput) {
  const { energies, roomTypes, value } = roomEnergy(overview.by_emission_type_kg_co2eq)
  return {
    ...base(o),
    tooltip: { trigger: 'axis' as const, axisPointer: { type: 'shadow' as const }, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    legend: { type: 'scroll' as const, bottom: 0 },
    grid: { left: 8, right: 24, top: 28, bottom: 40, containLabel: true },
    xAxis: { type: 'category' as const, data: energies.map((e) => o.label(`charting.energy.${e}`)), axisLabel: { interval: 0, width: 72, overflow: 'break' as const } },
    yAxis: { type: 'value' as const, name: o.label('units.tco2eq') },
    series: roomTypes.map((r) => ({ name: o.label(`options.room_type.${r}`), type: 'bar' as const, stack: 'rooms', data: energies.map((e) => value(e, r)) })),
  }
}

export function buildingEnergyTable(overview: Pick<ModuleOverview, 'by_emission_type_kg_co2eq'>, o: ChartOptionsInput): ChartTable {
  const { energies, roomTypes, value } = roomEnergy(overview.by_emission_type_kg_co2eq)
  const rows = energies.flatMap((e) => roomTypes.filter((r) => value(e, r) !== 0).map((r) => [o.label(`charting.energy.${e}`), o.label(`options.room_type.${r}`), o.fmt(value(e, r))]))
  return { head: [o.label('charting.energyType'), o.label('charting.roomType'), o.label('units.tco2eq')], rows, numeric: [false, false, true] }
}

/** True when the overview holds room energy rows (the buildings chart has something to draw). */
export function hasRoomEnergy(overview: Pick<ModuleOverview, 'by_emission_type_kg_co2eq'>): boolean {
  return roomEnergy(overview.by_emission_type_kg_co2eq).energies.length > 0
}

// ───────────────────────── every module: scope donut ─────────────────────────

/** The module's split by GHG scope (kg in the overview → t). */
export function moduleScopes(overview: Pick<ModuleOverview, 'by_scope_kg_co2eq'>): Record<'1' | '2' | '3', number> {
  const by = overview.by_scope_kg_co2eq as Record<string, number | undefined>
  return { '1': t(by['1']), '2': t(by['2']), '3': t(by['3']) }
}
