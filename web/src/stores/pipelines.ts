// Pipelines being followed (docs/frontend.md §5 and §7 `pipelines`): a map id →
// latest Pipeline, one shared follower per id (ref-counted subscriptions),
// and the ids of active pipelines in sessionStorage so pages can re-attach
// after a reload.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { reactive } from 'vue'

import type { Pipeline } from '@/api/types'
import { browserFollowDeps, followPipeline, isTerminal, type Follower, type FollowDeps, type FollowMode } from '@/pipelines/follow'
import { readJSON, sessionStore, writeJSON } from './storage'

export const ACTIVE_PIPELINES_KEY = 'co2.pipelines.active'

let depsFactory: () => FollowDeps = () => browserFollowDeps()

/** Replaces the follower's dependencies (tests use fakes); returns a restore function. */
export function setPipelineFollowDeps(factory: () => FollowDeps): () => void {
  const previous = depsFactory
  depsFactory = factory
  return () => {
    depsFactory = previous
  }
}

interface Subscription {
  refs: number
  follower: Follower | null
}

export const usePipelinesStore = defineStore('pipelines', () => {
  const byId = reactive<Record<string, Pipeline>>({})
  const modes = reactive<Record<string, FollowMode>>({})
  const errors = reactive<Record<string, unknown>>({})
  // Not reactive: bookkeeping only.
  const subscriptions = new Map<string, Subscription>()

  function activeIds(): string[] {
    const ids = readJSON<unknown>(sessionStore(), ACTIVE_PIPELINES_KEY)
    return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : []
  }

  function setActive(id: string, active: boolean) {
    const ids = activeIds().filter((x) => x !== id)
    if (active) ids.push(id)
    writeJSON(sessionStore(), ACTIVE_PIPELINES_KEY, ids)
  }

  /** Stores a pipeline obtained elsewhere (e.g. the 202 answer of an upload); older versions are ignored. */
  function put(p: Pipeline) {
    const current = byId[p.id]
    if (current && current.version > p.version) return
    byId[p.id] = p
    if (isTerminal(p.status)) setActive(p.id, false)
  }

  function start(id: string, sub: Subscription) {
    delete errors[id]
    setActive(id, true)
    sub.follower = followPipeline(
      id,
      {
        onUpdate: put,
        onEnd: () => {
          sub.follower = null
          setActive(id, false)
        },
        onError: (err) => {
          sub.follower = null
          errors[id] = err
          setActive(id, false)
        },
        onModeChange: (mode) => {
          modes[id] = mode
        },
      },
      depsFactory(),
    )
  }

  /**
   * Follows a pipeline until it is terminal. Several callers share one
   * follower; the returned function releases this caller's reference, and the
   * follower stops when the last one is released.
   */
  function subscribe(id: string): () => void {
    let sub = subscriptions.get(id)
    if (!sub) {
      sub = { refs: 0, follower: null }
      subscriptions.set(id, sub)
      if (!isTerminal(byId[id]?.status)) start(id, sub)
    }
    sub.refs++
    const s = sub
    let released = false
    return () => {
      if (released) return
      released = true
      s.refs--
      if (s.refs > 0) return
      s.follower?.stop()
      s.follower = null
      subscriptions.delete(id)
    }
  }

  /** Number of callers following id (for tests and debugging). */
  function subscriberCount(id: string): number {
    return subscriptions.get(id)?.refs ?? 0
  }

  return { byId, modes, errors, put, subscribe, subscriberCount, activeIds }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(usePipelinesStore, import.meta.hot))
