// User preferences kept in localStorage (docs/frontend.md §7 `preferences`):
// the last used language and the colour-blind chart mode.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref } from 'vue'

import { browserLocale, DEFAULT_LOCALE, isLocale, type Locale } from '@/i18n'
import { localStore, readJSON, writeJSON } from './storage'

export const PREFERENCES_KEY = 'co2.preferences'

interface Stored {
  language?: unknown
  colorBlind?: unknown
}

export const usePreferencesStore = defineStore('preferences', () => {
  const stored = readJSON<Stored>(localStore(), PREFERENCES_KEY) ?? {}
  /** Last language the user navigated in; null until the first visit. */
  const language = ref<Locale | null>(isLocale(stored.language) ? stored.language : null)
  const colorBlind = ref(stored.colorBlind === true)

  function save() {
    writeJSON(localStore(), PREFERENCES_KEY, { language: language.value, colorBlind: colorBlind.value })
  }

  function setLanguage(value: Locale) {
    if (language.value === value) return
    language.value = value
    save()
  }

  function setColorBlind(value: boolean) {
    colorBlind.value = value
    save()
  }

  /** Language for "/": the last used one, else the browser's, else English. */
  function preferredLanguage(
    navigatorLanguages: readonly string[] | undefined = typeof navigator === 'undefined'
      ? undefined
      : navigator.languages,
  ): Locale {
    return language.value ?? browserLocale(navigatorLanguages) ?? DEFAULT_LOCALE
  }

  return { language, colorBlind, setLanguage, setColorBlind, preferredLanguage }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(usePreferencesStore, import.meta.hot))
