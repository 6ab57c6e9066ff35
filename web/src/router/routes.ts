import type { RouteRecordRaw } from 'vue-router'

import { LOCALES, type Locale } from '@/i18n'

/** Route param pattern of the first URL segment: /en/…, /fr/… */
export const LANG_PATTERN = `(${LOCALES.join('|')})`

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title (document.title). */
    title?: string
  }
}

/**
 * The route map (frontend.md §2); pages of later slices join the children.
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
      path: `/:lang${LANG_PATTERN}`,
      component: () => import('@/layouts/MainLayout.vue'),
      children: [
        { path: '', name: 'home', redirect: { name: 'workspace' } },
        { path: 'login', name: 'login', component: () => import('@/pages/LoginPage.vue'), meta: { title: 'login.title' } },
        {
          path: 'workspace',
          name: 'workspace',
          component: () => import('@/pages/WorkspacePage.vue'),
          meta: { title: 'workspace.title' },
        },
        { path: 'about', name: 'about', component: () => import('@/pages/AboutPage.vue'), meta: { title: 'about.title' } },
        {
          path: ':pathMatch(.*)*',
          name: 'not-found',
          component: () => import('@/pages/NotFoundPage.vue'),
          meta: { title: 'notFound.title' },
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
