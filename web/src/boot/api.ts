import { defineBoot } from '#q-app'
import { Notify } from 'quasar'

import { api } from '@/api/client'
import { i18n } from './i18n'

// Wires the API client's hooks to the router (401 → login) and Notify (403 → toast).
export default defineBoot(({ router }) => {
  api.configure({
    onUnauthorized() {
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
