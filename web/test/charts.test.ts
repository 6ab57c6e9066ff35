// The tree-shaken ECharts registration renders the chart types the pages need
// (server-side SVG rendering: no canvas in the test DOM).
import { init } from 'echarts/core'
import { describe, expect, it } from 'vitest'

import '@/charts/echarts'

function render(option: object): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width: 400, height: 300 })
  chart.setOption({ animation: false, ...option })
  const svg = chart.renderToSVGString()
  chart.dispose()
  return svg
}

describe('charts registration', () => {
  it('renders a stacked bar chart with grid, legend, tooltip and aria decals', () => {
    const svg = render({
      aria: { enabled: true, decal: { show: true } },
      legend: {},
      tooltip: {},
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: ['Travel', 'Buildings'] },
      series: [
        { type: 'bar', stack: 't', name: 'Scope 1', data: [1, 2] },
        { type: 'bar', stack: 't', name: 'Scope 3', data: [3, 4] },
      ],
    })
    expect(svg).toContain('<svg')
    expect(svg).toContain('Travel')
    expect(svg).toContain('Scope 3')
    expect(svg.match(/<path/g)?.length ?? 0).toBeGreaterThan(4)
  })

  it.each([
    ['pie', { series: [{ type: 'pie', radius: ['40%', '70%'], data: [{ name: 'Scope 1', value: 1 }, { name: 'Scope 2', value: 2 }] }] }],
    ['line', { xAxis: { type: 'category', data: ['2023', '2024'] }, yAxis: {}, series: [{ type: 'line', data: [5, 4] }] }],
    ['treemap', { series: [{ type: 'treemap', data: [{ name: 'plane', value: 3 }, { name: 'train', value: 1 }] }] }],
  ])('renders a %s chart', (_name, option) => {
    expect(render(option)).toMatch(/<path|<text/)
  })
})
