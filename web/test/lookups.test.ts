// Entry-form lookups (src/entries/lookups.ts): which fields are taxonomy
// dropdowns, the defaults prefill, location options and the distance query.
import { describe, expect, it } from 'vitest'

import { createApiClient } from '@/api/client'
import type { Location, Taxonomy } from '@/api/types'
import {
  applyDefaults,
  controlOf,
  defaultsOf,
  distanceOf,
  enumOptionsOf,
  findNode,
  fold,
  hintDefaults,
  locationOption,
  suggestLocations,
} from '@/entries/lookups'
import { fieldsOf } from '@/modules/catalogue'
import { jsonResponse, recordingFetch } from './fakes'

const node = (value: string, defaults: Record<string, unknown> = {}, children: Taxonomy['nodes'] = []) => ({ value, label: value, defaults, children })

const scientific: Taxonomy = {
  submodule: 'scientific',
  year: 2025,
  kind_field: 'equipment_class',
  subkind_field: 'sub_class',
  nodes: [
    node('Centrifuge', {}, [
      node('Benchtop', { active_power_w: 500, active_usage_hours_per_week: 10, standby_power_w: 15, standby_usage_hours_per_week: 158 }),
      node('Floor-standing', { active_power_w: 1500, active_usage_hours_per_week: 8, standby_power_w: 30, standby_usage_hours_per_week: 160 }),
    ]),
    node('Fume hood', { active_power_w: 900, active_usage_hours_per_week: 40, standby_power_w: 300, standby_usage_hours_per_week: 128 }),
  ],
}
const spec = (submodule: string, name: string) => fieldsOf(submodule).find((f) => f.name === name)!

describe('controlOf', () => {
  it('makes the class a dropdown and the sub-class one of the chosen class', () => {
    const values = { equipment_class: 'centrifuge' } // compared folded, like the API
    expect(controlOf(spec('scientific', 'equipment_class'), 'scientific', scientific, values)).toMatchObject({ kind: 'taxonomy', free: false })
    const sub = controlOf(spec('scientific', 'sub_class'), 'scientific', scientific, values)
    expect(sub.kind === 'taxonomy' && sub.options.map((o) => o.value)).toEqual(['Benchtop', 'Floor-standing'])
    // A class without sub-classes leaves the sub-class free (the API checks nothing then).
    expect(controlOf(spec('scientific', 'sub_class'), 'scientific', scientific, { equipment_class: 'Fume hood' })).toEqual({ kind: 'plain' })
    expect(controlOf(spec('scientific', 'name'), 'scientific', scientific, values)).toEqual({ kind: 'plain' })
  })

  it('gives currencies and locations their pickers, and plain inputs without a taxonomy', () => {
    expect(controlOf(spec('it_equipment', 'currency'), 'it_equipment', null, {})).toEqual({ kind: 'currency' })
    expect(controlOf(spec('plane', 'origin_iata'), 'plane', null, {})).toEqual({ kind: 'location', mode: 'plane' })
    expect(controlOf(spec('train', 'destination_key'), 'train', null, {})).toEqual({ kind: 'location', mode: 'train' })
    expect(controlOf(spec('energy_combustion', 'fuel'), 'energy_combustion', null, {})).toEqual({ kind: 'plain' })
  })

  it('keeps fixed enums and narrows them to the taxonomy', () => {
    const room: Taxonomy = { submodule: 'room', year: 2025, kind_field: 'building_name', subkind_field: 'room_type', nodes: [node('BX', {}, [node('office'), node('laboratories')])] }
    expect(controlOf(spec('room', 'building_name'), 'room', room, {})).toMatchObject({ kind: 'taxonomy', free: true })
    expect(controlOf(spec('room', 'room_type'), 'room', room, { building_name: 'BX' })).toEqual({ kind: 'plain' })
    expect(enumOptionsOf(spec('room', 'room_type'), room, { building_name: 'BX' })).toEqual(['office', 'laboratories'])
    expect(enumOptionsOf(spec('room', 'room_type'), room, { building_name: 'ZZ' })).toHaveLength(6)
  })
})

describe('defaults', () => {
  const specs = fieldsOf('scientific')

  it('merges class and sub-class defaults', () => {
    expect(defaultsOf(scientific, { equipment_class: 'Centrifuge', sub_class: 'benchtop' })).toMatchObject({ active_power_w: 500, active_usage_hours_per_week: 10 })
    expect(defaultsOf(scientific, { equipment_class: 'Fume hood' })).toMatchObject({ standby_usage_hours_per_week: 128 })
    expect(defaultsOf(scientific, { equipment_class: 'nope' })).toEqual({})
  })

  it('prefills empty fields and earlier prefills, never what the user typed', () => {
    const values: Record<string, unknown> = { active_usage_hours_per_week: null, standby_usage_hours_per_week: '12' }
    const prefilled: Record<string, string> = {}
    const d1 = defaultsOf(scientific, { equipment_class: 'Centrifuge', sub_class: 'Benchtop' })
    expect(applyDefaults(specs, values, d1, prefilled)).toEqual(['active_usage_hours_per_week'])
    expect(values).toEqual({ active_usage_hours_per_week: '10', standby_usage_hours_per_week: '12' })
    // Another sub-class replaces the earlier prefill but still not the typed value.
    const d2 = defaultsOf(scientific, { equipment_class: 'Centrifuge', sub_class: 'Floor-standing' })
    expect(applyDefaults(specs, values, d2, prefilled)).toEqual(['active_usage_hours_per_week'])
    expect(values).toEqual({ active_usage_hours_per_week: '8', standby_usage_hours_per_week: '12' })
    // Defaults that are no field are hints.
    expect(hintDefaults(specs, d2).map(([k]) => k)).toEqual(['active_power_w', 'standby_power_w'])
  })

  it('folds like the API', () => {
    expect(fold('  Genève   Cornavin ')).toBe('geneve cornavin')
    expect(findNode(scientific.nodes, 'FUME HOOD')?.value).toBe('Fume hood')
    expect(findNode(scientific.nodes, '')).toBeUndefined()
  })
})

describe('locations', () => {
  const gva: Location = {
    id: 1,
    transport_mode: 'plane',
    natural_key: 'plane:GVA',
    name: 'Geneva Cointrin International Airport',
    iata_code: 'GVA',
    country_code: 'CH',
    municipality: 'Geneva',
    airport_size: 'large_airport',
    latitude: 46.2,
    longitude: 6.1,
  }
  const cornavin: Location = { ...gva, transport_mode: 'train', natural_key: 'train:CH:genève cornavin', name: 'Genève Cornavin', iata_code: null, municipality: null }

  it('stores the IATA code of airports and the natural key of stations', () => {
    expect(locationOption(gva, 'plane')).toEqual({ value: 'GVA', label: 'GVA · Geneva Cointrin International Airport', caption: 'Geneva, CH' })
    expect(locationOption(cornavin, 'train')).toEqual({ value: 'train:CH:genève cornavin', label: 'Genève Cornavin', caption: 'CH' })
  })

  it('searches from 2 characters and asks the distance with the trips', async () => {
    const f = recordingFetch((c) => jsonResponse(c.url.includes('distance') ? { great_circle_km: 50, one_trip_km: 61, distance_km: 122 } : [cornavin]))
    const client = createApiClient({ fetch: f.fetch })
    expect(await suggestLocations('g', 'train', { client })).toEqual([])
    expect(f.calls).toHaveLength(0)
    const found = await suggestLocations(' gen ', 'train', { client })
    expect(found.map((o) => o.value)).toEqual(['train:CH:genève cornavin'])
    expect(f.calls[0]!.url).toBe('/api/v1/locations?q=gen&mode=train&limit=8')
    expect(await distanceOf('train', 'train:CH:genève cornavin', null, '2', { client })).toBeNull()
    const d = await distanceOf('train', 'train:CH:genève cornavin', 'train:CH:lausanne', '2', { client })
    expect(d?.distance_km).toBe(122)
    expect(f.calls[1]!.url).toBe('/api/v1/locations/distance?mode=train&origin=train%3ACH%3Agen%C3%A8ve+cornavin&destination=train%3ACH%3Alausanne&trips=2')
  })
})
