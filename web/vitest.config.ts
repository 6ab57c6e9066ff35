// Vitest runs on the Vite config of `quasar dev` (aliases @/ and #q-app, the
// Vue and Quasar plugins, the define flags), via @quasar/app-vite/testing,
// minus what only the dev server needs (index.html, entry warm-up, proxy).
import { getTestingConfig } from '@quasar/app-vite/testing'
import type { PluginOption } from 'vite'
import { defineConfig, mergeConfig } from 'vitest/config'

const devServerOnly = new Set(['quasar:html'])

function keep(plugin: PluginOption): boolean {
  return !(plugin && typeof plugin === 'object' && 'name' in plugin && devServerOnly.has(plugin.name))
}

export default defineConfig(async () => {
  const { server: _server, optimizeDeps: _optimizeDeps, plugins = [], ...quasar } = await getTestingConfig()
  return mergeConfig(
    { ...quasar, plugins: plugins.flat().filter(keep) },
    {
      test: {
        environment: 'happy-dom',
        include: ['test/**/*.test.ts'],
        setupFiles: ['test/setup.ts'],
        restoreMocks: true,
        clearMocks: true,
        unstubGlobals: true,
      },
    },
  )
})
