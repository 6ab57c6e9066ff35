import { defineBoot } from '#q-app'

import { createReporter, installGlobalHandlers } from '@/monitoring/sentry'
import { useConfigStore } from '@/stores/config'

// Reads GET /api/v1/config without delaying the start; when a Sentry DSN is
// set, reports unhandled errors (window, promises, Vue) to it.
export default defineBoot(({ app, store }) => {
  const config = useConfigStore(store)
  void config.load().then(() => {
    if (!config.sentryDsn || typeof window === 'undefined') return
    const reporter = createReporter(config.sentryDsn, config.env)
    if (!reporter) {
      console.warn('monitoring: APP_SENTRY_DSN is not a valid DSN; error reporting is off')
      return
    }
    installGlobalHandlers(reporter)
    const previous = app.config.errorHandler
    app.config.errorHandler = (err, instance, info) => {
      reporter.report(err, { mechanism: 'vue', info })
      if (previous) previous(err, instance, info)
      else console.error(err) // what Vue does without a handler
    }
  })
})
