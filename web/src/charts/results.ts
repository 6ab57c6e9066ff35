// ECharts options of the results charts (docs/frontend.md §3.4), built from
// results/summary and results/breakdown; pure functions (unit-tested).
import type { BreakdownCategory, ResultsBreakdown, ResultsSummary } from '@/api/types'

type Label = (key: string) => string
type Fmt = (t: number) => string

export interface ChartOptionsInput {
  label: Label
  fmt: Fmt
  animation?: boolean
  decal?: boolean
}

function base(o: ChartOptionsInput) {
  return { animation: o.animation ?? true, aria: { enabled: true, decal: { show: !!o.decal } } }
}

const round3 = (x: number | undefined) => Math.round((x ?? 0) * 1000) / 1000

/** Main categories as a stacked horizontal bar, one stack per emission type. */
export function categoryBarOption(categories: BreakdownCategory[], o: ChartOptionsInput) {
  const cats = categories.filter((c) => c.group === 'main')
  const names = cats.map((c) => o.label(`categories.${c.category ?? ''}`))
  const types = [...new Set(cats.flatMap((c) => (c.emission_types ?? []).map((e) => e.key ?? e.emission_type ?? '')))]
  const series = types.map((type) => ({
    name: o.label(`emissionTypes.${type}`),
    type: 'bar' as const,
    stack: 'total',
    emphasis: { focus: 'series' as const },
    data: cats.map((c) => round3((c.emission_types ?? []).filter((e) => (e.key ?? e.emission_type) === type).reduce((s, e) => s + (e.t_co2eq ?? 0), 0))),
  }))
  // Categories without emission-type detail still get their bar.
  if (series.length === 0) series.push({ name: o.label('units.tco2eq'), type: 'bar', stack: 'total', emphasis: { focus: 'series' }, data: cats.map((c) => round3(c.t_co2eq)) })
  return {
    ...base(o),
    tooltip: { trigger: 'axis' as const, axisPointer: { type: 'shadow' as const }, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    legend: { type: 'scroll' as const, bottom: 0 },
    grid: { left: 8, right: 24, top: 8, bottom: 40, containLabel: true },
    xAxis: { type: 'value' as const, name: o.label('units.tco2eq') },
    yAxis: { type: 'category' as const, data: names, inverse: true },
    series,
  }
}

/** Additional categories: a pie when there are ≤ 4 non-zero values, else a bar. */
export function additionalOption(categories: BreakdownCategory[], o: ChartOptionsInput) {
  const cats = categories.filter((c) => c.group === 'additional' && (c.t_co2eq ?? 0) !== 0)
  const data = cats.map((c) => ({ name: o.label(`categories.${c.category ?? ''}`), value: round3(c.t_co2eq) }))
  if (data.length <= 4) {
    return {
      ...base(o),
      tooltip: { trigger: 'item' as const, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
      legend: { bottom: 0 },
      series: [{ type: 'pie' as const, radius: '65%', data, label: { formatter: '{b}: {d}%' } }],
    }
  }
  return {
    ...base(o),
    tooltip: { trigger: 'axis' as const, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'category' as const, data: data.map((d) => d.name) },
    yAxis: { type: 'value' as const, name: o.label('units.tco2eq') },
    series: [{ type: 'bar' as const, data: data.map((d) => d.value) }],
  }
}

/** Scope 1/2/3 donut. */
export function scopeOption(summary: ResultsSummary, o: ChartOptionsInput) {
  const data = (['1', '2', '3'] as const).map((s) => ({ name: o.label(`results.scope${s}`), value: round3(summary.by_scope_t_co2eq[s]) }))
  return {
    ...base(o),
    tooltip: { trigger: 'item' as const, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    legend: { bottom: 0 },
    series: [{ type: 'pie' as const, radius: ['45%', '70%'], data, label: { formatter: '{b}: {d}%' } }],
  }
}

/** t CO2-eq per FTE by main category. */
export function perFteOption(breakdown: ResultsBreakdown, o: ChartOptionsInput) {
  const cats = breakdown.categories.filter((c) => c.group === 'main' && c.t_co2eq_per_fte !== null && c.t_co2eq_per_fte !== undefined)
  return {
    ...base(o),
    tooltip: { trigger: 'axis' as const, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value' as const, name: o.label('results.perFteUnit') },
    yAxis: { type: 'category' as const, data: cats.map((c) => o.label(`categories.${c.category ?? ''}`)), inverse: true },
    series: [{ type: 'bar' as const, data: cats.map((c) => round3(c.t_co2eq_per_fte ?? 0)) }],
  }
}
