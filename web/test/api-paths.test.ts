// API paths are built in src/api/ only (one module per resource): no other
// source file may hold a string or template literal that starts with an API
// path, nor call the generic client or the old path helpers.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { describe, expect, it } from 'vitest'

const srcDir = join(import.meta.dirname, '..', 'src')
const apiDir = join(srcDir, 'api')

/** First segments of the API's paths (pkg/httpapi/openapi). */
const ROOTS = ['units', 'uploads', 'pipelines', 'me', 'auth', 'taxonomies', 'locations', 'building-rooms', 'fx-rates', 'templates', 'version', 'config', 'openapi.json', 'exports', 'years', 'factors', 'recalculations', 'ops', 'backoffice', 'audit', 'integrations']

// A quote or backtick, optionally /api/v1, then /<root> followed by the end
// of the segment (/, ?, #, a closing quote, ${ or the end of the literal).
const rootRE = ROOTS.map((r) => r.replace(/[.-]/g, (c) => `\\${c}`)).join('|')
const LITERAL_RE = new RegExp(`['"\`](?:/api/v1)?/(?:${rootRE})(?=[/?#'"\`]|\\$\\{)`, 'g')
const HELPER_RE = /\b(?:modulePath|unitYearPath)\(|\bapi\s*\.\s*(?:get|post|put|patch|delete|request|url|getVersion|getPipeline)\s*(?:<[^>()]*>)?\(/g

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return p === apiDir ? [] : sourceFiles(p)
    return /\.(ts|vue|js|mjs)$/.test(name) ? [p] : []
  })
}

/** Comment text is not code: blank out // and /* *\/ comments (and HTML comments) keeping line numbers. */
function stripComments(text: string): string {
  return text
    .replace(/<!--[\s\S]*?-->/g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, (_m, pre: string) => pre)
}

function offenders(re: RegExp): string[] {
  const out: string[] = []
  for (const file of sourceFiles(srcDir)) {
    const text = stripComments(readFileSync(file, 'utf8'))
    for (const m of text.matchAll(re)) {
      const line = text.slice(0, m.index).split('\n').length
      out.push(`${relative(srcDir, file).split(sep).join('/')}:${line}: ${m[0].replace(/\s+/g, ' ')}`)
    }
  }
  return out
}

describe('API paths', () => {
  it('scans the sources', () => {
    expect(sourceFiles(srcDir).length).toBeGreaterThan(20)
  })

  it('are written in src/api/ only', () => {
    expect(offenders(LITERAL_RE)).toEqual([])
  })

  it('are not built with the generic client or path helpers outside src/api/', () => {
    expect(offenders(HELPER_RE)).toEqual([])
  })

  it('the check catches what it should', () => {
    const hits = (s: string) => [...s.matchAll(LITERAL_RE)].map((m) => m[0])
    expect(hits("get('/me')")).toEqual(["'/me"])
    expect(hits('url(`/units/${id}/years`)')).toEqual(['`/units'])
    expect(hits('x = "/api/v1/pipelines/1"')).toEqual(['"/api/v1/pipelines'])
    expect(hits('`/fx-rates?year=${y}`')).toEqual(['`/fx-rates'])
    expect(hits("'/templates'")).toEqual(["'/templates"])
    // Routes of the SPA and other strings are fine.
    expect(hits("path: '/:lang/u/:unitId'")).toEqual([])
    expect(hits("'/media/x'")).toEqual([])
    expect(hits("'/meal'")).toEqual([])
    expect(stripComments('a // GET /me\n/* \'/units\' */ b')).not.toMatch(LITERAL_RE)
    const calls = (s: string) => [...s.matchAll(HELPER_RE)].map((m) => m[0].replace(/\s+/g, ''))
    expect(calls('api.get<EntryList>(x); api\n  .post(y); modulePath(a); unitYearPath(b)')).toEqual([
      'api.get<EntryList>(',
      'api.post(',
      'modulePath(',
      'unitYearPath(',
    ])
    expect(calls('session.api.configure(); getMe()')).toEqual([])
  })
})
