// Test doubles for the pipeline follower: an EventSource, a pipeline API, a clock.
import { vi } from 'vitest'

import { ApiError } from '@/api/client'
import type { PipelineFetchResult } from '@/api/pipelines'
import type { Pipeline, PipelineStatus } from '@/api/types'
import type { EventSourceLike, FollowDeps } from '@/pipelines/follow'

export function pipeline(id: string, version: number, status: PipelineStatus = 'RUNNING', percent = 0): Pipeline {
  return {
    id,
    kind: 'csv_import',
    status,
    cancelled: false,
    trigger: 'user',
    created_at: '2026-01-01T00:00:00Z',
    progress: {
      phase: 'load',
      phase_index: 1,
      phases_total: 2,
      phase_label: 'Loading',
      done: percent,
      total: 100,
      percent,
      message: '',
      eta_seconds: null,
    },
    counters: {},
    jobs: [],
    version,
  }
}

export class FakeEventSource implements EventSourceLike {
  readyState = 0
  closed = false
  private listeners = new Map<string, ((ev: MessageEvent<string>) => void)[]>()

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: (ev: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }

  close() {
    this.closed = true
    this.readyState = 2
  }

  emit(type: string, data = '') {
    for (const l of this.listeners.get(type) ?? []) l(new MessageEvent(type, { data }))
  }

  /** A `pipeline` frame. */
  frame(p: Pipeline) {
    this.readyState = 1
    this.emit('pipeline', JSON.stringify(p))
  }

  /** A transient error (the browser will reconnect) or a final one (readyState CLOSED). */
  error(final = false) {
    this.readyState = final ? 2 : 0
    this.emit('error')
  }
}

/** What the fake API answers to GET /pipelines/{id}. */
export type Answer = Pipeline | 'not-modified' | ApiError | Error

/**
 * Deps with fake EventSource and API; the clock and timers are vitest's fake
 * timers (vi.useFakeTimers()), so advancing time runs the polls.
 */
export function fakeDeps(opts: { sse?: boolean } = {}) {
  const sources: FakeEventSource[] = []
  const answers: Answer[] = []
  const requests: { id: string; etag: string | null }[] = []
  let current: Pipeline | undefined

  const fetchPipeline = vi.fn(async (id: string, etag: string | null): Promise<PipelineFetchResult> => {
    requests.push({ id, etag })
    const a = answers.length > 1 ? answers.shift()! : answers[0] // the last answer repeats
    await Promise.resolve()
    if (a === undefined) throw new Error('no answer queued')
    if (a instanceof Error) throw a
    if (a === 'not-modified') return { notModified: true, etag }
    current = a
    return { notModified: false, etag: `W/"p-${a.version}"`, pipeline: a }
  })

  const deps: FollowDeps = {
    openEventSource:
      opts.sse === false
        ? null
        : (url) => {
            const es = new FakeEventSource(url)
            sources.push(es)
            return es
          },
    eventsUrl: (id) => `/api/v1/pipelines/${id}/events`,
    fetchPipeline,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    now: () => Date.now(),
  }
  return {
    deps,
    sources,
    answers,
    requests,
    fetchPipeline,
    get current() {
      return current
    },
  }
}

export const notFound = () => new ApiError(404, 'not_found', 'pipeline not found')
export const unavailable = () => new ApiError(503, 'http_503', 'Service Unavailable')

/** One request seen by recordingFetch. */
export interface RecordedCall {
  method: string
  url: string
  headers: Headers
  body: BodyInit | null | undefined
}

/**
 * A fetch that records every request and answers with `answer(call)`
 * (default: 200 with an empty JSON object), for checking what the API
 * modules send.
 */
export function recordingFetch(answer: (call: RecordedCall) => Response = () => jsonResponse({})) {
  const calls: RecordedCall[] = []
  const fetch = vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
    const call: RecordedCall = {
      method: init?.method ?? 'GET',
      url: input instanceof Request ? input.url : input.toString(),
      headers: new Headers(init?.headers),
      body: init?.body,
    }
    calls.push(call)
    return Promise.resolve(answer(call))
  })
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls }
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}
