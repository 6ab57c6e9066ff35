import { defineBoot } from '#q-app'

import { createAppI18n, isLocale } from '@/i18n'
import { usePreferencesStore } from '@/stores/preferences'

/** The app's vue-i18n instance (for code outside components, e.g. toasts). */
export const i18n = createAppI18n()

export default defineBoot(({ app, router, store }) => {
  const preferences = usePreferencesStore(store)
  if (preferences.language) i18n.global.locale.value = preferences.language
  app.use(i18n)

  // The first URL segment is the language: apply and remember it on every navigation.
  router.beforeEach((to) => {
    const lang = to.params.lang
    if (isLocale(lang)) {
      i18n.global.locale.value = lang
      preferences.setLanguage(lang)
      document.documentElement.lang = lang
    }
  })
  router.afterEach((to) => {
    const appName = i18n.global.t('app.name')
    document.title = to.meta.title ? `${i18n.global.t(to.meta.title)} · ${appName}` : appName
  })
})
