// ECharts options of the results charts (docs/frontend.md §3.4), built from
// results/summary, results/breakdown, results/it and results/yearly, each
// with its "Show data" table (docs/frontend.md §1 "Accessibility"); pure
// functions (unit-tested, test/charts.test.ts and test/chart-options.test.ts).
import type { BreakdownCategory, ResultsBreakdown, ResultsIT, ResultsSummary } from '@/api/types'

type Label = (key: string) => string
type Fmt = (t: number) => string

export interface ChartOptionsInput {
  label: Label
  /** A t CO2-eq value with its unit. */
  fmt: Fmt
  /** A plain number (FTE, counts, percent); default String. */
  num?: Fmt
  animation?: boolean
  decal?: boolean
  /** Toolbox titles: PNG download and ECharts' data view (screens; the print view has none). */
  toolbox?: { png: string; data: string }
}

/**
 * The "Show data" fallback of a chart: the values drawn, already formatted;
 * numeric columns align right.
 */
export interface ChartTable {
  head: string[]
  rows: string[][]
  numeric: boolean[]
}

export function base(o: ChartOptionsInput) {
  return {
    animation: o.animation ?? true,
    aria: { enabled: true, decal: { show: !!o.decal } },
    ...(o.toolbox
      ? { toolbox: { right: 8, top: 0, feature: { saveAsImage: { title: o.toolbox.png }, dataView: { readOnly: true, title: o.toolbox.data } } } }
      : {}),
  }
}

export const round3 = (x: number | null | undefined) => Math.round((x ?? 0) * 1000) / 1000
const num = (o: ChartOptionsInput, v: number) => (o.num ? o.num(v) : String(v))

/** Main categories as a stacked horizontal bar, one stack per emission type. */
export function categoryBarOption(categories: BreakdownCategory[], o: ChartOptionsInput) {
  const cats = categories.filter((c) => c.group === 'main')
  const names = cats.map((c) => categoryName(c, o))
  const types = [...new Set(cats.flatMap((c) => (c.emission_types ?? []).map((e) => e.key ?? e.emission_type ?? '')))]
  const series = types.map((type) => ({
    name: o.label(`emissionTypes.${type}`),
    type: 'bar' as const,
    stack: 'total',
    emphasis: { focus: 'series' as const },
    data: cats.map((c) => item(c, round3((c.emission_types ?? []).filter((e) => (e.key ?? e.emission_type) === type).reduce((s, e) => s + (e.t_co2eq ?? 0), 0)))),
  }))
  // Categories without emission-type detail still get their bar.
  if (series.length === 0) series.push({ name: o.label('units.tco2eq'), type: 'bar', stack: 'total', emphasis: { focus: 'series' }, data: cats.map((c) => item(c, round3(c.t_co2eq))) })
  return {
    ...base(o),
    tooltip: { trigger: 'axis' as const, axisPointer: { type: 'shadow' as const }, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    legend: { type: 'scroll' as const, bottom: 0 },
    grid: { left: 8, right: 24, top: 28, bottom: 64, containLabel: true },
    xAxis: { type: 'value' as const, name: o.label('units.tco2eq'), nameLocation: 'middle' as const, nameGap: 24 },
    yAxis: { type: 'category' as const, data: names, inverse: true },
    series,
  }
}

/** Non-validated data (scope=all) is drawn faded and hatched. */
const NOT_VALIDATED_STYLE = { opacity: 0.55, decal: { symbol: 'rect', dashArrayX: [1, 0], dashArrayY: [2, 4], rotation: -Math.PI / 4 } }

/** A bar's data item: faded and hatched when its category is not validated. */
function item(c: { validated?: boolean | null }, value: number) {
  return c.validated === false ? { value, itemStyle: NOT_VALIDATED_STYLE } : { value }
}

/**
 * A category's name; with non-validated data shown (scope=all), a category
 * that is not validated is labelled so (and drawn hatched by the decal).
 */
function categoryName(c: BreakdownCategory, o: ChartOptionsInput): string {
  const name = o.label(`categories.${c.category ?? ''}`)
  return c.validated === false ? `${name} (${o.label('results.notValidated')})` : name
}

/** The table of the category bar: category, emission type, t CO2-eq. */
export function categoryTable(categories: BreakdownCategory[], o: ChartOptionsInput): ChartTable {
  const rows: string[][] = []
  for (const c of categories.filter((x) => x.group === 'main')) {
    const name = categoryName(c, o)
    const types = c.emission_types ?? []
    if (types.length === 0) rows.push([name, '', o.fmt(round3(c.t_co2eq))])
    for (const e of types) rows.push([name, o.label(`emissionTypes.${e.key ?? e.emission_type ?? ''}`), o.fmt(round3(e.t_co2eq))])
  }
  return { head: [o.label('results.category'), o.label('results.emissionType'), o.label('units.tco2eq')], rows, numeric: [false, false, true] }
}

/** Additional categories: a pie when there are ≤ 4 non-zero values, else a bar. */
export function additionalOption(categories: BreakdownCategory[], o: ChartOptionsInput) {
  const cats = categories.filter((c) => c.group === 'additional' && (c.t_co2eq ?? 0) !== 0)
  const data = cats.map((c) => ({ name: categoryName(c, o), value: round3(c.t_co2eq) }))
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
    grid: { left: 8, right: 24, top: 28, bottom: 8, containLabel: true },
    xAxis: { type: 'category' as const, data: data.map((d) => d.name) },
    yAxis: { type: 'value' as const, name: o.label('units.tco2eq') },
    series: [{ type: 'bar' as const, data: data.map((d) => d.value) }],
  }
}

export function additionalTable(categories: BreakdownCategory[], o: ChartOptionsInput): ChartTable {
  const rows = categories.filter((c) => c.group === 'additional' && (c.t_co2eq ?? 0) !== 0).map((c) => [categoryName(c, o), o.fmt(round3(c.t_co2eq))])
  return { head: [o.label('results.category'), o.label('units.tco2eq')], rows, numeric: [false, true] }
}

/** Scope 1/2/3 donut. */
export function scopeOption(summary: Pick<ResultsSummary, 'by_scope_t_co2eq'>, o: ChartOptionsInput) {
  // Zero scopes are left out (their labels would overlap); the table lists all three.
  const data = (['1', '2', '3'] as const).map((s) => ({ name: o.label(`results.scope${s}`), value: round3(summary.by_scope_t_co2eq[s]) })).filter((d) => d.value !== 0)
  return {
    ...base(o),
    tooltip: { trigger: 'item' as const, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    legend: { bottom: 0 },
    series: [{ type: 'pie' as const, radius: ['45%', '70%'], data, label: { formatter: '{b}: {d}%' } }],
  }
}

export function scopeTable(summary: Pick<ResultsSummary, 'by_scope_t_co2eq'>, o: ChartOptionsInput): ChartTable {
  const rows = (['1', '2', '3'] as const).map((s) => [o.label(`results.scope${s}`), o.fmt(round3(summary.by_scope_t_co2eq[s]))])
  return { head: [o.label('results.scope'), o.label('units.tco2eq')], rows, numeric: [false, true] }
}

/** t CO2-eq per FTE by main category. */
export function perFteOption(breakdown: ResultsBreakdown, o: ChartOptionsInput) {
  const cats = perFteCategories(breakdown)
  return {
    ...base(o),
    tooltip: { trigger: 'axis' as const, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    grid: { left: 8, right: 24, top: 28, bottom: 32, containLabel: true },
    xAxis: { type: 'value' as const, name: o.label('results.perFteUnit'), nameLocation: 'middle' as const, nameGap: 24 },
    yAxis: { type: 'category' as const, data: cats.map((c) => categoryName(c, o)), inverse: true },
    series: [{ type: 'bar' as const, data: cats.map((c) => item(c, round3(c.t_co2eq_per_fte ?? 0))) }],
  }
}

const perFteCategories = (b: ResultsBreakdown) => b.categories.filter((c) => c.group === 'main' && c.t_co2eq_per_fte !== null && c.t_co2eq_per_fte !== undefined)

export function perFteTable(breakdown: ResultsBreakdown, o: ChartOptionsInput): ChartTable {
  const rows = perFteCategories(breakdown).map((c) => [categoryName(c, o), num(o, round3(c.t_co2eq_per_fte ?? 0))])
  return { head: [o.label('results.category'), o.label('results.perFteUnit')], rows, numeric: [false, true] }
}

// ───────────────────────── yearly line and reduction goals ─────────────────────────

export interface YearlyPoint {
  year: number
  t_co2eq: number
  validated_modules: number
  enabled_modules: number
}

/** A reduction goal of the year's configuration (docs/domain.md §11.2). */
export interface ReductionGoal {
  target_year: number
  reference_year: number
  /** Share to cut, 0–1. */
  reduction_percentage: number
}

/** The well-formed goals of results/summary's reduction_goals (anything else is left out). */
export function reductionGoalsOf(raw: readonly unknown[] | null | undefined): ReductionGoal[] {
  const out: ReductionGoal[] = []
  for (const g of raw ?? []) {
    if (typeof g !== 'object' || g === null) continue
    const { target_year: ty, reference_year: ry, reduction_percentage: p } = g as Record<string, unknown>
    const n = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN)
    const [t, r, pct] = [n(ty), n(ry), n(p)]
    if (Number.isInteger(t) && Number.isInteger(r) && Number.isFinite(pct) && r < t && pct >= 0 && pct <= 1) {
      out.push({ target_year: t, reference_year: r, reduction_percentage: pct })
    }
  }
  return out.sort((a, b) => a.target_year - b.target_year)
}

/**
 * The trajectory of a goal: from the reference year's total (results/yearly;
 * when that year has no report, the earliest year with one) to the target
 * value reference × (1 − share). Null when no base year has a total.
 */
export function goalTrajectory(goal: ReductionGoal, yearly: readonly YearlyPoint[]): { from: [number, number]; to: [number, number] } | null {
  const ref = yearly.find((p) => p.year === goal.reference_year) ?? [...yearly].sort((a, b) => a.year - b.year).find((p) => p.t_co2eq > 0)
  if (!ref) return null
  return { from: [ref.year, round3(ref.t_co2eq)], to: [goal.target_year, round3(ref.t_co2eq * (1 - goal.reduction_percentage))] }
}

/**
 * The yearly line (validated totals per year, value axis of years) with the
 * reduction goals as target points and a dashed trajectory from their
 * reference year.
 */
export function yearlyOption(yearly: readonly YearlyPoint[], goals: readonly ReductionGoal[], o: ChartOptionsInput) {
  const points = [...yearly].sort((a, b) => a.year - b.year)
  const trajectories = goals.map((g) => ({ g, tr: goalTrajectory(g, points) })).filter((x) => x.tr !== null)
  const years = [...points.map((p) => p.year), ...trajectories.flatMap((x) => [x.tr!.from[0], x.tr!.to[0]])]
  const min = years.length ? Math.min(...years) : new Date().getFullYear()
  const max = years.length ? Math.max(...years) : min
  const goalName = o.label('results.goal')
  return {
    ...base(o),
    tooltip: { trigger: 'item' as const, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    legend: { bottom: 0 },
    grid: { left: 8, right: 24, top: 28, bottom: 40, containLabel: true },
    xAxis: { type: 'value' as const, min: min - (min === max ? 1 : 0), max: max + (min === max ? 1 : 0), minInterval: 1, axisLabel: { formatter: (v: number) => String(v) } },
    yAxis: { type: 'value' as const, name: o.label('units.tco2eq'), min: 0 },
    series: [
      {
        name: o.label('results.validatedTotal'),
        type: 'line' as const,
        symbolSize: 8,
        data: points.map((p) => [p.year, round3(p.t_co2eq)]),
      },
      ...trajectories.map(({ g, tr }) => ({
        name: goalName,
        type: 'line' as const,
        lineStyle: { type: 'dashed' as const },
        data: [
          { value: tr!.from, symbol: 'none' },
          { value: tr!.to, symbol: 'diamond', symbolSize: 14 },
        ],
        tooltip: { formatter: () => `${goalName} ${g.target_year}: −${num(o, Math.round(g.reduction_percentage * 1000) / 10)} % (${g.reference_year}) → ${o.fmt(tr!.to[1])}` },
      })),
    ],
  }
}

export function yearlyTable(yearly: readonly YearlyPoint[], goals: readonly ReductionGoal[], o: ChartOptionsInput): ChartTable {
  const points = [...yearly].sort((a, b) => a.year - b.year)
  const rows = points.map((p) => [String(p.year), o.fmt(round3(p.t_co2eq)), `${p.validated_modules}/${p.enabled_modules}`, ''])
  for (const g of goals) {
    const tr = goalTrajectory(g, points)
    rows.push([String(g.target_year), tr ? o.fmt(tr.to[1]) : '–', '', `${o.label('results.goal')}: −${num(o, Math.round(g.reduction_percentage * 1000) / 10)} % (${g.reference_year})`])
  }
  return { head: [o.label('results.year'), o.label('units.tco2eq'), o.label('results.validatedModules'), o.label('results.goal')], rows, numeric: [false, true, true, false] }
}

// ───────────────────────── IT focus ─────────────────────────

/** IT focus: t CO2-eq by IT category (results/it). */
export function itOption(it: ResultsIT, o: ChartOptionsInput) {
  const cats = it.categories.filter((c) => (c.t_co2eq ?? 0) !== 0)
  return {
    ...base(o),
    tooltip: { trigger: 'axis' as const, axisPointer: { type: 'shadow' as const }, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    grid: { left: 8, right: 24, top: 28, bottom: 32, containLabel: true },
    xAxis: { type: 'value' as const, name: o.label('units.tco2eq'), nameLocation: 'middle' as const, nameGap: 24 },
    yAxis: { type: 'category' as const, data: cats.map((c) => itCategoryName(c, o)), inverse: true },
    series: [{ type: 'bar' as const, data: cats.map((c) => round3(c.t_co2eq)), label: { show: true, position: 'right' as const, formatter: (p: { dataIndex: number }) => `${num(o, cats[p.dataIndex]?.percent ?? 0)} %` } }],
  }
}

function itCategoryName(c: ResultsIT['categories'][number], o: ChartOptionsInput): string {
  const name = o.label(`results.itCategories.${c.key}`)
  return c.validated === false ? `${name} (${o.label('results.notValidated')})` : name
}

export function itTable(it: ResultsIT, o: ChartOptionsInput): ChartTable {
  const rows: string[][] = []
  for (const c of it.categories) {
    rows.push([itCategoryName(c, o), '', o.fmt(round3(c.t_co2eq)), `${num(o, c.percent ?? 0)} %`])
    for (const item of c.top_items ?? []) rows.push(['', item.label ?? '', o.fmt(round3(item.t_co2eq)), ''])
  }
  return { head: [o.label('results.itCategory'), o.label('results.topItems'), o.label('units.tco2eq'), o.label('results.percentOfIt')], rows, numeric: [false, false, true, true] }
}

// ───────────────────────── embodied energy by building ─────────────────────────

export function embodiedOption(breakdown: Pick<ResultsBreakdown, 'embodied_by_building'>, o: ChartOptionsInput) {
  const rows = embodiedRows(breakdown)
  return {
    ...base(o),
    tooltip: { trigger: 'axis' as const, axisPointer: { type: 'shadow' as const }, valueFormatter: (v: unknown) => o.fmt(Number(v)) },
    grid: { left: 8, right: 24, top: 28, bottom: 8, containLabel: true },
    xAxis: { type: 'category' as const, data: rows.map((r) => r.name) },
    yAxis: { type: 'value' as const, name: o.label('units.tco2eq') },
    series: [{ name: o.label('categories.embodied_energy'), type: 'bar' as const, data: rows.map((r) => r.value) }],
  }
}

const embodiedRows = (b: Pick<ResultsBreakdown, 'embodied_by_building'>) =>
  (b.embodied_by_building ?? []).filter((x) => (x.t_co2eq ?? 0) !== 0).map((x) => ({ name: x.building_name ?? '', value: round3(x.t_co2eq) }))

export function embodiedTable(breakdown: Pick<ResultsBreakdown, 'embodied_by_building'>, o: ChartOptionsInput): ChartTable {
  return { head: [o.label('results.building'), o.label('units.tco2eq')], rows: embodiedRows(breakdown).map((r) => [r.name, o.fmt(r.value)]), numeric: [false, true] }
}
