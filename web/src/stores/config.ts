// Client configuration served by GET /api/v1/config (public): the Sentry DSN
// (APP_SENTRY_DSN, empty: no error reporting) and APP_ENV.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref } from 'vue'

import { getClientConfig } from '@/api/meta'
import type { ClientConfig } from '@/api/types'

export type { ClientConfig } from '@/api/types'

export const useConfigStore = defineStore('config', () => {
  const sentryDsn = ref('')
  const env = ref('')
  const loaded = ref(false)

  async function load(): Promise<ClientConfig | null> {
    try {
      const c = await getClientConfig()
      sentryDsn.value = c.sentry_dsn ?? ''
      env.value = c.env ?? ''
      return c
    } catch {
      return null // reporting stays off; the app works without it
    } finally {
      loaded.value = true
    }
  }

  return { sentryDsn, env, loaded, load }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useConfigStore, import.meta.hot))
