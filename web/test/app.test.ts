// The app shell mounted as in the browser (Quasar, Pinia, router, the i18n
// boot file), with fetch stubbed: layout, language from the URL, the About
// page's API call, the login link.
import { createPinia, type Pinia } from 'pinia'
import { Quasar } from 'quasar'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, type App as VueApp } from 'vue'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'

import App from '@/App.vue'
import type { Version } from '@/api/types'
import bootApi from '@/boot/api'
import bootI18n, { i18n } from '@/boot/i18n'
import { createRoutes } from '@/router/routes'
import { PREFERENCES_KEY, usePreferencesStore } from '@/stores/preferences'

const version: Version = { version: 'v0.1.0', git_sha: '0123abc', build_time: '2026-03-04T05:06:07Z', schema_version: 12, env: 'test' }

let app: VueApp | undefined
let root: HTMLElement

async function mountAt(path: string): Promise<{ router: Router; pinia: Pinia }> {
  const pinia = createPinia()
  const prefs = usePreferencesStore(pinia)
  const router = createRouter({ history: createMemoryHistory(), routes: createRoutes(() => prefs.preferredLanguage(['en'])) })
  app = createApp(App)
  app.use(Quasar, {})
  app.use(pinia)
  // Boot files get more parameters in Quasar; these are the ones they use.
  const params = { app, router, store: pinia } as unknown as Parameters<typeof bootI18n>[0]
  await bootI18n(params)
  await bootApi(params)
  app.use(router)
  await router.push(path)
  await router.isReady()
  root = document.createElement('div')
  document.body.appendChild(root)
  app.mount(root)
  await flush()
  return { router, pinia }
}

async function flush() {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 0))
    await nextTick()
  }
}

const text = () => root.textContent?.replace(/\s+/g, ' ') ?? ''
const $ = (sel: string) => root.querySelector(sel)

beforeEach(() => {
  localStorage.clear()
  i18n.global.locale.value = 'en'
})
afterEach(() => {
  app?.unmount()
  root?.remove()
  app = undefined
})

describe('app shell', () => {
  it('shows the layout in the language of the URL and remembers it', async () => {
    vi.stubGlobal('fetch', vi.fn())
    await mountAt('/fr/workspace')
    expect(text()).toContain('Calculateur CO2')
    expect(text()).toContain('Espace de travail')
    expect(document.documentElement.lang).toBe('fr')
    expect(document.title).toBe('Espace de travail · Calculateur CO2')
    expect(JSON.parse(localStorage.getItem(PREFERENCES_KEY)!)).toMatchObject({ language: 'fr' })
    // Drawer links keep the language.
    const hrefs = [...root.querySelectorAll('.q-drawer a')].map((a) => a.getAttribute('href'))
    expect(hrefs).toEqual(['/fr/workspace', '/fr/about', '/fr/login'])
  })

  it('redirects / to the last used language', async () => {
    localStorage.setItem(PREFERENCES_KEY, JSON.stringify({ language: 'fr' }))
    vi.stubGlobal('fetch', vi.fn())
    const { router } = await mountAt('/')
    expect(router.currentRoute.value.fullPath).toBe('/fr/workspace')
  })

  it('shows the 404 page for an unknown path', async () => {
    vi.stubGlobal('fetch', vi.fn())
    await mountAt('/en/nowhere')
    expect(text()).toContain('Page not found')
    expect(text()).toContain('/en/nowhere')
  })
})

describe('about page', () => {
  it('calls GET /api/v1/version and shows version and environment', async () => {
    const fetch = vi.fn(() => Promise.resolve(new Response(JSON.stringify(version), { headers: { 'Content-Type': 'application/json' } })))
    vi.stubGlobal('fetch', fetch)
    await mountAt('/en/about')

    expect(fetch).toHaveBeenCalledOnce()
    expect(fetch.mock.calls[0]).toMatchObject(['/api/v1/version', { method: 'GET', credentials: 'include' }])
    expect($('[data-test="about-version"]')?.textContent).toContain('v0.1.0')
    expect($('[data-test="about-env"]')?.textContent).toBe('test')
    expect($('[data-test="about-git-sha"]')?.textContent).toBe('0123abc')
    expect($('[data-test="about-schema-version"]')?.textContent).toBe('12')
    expect($('[data-test="about-build-time"]')?.textContent).toMatch(/2026/)
  })

  it('shows a translated network error and retries', async () => {
    const fetch = vi
      .fn()
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockResolvedValueOnce(new Response(JSON.stringify(version), { headers: { 'Content-Type': 'application/json' } }))
    vi.stubGlobal('fetch', fetch)
    await mountAt('/fr/about')
    expect($('[data-test="about-error"]')?.textContent).toContain('Le serveur est injoignable')

    ;($('[data-test="about-error"] button') as HTMLButtonElement).click()
    await flush()
    expect($('[data-test="about-env"]')?.textContent).toBe('test')
  })

  it('goes to the login page with return_to after a 401 that the refresh cannot fix', async () => {
    const unauthorized = () =>
      new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'no session', details: [] } }), {
        status: 401,
        headers: { 'Content-Type': 'application/json' },
      })
    const fetch = vi.fn(() => Promise.resolve(unauthorized()))
    vi.stubGlobal('fetch', fetch)
    const { router } = await mountAt('/en/about')
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('login'))
    expect(router.currentRoute.value.query).toEqual({ return_to: '/en/about' })
    expect(fetch.mock.calls.map((c) => (c as unknown as [string])[0])).toEqual(['/api/v1/version', '/api/v1/auth/refresh'])
    await flush()
    expect(($('[data-test="sign-in"]') as HTMLAnchorElement).getAttribute('href')).toBe(
      '/api/v1/auth/login?return_to=%2Fen%2Fabout',
    )
  })
})

describe('login page', () => {
  it('links to the API login and shows ?error= messages', async () => {
    vi.stubGlobal('fetch', vi.fn())
    await mountAt('/fr/login?error=access_denied')
    expect(($('[data-test="sign-in"]') as HTMLAnchorElement).getAttribute('href')).toBe(
      '/api/v1/auth/login?return_to=%2Ffr%2Fworkspace',
    )
    expect($('[data-test="login-error"]')?.textContent).toContain('L’accès a été refusé')
  })

  it('falls back to a generic message and never returns to another site', async () => {
    vi.stubGlobal('fetch', vi.fn())
    await mountAt('/en/login?error=weird&return_to=//evil.example')
    expect($('[data-test="login-error"]')?.textContent).toContain('Sign-in failed (weird)')
    expect(($('[data-test="sign-in"]') as HTMLAnchorElement).getAttribute('href')).toBe(
      '/api/v1/auth/login?return_to=%2Fen%2Fworkspace',
    )
  })
})
