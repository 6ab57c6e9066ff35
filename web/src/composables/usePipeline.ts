import { computed, onScopeDispose, toValue, watch, type MaybeRefOrGetter } from 'vue'

import { usePipelinesStore } from '@/stores/pipelines'
import { isTerminal } from '@/pipelines/follow'

/**
 * Follows the pipeline id (a ref or getter; null/undefined follows nothing)
 * for as long as the calling component (effect scope) lives.
 */
export function usePipeline(id: MaybeRefOrGetter<string | null | undefined>) {
  const store = usePipelinesStore()
  let release: (() => void) | null = null

  watch(
    () => toValue(id),
    (next) => {
      release?.()
      release = next ? store.subscribe(next) : null
    },
    { immediate: true },
  )
  onScopeDispose(() => {
    release?.()
    release = null
  })

  const pipeline = computed(() => {
    const v = toValue(id)
    return v ? store.byId[v] : undefined
  })
  return {
    pipeline,
    mode: computed(() => {
      const v = toValue(id)
      return v ? (store.modes[v] ?? 'stopped') : 'stopped'
    }),
    error: computed(() => {
      const v = toValue(id)
      return v ? store.errors[v] : undefined
    }),
    terminal: computed(() => isTerminal(pipeline.value?.status)),
  }
}
