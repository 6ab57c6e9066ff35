// Every message key exists in English and French, with the same placeholders,
// and every key that the code names exists.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

import { browserLocale, formatNumber, isLocale, LOCALES, messages } from '@/i18n'

type Tree = { [key: string]: string | Tree }

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (typeof v === 'string') out.set(key, v)
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv)
  }
  return out
}

const placeholders = (msg: string) => [...msg.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

const flat = Object.fromEntries(LOCALES.map((l) => [l, flatten(messages[l] as unknown as Tree)])) as Record<
  (typeof LOCALES)[number],
  Map<string, string>
>

const srcDir = join(import.meta.dirname, '..', 'src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return name === 'i18n' ? [] : sourceFiles(p)
    return /\.(ts|vue)$/.test(name) && !name.endsWith('.d.ts') ? [p] : []
  })
}

describe('messages', () => {
  const [reference, ...others] = LOCALES

  it.each(others)('%s has exactly the keys of en', (locale) => {
    const ref = [...flat[reference].keys()].sort()
    const got = [...flat[locale].keys()].sort()
    expect(got.filter((k) => !flat[reference].has(k)), `keys only in ${locale}`).toEqual([])
    expect(ref.filter((k) => !flat[locale].has(k)), `keys missing in ${locale}`).toEqual([])
  })

  it.each(others)('%s uses the placeholders of en', (locale) => {
    const mismatched = [...flat[reference]]
      .filter(([k, msg]) => flat[locale].has(k) && placeholders(msg).join() !== placeholders(flat[locale].get(k)!).join())
      .map(([k]) => k)
    expect(mismatched).toEqual([])
  })

  it.each(LOCALES)('%s has no empty message', (locale) => {
    expect([...flat[locale]].filter(([, msg]) => msg.trim() === '').map(([k]) => k)).toEqual([])
  })

  it('has every key named in the source code', () => {
    // Quoted strings shaped like a key of a top-level message group, e.g.
    // t('about.title'), label: 'nav.workspace', meta: { title: 'login.title' }.
    const groups = Object.keys(messages.en).join('|')
    const keyRE = new RegExp(`['"\`]((?:${groups})\\.[A-Za-z0-9_.]+)['"\`]`, 'g')
    const missing: string[] = []
    let found = 0
    for (const file of sourceFiles(srcDir)) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(keyRE)) {
        found++
        if (!flat.en.has(m[1]!)) missing.push(`${relative(srcDir, file)}: ${m[1]}`)
      }
    }
    expect(found).toBeGreaterThan(10)
    expect(missing).toEqual([])
  })

  it('names every language in every language', () => {
    for (const locale of LOCALES) {
      for (const l of LOCALES) expect(flat[locale].has(`languages.${l}`)).toBe(true)
    }
  })
})

describe('locale helpers', () => {
  it('recognises supported locales only', () => {
    expect(isLocale('en')).toBe(true)
    expect(isLocale('fr')).toBe(true)
    expect(isLocale('de')).toBe(false)
    expect(isLocale(undefined)).toBe(false)
  })

  it('picks the first supported browser language', () => {
    expect(browserLocale(['de-CH', 'fr-CH', 'en'])).toBe('fr')
    expect(browserLocale(['EN-us'])).toBe('en')
    expect(browserLocale(['de', 'it'])).toBeUndefined()
    expect(browserLocale(undefined)).toBeUndefined()
  })

  it('formats numbers with en-GB and fr-CH', () => {
    expect(formatNumber(1234.5, 'en')).toBe('1,234.5')
    // Swiss French: decimal comma, apostrophe-like group separator (exact glyph depends on ICU).
    expect(formatNumber(1234.5, 'fr')).toBe(new Intl.NumberFormat('fr-CH').format(1234.5))
    expect(formatNumber(1234.5, 'fr')).toMatch(/^1\D234,5$/u)
  })
})
