// Workspaces (docs/frontend.md §3.1, §7 `workspace`): the caller's units from
// /me/units, the selected unit and year (remembered in localStorage), and the
// report of the selection.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref } from 'vue'

import { getMyUnits } from '@/api/session'
import type { MeUnit, Report } from '@/api/types'
import { getReport } from '@/api/units'
import { localStore, readJSON, writeJSON } from './storage'

export const SELECTION_KEY = 'co2.workspace.selection'

export interface Selection {
  unitId: number
  year: number
}

function isSelection(v: unknown): v is Selection {
  return (
    typeof v === 'object' &&
    v !== null &&
    Number.isInteger((v as Selection).unitId) &&
    Number.isInteger((v as Selection).year)
  )
}

/** The remembered selection when it is still one of the caller's unit-years. */
export function validSelection(units: readonly MeUnit[], sel: unknown): Selection | null {
  if (!isSelection(sel)) return null
  const u = units.find((x) => x.unit.id === sel.unitId)
  return u && u.reports.some((r) => r.year === sel.year) ? { unitId: sel.unitId, year: sel.year } : null
}

export const useWorkspaceStore = defineStore('workspace', () => {
  const units = ref<MeUnit[] | null>(null)
  const report = ref<Report | null>(null)
  const reportKey = ref('')
  let unitsInflight: Promise<MeUnit[]> | null = null

  function loadUnits(force = false): Promise<MeUnit[]> {
    if (units.value && !force) return Promise.resolve(units.value)
    unitsInflight ??= getMyUnits()
      .then((u) => {
        units.value = u
        return u
      })
      .finally(() => {
        unitsInflight = null
      })
    return unitsInflight
  }

  function unitById(id: number): MeUnit | undefined {
    return units.value?.find((u) => u.unit.id === id)
  }

  function remembered(): Selection | null {
    return validSelection(units.value ?? [], readJSON<unknown>(localStore(), SELECTION_KEY))
  }

  function remember(sel: Selection) {
    writeJSON(localStore(), SELECTION_KEY, sel)
  }

  /** GET …/report of a unit-year (cached for the current key unless forced). */
  async function loadReport(unitId: number, year: number, force = false): Promise<Report> {
    const key = `${unitId}/${year}`
    if (!force && report.value && reportKey.value === key) return report.value
    const r = await getReport(unitId, year)
    report.value = r
    reportKey.value = key
    return r
  }

  function clear() {
    units.value = null
    report.value = null
    reportKey.value = ''
  }

  return { units, report, loadUnits, unitById, remembered, remember, loadReport, clear }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useWorkspaceStore, import.meta.hot))
