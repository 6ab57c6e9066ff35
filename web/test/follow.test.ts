import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import type { Pipeline } from '@/api/types'
import { followPipeline, isTerminal, pollDelay, type FollowHandlers, type FollowMode } from '@/pipelines/follow'
import { fakeDeps, notFound, pipeline, unavailable } from './fakes'

function recorder() {
  const updates: Pipeline[] = []
  const modes: FollowMode[] = []
  const ended: Pipeline[] = []
  const errors: unknown[] = []
  const handlers: FollowHandlers = {
    onUpdate: (p) => updates.push(p),
    onEnd: (p) => ended.push(p),
    onError: (e) => errors.push(e),
    onModeChange: (m) => modes.push(m),
  }
  return { handlers, updates, modes, ended, errors }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('pollDelay', () => {
  it('polls every 1 s for 30 s, then 2 s, then 5 s after 2 min', () => {
    expect(pollDelay(0)).toBe(1000)
    expect(pollDelay(29_999)).toBe(1000)
    expect(pollDelay(30_000)).toBe(2000)
    expect(pollDelay(119_999)).toBe(2000)
    expect(pollDelay(120_000)).toBe(5000)
    expect(pollDelay(3_600_000)).toBe(5000)
  })
})

describe('isTerminal', () => {
  it('knows the terminal statuses', () => {
    expect(['NOT_STARTED', 'RUNNING', 'SUCCESS', 'PARTIAL', 'FAILED'].map((s) => isTerminal(s as never))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ])
    expect(isTerminal(undefined)).toBe(false)
  })
})

describe('followPipeline over SSE', () => {
  it('opens the event stream and delivers each new version', () => {
    const f = fakeDeps()
    const r = recorder()
    const follower = followPipeline('p1', r.handlers, f.deps)

    expect(f.sources).toHaveLength(1)
    expect(f.sources[0]!.url).toBe('/api/v1/pipelines/p1/events')
    expect(follower.mode).toBe('sse')

    const es = f.sources[0]!
    es.frame(pipeline('p1', 1, 'RUNNING', 10))
    es.frame(pipeline('p1', 1, 'RUNNING', 10)) // same version again (reconnect replay): ignored
    es.frame(pipeline('p1', 2, 'RUNNING', 50))
    es.emit('ping', '{}')
    es.emit('pipeline', 'not json') // ignored
    expect(r.updates.map((p) => p.progress.percent)).toEqual([10, 50])
    expect(f.fetchPipeline).not.toHaveBeenCalled()
  })

  it('stops on a terminal frame', () => {
    const f = fakeDeps()
    const r = recorder()
    const follower = followPipeline('p1', r.handlers, f.deps)
    const es = f.sources[0]!
    es.frame(pipeline('p1', 1))
    es.frame(pipeline('p1', 2, 'PARTIAL', 100))
    es.emit('end', '{"status":"PARTIAL"}')

    expect(es.closed).toBe(true)
    expect(follower.mode).toBe('stopped')
    expect(r.ended.map((p) => p.status)).toEqual(['PARTIAL'])
    expect(r.modes).toEqual(['sse', 'stopped'])
    expect(f.fetchPipeline).not.toHaveBeenCalled()
  })

  it('fetches the final state when `end` comes without a terminal frame', async () => {
    const f = fakeDeps()
    const r = recorder()
    f.answers.push(pipeline('p1', 3, 'SUCCESS', 100))
    followPipeline('p1', r.handlers, f.deps)
    f.sources[0]!.frame(pipeline('p1', 2))
    f.sources[0]!.emit('end', '{"status":"SUCCESS"}')
    await vi.advanceTimersByTimeAsync(0)

    expect(f.sources[0]!.closed).toBe(true)
    expect(r.ended.map((p) => p.version)).toEqual([3])
  })

  it('keeps the stream after one error, falls back to polling after two', async () => {
    const f = fakeDeps()
    const r = recorder()
    f.answers.push(pipeline('p1', 5, 'RUNNING', 60))
    const follower = followPipeline('p1', r.handlers, f.deps)
    const es = f.sources[0]!

    es.error()
    expect(follower.mode).toBe('sse')
    es.frame(pipeline('p1', 4, 'RUNNING', 40)) // a frame resets the count
    es.error()
    expect(follower.mode).toBe('sse')
    es.error()
    expect(follower.mode).toBe('polling')
    expect(es.closed).toBe(true)

    await vi.advanceTimersByTimeAsync(0)
    expect(f.requests).toEqual([{ id: 'p1', etag: null }])
    expect(r.updates.map((p) => p.version)).toEqual([4, 5])
    es.frame(pipeline('p1', 9)) // a late frame of the closed stream is ignored
    expect(r.updates.map((p) => p.version)).toEqual([4, 5])
    follower.stop()
  })

  it('falls back at once when the browser gives up the stream (e.g. 401/404 on open)', () => {
    const f = fakeDeps()
    f.answers.push(pipeline('p1', 1))
    const follower = followPipeline('p1', recorder().handlers, f.deps)
    f.sources[0]!.error(true)
    expect(follower.mode).toBe('polling')
    follower.stop()
  })
})

describe('followPipeline polling', () => {
  it('polls without EventSource, with If-None-Match, on the 1 s / 2 s / 5 s schedule', async () => {
    const f = fakeDeps({ sse: false })
    const r = recorder()
    f.answers.push(pipeline('p1', 1, 'RUNNING', 10), 'not-modified')
    const follower = followPipeline('p1', r.handlers, f.deps)
    expect(follower.mode).toBe('polling')

    await vi.advanceTimersByTimeAsync(0)
    expect(f.requests).toHaveLength(1)
    expect(r.updates).toHaveLength(1)

    // First 30 s: one request per second (the first one at t=0).
    await vi.advanceTimersByTimeAsync(29_000)
    expect(f.requests).toHaveLength(30)
    expect(f.requests.slice(1).every((q) => q.etag === 'W/"p-1"')).toBe(true)
    expect(r.updates).toHaveLength(1) // 304s change nothing

    // 30 s – 2 min: every 2 s.
    const at30 = f.requests.length
    await vi.advanceTimersByTimeAsync(90_000)
    expect(f.requests.length - at30).toBe(45)

    // After 2 min: every 5 s.
    const at120 = f.requests.length
    await vi.advanceTimersByTimeAsync(60_000)
    expect(f.requests.length - at120).toBe(12)
    follower.stop()
  })

  it('delivers changes and stops on a terminal status', async () => {
    const f = fakeDeps({ sse: false })
    const r = recorder()
    f.answers.push(pipeline('p1', 1, 'RUNNING', 10), 'not-modified', pipeline('p1', 2, 'RUNNING', 70), pipeline('p1', 3, 'FAILED', 70))
    const follower = followPipeline('p1', r.handlers, f.deps)
    await vi.advanceTimersByTimeAsync(10_000)

    expect(r.updates.map((p) => p.version)).toEqual([1, 2, 3])
    expect(r.ended.map((p) => p.status)).toEqual(['FAILED'])
    expect(follower.mode).toBe('stopped')
    expect(f.requests).toHaveLength(4)
  })

  it('keeps polling through network and 5xx errors', async () => {
    const f = fakeDeps({ sse: false })
    const r = recorder()
    f.answers.push(new TypeError('offline'), unavailable(), pipeline('p1', 1, 'SUCCESS', 100))
    followPipeline('p1', r.handlers, f.deps)
    await vi.advanceTimersByTimeAsync(5_000)

    expect(f.requests).toHaveLength(3)
    expect(r.errors).toEqual([])
    expect(r.ended).toHaveLength(1)
  })

  it('stops with onError on a 404', async () => {
    const f = fakeDeps({ sse: false })
    const r = recorder()
    f.answers.push(notFound())
    const follower = followPipeline('p1', r.handlers, f.deps)
    await vi.advanceTimersByTimeAsync(5_000)

    expect(f.requests).toHaveLength(1)
    expect(r.errors).toMatchObject([{ status: 404 }])
    expect(follower.mode).toBe('stopped')
  })

  it('stop() cancels the next poll and ignores an answer in flight', async () => {
    const f = fakeDeps({ sse: false })
    const r = recorder()
    f.answers.push(pipeline('p1', 1))
    const follower = followPipeline('p1', r.handlers, f.deps)
    follower.stop() // the first request is in flight
    await vi.advanceTimersByTimeAsync(10_000)

    expect(f.requests).toHaveLength(1)
    expect(r.updates).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })
})
