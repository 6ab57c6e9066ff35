#!/usr/bin/env node
/* global document, window, requestAnimationFrame */
// Lab-page journeys of issue 15 (docs/frontend.md §3, §5), against a running
// system started by e2e/run.sh (after app.e2e.mjs, or alone: E2E_SUITES=lab):
//
//   node e2e/lab.mjs BASE_URL
//
//   1. the principal adds a flight GVA → JFK with the airport autocomplete and
//      the traveller picker, sees the distance preview (= /locations/distance)
//      and the saved entry carries that distance;
//   2. the module charts of every module and the results charts (yearly line
//      with goals, IT focus, "Show data" tables), My exports and its badge;
//   3. an upload that "replaces my previous uploads" shows the byte transfer
//      (throttled network: percent and ETA) before the pipeline bar, is
//      cancelled mid-way (the worker paused once rows are being loaded) and
//      leaves the previous data: same row count and module total;
//   4. 390×844: Home and module pages have no horizontal scroll (screenshots);
//   5. performance: the headcount page with 5 000 members (topped up with a
//      member CSV upload) interactive < 1 s after an in-app navigation
//      (median of 3; the full reload is printed too).
// axe-core runs on every page (and the dialogs) visited: zero serious or
// critical violations. Any console error or page error fails the run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'

import { assert, CHROMIUM_ARGS, chromiumPath, pauseWorker, resumeWorker, suite, until } from './harness.mjs'
import { bigPlaneCsv } from './journeys.mjs'

const run = suite('lab')
const { base, timeout } = run
/** Module page with 5 000 entries: interactive within this after navigation (issue 15). */
const PERF_BUDGET_MS = Number(process.env.E2E_PERF_BUDGET_MS ?? 1000)
const PERF_ENTRIES = 5000
const repoDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const samples = resolve(process.env.E2E_SAMPLES ?? join(repoDir, '../shared/data/samples'))
const step = run.step

const profile = mkdtempSync(join(tmpdir(), 'chromium-lab-'))
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath(),
  headless: true,
  viewport: { width: 1366, height: 900 },
  timeout,
  bypassCSP: true, // axe-core is injected into the page
  args: CHROMIUM_ARGS,
})
const page = ctx.pages()[0] ?? (await ctx.newPage())
page.setDefaultTimeout(timeout)
run.watch(page)
const shot = (name) => run.shot(page, name)
const api = async (path) => {
  const res = await page.request.get(`${base}/api/v1${path}`)
  assert(res.ok(), `GET ${path} → ${res.status()}`)
  return res.json()
}
const csrf = async () => (await ctx.cookies()).find((c) => c.name === 'csrf_token')?.value ?? ''
/** axe-core on the current document (or one element): no serious or critical violation. */
const a11y = (name, selector) => run.a11y(page, name, selector)

try {
  let unitId, year
  const U = () => `/units/${unitId}/years/${year}`
  const modulePage = (m) => `${base}/en/u/${unitId}/${year}/modules/${m}`

  await step('principal signs in; workspace and Home pass axe', async () => {
    await page.goto(`${base}/api/v1/auth/login?login_hint=principal&return_to=${encodeURIComponent('/en/workspace?pick=1')}`)
    await page.waitForSelector('[data-test="pick-LAB-DEMO-2025"]')
    await a11y('workspace')
    await page.click('[data-test="pick-LAB-DEMO-2025"]')
    await page.waitForURL(/\/en\/u\/\d+\/2025$/)
    ;[, unitId, year] = /\/u\/(\d+)\/(\d{4})$/.exec(page.url())
    await page.waitForSelector('[data-test="home-total"]:not(:text("…"))')
    await a11y('home')
  })

  // ───────────── 1. a flight GVA → JFK with the autocomplete ─────────────
  await step('a flight GVA → JFK picked with the airport autocomplete and the traveller picker; distance previewed and saved', async () => {
    await page.goto(modulePage('professional_travel'))
    await page.waitForSelector('[data-test="table-plane"]')
    await page.waitForSelector('[data-test="module-charts"]')
    await a11y('module professional_travel')
    const members = await api(`${U()}/modules/headcount/members`)
    const traveller = members.find((m) => m.name) ?? members[0]
    assert(traveller, 'no headcount member to pick as traveller')

    await page.click('[data-test="add-plane"]')
    await page.waitForSelector('[data-test="entry-dialog"]')
    const field = (f) => page.locator(`[data-test="entry-dialog"] [data-test="field-${f}"]`)
    // Autocomplete: ≥ 2 characters, debounced; the option is the airport.
    const typeAndPick = async (f, text, option) => {
      await field(f).click()
      await field(f).pressSequentially(text, { delay: 30 })
      await page.click(`.q-menu [data-test="${option}"]`)
    }
    await typeAndPick('origin_iata', 'Genev', 'location-option-GVA')
    await typeAndPick('destination_iata', 'JFK', 'location-option-JFK')
    // The traveller picker lists the unit's members ("Name · SCIPER").
    await typeAndPick('user_institutional_id', traveller.name ? traveller.name.slice(0, 5) : traveller.sciper, `option-${traveller.sciper}`)
    await page.click('[data-test="entry-dialog"] [data-test="field-cabin_class"]')
    await page.click('.q-menu .q-item:has-text("Economy")')
    await field('departure_date').fill('2025-09-14')
    const want = await api('/locations/distance?mode=plane&origin=GVA&destination=JFK')
    assert(want.distance_km > 6000 && want.distance_km < 7000, `GVA→JFK distance ${want.distance_km} km`)
    const preview = page.locator(`[data-test="distance-preview"][data-km="${want.distance_km}"]`)
    await preview.waitFor()
    const text = await preview.textContent()
    assert(/km/.test(text), `distance preview "${text}"`)
    await shot('lab-01-flight-gva-jfk')
    await a11y('entry dialog (plane)', '[data-test="entry-dialog"]')
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/professional_travel/plane/entries'))
    await page.click('[data-test="entry-save"]')
    const res = await posted
    assert(res.status() === 201, `POST plane entry → ${res.status()}`)
    const saved = await res.json()
    await page.waitForSelector('[data-test="entry-dialog"]', { state: 'detached' })
    const entry = await api(`${U()}/modules/professional_travel/plane/entries/${saved.id ?? saved.entry?.id}`)
    assert(entry.data.origin_iata === 'GVA' && entry.data.destination_iata === 'JFK', `saved ${JSON.stringify(entry.data)}`)
    assert(entry.data.user_institutional_id === traveller.sciper, `traveller ${entry.data.user_institutional_id} vs ${traveller.sciper}`)
    assert(entry.computed.distance_km === want.distance_km, `saved distance ${entry.computed.distance_km} vs preview ${want.distance_km}`)
    // The table counts the new row (the entry itself may sit on another page of the sorted table).
    const count = (await api(`${U()}/modules/professional_travel/plane/entries?limit=1`)).total
    const counted = (sel, n) =>
      page.waitForFunction(
        ([q, count]) => (document.querySelector(q)?.textContent ?? '').replace(/(\d)[,\s\u202f\u00a0](?=\d{3})/g, '$1').includes(`of ${count}`),
        [sel, n],
      )
    await counted('[data-test="table-plane"] .q-table__bottom', count).catch(async (err) => {
      throw new Error(`plane table never counted ${count} rows: "${await page.textContent('[data-test="table-plane"] .q-table__bottom')}" (${err.message})`)
    })
    console.log(`e2e: lab · GVA→JFK ${want.distance_km} km, ${entry.computed.kg_co2eq ?? entry.kg_co2eq} kg CO2-eq`)
  })

  // ───────────── 2. module charts, results charts, exports ─────────────
  await step('module charts of every module ("Show data" tables), each module page passes axe', async () => {
    const expected = {
      headcount: ['fte', 'module-scope'],
      professional_travel: ['travel-class', 'trips-map', 'travelers', 'module-scope'],
      buildings: ['building-energy', 'embodied', 'module-scope'],
      equipment: ['top-classes', 'module-scope'],
      purchases: ['top-classes', 'module-scope'],
      research_facilities: ['top-classes', 'module-scope'],
    }
    for (const [m, cards] of Object.entries(expected)) {
      await page.goto(modulePage(m))
      // The charts are drawn once their section comes near the viewport.
      await page.locator('[data-test="module-charts"]').scrollIntoViewIfNeeded()
      for (const c of cards) await page.waitForSelector(`[data-test="chart-card-${c}"]`)
      // Every drawn chart has its data table.
      const first = page.locator('[data-test="module-charts"] [data-test$="-show-data"]').first()
      if (await first.count()) {
        await first.click()
        await page.waitForSelector('[data-test="module-charts"] [data-test$="-data"] tbody tr')
        // Off the button again (axe measures the contrast of the hover/focus overlay otherwise).
        await page.mouse.move(0, 0)
        await page.evaluate(() => document.activeElement?.blur?.())
      }
      await a11y(`module ${m}`)
      if (m === 'professional_travel') {
        await page.waitForSelector('[data-test="chart-trips-map"] canvas, [data-test="chart-trips-map-empty"]')
        await shot('lab-02-travel-charts')
      }
    }
  })

  await step('results: yearly line with goals, IT focus, "Show data"; print view; an export counted by the badge on My exports', async () => {
    await page.goto(`${base}/en/u/${unitId}/${year}/results`)
    await page.waitForSelector('[data-test="results-charts"]')
    for (const c of ['category', 'scope', 'yearly', 'it']) await page.waitForSelector(`[data-test="chart-card-${c}"]`)
    await page.click('[data-test="chart-yearly-show-data"]').catch(() => undefined)
    await a11y('results')
    await shot('lab-03-results')
    await page.click('[data-test="print-link"]')
    await page.waitForSelector('[data-test="print-total"]')
    await a11y('results print')
    await page.goBack()
    await page.waitForSelector('[data-test="results-charts"]')

    const before = (await api('/exports?limit=100')).items?.length ?? 0
    await page.click('[data-test="results-export"]')
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/exports'))
    await page.click('[data-test="results-export-csv"]')
    const res = await posted
    assert(res.status() === 202, `POST /exports → ${res.status()}`)
    const { export: exp } = await res.json()
    await page.waitForSelector('[data-test="exports-badge"]')
    await page.click('[data-test="exports-link"]')
    await page.waitForSelector(`[data-test="export-${exp.id}"]`)
    await page.waitForSelector(`[data-test="export-${exp.id}"][data-status="ready"]`, { timeout: 60000 })
    const href = await page.getAttribute(`[data-test="export-download-${exp.id}"]`, 'href')
    assert(href && href.includes(`/exports/${exp.id}/download`), `download link ${href}`)
    const after = (await api('/exports?limit=100')).items?.length ?? 0
    assert(after === before + 1, `exports ${before} → ${after}`)
    await a11y('my exports')
    await shot('lab-04-exports')
  })

  // ───────────── 3. transfer progress, cancel mid-way, previous data kept ─────────────
  await step('an upload replacing my previous plane rows: transfer bar with ETA, then cancelled mid-way; the previous data stays', async () => {
    const P = `${U()}/modules/professional_travel`
    const planeTotal = async () => (await api(`${P}/plane/entries?limit=1`)).total
    const stats = async () => {
      const ov = await until(async () => {
        const o = await api(P)
        return o.stats_pending ? null : o
      }, 'fresh module statistics')
      return ov.totals.kg_co2eq
    }
    const rowsBefore = await planeTotal()
    const kgBefore = await stats()
    const file = join(profile, 'plane_cancel.csv')
    writeFileSync(file, bigPlaneCsv(join(samples, 'plane_2025.csv'), 40000, `lab-cancel-${Date.now()}`))

    await page.goto(modulePage('professional_travel'))
    await page.waitForSelector('[data-test="table-plane"]')
    await page.click('[data-test="upload-plane"]')
    await page.waitForSelector('[data-test="upload-dialog"]')
    await a11y('upload dialog', '[data-test="upload-dialog"]')
    await page.setInputFiles('[data-test="upload-dialog"] input[type="file"]', file)
    const toggle = page.locator('[data-test="upload-replace"]')
    if ((await toggle.getAttribute('aria-checked')) !== 'true') await toggle.click()

    // A slow uplink (DevTools throttling) so the byte transfer is seen.
    const cdp = await ctx.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024 })
    const posted = page.waitForResponse((r) => r.url().endsWith(`${P}/uploads`) && r.request().method() === 'POST', { timeout: 60000 })
    await page.click('[data-test="upload-submit"]')
    let transfer
    try {
      const bar = await page.waitForSelector('[data-test="upload-transfer"]:not([data-percent=""])')
      await page.waitForFunction(() => {
        const p = Number(document.querySelector('[data-test="upload-transfer"]')?.getAttribute('data-percent'))
        return p > 0 && p < 100 && /left/.test(document.querySelector('[data-test="upload-transfer-text"]')?.textContent ?? '')
      })
      transfer = `${await bar.getAttribute('data-percent')} %, "${(await page.textContent('[data-test="upload-transfer-text"]')).trim()}"`
      await shot('lab-05-upload-transfer')
    } finally {
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
    }
    const res = await posted
    assert(res.status() === 202, `upload answered ${res.status()}`)
    const { pipeline } = await res.json()
    await page.waitForSelector('[data-test="upload-progress"]')
    // Mid-way: once the import has loaded rows, the worker is paused, the cancel recorded, the worker resumed.
    let at
    try {
      at = await until(
        async () => {
          const p = await api(`/pipelines/${pipeline.id}`)
          if (p.status !== 'RUNNING' && p.status !== 'NOT_STARTED') throw new Error(`the import ended (${p.status}) before it could be cancelled`)
          // Past validation: the previous rows are being replaced, or the new ones loaded.
          if ((p.progress.phase === 'replace' || p.progress.phase === 'load') && p.progress.done < p.progress.total) {
            pauseWorker()
            return `${p.progress.phase ?? ''} ${p.progress.done}/${p.progress.total}`
          }
          return null
        },
        'the import to load rows',
        60000,
        50,
      )
      const cancelled = page.waitForResponse((r) => r.url().endsWith(`/pipelines/${pipeline.id}/cancel`))
      await page.click('[data-test="upload-cancel"]')
      assert((await cancelled).status() === 202, 'the cancel was not accepted')
    } finally {
      resumeWorker()
    }
    await page.waitForSelector('[data-test="upload-result-CANCELLED"]', { timeout: 60000 })
    const p = await api(`/pipelines/${pipeline.id}`)
    assert(p.cancelled, `pipeline not cancelled: ${p.status}`)
    await shot('lab-06-upload-cancelled')
    await page.click('[data-test="upload-close"]')
    const rowsAfter = await planeTotal()
    const kgAfter = await stats()
    assert(rowsAfter === rowsBefore, `plane rows ${rowsBefore} → ${rowsAfter} after a cancelled replacing upload`)
    assert(Math.abs(kgAfter - kgBefore) < 1e-6, `module total ${kgBefore} → ${kgAfter} kg after a cancelled upload`)
    console.log(`e2e: lab · transfer seen at ${transfer}; cancelled at "${at}"; plane rows ${rowsBefore} kept, total ${kgBefore} kg kept`)
  })

  // ───────────── 4. mobile ─────────────
  await step('390×844: Home and module pages without horizontal scroll', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    try {
      const pages = [
        ['home', `${base}/en/u/${unitId}/${year}`, '[data-test="home-total"]'],
        ['headcount', modulePage('headcount'), '[data-test="table-member"]'],
        ['professional_travel', modulePage('professional_travel'), '[data-test="table-plane"]'],
        ['buildings', modulePage('buildings'), '[data-test="module-charts"]'],
      ]
      for (const [name, url, sel] of pages) {
        await page.goto(url)
        await page.waitForSelector(sel)
        if (name !== 'home') {
          // Charts included (drawn once scrolled near).
          await page.locator('[data-test="module-charts"]').scrollIntoViewIfNeeded()
          await page.waitForSelector('[data-test="module-charts"] [data-test^="chart-card-"]')
        }
        const w = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, vw: window.innerWidth }))
        await shot(`lab-07-mobile-${name}`)
        assert(w.doc <= w.vw && w.body <= w.vw, `${name} at 390 px scrolls horizontally: ${JSON.stringify(w)}`)
        await a11y(`${name} (390 px)`)
      }
    } finally {
      await page.setViewportSize({ width: 1366, height: 900 })
    }
  })

  // ───────────── 5. performance ─────────────
  await step(`performance: the headcount page with ${PERF_ENTRIES} members interactive < ${PERF_BUDGET_MS} ms`, async () => {
    const list = `${U()}/modules/headcount/member/entries?limit=1`
    const have = (await api(list)).total
    if (have < PERF_ENTRIES) {
      // Topped up with one member CSV (the API's own import), new SCIPERs.
      const sample = readFileSync(join(samples, 'member_2025.csv'), 'utf8').trim().split('\n')
      const head = sample[0].split(',')
      const row = sample[1].split(',')
      const col = (n) => head.indexOf(n)
      const lines = [sample[0]]
      for (let i = 0; i < PERF_ENTRIES - have; i++) {
        const r = [...row]
        r[col('user_institutional_id')] = String(700000 + i)
        r[col('name')] = `Perf Member ${String(i).padStart(5, '0')}`
        if (col('note') >= 0) r[col('note')] = ''
        lines.push(r.join(','))
      }
      const res = await page.request.post(`${base}/api/v1${U()}/modules/headcount/uploads`, {
        headers: { 'X-CSRF-Token': await csrf() },
        multipart: {
          submodule: 'member',
          replace_existing: 'false',
          file: { name: 'members_perf.csv', mimeType: 'text/csv', buffer: Buffer.from(`${lines.join('\n')}\n`) },
        },
      })
      assert(res.status() === 202, `member upload → ${res.status()} ${await res.text()}`)
      const { pipeline } = await res.json()
      const done = await until(async () => {
        const p = await api(`/pipelines/${pipeline.id}`)
        return ['SUCCESS', 'PARTIAL', 'FAILED'].includes(p.status) ? p : null
      }, 'the member import', 120000, 300)
      assert(done.status === 'SUCCESS', `member import ${done.status}: ${done.last_error ?? ''}`)
    }
    const total = (await api(list)).total
    assert(total >= PERF_ENTRIES, `member total ${total}`)
    const ready = (n) =>
      page.waitForFunction(
        (count) => {
          // "1–25 of 5000" (digits possibly grouped).
          const bottom = (document.querySelector('[data-test="table-member"] .q-table__bottom')?.textContent ?? '').replace(/(\d)[,\s\u202f\u00a0](?=\d{3})/g, '$1')
          const add = document.querySelector('[data-test="add-member"]')
          return bottom.includes(`of ${count}`) && add && !add.hasAttribute('disabled')
        },
        n,
        { polling: 'raf' },
      )
    // Interactive: the table shows its page and the next frame is painted (the main thread is free).
    const frame = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))))
    // The API calls of each navigation (path → ms), to tell the server's share from the page's.
    let calls = []
    const onDone = (req) => {
      const tm = req.timing()
      if (req.url().includes('/api/v1/')) calls.push([new URL(req.url()).pathname.replace(/^\/api\/v1\/units\/\d+\/years\/\d+/, '…'), Math.round(tm.responseEnd)])
    }
    page.on('requestfinished', onDone)
    const times = []
    const slowest = []
    for (let i = 0; i < 3; i++) {
      await page.goto(`${base}/en/u/${unitId}/${year}`)
      await page.waitForSelector('[data-test="open-module-headcount"]')
      calls = []
      const t0 = Date.now()
      await page.click('[data-test="open-module-headcount"]')
      await ready(total)
      await frame()
      times.push(Date.now() - t0)
      slowest.push(calls.sort((a, b) => b[1] - a[1]).slice(0, 3).map(([p, ms]) => `${p} ${ms} ms`).join(', '))
    }
    page.off('requestfinished', onDone)
    console.log(`e2e: lab · PERF slowest API calls per navigation: ${slowest.map((x, i) => `#${i + 1}: ${x}`).join(' | ')}`)
    const t0 = Date.now()
    await page.goto(modulePage('headcount'))
    await ready(total)
    await frame()
    const cold = Date.now() - t0
    await shot('lab-08-headcount-5000')
    const median = [...times].sort((a, b) => a - b)[1]
    console.log(`e2e: lab · PERF headcount page with ${total} members: in-app navigation ${times.join(' / ')} ms (median ${median} ms, budget ${PERF_BUDGET_MS} ms), full reload ${cold} ms`)
    assert(median < PERF_BUDGET_MS, `module page with ${total} entries interactive after ${median} ms ≥ ${PERF_BUDGET_MS} ms`)
  })
} catch (err) {
  run.fail(err)
  await shot('lab-failure').catch(() => undefined)
} finally {
  resumeWorker()
  await ctx.close()
  rmSync(profile, { recursive: true, force: true })
}

run.report()
