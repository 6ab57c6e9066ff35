// The entry form's pickers (entries/pickers.ts): traveller options and own
// scope, building and room options, the uniqueness check and the student FTE.
import { beforeEach, describe, expect, it } from 'vitest'

import { createApiClient } from '@/api/client'
import type { Me } from '@/api/types'
import {
  buildingLocation,
  buildingOptions,
  clearPlaces,
  findRoom,
  isOwnScoped,
  isTravelerField,
  isUnique,
  loadMembers,
  loadRooms,
  roomOption,
  studentFte,
  travelerOptions,
  uniqueFieldOf,
} from '@/entries/pickers'
import { jsonResponse, recordingFetch } from './fakes'

const members = [
  { sciper: '100011', name: 'Aisha Benali' },
  { sciper: '100001', name: 'Claire Dubois' },
]
const self = { sciper: 'DEV-000001', display_name: 'Dev Standard' }

function me(kind: 'own' | 'unit', cf = '7918'): Me {
  return {
    user: { id: 2, sciper: 'DEV-000001', email: null, display_name: 'Dev Standard', function_title: null, provider: 'dev', last_login_at: null },
    roles: [],
    permissions: [
      { resource: 'modules.professional_travel', actions: ['view', 'edit'], scope: { kind, cf } },
      { resource: 'modules.external_cloud_ai', actions: ['view', 'edit'], scope: { kind: 'unit', cf } },
    ],
    backoffice_pages: [],
    is_dev_user: true,
  } as unknown as Me
}

describe('traveller', () => {
  it('is the SCIPER field of plane and train trips only', () => {
    expect(isTravelerField('plane', 'user_institutional_id')).toBe(true)
    expect(isTravelerField('train', 'user_institutional_id')).toBe(true)
    expect(isTravelerField('member', 'user_institutional_id')).toBe(false)
    expect(isTravelerField('plane', 'origin_iata')).toBe(false)
  })

  it('lists the members for a unit-scoped user', () => {
    expect(travelerOptions(members, self, false)).toEqual([
      { value: '100011', label: 'Aisha Benali · 100011' },
      { value: '100001', label: 'Claire Dubois · 100001' },
    ])
  })

  it('gives an own-scoped user himself only, from the list or from /me', () => {
    expect(travelerOptions([{ sciper: 'DEV-000001', name: 'Dev S.' }], self, true)).toEqual([{ value: 'DEV-000001', label: 'Dev S. · DEV-000001' }])
    expect(travelerOptions([], self, true)).toEqual([{ value: 'DEV-000001', label: 'Dev Standard · DEV-000001' }])
    expect(travelerOptions(members, null, true)).toEqual([])
  })

  it('tells own-scoped grants (standard members) from unit-scoped ones', () => {
    expect(isOwnScoped(me('own'), 'professional_travel', '7918')).toBe(true)
    expect(isOwnScoped(me('unit'), 'professional_travel', '7918')).toBe(false)
    expect(isOwnScoped(me('own'), 'external_cloud_ai', '7918')).toBe(false)
    expect(isOwnScoped(me('own'), 'headcount', '7918')).toBe(false) // no grant at all
    expect(isOwnScoped(null, 'professional_travel', '7918')).toBe(false)
  })

  it('reads the members, and gives none when the call fails', async () => {
    const f = recordingFetch((c) => (c.url.includes('/units/4/') ? jsonResponse(members) : jsonResponse({ error: { code: 'forbidden', message: 'no' } }, 403)))
    const client = createApiClient({ fetch: f.fetch })
    expect(await loadMembers(4, 2025, { client })).toEqual(members)
    expect(f.calls[0]!.url).toBe('/api/v1/units/4/years/2025/modules/headcount/members')
    expect(await loadMembers(5, 2025, { client })).toEqual([])
  })
})

describe('buildings and rooms', () => {
  beforeEach(() => clearPlaces())
  const reference = [
    { building_location: 'ECUBLENS', building_name: 'BX' },
    { building_location: 'GENEVE', building_name: 'HG' },
  ]
  const nodes = [
    { value: 'bx', label: 'bx', defaults: {}, children: [] },
    { value: 'ZZ', label: 'ZZ', defaults: {}, children: [] },
    { value: 'default', label: 'default', defaults: {}, children: [] },
  ]

  it('merges the reference buildings with the taxonomy (folded, without "default")', () => {
    expect(buildingOptions(nodes, reference)).toEqual([
      { value: 'BX', label: 'BX · ECUBLENS' },
      { value: 'HG', label: 'HG · GENEVE' },
      { value: 'ZZ', label: 'ZZ' },
    ])
    expect(buildingLocation(reference, ' hg ')).toBe('GENEVE')
    expect(buildingLocation(reference, 'ZZ')).toBeNull()
  })

  it('finds a reference room by folded name and describes it', () => {
    const rooms = [{ building_location: 'ECUBLENS', building_name: 'BX', room_name: 'BX-010', room_type: 'laboratories' as const, surface_m2: 62.5 }]
    expect(findRoom(rooms, 'bx-010')?.surface_m2).toBe(62.5)
    expect(findRoom(rooms, '')).toBeUndefined()
    expect(roomOption(rooms[0]!, (t) => t.toUpperCase(), (m2) => `${m2} m²`)).toEqual({ value: 'BX-010', label: 'BX-010 · LABORATORIES, 62.5 m²' })
  })

  it('reads the rooms of a building once', async () => {
    const f = recordingFetch(() => jsonResponse([]))
    const client = createApiClient({ fetch: f.fetch })
    await loadRooms('BX', { client })
    await loadRooms('bx', { client })
    expect(f.calls.map((c) => c.url)).toEqual(['/api/v1/building-rooms?building_name=BX&limit=1000'])
  })
})

describe('uniqueness', () => {
  it('checks a member SCIPER (enforced) and an equipment id (advisory)', () => {
    expect(uniqueFieldOf('member', 'user_institutional_id')).toEqual({ field: 'user_institutional_id', enforced: true })
    expect(uniqueFieldOf('it', 'equipment_id')).toEqual({ field: 'equipment_id', enforced: false })
    expect(uniqueFieldOf('plane', 'user_institutional_id')).toBeNull()
    expect(uniqueFieldOf('member', 'name')).toBeNull()
  })

  it('asks check-unique, excluding the entry being edited', async () => {
    const f = recordingFetch((c) => jsonResponse({ unique: !c.url.includes('100001'), conflicting_entry_id: null }))
    const client = createApiClient({ fetch: f.fetch })
    const ref = { unitId: 4, year: 2025, module: 'headcount' as const, submodule: 'member' }
    expect(await isUnique(ref, 'user_institutional_id', ' 100001 ', null, { client })).toBe(false)
    expect(await isUnique(ref, 'user_institutional_id', '999', 12, { client })).toBe(true)
    expect(f.calls.map((c) => c.url)).toEqual([
      '/api/v1/units/4/years/2025/modules/headcount/member/entries/check-unique?field=user_institutional_id&value=100001',
      '/api/v1/units/4/years/2025/modules/headcount/member/entries/check-unique?field=user_institutional_id&value=999&exclude_id=12',
    ])
    expect(await isUnique(ref, 'user_institutional_id', '  ', null, { client })).toBeNull()
  })

  it('answers null when the check fails', async () => {
    const client = createApiClient({ fetch: recordingFetch(() => jsonResponse({ error: { code: 'internal', message: 'x' } }, 500)).fetch })
    expect(await isUnique({ unitId: 4, year: 2025, module: 'equipment', submodule: 'it' }, 'equipment_id', 'INV-1', null, { client })).toBeNull()
  })
})

describe('student FTE helper', () => {
  it('is students × months × average FTE / 12 once the three are valid', () => {
    expect(studentFte({ students: '13', months: '12', average_fte: '0.5' })).toBe(6.5)
    expect(studentFte({ students: '10', months: '9', average_fte: '0,8' })).toBe(6)
    expect(studentFte({ students: 7, months: 5, average_fte: 0.3 })).toBe(0.875)
    expect(studentFte({ students: '10', months: '', average_fte: '0.8' })).toBeNull()
    expect(studentFte({ students: '10', months: '13', average_fte: '0.8' })).toBeNull()
    expect(studentFte({ students: '10', months: '6', average_fte: '1.5' })).toBeNull()
    expect(studentFte({ students: 'x', months: '6', average_fte: '0.5' })).toBeNull()
  })
})
