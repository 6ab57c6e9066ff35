// Back-office helpers (docs/frontend.md §4, §6): reporting filters in the URL
// and in exports, the factor form and its error mapping (422/409), the year
// lifecycle actions and configuration errors, the permission helpers.
import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/client'
import type { Factor } from '@/api/factors'
import type { Me } from '@/api/types'
import { auditApiQuery, auditFiltersFromQuery, auditFiltersToQuery, diffRows, showValue } from '@/backoffice/audit'
import { backofficePagesOf, canCancelPipeline, canEditConfiguration, canExportReporting, canOperatePipelines } from '@/backoffice/access'
import { reportingExport } from '@/backoffice/exports'
import { createBody, parseValue, patchBody, rowFieldErrors, rowsOf } from '@/backoffice/factorForm'
import { apiQuery, decodeFilters, emptyFilters, encodeFilters, filtersFromQuery, sameFilters, tableFromQuery, toQuery, type ReportingFilters } from '@/backoffice/filters'
import { configFieldErrors, configPath, configValue, moduleConfigPatch, yearAcceptsUploads, yearActions, yearConfigEditable } from '@/backoffice/years'
import type { YearInfo } from '@/api/years'

const base: Me = {
  user: { id: 7, sciper: 'DEV-3', email: 'm@example.org', display_name: 'Dev Metier', function_title: null, provider: 'dev', last_login_at: null },
  roles: [{ role: 'calco2.backoffice.metier', scope: { kind: 'global' } }],
  permissions: [
    { resource: 'backoffice.reporting', actions: ['view', 'export'], scope: { kind: 'global' } },
    { resource: 'backoffice.users', actions: ['view'], scope: { kind: 'global' } },
  ],
  backoffice_pages: ['users', 'reporting'],
  is_dev_user: true,
}
const admin: Me = {
  ...base,
  user: { ...base.user, id: 1 },
  permissions: [
    ...base.permissions,
    { resource: 'backoffice.configuration', actions: ['view', 'edit'], scope: { kind: 'global' } },
    { resource: 'backoffice.pipeline_operations', actions: ['view', 'edit'], scope: { kind: 'global' } },
  ],
  backoffice_pages: ['documentation', 'audit', 'data', 'reporting', 'factors', 'pipelines', 'integrations', 'users'],
}

describe('reporting filters', () => {
  const f: ReportingFilters = { years: [2025, 2024], affiliations: [3], units: [], statuses: ['validated', 'in_progress'], moduleStatuses: ['headcount:validated', 'it'], q: ' LAB ' }

  it('round-trips through the URL query (lists comma-joined, empty values left out)', () => {
    const q = toQuery(f, { page: 2, limit: 50, sort: '-t_co2eq' })
    expect(q).toEqual({ year: '2025,2024', affiliation: '3', status: 'validated,in_progress', module_status: 'headcount:validated,it', q: 'LAB', page: '2', limit: '50', sort: '-t_co2eq' })
    const back = filtersFromQuery(q as Record<string, string>)
    expect(back).toEqual({ ...f, q: 'LAB' })
    expect(tableFromQuery(q as Record<string, string>)).toEqual({ page: 2, limit: 50, sort: '-t_co2eq' })
    // Defaults are not written.
    expect(toQuery(emptyFilters(), { page: 1, limit: 25, sort: '' })).toEqual({})
  })

  it('drops what a shared URL may carry but the API refuses', () => {
    const got = filtersFromQuery({ year: ['2025', 'x', '2025', '-1'], status: 'validated,bogus', module_status: 'headcount:done,it:validated,DROP', q: 'a'.repeat(300) })
    expect(got.years).toEqual([2025])
    expect(got.statuses).toEqual(['validated'])
    expect(got.moduleStatuses).toEqual(['it:validated'])
    expect(got.q).toHaveLength(100)
    expect(tableFromQuery({ page: '0', limit: '33', sort: 'name; drop' })).toEqual({ page: 1, limit: 25, sort: '' })
  })

  it('gives the API repeated parameters and the print view a base64url blob', () => {
    expect(apiQuery(f)).toEqual({ year: [2025, 2024], affiliation: [3], unit: [], status: ['validated', 'in_progress'], module_status: ['headcount:validated', 'it'], q: 'LAB' })
    const withAccent = { ...f, q: 'Laboratoire d’écologie' }
    const s = encodeFilters(withAccent)
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodeFilters(s)).toEqual(withAccent)
    expect(decodeFilters('%%%')).toEqual(emptyFilters())
    expect(sameFilters(f, { ...f, q: 'LAB' })).toBe(true)
    expect(sameFilters(f, { ...f, years: [2025] })).toBe(false)
  })

  it('sends the filters (and for the units overview the language and sort) with an export', () => {
    expect(reportingExport('backoffice_units', 'xlsx', f, { lang: 'fr', sort: '-t_co2eq' })).toEqual({
      kind: 'backoffice_units',
      format: 'xlsx',
      params: { year: [2025, 2024], affiliation: [3], status: ['validated', 'in_progress'], module_status: ['headcount:validated', 'it'], q: 'LAB', lang: 'fr', sort: '-t_co2eq' },
    })
    expect(reportingExport('backoffice_usage', 'csv', { ...emptyFilters(), years: [2025] }, { lang: 'en', sort: 'x' })).toEqual({ kind: 'backoffice_usage', format: 'csv', params: { year: [2025] } })
  })
})

describe('factor form', () => {
  const factor: Pick<Factor, 'classification' | 'values'> = {
    classification: { equipment_class: 'Server', sub_class: 'GPU node' },
    values: { active_power_w: 2000, ef_kg_co2eq_per_kwh: 0.125, note: 'x', kg_co2eq_sum_from_csv: 12 },
  }

  it('edits the classification then the values, numbers as typed text', () => {
    const rows = rowsOf(factor)
    expect(rows.map((r) => `${r.section}.${r.key}=${r.value}`)).toEqual([
      'classification.equipment_class=Server',
      'classification.sub_class=GPU node',
      'values.active_power_w=2000',
      'values.ef_kg_co2eq_per_kwh=0.125',
      'values.note=x',
    ])
    expect(parseValue(' 1e-3 ')).toBe(0.001)
    expect(parseValue('-.5')).toBe(-0.5)
    expect(parseValue('12 kg')).toBe('12 kg')
  })

  it('patches only what changed; a removed key is sent as null; nothing changed → null', () => {
    const rows = rowsOf(factor)
    expect(patchBody(factor, rows)).toBeNull()
    const edited = rows.filter((r) => r.key !== 'note').map((r) => (r.key === 'ef_kg_co2eq_per_kwh' ? { ...r, value: '0.25' } : r))
    expect(patchBody(factor, edited)).toEqual({ values: { ef_kg_co2eq_per_kwh: 0.25, note: null } })
    const renamed = rows.map((r) => (r.key === 'sub_class' ? { ...r, value: 'CPU node' } : r))
    expect(patchBody(factor, renamed)).toEqual({ classification: { sub_class: 'CPU node' } })
  })

  it('creates with the typed rows (blank keys and values left out)', () => {
    const rows = [...rowsOf(factor), { section: 'values' as const, key: '', value: '3' }, { section: 'values' as const, key: 'empty', value: ' ' }]
    expect(createBody(2025, 'it', rows)).toEqual({
      year: 2025,
      submodule: 'it',
      classification: { equipment_class: 'Server', sub_class: 'GPU node' },
      values: { active_power_w: 2000, ef_kg_co2eq_per_kwh: 0.125, note: 'x' },
    })
  })

  it('maps the API details onto the rows (422) and the form (409 duplicate classification)', () => {
    const invalid = new ApiError(422, 'validation_failed', 'invalid', [
      { field: 'values.ef_kg_co2eq_per_kwh', code: 'invalid_format', message: 'Invalid format' },
      { field: 'values.ef_kg_co2eq_per_kwh', code: 'negative', message: 'second message ignored' },
      { field: 'classification.sub_class', code: 'required', message: 'Required' },
    ])
    expect(rowFieldErrors(invalid, (d) => d.message ?? '')).toEqual({
      rows: { 'values.ef_kg_co2eq_per_kwh': 'Invalid format', 'classification.sub_class': 'Required' },
      form: [],
    })
    const duplicate = new ApiError(409, 'duplicate_factor', 'exists', [{ field: 'classification', code: 'duplicate_factor', message: 'A factor with this classification exists' }])
    expect(rowFieldErrors(duplicate, (d) => d.message ?? '')).toEqual({ rows: {}, form: ['classification: A factor with this classification exists'] })
    expect(rowFieldErrors(new Error('network'), () => '')).toEqual({ rows: {}, form: [] })
  })
})

describe('year lifecycle and configuration', () => {
  it('offers the transitions of docs/domain.md §11.1', () => {
    expect(yearActions('setting_up')).toEqual({ open: false, close: false, setup: false })
    expect(yearActions('setting_up', true)).toEqual({ open: false, close: false, setup: true })
    expect(yearActions('setup_failed')).toEqual({ open: false, close: false, setup: true })
    expect(yearActions('ready')).toEqual({ open: true, close: false, setup: true })
    expect(yearActions('open')).toEqual({ open: false, close: true, setup: true })
    expect(yearActions('closed')).toEqual({ open: true, close: false, setup: false })
    expect((['ready', 'open'] as const).every(yearAcceptsUploads)).toBe(true)
    expect(yearAcceptsUploads('closed') || yearAcceptsUploads('setting_up')).toBe(false)
    expect(yearConfigEditable('closed')).toBe(false)
    expect(yearConfigEditable('setup_failed')).toBe(true)
  })

  it('patches one key nested, and maps 422 details to configuration paths', () => {
    expect(moduleConfigPatch('equipment', 'it', 'threshold_kg', 500)).toEqual({ modules: { equipment: { submodules: { it: { threshold_kg: 500 } } } } })
    expect(moduleConfigPatch('headcount', null, 'enabled', false)).toEqual({ modules: { headcount: { enabled: false } } })
    const path = configPath('equipment', 'it', 'threshold_kg')
    expect(path).toBe('config.modules.equipment.submodules.it.threshold_kg')
    const err = new ApiError(422, 'validation_failed', 'invalid', [{ field: path, code: 'negative', message: 'must be ≥ 0' }])
    expect(configFieldErrors(err, (d) => d.message ?? '')).toEqual({ [path]: 'must be ≥ 0' })
    expect(configFieldErrors(new ApiError(412, 'precondition_failed', 'changed'), () => 'x')).toEqual({})
  })

  it('reads configured values with the API defaults', () => {
    const y = { config: { modules: { equipment: { enabled: false, submodules: { it: { threshold_kg: 10 } } } } } } as unknown as YearInfo
    expect(configValue(y, 'equipment', null, 'enabled')).toBe(false)
    expect(configValue(y, 'equipment', 'it', 'threshold_kg')).toBe(10)
    expect(configValue(y, 'headcount', null, 'enabled')).toBe(true)
    expect(configValue(y, 'headcount', null, 'uncertainty')).toBe('none')
    expect(configValue(y, 'equipment', 'it', 'inputs_disabled')).toBe(false)
    expect(configValue(null, 'equipment', 'it', 'threshold_kg')).toBeNull()
  })
})

describe('back-office permissions', () => {
  it('lists me.backoffice_pages in drawer order', () => {
    expect(backofficePagesOf(base).map((p) => p.key)).toEqual(['reporting', 'users'])
    expect(backofficePagesOf(admin).map((p) => p.route)).toEqual(['bo-reporting', 'bo-data', 'bo-factors', 'bo-pipelines', 'bo-audit', 'bo-integrations', 'bo-users', 'bo-documentation'])
    expect(backofficePagesOf(null)).toEqual([])
  })

  it('gates the actions of docs/frontend.md §6', () => {
    expect(canExportReporting(base)).toBe(true)
    expect(canEditConfiguration(base)).toBe(false)
    expect(canEditConfiguration(admin)).toBe(true)
    expect(canOperatePipelines(base)).toBe(false)
    // Cancel: the pipeline's creator, or pipeline_operations:edit.
    expect(canCancelPipeline(base, { id: 7 })).toBe(true)
    expect(canCancelPipeline(base, { id: 8 })).toBe(false)
    expect(canCancelPipeline(base, null)).toBe(false)
    expect(canCancelPipeline(admin, { id: 8 })).toBe(true)
    expect(canCancelPipeline(null, { id: 7 })).toBe(false)
  })
})

describe('audit viewer', () => {
  const now = new Date('2026-03-10T12:00:00Z')

  it('defaults to the last 30 days and keeps the filters in the URL', () => {
    const f = auditFiltersFromQuery({}, now)
    expect([f.from, f.to]).toEqual(['2026-02-09', '2026-03-10'])
    const shared = auditFiltersFromQuery({ action: 'U,D,X', event: 'factor.update', actor_sciper: '123456', from: '2026-01-01', to: '', ship_status: 'failed,nope' }, now)
    expect(shared).toMatchObject({ actions: ['U', 'D'], events: ['factor.update'], actor: '123456', from: '2026-01-01', to: '', shipStatuses: ['failed'] })
    expect(auditFiltersFromQuery(auditFiltersToQuery(shared) as Record<string, string>, now)).toEqual(shared)
  })

  it('asks the API for whole days (to exclusive, the next midnight UTC)', () => {
    const f = auditFiltersFromQuery({ from: '2026-02-28', to: '2026-02-28', entity_type: 'factor', entity_id: '107' }, now)
    expect(auditApiQuery(f)).toEqual({ from: '2026-02-28T00:00:00Z', to: '2026-03-01T00:00:00Z', entity_type: 'factor', entity_id: '107' })
  })

  it('flattens an event diff to the paths that differ', () => {
    const diff = {
      changed: { status: { old: 'setting_up', new: 'open' }, values: { old: { ef: 0.125, w: 2000 }, new: { ef: 0.25, w: 2000 } } },
      added: { note: 'x' },
      removed: { reason: null },
    }
    expect(diffRows(diff)).toEqual([
      { path: 'status', old: 'setting_up', new: 'open', kind: 'changed' },
      { path: 'values.ef', old: 0.125, new: 0.25, kind: 'changed' },
      { path: 'note', old: undefined, new: 'x', kind: 'added' },
      { path: 'reason', old: null, new: undefined, kind: 'removed' },
    ])
    expect(diffRows(null)).toEqual([])
    expect([showValue(undefined), showValue('a'), showValue({ a: 1 })]).toEqual(['–', 'a', '{"a":1}'])
  })
})
