#!/usr/bin/env node
// Smoke check of a running SPA with Debian's Chromium through playwright-core
// (never `npx playwright install`: no browser downloads here).
//
//   node e2e/smoke.mjs URL [--wait-for SELECTOR] [--out NAME] [--timeout MS]
//
// Opens URL in a fresh headless profile, waits for the network to settle (and
// for SELECTOR when given), saves test-artifacts/NAME.png (NAME defaults to
// the URL path), and exits 1 on any console error, uncaught page error or
// failed request. Environment: CHROMIUM (default /usr/bin/chromium),
// ARTIFACTS_DIR (default test-artifacts, relative to the current directory).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { chromium } from 'playwright-core'

import { CHROMIUM_ARGS, chromiumPath } from './harness.mjs'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'wait-for': { type: 'string' },
    out: { type: 'string' },
    timeout: { type: 'string', default: '30000' },
  },
})
const url = positionals[0]
if (!url) {
  console.error('usage: node e2e/smoke.mjs URL [--wait-for SELECTOR] [--out NAME] [--timeout MS]')
  process.exit(2)
}
const timeout = Number(values.timeout)
const name = values.out ?? (new URL(url).pathname.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'root')
const artifacts = resolve(process.env.ARTIFACTS_DIR ?? 'test-artifacts')
const screenshot = join(artifacts, `${name}.png`)
mkdirSync(artifacts, { recursive: true })

const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'))
const problems = []
const started = performance.now()
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath(),
  headless: true,
  viewport: { width: 1280, height: 800 },
  timeout,
  args: CHROMIUM_ARGS,
})
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage())
  page.setDefaultTimeout(timeout)
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()} (${msg.location().url})`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.method()} ${req.url()} ${req.failure()?.errorText ?? ''}`))

  const res = await page.goto(url, { waitUntil: 'networkidle' })
  if (!res || !res.ok()) problems.push(`navigation: HTTP ${res?.status() ?? 'no response'} for ${url}`)
  if (values['wait-for']) await page.waitForSelector(values['wait-for'], { state: 'visible' })
  await page.screenshot({ path: screenshot, fullPage: true })
  console.log(`smoke: ${page.url()} "${await page.title()}" → ${screenshot} (${Math.round(performance.now() - started)} ms)`)
} catch (err) {
  problems.push(`error: ${err instanceof Error ? err.message : String(err)}`)
} finally {
  await ctx.close()
  rmSync(profile, { recursive: true, force: true })
}

if (problems.length > 0) {
  for (const p of problems) console.error(`smoke: ${p}`)
  process.exit(1)
}
