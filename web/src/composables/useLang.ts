import { computed } from 'vue'
import { useI18n } from 'vue-i18n'

import { DEFAULT_LOCALE, isLocale, type Locale } from '@/i18n'

/** The UI language as a Locale (for Intl formatting helpers). */
export function useLang() {
  const { locale } = useI18n()
  return computed<Locale>(() => (isLocale(locale.value) ? locale.value : DEFAULT_LOCALE))
}
