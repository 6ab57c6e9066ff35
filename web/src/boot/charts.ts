import { defineBoot } from '#q-app'
import { defineAsyncComponent } from 'vue'
import type VueECharts from 'vue-echarts'

// <v-chart> is registered globally but loaded on first use: ECharts (tree-shaken
// to the modules of src/charts/echarts.ts) stays out of the main bundle.
export default defineBoot(({ app }) => {
  app.component(
    'VChart',
    defineAsyncComponent(() => import('@/charts/echarts').then((m) => m.VChart)),
  )
})

declare module 'vue' {
  interface GlobalComponents {
    VChart: typeof VueECharts
  }
}
