// Quasar CLI (app-vite 3) configuration: https://v2.quasar.dev/quasar-cli-vite/quasar-config-file
import { defineConfig } from '@quasar/app-vite'

export default defineConfig(() => ({
  boot: ['i18n', 'api', 'monitoring', 'charts'],
  css: ['app.scss'],
  // Fonts and icons come from @quasar/extras and are bundled: no CDN requests.
  extras: ['roboto-font', 'material-icons'],

  build: {
    // History mode with routes under /:lang/...; the Go handler (web/embed.go)
    // answers index.html for any non-file path.
    vueRouterMode: 'history' as const,
    publicPath: '/',
    // Embedded by web/embed.go (//go:embed all:dist), next to the committed stub dist/index.html.
    distDir: 'dist/spa',
    target: {
      browser: ['es2022', 'firefox115', 'chrome115', 'safari15'],
      node: 'node22',
    },
    typescript: {
      strict: true,
      vueShim: true,
    },
  },

  devServer: {
    open: false,
    host: '127.0.0.1',
    port: 9000, // cmd/api takes 8080
    // `quasar dev` proxies the API (cmd/api listens on :8080 by default).
    proxy: {
      '/api': { target: process.env.API_URL ?? 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },

  framework: {
    config: {},
    plugins: ['Notify', 'Dialog'],
  },
}))
