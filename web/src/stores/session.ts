// The caller's session (docs/frontend.md §7 `session`): GET /me once, permission
// helpers, logout.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { ApiError } from '@/api/client'
import { getMe, logout as apiLogout } from '@/api/session'
import type { Me } from '@/api/types'
import { can as canFn, type Action, type UnitRef } from '@/auth/permissions'

export const useSessionStore = defineStore('session', () => {
  const me = ref<Me | null>(null)
  /** True once /me answered (200 or 401). */
  const loaded = ref(false)
  /** True while GET /me is in flight (its 401 is handled by the route guard). */
  const loading = ref(false)
  let inflight: Promise<Me | null> | null = null

  const authenticated = computed(() => me.value !== null)
  const displayName = computed(() => me.value?.user.display_name ?? me.value?.user.email ?? me.value?.user.sciper ?? '')

  /** Loads /me once (concurrent callers share the request); null when not signed in. */
  function load(force = false): Promise<Me | null> {
    if (loaded.value && !force) return Promise.resolve(me.value)
    if (inflight) return inflight
    loading.value = true
    inflight = getMe()
      .then((m) => {
        me.value = m
        return m
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401) {
          me.value = null
          return null
        }
        throw err
      })
      .finally(() => {
        loaded.value = true
        loading.value = false
        inflight = null
      })
    return inflight
  }

  function can(resource: string, action: Action, unit?: UnitRef): boolean {
    return canFn(me.value, resource, action, unit)
  }

  /** POST /auth/logout; returns where to go next (the IdP's end-session URL, or null for the login page). */
  async function logout(): Promise<string | null> {
    try {
      const res = await apiLogout()
      return res.end_session_url ?? null
    } finally {
      me.value = null
      loaded.value = true
    }
  }

  /** Forgets the session (e.g. after a 401 that the refresh could not fix). */
  function clear() {
    me.value = null
    loaded.value = false
  }

  return { me, loaded, loading, authenticated, displayName, load, can, logout, clear }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSessionStore, import.meta.hot))
