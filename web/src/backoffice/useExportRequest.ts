// Sends an export request and tells the user where to find it: a toast with a
// link to "My exports" (/:lang/exports, docs/frontend.md §4.1).
import { Notify } from 'quasar'
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRouter } from 'vue-router'

import { createExport, type ExportAccepted, type ExportRequest } from '@/api/exports'
import { useLang } from '@/composables/useLang'
import { errorMessage } from '@/display/errors'

/** The SPA path of "My exports" (docs/frontend.md §2: /:lang/exports). */
export function myExportsPath(lang: string): string {
  return ['', lang, 'exports'].join('/')
}

export function useExportRequest() {
  const { t } = useI18n()
  const lang = useLang()
  const router = useRouter()
  const busy = ref(false)

  async function request(body: ExportRequest): Promise<ExportAccepted | null> {
    busy.value = true
    try {
      const res = await createExport(body)
      // data-test reaches the action's button as an attribute.
      const link = { label: t('bo.export.myExports'), color: 'white', 'data-test': 'export-toast-link', handler: () => void router.push(myExportsPath(lang.value)) }
      Notify.create({ type: 'positive', message: t('bo.export.requested', { file: res.export.filename ?? res.export.kind }), timeout: 8000, actions: [link] })
      return res
    } catch (err) {
      Notify.create({ type: 'negative', message: errorMessage(t, err) })
      return null
    } finally {
      busy.value = false
    }
  }

  return { request, busy }
}
