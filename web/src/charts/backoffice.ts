// ECharts options of the reporting page (docs/frontend.md §4.1), built from
// GET /backoffice/overview; pure functions (unit-tested), same conventions as
// charts/results.ts (aria and decals, value formatter, animation switch).
import type { BackofficeOverview } from '@/api/backoffice'
import type { ChartOptionsInput } from './results'

function base(o: ChartOptionsInput) {
  return { animation: o.animation ?? true, aria: { enabled: true, decal: { show: !!o.decal } } }
}

const round3 = (x: number | null | undefined) => Math.round((x ?? 0) * 1000) / 1000

/** A labelled value of a chart, also the rows of its "show data" table. */
export interface ChartDatum {
  key: string
  name: string
  value: number
}

/** Entries of a {key: t} map in the given key order (unknown keys after, in their order). */
export function ordered(map: Record<string, number> | undefined, order: readonly string[], label: (k: string) => string): ChartDatum[] {
  const m = map ?? {}
  const keys = [...order.filter((k) => k in m), ...Object.keys(m).filter((k) => !order.includes(k))]
  return keys.map((k) => ({ key: k, name: label(k), value: round3(m[k]) }))
}

/** Horizontal bar of labelled values (by module, by category, per FTE, IT focus). */
export function barOption(data: ChartDatum[], o: ChartOptionsInput & { axisName?: string }) {
  return {
    ...base(o),
    tooltip: { trigger: 'axis' as const, axisPointer: { type: 'shadow' as const }, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value' as const, name: o.axisName ?? o.label('units.tco2eq') },
    yAxis: { type: 'category' as const, data: data.map((d) => d.name), inverse: true },
    series: [{ type: 'bar' as const, data: data.map((d) => d.value) }],
  }
}

/** The scope 1/2/3 donut of the overview. */
export function scopeDonutOption(overview: BackofficeOverview, o: ChartOptionsInput) {
  const data = (['1', '2', '3'] as const).map((s) => ({ name: o.label(`results.scope${s}`), value: round3(overview.by_scope_t_co2eq[s]) }))
  return {
    ...base(o),
    tooltip: { trigger: 'item' as const, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    legend: { bottom: 0 },
    series: [{ type: 'pie' as const, radius: ['45%', '70%'], data, label: { formatter: '{b}: {d}%' } }],
  }
}

/** t CO2-eq per FTE of each module: the module's total over the FTE of the reports (null without FTE). */
export function perFteData(overview: BackofficeOverview, order: readonly string[], label: (k: string) => string): ChartDatum[] | null {
  const fte = overview.totals.fte
  if (!fte) return null
  return ordered(overview.by_module_t_co2eq, order, label).map((d) => ({ ...d, value: round3(d.value / fte) }))
}

/** Module × status counts of the heat table, modules in the given order. */
export function statusMatrix(overview: BackofficeOverview, order: readonly string[]) {
  const counts = overview.module_status_counts
  const keys = [...order.filter((k) => k in counts), ...Object.keys(counts).filter((k) => !order.includes(k))]
  const max = Math.max(1, ...keys.flatMap((k) => [counts[k]!.not_started, counts[k]!.in_progress, counts[k]!.validated]))
  return { max, rows: keys.map((k) => ({ module: k, ...counts[k]! })) }
}

/** Background of a heat-table cell: the share of the largest count as a blue of 0.08–0.6 alpha. */
export function heatColor(count: number, max: number): string {
  if (count <= 0) return 'transparent'
  const a = 0.08 + 0.52 * Math.min(1, count / Math.max(1, max))
  return `rgba(25, 118, 210, ${a.toFixed(2)})`
}
