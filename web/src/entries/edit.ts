// Editing one entry (docs/frontend.md §3.3 "Entry form"): the form values of
// an entry, the changed-fields diff sent as the PATCH body (a JSON merge
// patch: only what the user changed, null clears), and the optimistic
// concurrency of docs/api.md §1 (If-Match W/"e<id>-v<version>"; a stale
// version answers 412 precondition_failed, which the form offers to resolve
// by reloading the entry or by overwriting it with the user's changes).
//
// Pure functions and a small controller over the API module, unit-tested
// with a fake fetch (test/entry-edit.test.ts); EntryDialog.vue and
// SubmoduleTable.vue render it.
import { reactive } from 'vue'

import { isApiError, type ApiClient, type ApiError } from '@/api/client'
import { createEntry, deleteEntry, entryTag, getEntry, patchEntry, type DeleteResult, type WrittenEntry } from '@/api/entries'
import type { Entry, SubmoduleRef } from '@/api/types'
import { asText } from '@/display/text'
import type { FieldSpec } from '@/modules/catalogue'

export type FormValues = Record<string, unknown>

/**
 * Form value of a train station an imported row names (origin_name and a
 * country code) without a natural key: shown with its name, valid, and
 * never sent unless the user picks another station (changedFields leaves an
 * unchanged field out).
 */
export const IMPORTED_LOCATION = '\u0000imported'

const isEmpty = (v: unknown) => v === null || v === undefined || (typeof v === 'string' && v.trim() === '')

/** The form value of one data value: numbers as text (inputs edit text), absent as null. */
export function formValueOf(spec: FieldSpec, v: unknown): unknown {
  if (v === null || v === undefined) return null
  return spec.kind === 'number' || spec.kind === 'integer' ? asText(v) : v
}

/** The form values of an entry (every field of the specs; null for a new entry). */
export function formValuesOf(specs: readonly FieldSpec[], entry: Pick<Entry, 'data'> | null): FormValues {
  const out: FormValues = {}
  for (const f of specs) out[f.name] = formValueOf(f, entry?.data[f.name])
  return out
}

/** A form value as the API takes it: numbers parsed ("0,5" too), strings trimmed, empty → null. */
export function payloadValueOf(spec: FieldSpec, v: unknown): unknown {
  if (isEmpty(v)) return null
  if (spec.kind === 'number' || spec.kind === 'integer') return typeof v === 'number' ? v : Number(asText(v).replace(',', '.'))
  return typeof v === 'string' ? v.trim() : v
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b)
  return JSON.stringify(a) === JSON.stringify(b)
}

/**
 * The PATCH body of an edit: only the fields whose value differs from the
 * initial form (compared as the API would store them), null for a cleared
 * field. An unchanged form gives {}.
 */
export function changedFields(specs: readonly FieldSpec[], initial: FormValues, values: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of specs) {
    const before = payloadValueOf(f, initial[f.name])
    const after = payloadValueOf(f, values[f.name])
    if (!same(before, after)) out[f.name] = after
  }
  return out
}

/** The POST body of a new entry: every non-empty field. */
export function createdFields(specs: readonly FieldSpec[], values: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of specs) {
    const v = payloadValueOf(f, values[f.name])
    if (v !== null) out[f.name] = v
  }
  return out
}

/** A 412: the entry changed since it was read (its If-Match is stale). */
export function isStale(err: unknown): err is ApiError {
  return isApiError(err) && (err.status === 412 || err.code === 'precondition_failed')
}

export interface EditorOptions {
  client?: ApiClient | undefined
}

/**
 * The write side of one entry form. `base` is the version the user edits;
 * every PATCH and DELETE sends its tag as If-Match. On 412, `conflict` is
 * set and the rejected body is kept: reload() replaces base with the
 * current version (the form starts again from it), overwrite() sends the
 * same changes again with the current version's tag.
 */
export function createEntryEditor(ref: SubmoduleRef, entry: Entry | null, opts: EditorOptions = {}) {
  const state = reactive<{ base: Entry | null; conflict: boolean }>({ base: entry, conflict: false })
  let pending: Record<string, unknown> | null = null
  let pendingDelete = false
  const call = { client: opts.client }

  async function patch(base: Entry, body: Record<string, unknown>): Promise<WrittenEntry> {
    try {
      const saved = await patchEntry(ref, base.id, body, { ...call, ifMatch: entryTag(base) })
      state.base = saved
      state.conflict = false
      pending = null
      return saved
    } catch (err) {
      if (isStale(err)) {
        state.conflict = true
        pending = body
        pendingDelete = false
      }
      throw err
    }
  }

  /**
   * Creates the entry (no base) or patches it with body (the changed
   * fields). An edit without changes sends nothing and answers null.
   */
  async function save(body: Record<string, unknown>): Promise<WrittenEntry | null> {
    const base = state.base
    if (!base) {
      const saved = await createEntry(ref, body, call)
      state.base = saved
      return saved
    }
    if (Object.keys(body).length === 0) return null
    return patch(base, body)
  }

  /** DELETE with If-Match; a 412 sets conflict (overwrite() then deletes the current version). */
  async function remove(): Promise<DeleteResult> {
    const base = state.base
    if (!base) return {}
    try {
      const res = await deleteEntry(ref, base.id, { ...call, ifMatch: entryTag(base) })
      state.conflict = false
      return res
    } catch (err) {
      if (isStale(err)) {
        state.conflict = true
        pending = null
        pendingDelete = true
      }
      throw err
    }
  }

  /** Reads the current version of the entry: it becomes the base, the conflict is dropped. */
  async function reload(): Promise<Entry> {
    if (!state.base) throw new Error('reload: no entry')
    const latest = await getEntry(ref, state.base.id, call)
    state.base = latest
    state.conflict = false
    pending = null
    pendingDelete = false
    return latest
  }

  /** Resends the rejected change (or delete) with the tag of the current version. */
  async function overwrite(): Promise<WrittenEntry | DeleteResult> {
    if (!state.base) throw new Error('overwrite: no entry')
    const latest = await getEntry(ref, state.base.id, call)
    state.base = latest
    if (pendingDelete) {
      pendingDelete = false
      return remove()
    }
    return patch(latest, pending ?? {})
  }

  return { state, save, remove, reload, overwrite }
}

export type EntryEditor = ReturnType<typeof createEntryEditor>
