// The SPA's catalogue against the one generated from Go (catalogue.gen.ts,
// kept equal to pkg/emission and pkg/entry by web/catalogue_test.go): field
// specs name real data fields in the Go order, and every module, submodule and
// field has its labels.
import { describe, expect, it } from 'vitest'

import { messages } from '@/i18n'
import { DATA_FIELDS, FACTORS_ONLY_SUBMODULES, MODULE_CATALOGUE, ROOM_TYPES } from '@/modules/catalogue.gen'
import { fieldsOf, isModuleKey, moduleInfo, MODULES } from '@/modules/catalogue'

const entrySubmodules = MODULE_CATALOGUE.flatMap((m) => [...m.submodules])
const dataFields = DATA_FIELDS as Record<string, readonly string[] | undefined>

/** Whether `sub` appears in `seq` in the same order (not necessarily contiguous). */
function isSubsequence(sub: readonly string[], seq: readonly string[]): boolean {
  let i = 0
  for (const x of seq) if (x === sub[i]) i++
  return i === sub.length
}

describe('catalogue', () => {
  it('has the modules and submodules of the Go catalogue, in order', () => {
    expect(MODULES.map((m) => m.key)).toEqual(MODULE_CATALOGUE.map((m) => m.key))
    for (const m of MODULE_CATALOGUE) {
      expect(moduleInfo(m.key)?.submodules).toEqual(m.submodules)
      expect(isModuleKey(m.key)).toBe(true)
    }
    expect(isModuleKey('embodied_energy')).toBe(false)
  })

  it.each(entrySubmodules)('%s: the form fields are data fields of the API, in its order, note last', (sub) => {
    const names = fieldsOf(sub).map((f) => f.name)
    const api = dataFields[sub] ?? []
    expect(names.length).toBeGreaterThan(1)
    expect(names.filter((n) => !api.includes(n)), `fields unknown to pkg/entry for ${sub}`).toEqual([])
    expect(isSubsequence(names, api), `${names.join()} not in the order of ${api.join()}`).toBe(true)
    expect(names.at(-1)).toBe('note')
    expect(new Set(names).size).toBe(names.length)
  })

  it('has no fields for factors-only submodules', () => {
    for (const sub of FACTORS_ONLY_SUBMODULES) expect(fieldsOf(sub)).toEqual([])
    expect(Object.keys(DATA_FIELDS).sort()).toEqual([...entrySubmodules].sort())
  })

  it('offers the room types of the Go catalogue', () => {
    expect(fieldsOf('room').find((f) => f.name === 'room_type')).toMatchObject({ kind: 'enum', options: ROOM_TYPES })
  })

  it('labels every module, submodule and field (and every option of a labelled field)', () => {
    const en = messages.en as unknown as Record<string, Record<string, unknown>>
    const missing: string[] = []
    for (const m of MODULE_CATALOGUE) {
      if (!en.modules?.[m.key]) missing.push(`modules.${m.key}`)
      for (const sub of m.submodules) {
        if (!en.submodules?.[sub]) missing.push(`submodules.${sub}`)
        for (const f of fieldsOf(sub)) {
          if (!en.fields?.[f.name]) missing.push(`fields.${f.name}`)
          // Options are shown raw unless the field has an options group; a group must be complete.
          const opts = en.options?.[f.name] as Record<string, string> | undefined
          if (opts) for (const o of f.options ?? []) if (!opts[o]) missing.push(`options.${f.name}.${o}`)
        }
      }
    }
    expect(missing).toEqual([])
  })
})
