// ECharts, tree-shaken: only the charts, components and renderers listed here
// are bundled (https://echarts.apache.org/handbook/en/basics/import).
// Add a module here before using its series or component type.
import { BarChart, LineChart, LinesChart, PieChart, TreemapChart } from 'echarts/charts'
import {
  AriaComponent,
  DatasetComponent,
  GeoComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  MarkPointComponent,
  TitleComponent,
  ToolboxComponent,
  TooltipComponent,
} from 'echarts/components'
import { use } from 'echarts/core'
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers'

// Charts of docs/frontend.md §3–4: bars (stacked), donuts (pie), the yearly line,
// the travel treemap and map (geo + lines); SVG renders the print views,
// canvas the screens; aria gives the colour-blind decals.
use([
  BarChart,
  LineChart,
  LinesChart,
  PieChart,
  TreemapChart,
  AriaComponent,
  DatasetComponent,
  GeoComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  MarkPointComponent,
  TitleComponent,
  ToolboxComponent,
  TooltipComponent,
  CanvasRenderer,
  SVGRenderer,
])

export { default as VChart } from 'vue-echarts'
