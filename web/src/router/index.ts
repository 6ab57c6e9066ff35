import { defineRouter } from '#q-app'
import { createMemoryHistory, createRouter, createWebHashHistory, createWebHistory } from 'vue-router'

import { usePreferencesStore } from '@/stores/preferences'
import { installGuards } from './guards'
import { createRoutes } from './routes'

export default defineRouter(function ({ store }) {
  const preferences = usePreferencesStore(store)
  // build.vueRouterMode in quasar.config.ts is 'history' (the Go handler falls back to index.html).
  const createHistory = import.meta.env.QUASAR_SERVER
    ? createMemoryHistory
    : import.meta.env.QUASAR_VUE_ROUTER_MODE === 'history'
      ? createWebHistory
      : createWebHashHistory

  const router = createRouter({
    scrollBehavior: (to, from) => (to.path === from.path ? false : { left: 0, top: 0 }),
    routes: createRoutes(() => preferences.preferredLanguage()),
    history: createHistory(import.meta.env.QUASAR_VUE_ROUTER_BASE),
  })
  installGuards(router, store)
  return router
})
