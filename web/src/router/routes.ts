import type { RouteRecordRaw } from 'vue-router'

import { LOCALES, type Locale } from '@/i18n'
import { backofficePrintRoutes, backofficeRoutes } from './backoffice'

/** Route param pattern of the first URL segment: /en/…, /fr/… */
export const LANG_PATTERN = `(${LOCALES.join('|')})`

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title (document.title). */
    title?: string
    /** Reachable without a session (login, about, errors). */
    public?: boolean
    /** Unit page gate (docs/frontend.md §2): unit_member, module_view or unit_results. */
    unitGate?: 'member' | 'module' | 'results'
  }
}

/**
 * The route map (docs/frontend.md §2); pages of later slices join the children.
 * preferredLanguage decides where "/" and language-less paths go.
 */
export function createRoutes(preferredLanguage: () => Locale): RouteRecordRaw[] {
  return [
    {
      path: '/',
      name: 'root',
      redirect: () => ({ name: 'workspace', params: { lang: preferredLanguage() } }),
    },
    {
      // Print view: no app chrome (docs/frontend.md §3.5).
      path: `/:lang${LANG_PATTERN}/u/:unitId(\\d+)/:year(\\d{4})/results/print`,
      name: 'results-print',
      component: () => import('@/pages/ResultsPrintPage.vue'),
      meta: { title: 'results.printTitle', unitGate: 'results' },
    },
    ...backofficePrintRoutes(`/:lang${LANG_PATTERN}`),
    {
      path: `/:lang${LANG_PATTERN}`,
      component: () => import('@/layouts/MainLayout.vue'),
      children: [
        { path: '', name: 'home', redirect: { name: 'workspace' } },
        {
          path: 'login',
          name: 'login',
          component: () => import('@/pages/LoginPage.vue'),
          meta: { title: 'login.title', public: true },
        },
        {
          path: 'workspace',
          name: 'workspace',
          component: () => import('@/pages/WorkspacePage.vue'),
          meta: { title: 'workspace.title' },
        },
        {
          path: 'u/:unitId(\\d+)/:year(\\d{4})',
          name: 'unit-home',
          component: () => import('@/pages/HomePage.vue'),
          meta: { title: 'home.title', unitGate: 'member' },
        },
        {
          path: 'u/:unitId(\\d+)/:year(\\d{4})/modules/:module',
          name: 'module',
          component: () => import('@/pages/ModulePage.vue'),
          meta: { title: 'module.title', unitGate: 'module' },
        },
        {
          path: 'u/:unitId(\\d+)/:year(\\d{4})/results',
          name: 'results',
          component: () => import('@/pages/ResultsPage.vue'),
          meta: { title: 'results.title', unitGate: 'results' },
        },
        ...backofficeRoutes(),
        {
          path: 'exports',
          name: 'exports',
          component: () => import('@/pages/ExportsPage.vue'),
          meta: { title: 'exports.title' },
        },
        {
          path: 'about',
          name: 'about',
          component: () => import('@/pages/AboutPage.vue'),
          meta: { title: 'about.title', public: true },
        },
        {
          path: 'unauthorized',
          name: 'unauthorized',
          component: () => import('@/pages/UnauthorizedPage.vue'),
          meta: { title: 'unauthorized.title', public: true },
        },
        {
          path: ':pathMatch(.*)*',
          name: 'not-found',
          component: () => import('@/pages/NotFoundPage.vue'),
          meta: { title: 'notFound.title', public: true },
        },
      ],
    },
    {
      // A path without a language (e.g. an old bookmark /workspace): prefix the preferred one.
      path: '/:pathMatch(.*)*',
      name: 'no-lang',
      redirect: (to) => ({ path: `/${preferredLanguage()}${to.path}`, query: to.query, hash: to.hash }),
    },
  ]
}

/** The same location in another language: /en/about?x=1 → /fr/about?x=1. */
export function switchLanguagePath(fullPath: string, lang: Locale): string {
  const m = /^\/([^/?#]*)(.*)$/.exec(fullPath)
  if (!m) return `/${lang}`
  const [, first = '', rest = ''] = m
  if ((LOCALES as readonly string[]).includes(first)) return `/${lang}${rest}`
  return `/${lang}${fullPath === '/' ? '' : fullPath}`
}
