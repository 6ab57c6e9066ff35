// Back-office routes (docs/frontend.md §2) and their gate: meta.permission =
// {resource, action} checked at any scope (the API clamps the answers to the
// grant's scope); the unit drill-down asks the API whether the caller has
// unit_results on the unit (GET /units/{id}: 403 → unauthorized, 404 → not found).
import type { RouteLocationNormalized, RouteLocationRaw, RouteRecordRaw } from 'vue-router'

import { isApiError } from '@/api/client'
import type { Me } from '@/api/types'
import { getUnit } from '@/api/units'
import { can } from '@/auth/permissions'
import type { Permission } from '@/backoffice/access'

declare module 'vue-router' {
  interface RouteMeta {
    /** Back-office gate: a grant with this action at any scope (docs/frontend.md §6). */
    permission?: Permission
    /** The unit drill-down: unit_results on :unitId, asked to the API. */
    unitResults?: boolean
  }
}

const reporting: Permission = { resource: 'backoffice.reporting', action: 'view' }
const configuration: Permission = { resource: 'backoffice.configuration', action: 'view' }
const operations: Permission = { resource: 'backoffice.pipeline_operations', action: 'view' }

/** Children of the /:lang layout route. */
export function backofficeRoutes(): RouteRecordRaw[] {
  return [
    {
      path: 'backoffice/reporting',
      name: 'bo-reporting',
      component: () => import('@/pages/backoffice/ReportingPage.vue'),
      meta: { title: 'bo.reporting.title', permission: reporting },
    },
    {
      path: 'backoffice/units/:unitId(\\d+)/:year(\\d{4})',
      name: 'bo-unit',
      component: () => import('@/pages/backoffice/UnitResultsPage.vue'),
      meta: { title: 'bo.unit.title', unitResults: true },
    },
    {
      path: 'backoffice/data',
      name: 'bo-data',
      component: () => import('@/pages/backoffice/DataManagementPage.vue'),
      meta: { title: 'bo.data.title', permission: configuration },
    },
    {
      path: 'backoffice/factors',
      name: 'bo-factors',
      component: () => import('@/pages/backoffice/FactorsPage.vue'),
      meta: { title: 'bo.factors.title', permission: configuration },
    },
    {
      path: 'backoffice/pipelines',
      name: 'bo-pipelines',
      component: () => import('@/pages/backoffice/PipelinesPage.vue'),
      meta: { title: 'bo.pipelines.title', permission: operations },
    },
    {
      // Gate "pipeline visible": the API answers 404 to others, shown by the page.
      path: 'backoffice/pipelines/:id',
      name: 'bo-pipeline',
      component: () => import('@/pages/backoffice/PipelineDetailPage.vue'),
      meta: { title: 'bo.pipeline.title' },
    },
    {
      path: 'backoffice/audit',
      name: 'bo-audit',
      component: () => import('@/pages/backoffice/AuditPage.vue'),
      meta: { title: 'bo.audit.title', permission: { resource: 'backoffice.logs', action: 'view' } },
    },
    {
      path: 'backoffice/integrations',
      name: 'bo-integrations',
      component: () => import('@/pages/backoffice/IntegrationsPage.vue'),
      meta: { title: 'bo.integrations.title', permission: configuration },
    },
    {
      path: 'backoffice/users',
      name: 'bo-users',
      component: () => import('@/pages/backoffice/UsersPage.vue'),
      meta: { title: 'bo.users.title', permission: { resource: 'backoffice.users', action: 'view' } },
    },
    {
      path: 'backoffice/documentation',
      name: 'bo-documentation',
      component: () => import('@/pages/backoffice/DocumentationPage.vue'),
      meta: { title: 'bo.documentation.title', permission: { resource: 'backoffice.documentation', action: 'view' } },
    },
  ]
}

/** Top-level routes without the app chrome (print views), given the /:lang prefix pattern. */
export function backofficePrintRoutes(langPrefix: string): RouteRecordRaw[] {
  return [
    {
      path: [langPrefix, 'backoffice', 'reporting', 'print'].join('/'),
      name: 'bo-reporting-print',
      component: () => import('@/pages/backoffice/ReportingPrintPage.vue'),
      meta: { title: 'bo.reporting.printTitle', permission: reporting },
    },
  ]
}

/**
 * The back-office gate of a navigation (after the session loaded): true to
 * proceed, or where to go instead.
 */
export async function backofficeGate(me: Me, to: RouteLocationNormalized, lang: string): Promise<true | RouteLocationRaw> {
  const p = to.meta.permission
  if (p && !can(me, p.resource, p.action)) return { name: 'unauthorized', params: { lang } }
  if (to.meta.unitResults) {
    try {
      await getUnit(Number(to.params.unitId))
    } catch (err) {
      if (isApiError(err) && err.status === 403) return { name: 'unauthorized', params: { lang } }
      if (isApiError(err) && err.status === 404) return { name: 'not-found', params: { lang, pathMatch: to.path.split('/').slice(2) } }
      // Network or server errors: the page shows them.
    }
  }
  return true
}
