import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import type { Me, MeUnit } from '@/api/types'
import { can, canEditModule, canSeeResults, canValidateModules, canViewModule, isUnitMember, yearIsOpen } from '@/auth/permissions'
import { fieldsOf, formFieldOf, toPayload, validateField } from '@/modules/catalogue'
import { useSessionStore } from '@/stores/session'
import { SELECTION_KEY, useWorkspaceStore, validSelection } from '@/stores/workspace'
import { formatKg, formatPercent, formatTonnes, tonneDecimals } from '@/display/format'

const principal: Me = {
  user: { id: 1, sciper: 'DEV-2', email: 'p@example.org', display_name: 'Dev Principal', function_title: null, provider: 'dev', last_login_at: null },
  roles: [{ role: 'calco2.user.principal', scope: { kind: 'unit', cf: '7918' } }],
  permissions: [
    { resource: 'module_status', actions: ['edit'], scope: { kind: 'unit', cf: '7918' } },
    { resource: 'modules.headcount', actions: ['view', 'edit', 'sync'], scope: { kind: 'unit', cf: '7918' } },
    { resource: 'modules.professional_travel', actions: ['view'], scope: { kind: 'own', cf: '7918' } },
  ],
  backoffice_pages: [],
  is_dev_user: true,
}
const admin: Me = {
  ...principal,
  roles: [{ role: 'calco2.backoffice.admin', scope: { kind: 'global' } }],
  permissions: [{ resource: 'backoffice.reporting', actions: ['view', 'export'], scope: { kind: 'global' } }],
}
const lab = { cf: '7918' }
const other = { cf: '1234' }

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
})

describe('permission helpers', () => {
  it('match resource, action and the unit scope', () => {
    expect(can(principal, 'modules.headcount', 'edit', lab)).toBe(true)
    expect(can(principal, 'modules.headcount', 'edit', other)).toBe(false)
    expect(can(principal, 'modules.headcount', 'export', lab)).toBe(false)
    expect(can(principal, 'modules.headcount', 'view')).toBe(true) // any scope
    expect(can(null, 'modules.headcount', 'view', lab)).toBe(false)
    expect(canViewModule(principal, 'professional_travel', lab)).toBe(true)
    expect(canEditModule(principal, 'professional_travel', lab)).toBe(false)
    expect(canValidateModules(principal, lab)).toBe(true)
    expect(canValidateModules(principal, other)).toBe(false)
  })

  it('derive unit membership and results access', () => {
    expect(isUnitMember(principal, lab)).toBe(true)
    expect(isUnitMember(principal, other)).toBe(false)
    expect(canSeeResults(principal, lab)).toBe(true)
    expect(canSeeResults(principal, other)).toBe(false)
    expect(canSeeResults(admin, other)).toBe(true) // global role
    expect(yearIsOpen('open')).toBe(true)
    expect(yearIsOpen('closed')).toBe(false)
  })
})

describe('session store', () => {
  it('loads /me once and answers can()', async () => {
    const fetch = vi.fn(() => Promise.resolve(json(principal)))
    vi.stubGlobal('fetch', fetch)
    const s = useSessionStore()
    const [a, b] = await Promise.all([s.load(), s.load()])
    expect(a).toEqual(principal)
    expect(b).toEqual(principal)
    await s.load()
    expect(fetch).toHaveBeenCalledOnce()
    expect(s.authenticated).toBe(true)
    expect(s.displayName).toBe('Dev Principal')
    expect(s.can('modules.headcount', 'edit', lab)).toBe(true)
  })

  it('is signed out after a 401 that the refresh cannot fix', async () => {
    const err = { error: { code: 'unauthenticated', message: 'no', details: [] } }
    vi.stubGlobal('fetch', vi.fn(() => Promise.resolve(json(err, 401))))
    const s = useSessionStore()
    expect(await s.load()).toBeNull()
    expect(s.loaded).toBe(true)
    expect(s.authenticated).toBe(false)
  })

  it('logs out and returns the end-session URL', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValueOnce(json(principal)).mockResolvedValueOnce(json({ end_session_url: 'https://idp/logout' })))
    const s = useSessionStore()
    await s.load()
    expect(await s.logout()).toBe('https://idp/logout')
    expect(s.authenticated).toBe(false)
  })
})

describe('workspace store', () => {
  const units = [
    {
      unit: { id: 4, name: 'LAB-DEMO', cf: '7918' },
      role: 'principal',
      reports: [{ year: 2025, overall_status: 'in_progress', validated_modules: 1, enabled_modules: 8 }],
    },
  ] as unknown as MeUnit[]

  it('remembers a selection only while it is valid', async () => {
    vi.stubGlobal('fetch', vi.fn(() => Promise.resolve(json(units))))
    const w = useWorkspaceStore()
    await w.loadUnits()
    expect(w.remembered()).toBeNull()
    w.remember({ unitId: 4, year: 2025 })
    expect(JSON.parse(localStorage.getItem(SELECTION_KEY)!)).toEqual({ unitId: 4, year: 2025 })
    expect(w.remembered()).toEqual({ unitId: 4, year: 2025 })
    expect(validSelection(units, { unitId: 4, year: 2024 })).toBeNull()
    expect(validSelection(units, { unitId: 5, year: 2025 })).toBeNull()
    expect(validSelection(units, 'junk')).toBeNull()
  })
})

describe('formatters', () => {
  it('show t CO2-eq with 1–3 decimals by magnitude', () => {
    expect(tonneDecimals(0.5)).toBe(3)
    expect(tonneDecimals(12)).toBe(2)
    expect(tonneDecimals(1234)).toBe(1)
    expect(formatTonnes(0.1234, 'en')).toBe('0.123')
    expect(formatTonnes(21.684, 'en')).toBe('21.68')
    expect(formatTonnes(1234.56, 'en')).toBe('1,234.6')
    expect(formatTonnes(0, 'en')).toBe('0.0')
    expect(formatTonnes(null, 'en')).toBe('–')
    expect(formatTonnes(21.684, 'fr')).toBe(new Intl.NumberFormat('fr-CH', { minimumFractionDigits: 1, maximumFractionDigits: 2 }).format(21.684))
  })

  it('show kg with 0–2 decimals and signed percentages', () => {
    expect(formatKg(1002.48, 'en')).toBe('1,002')
    expect(formatKg(12.345, 'en')).toBe('12.35')
    expect(formatPercent(25, 'en', true)).toBe('+25.0%')
    expect(formatPercent(-3.14, 'en', true)).toBe('-3.1%')
    expect(formatPercent(null, 'en')).toBe('–')
  })
})

describe('entry fields', () => {
  const member = fieldsOf('member')
  const spec = (name: string) => member.find((f) => f.name === name)!

  it('validate like the API (docs/domain.md §7)', () => {
    expect(member.map((f) => f.name)).toEqual(['name', 'sius_code', 'user_institutional_id', 'fte', 'note'])
    expect(validateField(spec('name'), '  ')).toEqual({ key: 'validation.required' })
    expect(validateField(spec('fte'), '1.5')).toEqual({ key: 'validation.between', params: { min: 0, max: 1 } })
    expect(validateField(spec('fte'), '0,8')).toBeNull()
    expect(validateField(spec('fte'), 'abc')).toEqual({ key: 'validation.number' })
    expect(validateField(spec('sius_code'), '55')).toEqual({ key: 'validation.invalidChoice' })
    expect(validateField(spec('user_institutional_id'), 'a b')).toEqual({ key: 'validation.format' })
    expect(validateField(spec('note'), null)).toBeNull()
  })

  it('build payloads and map API fields', () => {
    const values = { name: ' Ada ', sius_code: '53', user_institutional_id: '1', fte: '0.8', note: '' }
    expect(toPayload(member, values, false)).toEqual({ name: 'Ada', sius_code: '53', user_institutional_id: '1', fte: 0.8 })
    expect(toPayload(member, values, true)).toMatchObject({ note: null })
    expect(formFieldOf('data.fte')).toBe('fte')
    expect(formFieldOf('sort')).toBe('sort')
  })
})
