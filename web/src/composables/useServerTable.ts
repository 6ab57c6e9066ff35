// Server-side paging of a Quasar q-table (docs/frontend.md §4): the page,
// page size, sort and total the list endpoints take and return, the table's
// pagination model over them, its @request handler (which reloads), and the
// paging labels every back-office table shows.
import type { QTableProps } from 'quasar'
import { computed, ref } from 'vue'
import { useI18n } from 'vue-i18n'

export const ROWS_PER_PAGE = [25, 50, 100] as const

export function useServerTable(load: () => unknown) {
  const { t } = useI18n()
  const page = ref(1)
  const limit = ref<number>(ROWS_PER_PAGE[0])
  const total = ref(0)
  const sortBy = ref<string | null>(null)
  const descending = ref(false)

  const pagination = computed<NonNullable<QTableProps['pagination']>>({
    get: () => ({ page: page.value, rowsPerPage: limit.value, rowsNumber: total.value, sortBy: sortBy.value, descending: descending.value }),
    set: () => undefined,
  })
  const onRequest: NonNullable<QTableProps['onRequest']> = ({ pagination: p }) => {
    page.value = p.page ?? 1
    limit.value = p.rowsPerPage ?? ROWS_PER_PAGE[0]
    sortBy.value = p.sortBy ?? null
    descending.value = !!p.descending
    void load()
  }
  /** v-bind on the q-table: page sizes and the paging labels. */
  const tableProps = computed(() => ({
    rowsPerPageOptions: [...ROWS_PER_PAGE],
    rowsPerPageLabel: t('module.rowsPerPage'),
    paginationLabel: (first: number, end: number, count: number) => t('module.paginationLabel', { first, end, total: count }),
  }))

  return { page, limit, total, sortBy, descending, pagination, onRequest, tableProps }
}
