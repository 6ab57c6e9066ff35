// Back-office state (docs/frontend.md §7 `backoffice`): the reporting filters
// (mirrored in the URL query by the reporting page), the reporting years, and
// the data status of the year chosen on the data-management page.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import type { LocationQuery } from 'vue-router'

import { listBackofficeYears, type BackofficeYears } from '@/api/backoffice'
import { getYearDataStatus, type DataStatusModule } from '@/api/years'
import { emptyFilters, filtersFromQuery, tableFromQuery, type ReportingFilters, type TableState } from '@/backoffice/filters'
import { readJSON, sessionStore, writeJSON } from './storage'

export const DATA_YEAR_KEY = 'co2.backoffice.dataYear'

export const useBackofficeStore = defineStore('backoffice', () => {
  const filters = ref<ReportingFilters>(emptyFilters())
  const table = ref<TableState>({ page: 1, limit: 25, sort: '' })
  const years = ref<BackofficeYears | null>(null)
  let yearsInflight: Promise<BackofficeYears> | null = null
  const dataStatus = reactive<Record<number, DataStatusModule[]>>({})
  const dataYear = ref<number | null>(readJSON<number>(sessionStore(), DATA_YEAR_KEY) ?? null)

  /** GET /backoffice/years once (force reloads). */
  function loadYears(force = false): Promise<BackofficeYears> {
    if (years.value && !force) return Promise.resolve(years.value)
    yearsInflight ??= listBackofficeYears()
      .then((y) => (years.value = y))
      .finally(() => {
        yearsInflight = null
      })
    return yearsInflight
  }

  /** Reads the filters and the table state from the route query. */
  function fromQuery(q: LocationQuery) {
    filters.value = filtersFromQuery(q)
    table.value = tableFromQuery(q)
  }

  /** GET /years/{year}/data-status, kept per year. */
  async function loadDataStatus(year: number): Promise<DataStatusModule[]> {
    const rows = await getYearDataStatus(year)
    dataStatus[year] = rows
    return rows
  }

  function setDataYear(year: number | null) {
    dataYear.value = year
    writeJSON(sessionStore(), DATA_YEAR_KEY, year)
  }

  return { filters, table, years, loadYears, fromQuery, dataStatus, loadDataStatus, dataYear, setDataYear }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useBackofficeStore, import.meta.hot))
