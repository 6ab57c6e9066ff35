// Back-office pages and their permissions (docs/frontend.md §2, §6): the drawer
// lists me.backoffice_pages; each route carries meta.permission, checked by the
// guard at any scope (the API clamps answers to the grant's scope).
import type { Me } from '@/api/types'
import { can, type Action } from '@/auth/permissions'

export type BackofficePage = Me['backoffice_pages'][number]

export interface Permission {
  resource: string
  action: Action
}

export interface BackofficePageInfo {
  key: BackofficePage
  /** Route name. */
  route: string
  icon: string
  permission: Permission
}

/** The back-office pages in drawer order. */
export const BACKOFFICE_PAGES: readonly BackofficePageInfo[] = [
  { key: 'reporting', route: 'bo-reporting', icon: 'query_stats', permission: { resource: 'backoffice.reporting', action: 'view' } },
  { key: 'data', route: 'bo-data', icon: 'dataset', permission: { resource: 'backoffice.configuration', action: 'view' } },
  { key: 'factors', route: 'bo-factors', icon: 'functions', permission: { resource: 'backoffice.configuration', action: 'view' } },
  { key: 'pipelines', route: 'bo-pipelines', icon: 'account_tree', permission: { resource: 'backoffice.pipeline_operations', action: 'view' } },
  { key: 'audit', route: 'bo-audit', icon: 'policy', permission: { resource: 'backoffice.logs', action: 'view' } },
  { key: 'integrations', route: 'bo-integrations', icon: 'hub', permission: { resource: 'backoffice.configuration', action: 'view' } },
  { key: 'users', route: 'bo-users', icon: 'manage_accounts', permission: { resource: 'backoffice.users', action: 'view' } },
  { key: 'documentation', route: 'bo-documentation', icon: 'menu_book', permission: { resource: 'backoffice.documentation', action: 'view' } },
]

/** The pages of me.backoffice_pages, in drawer order. */
export function backofficePagesOf(me: Me | null | undefined): BackofficePageInfo[] {
  if (!me) return []
  return BACKOFFICE_PAGES.filter((p) => me.backoffice_pages.includes(p.key))
}

/** A back-office grant (resource "backoffice.<x>") at any scope. */
export function canBo(me: Me | null | undefined, resource: string, action: Action): boolean {
  return can(me, `backoffice.${resource}`, action)
}

/** Data-management actions (upload, years, recalculation, thresholds): configuration:edit. */
export const canEditConfiguration = (me: Me | null | undefined) => canBo(me, 'configuration', 'edit')

/** Retry a job, cancel any pipeline: pipeline_operations:edit. */
export const canOperatePipelines = (me: Me | null | undefined) => canBo(me, 'pipeline_operations', 'edit')

/** Export buttons of the reporting page: reporting:export. */
export const canExportReporting = (me: Me | null | undefined) => canBo(me, 'reporting', 'export')

/** Cancel a pipeline: its creator, or pipeline_operations:edit. */
export function canCancelPipeline(me: Me | null | undefined, createdBy: { id: number } | null | undefined): boolean {
  if (!me) return false
  return canOperatePipelines(me) || (!!createdBy && createdBy.id === me.user.id)
}
