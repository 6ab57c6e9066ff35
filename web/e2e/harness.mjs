// The harness of the end-to-end scripts (docs/frontend.md, end-to-end tests):
// the command line, the steps and their report, the console watch, axe-core,
// the worker's pause, polling — all of it for the suites lab.mjs and
// backoffice.mjs; Chromium's launch settings for app.e2e.mjs and smoke.mjs.
/* global document, window, axe */
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'

/** Chromium's flags on this kind of machine: headless, no sandbox (root), no background network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Chromium's executable (CHROMIUM, else Debian's). */
export const chromiumPath = () => process.env.CHROMIUM ?? '/usr/bin/chromium'

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`)
}

/** Polls fn until it returns a truthy value (every interval ms, up to limit ms). */
export async function until(fn, what, limit = 60000, interval = 250) {
  const end = Date.now() + limit
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, interval))
  }
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/**
 * One suite's run: `node e2e/<name>.mjs BASE_URL` (exits 2 without it), its
 * artifacts directory, its steps and the problems that fail it at the end
 * (console errors, axe violations, the failed step).
 */
export function suite(name) {
  const base = (process.argv[2] ?? '').replace(/\/+$/, '')
  if (!base) {
    console.error(`usage: node e2e/${name}.mjs BASE_URL`)
    process.exit(2)
  }
  const artifacts = resolve(process.env.ARTIFACTS_DIR ?? 'test-artifacts/e2e')
  mkdirSync(artifacts, { recursive: true })
  const run = {
    name,
    base,
    artifacts,
    timeout: Number(process.env.E2E_TIMEOUT ?? 20000),
    /** The name of the step running (prefixes the problems it causes). */
    current: '',
    problems: [],
    steps: [],
    axeChecked: [],
    failed: null,
    async step(stepName, fn) {
      run.current = stepName
      const t0 = performance.now()
      await fn()
      const ms = Math.round(performance.now() - t0)
      run.steps.push({ name: stepName, ms })
      console.log(`e2e: ok  ${name} · ${stepName} (${ms} ms)`)
    },
    /** Records the error that stopped the journeys. */
    fail(err) {
      run.failed = err
      run.problems.push(`[${run.current}] ${err instanceof Error ? err.message : String(err)}`)
    },
    /** Prints the summary and exits 1 when anything went wrong. */
    report() {
      const total = run.steps.reduce((s, x) => s + x.ms, 0)
      console.log(`e2e: ${name} · ${run.steps.length} steps, ${total} ms; axe on ${run.axeChecked.length} views: ${run.axeChecked.join(', ')}`)
      if (run.problems.length > 0) {
        for (const p of [...new Set(run.problems)]) console.error(`e2e: FAIL ${p}`)
        if (run.failed?.stack) console.error(run.failed.stack)
        process.exit(1)
      }
    },
    /**
     * Fails the run on every console error and page error of page (who:
     * the user, in the message); returns expectHttpError(status, urlPart),
     * which allows one logged HTTP error a step provokes on purpose.
     */
    watch(page, who = '') {
      const expected = []
      const by = who ? `${who}: ` : ''
      page.on('console', (msg) => {
        if (msg.type() !== 'error') return
        const url = msg.location().url ?? ''
        const m = /^Failed to load resource: the server responded with a status of (\d+)/.exec(msg.text())
        const i = m ? expected.findIndex((e) => e.status === Number(m[1]) && url.includes(e.urlPart)) : -1
        if (i >= 0) {
          expected.splice(i, 1) // each expected error is allowed once
          return
        }
        run.problems.push(`[${run.current}] ${by}console error: ${msg.text()} (${url})`)
      })
      page.on('pageerror', (err) => run.problems.push(`[${run.current}] ${by}page error: ${err.message}`))
      return (status, urlPart) => expected.push({ status, urlPart })
    },
    /**
     * axe-core on page's document (or the element of selector): a serious or
     * critical violation is recorded (the run fails at the end, so one run
     * lists the violations of every page). The pointer is moved off the
     * controls (a hovered tint is not a contrast) and the toasts are let go
     * (axe would measure their fading, blended colours).
     */
    async a11y(page, viewName, selector) {
      await page.waitForLoadState('domcontentloaded')
      const vp = page.viewportSize()
      if (vp) await page.mouse.move(1, vp.height - 1)
      await page.waitForSelector('.q-notification', { state: 'detached', timeout: 15000 }).catch(() => undefined)
      if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource)
      const found = await page.evaluate(async (sel) => {
        const r = await axe.run(sel ? document.querySelector(sel) : document, { resultTypes: ['violations'] })
        return r.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}`)
      }, selector ?? null)
      run.axeChecked.push(viewName)
      for (const f of found) run.problems.push(`[${run.current}] axe on ${viewName}: ${f}`)
    },
    /** A full-page screenshot into the artifacts. */
    shot: (page, shotName) => page.screenshot({ path: join(artifacts, `${shotName}.png`), fullPage: true }),
  }
  return run
}

/** The worker run.sh started (WORKER_PID): paused with SIGSTOP while a journey looks, then resumed. */
const workerPid = Number(process.env.WORKER_PID ?? 0)
export function pauseWorker() {
  if (!workerPid) throw new Error('WORKER_PID is not set: run the journeys through e2e/run.sh')
  process.kill(workerPid, 'SIGSTOP')
}
export function resumeWorker() {
  if (workerPid) process.kill(workerPid, 'SIGCONT')
}
