import { createPinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter, type RouteLocationNormalized, type RouteLocationRaw } from 'vue-router'

import { guard } from '@/router/guards'
import { createRoutes, switchLanguagePath } from '@/router/routes'

function router(preferred: 'en' | 'fr' = 'fr') {
  return createRouter({ history: createMemoryHistory(), routes: createRoutes(() => preferred) })
}

describe('routes', () => {
  it.each([
    ['/', '/fr/workspace', 'workspace'],
    ['/en', '/en/workspace', 'workspace'],
    ['/en/', '/en/workspace', 'workspace'],
    ['/fr/login?return_to=%2Ffr%2Fabout', '/fr/login?return_to=%2Ffr%2Fabout', 'login'],
    ['/en/about', '/en/about', 'about'],
    ['/en/no/such/page', '/en/no/such/page', 'not-found'],
    // No language: the preferred one is prefixed, query and hash kept.
    ['/workspace?year=2024#top', '/fr/workspace?year=2024#top', 'workspace'],
    ['/de/x', '/fr/de/x', 'not-found'],
    ['/en/u/4/2025', '/en/u/4/2025', 'unit-home'],
    ['/fr/u/4/2025/modules/headcount', '/fr/u/4/2025/modules/headcount', 'module'],
    ['/en/u/4/2025/results', '/en/u/4/2025/results', 'results'],
    ['/en/u/4/2025/results/print', '/en/u/4/2025/results/print', 'results-print'],
    ['/en/u/x/2025', '/en/u/x/2025', 'not-found'],
  ])('%s → %s (%s)', async (from, to, name) => {
    const r = router()
    await r.push(from)
    expect(r.currentRoute.value.fullPath).toBe(to)
    expect(r.currentRoute.value.name).toBe(name)
  })

  it('gives every page a title key', () => {
    const pages = router().getRoutes().filter((r) => r.components?.default && r.name !== undefined && r.children.length === 0)
    expect(pages.map((r) => r.name).sort()).toEqual([
      'about',
      'bo-audit',
      'bo-data',
      'bo-documentation',
      'bo-factors',
      'bo-integrations',
      'bo-pipeline',
      'bo-pipelines',
      'bo-reporting',
      'bo-reporting-print',
      'bo-unit',
      'bo-users',
      'exports',
      'login',
      'module',
      'not-found',
      'results',
      'results-print',
      'unauthorized',
      'unit-home',
      'workspace',
    ])
    expect(pages.every((r) => typeof r.meta.title === 'string')).toBe(true)
  })
})

describe('switchLanguagePath', () => {
  it.each([
    ['/en/about?x=1#y', 'fr', '/fr/about?x=1#y'],
    ['/fr', 'en', '/en'],
    ['/fr/u/12/2024/modules/headcount', 'en', '/en/u/12/2024/modules/headcount'],
    ['/', 'fr', '/fr'],
    ['/workspace', 'en', '/en/workspace'],
    ['/english/x', 'fr', '/fr/english/x'],
  ] as const)('%s in %s is %s', (path, lang, want) => {
    expect(switchLanguagePath(path, lang)).toBe(want)
  })
})

describe('guard', () => {
  it('sends an unknown module to the 404 page without doubling the language (/en/en/…)', async () => {
    const me = {
      user: { id: 1, sciper: 'DEV-2', email: null, display_name: 'Dev', function_title: null, provider: 'dev', last_login_at: null },
      roles: [],
      permissions: [],
      backoffice_pages: [],
      is_dev_user: true,
    }
    const units = [{ unit: { id: 4, name: 'LAB-DEMO', cf: '7918', affiliations: [] }, role: 'principal', reports: [{ year: 2025, overall_status: 'in_progress', validated_modules: 0, enabled_modules: 8 }] }]
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } })
    vi.stubGlobal('fetch', vi.fn((input: string) => Promise.resolve(json(input.endsWith('/me/units') ? units : me))))
    const pinia = createPinia()
    const r = router('en')
    const to = r.resolve('/en/u/4/2025/modules/nope')
    const decision = await guard(pinia, to as unknown as RouteLocationNormalized)
    expect(decision).not.toBe(true)
    expect(r.resolve(decision as RouteLocationRaw).fullPath).toBe('/en/u/4/2025/modules/nope')
  })
})
