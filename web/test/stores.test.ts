import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'

import { usePipeline } from '@/composables/usePipeline'
import { ACTIVE_PIPELINES_KEY, setPipelineFollowDeps, usePipelinesStore } from '@/stores/pipelines'
import { PREFERENCES_KEY, usePreferencesStore } from '@/stores/preferences'
import { fakeDeps, notFound, pipeline } from './fakes'

beforeEach(() => {
  localStorage.clear()
  sessionStorage.clear()
  setActivePinia(createPinia())
})

describe('preferences store', () => {
  it('starts empty and prefers the browser language, then English', () => {
    const prefs = usePreferencesStore()
    expect(prefs.language).toBeNull()
    expect(prefs.colorBlind).toBe(false)
    expect(prefs.preferredLanguage(['fr-CH', 'en'])).toBe('fr')
    expect(prefs.preferredLanguage(['de-CH'])).toBe('en')
    expect(prefs.preferredLanguage([])).toBe('en')
  })

  it('persists the language and the colour-blind mode to localStorage', () => {
    const prefs = usePreferencesStore()
    prefs.setLanguage('fr')
    prefs.setColorBlind(true)
    expect(JSON.parse(localStorage.getItem(PREFERENCES_KEY)!)).toEqual({ language: 'fr', colorBlind: true })

    setActivePinia(createPinia()) // a new page load
    const again = usePreferencesStore()
    expect(again.language).toBe('fr')
    expect(again.colorBlind).toBe(true)
    expect(again.preferredLanguage(['en'])).toBe('fr') // last used wins over the browser
  })

  it('ignores corrupt or unknown stored values', () => {
    localStorage.setItem(PREFERENCES_KEY, '{"language":"de","colorBlind":"yes"}')
    expect(usePreferencesStore().language).toBeNull()
    setActivePinia(createPinia())
    localStorage.setItem(PREFERENCES_KEY, '{not json')
    expect(usePreferencesStore().language).toBeNull()
  })

  it('survives a storage that throws', () => {
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError')
    })
    const prefs = usePreferencesStore()
    expect(() => prefs.setLanguage('fr')).not.toThrow()
    expect(prefs.language).toBe('fr')
  })
})

describe('pipelines store', () => {
  let restore: () => void
  let f: ReturnType<typeof fakeDeps>

  beforeEach(() => {
    vi.useFakeTimers()
    f = fakeDeps()
    restore = setPipelineFollowDeps(() => f.deps)
  })
  afterEach(() => {
    restore()
    vi.useRealTimers()
  })

  const active = () => JSON.parse(sessionStorage.getItem(ACTIVE_PIPELINES_KEY) ?? '[]') as string[]

  it('shares one follower among subscribers (ref-counted)', () => {
    const store = usePipelinesStore()
    const a = store.subscribe('p1')
    const b = store.subscribe('p1')
    expect(f.sources).toHaveLength(1)
    expect(store.subscriberCount('p1')).toBe(2)
    expect(store.modes.p1).toBe('sse')

    a()
    a() // releasing twice counts once
    expect(f.sources[0]!.closed).toBe(false)
    b()
    expect(f.sources[0]!.closed).toBe(true)
    expect(store.subscriberCount('p1')).toBe(0)

    store.subscribe('p1')
    expect(f.sources).toHaveLength(2) // a new subscription starts a new follower
  })

  it('stores updates and keeps active ids in sessionStorage until terminal', () => {
    const store = usePipelinesStore()
    store.subscribe('p1')
    store.subscribe('p2')
    expect(active()).toEqual(['p1', 'p2'])
    expect(store.activeIds()).toEqual(['p1', 'p2'])

    f.sources[0]!.frame(pipeline('p1', 1, 'RUNNING', 30))
    expect(store.byId.p1?.progress.percent).toBe(30)
    f.sources[0]!.frame(pipeline('p1', 2, 'SUCCESS', 100))
    expect(store.byId.p1?.status).toBe('SUCCESS')
    expect(store.modes.p1).toBe('stopped')
    expect(active()).toEqual(['p2'])
  })

  it('does not follow a pipeline already known to be terminal', () => {
    const store = usePipelinesStore()
    store.put(pipeline('p1', 4, 'FAILED'))
    store.subscribe('p1')
    expect(f.sources).toHaveLength(0)
    expect(store.byId.p1?.status).toBe('FAILED')
  })

  it('ignores older versions', () => {
    const store = usePipelinesStore()
    store.put(pipeline('p1', 5, 'RUNNING', 50))
    store.put(pipeline('p1', 4, 'RUNNING', 40))
    expect(store.byId.p1?.version).toBe(5)
  })

  it('records a permanent error and forgets the active id', async () => {
    f = fakeDeps({ sse: false })
    f.answers.push(notFound())
    const store = usePipelinesStore()
    store.subscribe('p1')
    await vi.advanceTimersByTimeAsync(0)
    expect(store.errors.p1).toMatchObject({ status: 404 })
    expect(active()).toEqual([])
  })

  it('usePipeline follows while its scope lives and switches ids', async () => {
    const store = usePipelinesStore()
    const id = ref<string | null>('p1')
    const scope = effectScope()
    const result = scope.run(() => usePipeline(id))!

    expect(store.subscriberCount('p1')).toBe(1)
    expect(result.mode.value).toBe('sse')
    f.sources[0]!.frame(pipeline('p1', 1, 'RUNNING', 20))
    expect(result.pipeline.value?.progress.percent).toBe(20)
    expect(result.terminal.value).toBe(false)

    id.value = 'p2'
    await nextTick()
    expect(store.subscriberCount('p1')).toBe(0)
    expect(store.subscriberCount('p2')).toBe(1)
    expect(result.pipeline.value).toBeUndefined()

    id.value = null
    await nextTick()
    expect(store.subscriberCount('p2')).toBe(0)
    expect(result.mode.value).toBe('stopped')

    id.value = 'p3'
    await nextTick()
    scope.stop()
    expect(store.subscriberCount('p3')).toBe(0)
  })
})
