// One year of the data-management page: loaded with its ETag, its
// configuration patched with If-Match (a 412 reloads it and says so), the
// API's 422 details kept per configuration path for the fields to show.
import { ref, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'

import { isApiError } from '@/api/client'
import { getYear, patchYear, type YearInfo, type YearPatch } from '@/api/years'
import { detailMessage, errorMessage } from '@/display/errors'
import { configFieldErrors } from './years'

export function useYear(year: Ref<number | null>) {
  const { t } = useI18n()
  const info = ref<YearInfo | null>(null)
  const etag = ref<string | null>(null)
  const error = ref('')
  const fieldErrors = ref<Record<string, string>>({})
  const saving = ref(false)

  async function load() {
    const y = year.value
    if (y === null) {
      info.value = null
      return
    }
    try {
      const res = await getYear(y)
      if (year.value !== y) return
      info.value = res.year
      etag.value = res.etag
    } catch (err) {
      error.value = errorMessage(t, err)
    }
  }

  /** PATCH /years/{year}; resolves true when saved. Errors go to `error` and `fieldErrors`. */
  async function patch(body: YearPatch): Promise<boolean> {
    const y = year.value
    if (y === null) return false
    saving.value = true
    error.value = ''
    fieldErrors.value = {}
    try {
      const res = await patchYear(y, body, etag.value)
      if (year.value === y) {
        info.value = res.year
        etag.value = res.etag
      }
      return true
    } catch (err) {
      if (isApiError(err) && err.status === 412) {
        await load()
        error.value = t('bo.data.yearChanged')
      } else {
        fieldErrors.value = configFieldErrors(err, (d) => detailMessage(t, d))
        error.value = errorMessage(t, err)
      }
      return false
    } finally {
      saving.value = false
    }
  }

  return { info, etag, error, fieldErrors, saving, load, patch }
}
