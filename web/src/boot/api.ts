import { defineBoot } from '#q-app'
import { Notify } from 'quasar'

import { api } from '@/api/client'
import { useSessionStore } from '@/stores/session'
import { i18n } from './i18n'

// Wires the API client's hooks to the router (401 → login) and Notify (403 → toast).
export default defineBoot(({ router, store }) => {
  const session = useSessionStore(store)
  api.configure({
    onUnauthorized() {
      // Before the session is known, the route guard sends the user to the login page itself.
      if (session.loading) return
      session.clear()
      const current = router.currentRoute.value
      if (current.name === 'login') return
      const lang = typeof current.params.lang === 'string' ? current.params.lang : i18n.global.locale.value
      void router.push({ name: 'login', params: { lang }, query: { return_to: current.fullPath } })
    },
    onForbidden() {
      Notify.create({ type: 'negative', message: i18n.global.t('errors.forbidden') })
    },
  })
})
