import { createI18n } from 'vue-i18n'

import en from './en'
import fr from './fr'

/** Languages of the UI, in menu order; the first is the default. */
export const LOCALES = ['en', 'fr'] as const
export type Locale = (typeof LOCALES)[number]
export const DEFAULT_LOCALE: Locale = 'en'

/** Intl locales for numbers and dates (docs/frontend.md §1). */
export const INTL_LOCALES: Record<Locale, string> = { en: 'en-GB', fr: 'fr-CH' }

export type MessageSchema = typeof en
export const messages: Record<Locale, MessageSchema> = { en, fr }

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value)
}

/** The first supported language among the browser's preferences ("fr-CH" → "fr"). */
export function browserLocale(languages: readonly string[] | undefined): Locale | undefined {
  for (const tag of languages ?? []) {
    const base = tag.toLowerCase().split('-')[0]
    if (isLocale(base)) return base
  }
  return undefined
}

export function createAppI18n(locale: Locale = DEFAULT_LOCALE) {
  return createI18n<[MessageSchema], Locale, false>({
    legacy: false,
    locale,
    fallbackLocale: DEFAULT_LOCALE,
    messages,
  })
}

export type AppI18n = ReturnType<typeof createAppI18n>

/** Formats a number with the language's Intl locale (en-GB, fr-CH). */
export function formatNumber(value: number, locale: Locale, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(INTL_LOCALES[locale], options).format(value)
}

/** Formats an ISO date-time with the language's Intl locale; unparsable input is returned as is. */
export function formatDateTime(iso: string, locale: Locale): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return new Intl.DateTimeFormat(INTL_LOCALES[locale], { dateStyle: 'medium', timeStyle: 'short' }).format(d)
}
