// Generates src/api/schema.d.ts (TypeScript types) from the API's OpenAPI
// document with openapi-typescript.
//
//   node scripts/gen-api.mjs           # write src/api/schema.d.ts   (npm run gen:api)
//   node scripts/gen-api.mjs --check   # fail when it is stale       (npm run check:api)
//
// The document is kept in pkg/httpapi/openapi/*.yaml as per-area fragments
// that the API merges at load; `go run ./cmd/api openapi` prints the merged
// JSON (the same bytes as GET /api/v1/openapi.json), so Go stays the only
// merger. OPENAPI_JSON=<file> uses a file instead (no Go toolchain needed).
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript'

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const repoRoot = join(webDir, '..')
const output = join(webDir, 'src/api/schema.d.ts')
const check = process.argv.includes('--check')

function loadDocument() {
  if (process.env.OPENAPI_JSON) return readFileSync(process.env.OPENAPI_JSON, 'utf8')
  const go = spawnSync(process.env.GO ?? 'go', ['run', './cmd/api', 'openapi'], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  if (go.error || go.status !== 0) {
    console.error(`gen-api: "go run ./cmd/api openapi" failed${go.error ? `: ${go.error.message}` : ''}`)
    process.exit(1)
  }
  return go.stdout
}

const doc = JSON.parse(loadDocument())
const ast = await openapiTS(doc, { emptyObjectsUnknown: true, silent: true })
const generated = COMMENT_HEADER + astToString(ast)

const rel = relative(process.cwd(), output)
if (check) {
  let current = ''
  try {
    current = readFileSync(output, 'utf8')
  } catch {
    // missing: stale
  }
  if (current !== generated) {
    console.error(`${rel} is stale (the OpenAPI document changed): run "make web/gen" (npm run gen:api) and commit it`)
    process.exit(1)
  }
  console.log(`${rel} is up to date`)
} else {
  writeFileSync(output, generated)
  console.log(`wrote ${rel}`)
}
