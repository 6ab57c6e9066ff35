// Following one pipeline (docs/frontend.md §5.4):
//
//   1. EventSource on the pipeline's event stream: `pipeline` frames carry
//      the Pipeline JSON, `end` says it is terminal (the server then closes).
//   2. If the stream errors twice without a frame in between (or fails for
//      good, readyState CLOSED), fall back to polling the pipeline with
//      If-None-Match: every 1 s for 30 s, then every 2 s, then every 5 s after
//      2 min; a 304 changes nothing.
//   3. Stop on a terminal status (SUCCESS, PARTIAL, FAILED).
//
// Everything the follower touches (EventSource, the API, timers, the clock)
// is injected, so it is unit-tested with fakes.
import { isApiError, type ApiClient } from '@/api/client'
import { getPipeline, pipelineEventsUrl, type PipelineFetchResult } from '@/api/pipelines'
import type { Pipeline, PipelineStatus } from '@/api/types'

export const TERMINAL_STATUSES: readonly PipelineStatus[] = ['SUCCESS', 'PARTIAL', 'FAILED']

export function isTerminal(status: PipelineStatus | undefined): boolean {
  return status !== undefined && TERMINAL_STATUSES.includes(status)
}

/** Polling interval once the stream is given up, by time spent polling. */
export function pollDelay(elapsedMs: number): number {
  if (elapsedMs < 30_000) return 1_000
  if (elapsedMs < 120_000) return 2_000
  return 5_000
}

/** SSE errors (without a frame in between) after which polling takes over. */
export const SSE_MAX_ERRORS = 2

/** The part of EventSource the follower uses. */
export interface EventSourceLike {
  readonly readyState: number
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void
  close(): void
}

/** EventSource.CLOSED: the browser gave up and will not reconnect. */
const ES_CLOSED = 2

export type FollowMode = 'sse' | 'polling' | 'stopped'

export interface FollowDeps {
  /** Opens an event stream; null when EventSource is unavailable (polling only). */
  openEventSource: ((url: string) => EventSourceLike) | null
  eventsUrl(id: string): string
  fetchPipeline(id: string, etag: string | null): Promise<PipelineFetchResult>
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  now(): number
}

export interface FollowHandlers {
  /** A new version of the pipeline. */
  onUpdate(pipeline: Pipeline): void
  /** The pipeline reached a terminal status; the follower has stopped. */
  onEnd?(pipeline: Pipeline): void
  /** A permanent error (e.g. 404): the follower has stopped. */
  onError?(error: unknown): void
  onModeChange?(mode: FollowMode): void
}

export interface Follower {
  readonly mode: FollowMode
  stop(): void
}

/** Default dependencies: the browser's EventSource, the API client (default the app's), real timers. */
export function browserFollowDeps(client?: ApiClient): FollowDeps {
  return {
    openEventSource:
      typeof EventSource === 'undefined' ? null : (url) => new EventSource(url, { withCredentials: true }),
    eventsUrl: (id) => pipelineEventsUrl(id, { client }),
    fetchPipeline: (id, etag) => getPipeline(id, etag, { client }),
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
    now: () => Date.now(),
  }
}

/** Errors after which polling goes on (network, 5xx, 408, 429); others stop it. */
function retryable(err: unknown): boolean {
  if (!isApiError(err)) return true
  return err.status === 0 || err.status >= 500 || err.status === 408 || err.status === 429
}

export function followPipeline(id: string, handlers: FollowHandlers, deps: FollowDeps): Follower {
  let mode: FollowMode = 'stopped'
  let es: EventSourceLike | null = null
  let sseErrors = 0
  let timer: unknown = null
  let etag: string | null = null
  let pollStart = 0
  let lastVersion = -1

  const setMode = (m: FollowMode) => {
    if (mode === m) return
    mode = m
    handlers.onModeChange?.(m)
  }

  const closeStream = () => {
    es?.close()
    es = null
  }

  const stop = () => {
    closeStream()
    if (timer !== null) deps.clearTimeout(timer)
    timer = null
    setMode('stopped')
  }

  /** Delivers a version; returns false once terminal (and stopped). */
  const deliver = (p: Pipeline): boolean => {
    if (p.version !== lastVersion) {
      lastVersion = p.version
      handlers.onUpdate(p)
    }
    if (isTerminal(p.status)) {
      stop()
      handlers.onEnd?.(p)
      return false
    }
    return true
  }

  const poll = async () => {
    timer = null
    try {
      const res = await deps.fetchPipeline(id, etag)
      if (mode !== 'polling') return // stopped meanwhile
      etag = res.etag
      if (!res.notModified && !deliver(res.pipeline)) return
    } catch (err) {
      if (mode !== 'polling') return
      if (!retryable(err)) {
        stop()
        handlers.onError?.(err)
        return
      }
    }
    timer = deps.setTimeout(() => void poll(), pollDelay(deps.now() - pollStart))
  }

  const startPolling = () => {
    closeStream()
    if (mode === 'polling') return
    setMode('polling')
    pollStart = deps.now()
    void poll()
  }

  const startStream = (open: (url: string) => EventSourceLike) => {
    setMode('sse')
    const stream = open(deps.eventsUrl(id))
    es = stream
    stream.addEventListener('pipeline', (ev) => {
      if (es !== stream) return
      let p: Pipeline
      try {
        p = JSON.parse(ev.data) as Pipeline
      } catch {
        return
      }
      sseErrors = 0
      deliver(p)
    })
    stream.addEventListener('end', () => {
      if (es !== stream) return
      // Normally the last `pipeline` frame was terminal and we stopped already;
      // otherwise fetch the final state.
      startPolling()
    })
    stream.addEventListener('error', () => {
      if (es !== stream) return
      sseErrors++
      if (sseErrors >= SSE_MAX_ERRORS || stream.readyState === ES_CLOSED) startPolling()
    })
  }

  if (deps.openEventSource) startStream(deps.openEventSource)
  else startPolling()

  return {
    get mode() {
      return mode
    },
    stop,
  }
}
