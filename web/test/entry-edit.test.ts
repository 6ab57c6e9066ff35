// Editing an entry (src/entries/edit.ts): the changed-fields diff sent as the
// PATCH body, If-Match with the entry's version, and the 412 conflict resolved
// by reloading or overwriting — against a recording fetch.
import { describe, expect, it } from 'vitest'

import { createApiClient } from '@/api/client'
import { entryTag } from '@/api/entries'
import type { Entry, SubmoduleRef } from '@/api/types'
import { changedFields, createdFields, createEntryEditor, formValuesOf, IMPORTED_LOCATION, isStale } from '@/entries/edit'
import { fieldsOf } from '@/modules/catalogue'
import { jsonResponse, recordingFetch, type RecordedCall } from './fakes'

const ref: SubmoduleRef = { unitId: 7, year: 2025, module: 'headcount', submodule: 'member' }
const URL = '/api/v1/units/7/years/2025/modules/headcount/member/entries/42'

function entry(version: number, data: Record<string, unknown> = {}): Entry {
  return {
    id: 42,
    module: 'headcount',
    submodule: 'member',
    source: 'manual',
    read_only: false,
    above_threshold: false,
    version,
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
    created_by: null,
    data: { name: 'Ada', sius_code: '53', user_institutional_id: '100001', fte: 0.8, note: null, ...data },
    computed: { calc_status: 'ok', calc_message: null, factor_id: 1, kg_co2eq: 1, kg_co2eq_additional: 0 },
  }
}

const stale = () => jsonResponse({ error: { code: 'precondition_failed', message: 'the entry changed', details: [] } }, 412)

/** A fake API: GET answers `current`, PATCH/DELETE answer 412 while their If-Match is not current's tag. */
function api(current: { value: Entry }) {
  const f = recordingFetch((call: RecordedCall) => {
    const tag = call.headers.get('If-Match')
    if (call.method === 'GET') return jsonResponse(current.value, 200, { ETag: entryTag(current.value) })
    if (tag && tag !== entryTag(current.value)) return stale()
    if (call.method === 'DELETE') return new Response(null, { status: 204 })
    const body = JSON.parse(call.body as string) as { data: Record<string, unknown> }
    current.value = { ...current.value, version: current.value.version + 1, data: { ...current.value.data, ...body.data } }
    return jsonResponse({ ...current.value, module_reopened: current.value.data.note === 'reopen' }, 200)
  })
  const client = createApiClient({ fetch: f.fetch, readCookie: () => 'tok' })
  return { client, calls: f.calls }
}

const bodyOf = (c: RecordedCall) => JSON.parse(c.body as string) as unknown

describe('form values and the changed-fields diff', () => {
  const specs = fieldsOf('member')

  it('loads numbers as text and absent values as null', () => {
    expect(formValuesOf(specs, entry(1))).toEqual({ name: 'Ada', sius_code: '53', user_institutional_id: '100001', fte: '0.8', note: null })
    expect(formValuesOf(specs, null)).toEqual({ name: null, sius_code: null, user_institutional_id: null, fte: null, note: null })
  })

  it('sends only what changed, as the API stores it', () => {
    const initial = formValuesOf(specs, entry(1))
    expect(changedFields(specs, initial, { ...initial })).toEqual({})
    // Same values typed differently are no change: "0,80" is 0.8, spaces are trimmed.
    expect(changedFields(specs, initial, { ...initial, fte: '0,80', name: ' Ada ' })).toEqual({})
    expect(changedFields(specs, initial, { ...initial, fte: '0.5' })).toEqual({ fte: 0.5 })
    // Clearing an optional field sends null (JSON merge patch), filling one sends its value.
    expect(changedFields(specs, { ...initial, note: 'x' }, { ...initial, note: '' })).toEqual({ note: null })
    expect(changedFields(specs, initial, { ...initial, note: 'hello', name: 'Ada L.' })).toEqual({ name: 'Ada L.', note: 'hello' })
  })

  it('creates with every non-empty field', () => {
    expect(createdFields(specs, { name: ' Bob ', sius_code: '54', user_institutional_id: '9', fte: '1', note: '' })).toEqual({
      name: 'Bob',
      sius_code: '54',
      user_institutional_id: '9',
      fte: 1,
    })
  })

  it('keeps an imported station out of the PATCH unless another one is picked', () => {
    const train = fieldsOf('train')
    const initial = { ...formValuesOf(train, null), origin_key: IMPORTED_LOCATION, destination_key: IMPORTED_LOCATION, number_of_trips: '4' }
    expect(changedFields(train, initial, { ...initial, number_of_trips: '5' })).toEqual({ number_of_trips: 5 })
    expect(changedFields(train, initial, { ...initial, origin_key: 'train:CH:lausanne' })).toEqual({ origin_key: 'train:CH:lausanne' })
  })
})

describe('createEntryEditor', () => {
  it('patches with If-Match of the entry version and only the changed fields', async () => {
    const current = { value: entry(3) }
    const { client, calls } = api(current)
    const editor = createEntryEditor(ref, entry(3), { client })
    const saved = await editor.save({ fte: 0.5 })
    expect(calls).toHaveLength(1)
    expect(calls[0]!.method).toBe('PATCH')
    expect(calls[0]!.url).toBe(URL)
    expect(calls[0]!.headers.get('If-Match')).toBe('W/"e42-v3"')
    expect(bodyOf(calls[0]!)).toEqual({ data: { fte: 0.5 } })
    expect(saved?.version).toBe(4)
    // The next save uses the new version.
    await editor.save({ note: 'x' })
    expect(calls[1]!.headers.get('If-Match')).toBe('W/"e42-v4"')
  })

  it('sends nothing when nothing changed', async () => {
    const { client, calls } = api({ value: entry(3) })
    await expect(createEntryEditor(ref, entry(3), { client }).save({})).resolves.toBeNull()
    expect(calls).toHaveLength(0)
  })

  it('creates without If-Match', async () => {
    const { client, calls } = api({ value: entry(1) })
    await createEntryEditor(ref, null, { client }).save({ name: 'Bob' })
    expect(calls[0]!.method).toBe('POST')
    expect(calls[0]!.headers.has('If-Match')).toBe(false)
  })

  it('on 412 keeps the change; overwrite resends it over the current version', async () => {
    const current = { value: entry(5, { name: 'Ada (by someone else)' }) }
    const { client, calls } = api(current)
    const editor = createEntryEditor(ref, entry(3), { client })
    const err: unknown = await editor.save({ fte: 0.5 }).catch((e: unknown) => e)
    expect(isStale(err)).toBe(true)
    expect(editor.state.conflict).toBe(true)

    const saved = await editor.overwrite()
    expect(calls.map((c) => c.method)).toEqual(['PATCH', 'GET', 'PATCH'])
    expect(calls[2]!.headers.get('If-Match')).toBe('W/"e42-v5"')
    expect(bodyOf(calls[2]!)).toEqual({ data: { fte: 0.5 } })
    expect(editor.state.conflict).toBe(false)
    // The other person's change to another field is kept: only the user's field was sent.
    expect(current.value.data).toMatchObject({ name: 'Ada (by someone else)', fte: 0.5 })
    expect((saved as Entry).version).toBe(6)
  })

  it('on 412 reload takes the current version and drops the change', async () => {
    const current = { value: entry(5, { fte: 0.2 }) }
    const { client, calls } = api(current)
    const editor = createEntryEditor(ref, entry(3), { client })
    await expect(editor.save({ fte: 0.5 })).rejects.toMatchObject({ status: 412 })
    const latest = await editor.reload()
    expect(latest.version).toBe(5)
    expect(editor.state.base?.data.fte).toBe(0.2)
    expect(editor.state.conflict).toBe(false)
    expect(calls.map((c) => c.method)).toEqual(['PATCH', 'GET'])
    // Saving again now uses the reloaded version.
    await editor.save({ note: 'ok' })
    expect(calls[2]!.headers.get('If-Match')).toBe('W/"e42-v5"')
  })

  it('deletes with If-Match; after a 412, overwrite deletes the current version', async () => {
    const current = { value: entry(4) }
    const { client, calls } = api(current)
    const editor = createEntryEditor(ref, entry(3), { client })
    await expect(editor.remove()).rejects.toMatchObject({ status: 412 })
    expect(calls[0]!.headers.get('If-Match')).toBe('W/"e42-v3"')
    expect(editor.state.conflict).toBe(true)
    await editor.overwrite()
    expect(calls.map((c) => c.method)).toEqual(['DELETE', 'GET', 'DELETE'])
    expect(calls[2]!.headers.get('If-Match')).toBe('W/"e42-v4"')
  })

  it('passes module_reopened through', async () => {
    const { client } = api({ value: entry(1) })
    const saved = await createEntryEditor(ref, entry(1), { client }).save({ note: 'reopen' })
    expect(saved?.module_reopened).toBe(true)
  })
})
