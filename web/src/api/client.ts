// HTTP client of the SPA (docs/frontend.md §1 "HTTP client").
//
//   - fetch with credentials: "include" (session cookies);
//   - X-CSRF-Token (value of the csrf_token cookie) on every non-GET/HEAD;
//   - on 401: one shared (single-flight) POST /auth/refresh, then the request
//     is retried once; a second 401 (or a failed refresh) calls onUnauthorized
//     (the app navigates to /:lang/login?return_to=…);
//   - errors become ApiError, parsed from the envelope {error:{code,message,details}};
//     403 also calls onForbidden (the app shows a "not allowed" toast);
//   - a request with onUploadProgress (uploads, docs/frontend.md §5.1) is sent
//     with XMLHttpRequest when the client has one (the app's does), whose
//     upload events report the bytes sent; fetch has no upload progress.
//
// Types come from schema.d.ts, generated from pkg/httpapi/openapi.yaml (npm run gen:api).
// The endpoints are called through one module per resource (session.ts,
// units.ts, entries.ts, uploads.ts, pipelines.ts, reference.ts, meta.ts, fx.ts,
// templates.ts), which build the paths; nothing else passes a path to the client.
import type { components } from './schema'

export type Schemas = components['schemas']
export type ErrorEnvelope = Schemas['Error']
export type ApiErrorDetail = ErrorEnvelope['error']['details'][number]

export const API_BASE = '/api/v1'
export const CSRF_COOKIE = 'csrf_token'
export const CSRF_HEADER = 'X-CSRF-Token'

/** Error code of an ApiError when no HTTP response was received. */
export const NETWORK_ERROR = 'network'
/** Error code of an ApiError when a 2xx body could not be parsed. */
export const BAD_RESPONSE = 'bad_response'

/** An error answered by the API (or a network failure, status 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError'

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly ApiErrorDetail[] = [],
  ) {
    super(message)
  }

  /** details[].field → message, to map 409/422 answers onto form fields (first message wins). */
  get fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const d of this.details) {
      if (d.field && !(d.field in out)) out[d.field] = d.message ?? d.code ?? ''
    }
    return out
  }

  /** Builds the error of a non-2xx response, from its envelope when it has one. */
  static async fromResponse(res: Response): Promise<ApiError> {
    let body: unknown
    try {
      body = await res.json()
    } catch {
      body = undefined
    }
    if (isErrorEnvelope(body)) {
      const { code, message, details } = body.error
      return new ApiError(res.status, code, message, Array.isArray(details) ? details : [])
    }
    return new ApiError(res.status, `http_${res.status}`, res.statusText || `HTTP ${res.status}`)
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError
}

function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false
  const e = body.error
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  )
}

export type QueryValue = string | number | boolean | null | undefined
export type Query = Record<string, QueryValue | readonly QueryValue[]>
export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface RequestOptions {
  method?: Method
  /** Query parameters; null/undefined are left out, arrays repeat the key. */
  query?: Query
  /** JSON-encoded, except FormData, Blob, URLSearchParams and strings, which are sent as they are. */
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Non-2xx statuses returned instead of thrown (e.g. [304] for If-None-Match). */
  accept?: readonly number[]
  /** Bytes of the body sent so far (total 0 when unknown); needs the client's xhr, else never called. */
  onUploadProgress?: (loaded: number, total: number) => void
}

/** What the client needs of an XMLHttpRequest (tests pass a fake). */
export type XhrLike = Pick<
  XMLHttpRequest,
  'open' | 'setRequestHeader' | 'getAllResponseHeaders' | 'send' | 'abort' | 'withCredentials' | 'status' | 'statusText' | 'responseText' | 'upload' | 'onload' | 'onerror' | 'onabort' | 'ontimeout'
>

export interface ApiResponse<T> {
  status: number
  headers: Headers
  /** Parsed JSON (or text); undefined for 204, 304 and HEAD. */
  data: T
}

export interface ApiClientOptions {
  /** Prefix of every path (default /api/v1). */
  baseUrl?: string
  fetch?: typeof globalThis.fetch
  /** Reads a cookie (default: document.cookie). */
  readCookie?: (name: string) => string | undefined
  /** Called when a request is still 401 after the refresh (or the refresh failed). */
  onUnauthorized?: () => void
  /** Called on every 403. */
  onForbidden?: (err: ApiError) => void
  /** Makes an XMLHttpRequest for requests with onUploadProgress (default none: fetch, without progress). */
  xhr?: () => XhrLike
}

export interface ApiClient {
  request<T = unknown>(path: string, options?: RequestOptions): Promise<ApiResponse<T>>
  get<T = unknown>(path: string, options?: Omit<RequestOptions, 'method' | 'body'>): Promise<T>
  post<T = unknown>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>): Promise<T>
  put<T = unknown>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>): Promise<T>
  patch<T = unknown>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>): Promise<T>
  delete<T = unknown>(path: string, options?: Omit<RequestOptions, 'method' | 'body'>): Promise<T>
  /** Replaces the hooks (the app wires them to the router and Notify at boot). */
  configure(hooks: Pick<ApiClientOptions, 'onUnauthorized' | 'onForbidden'>): void
  /** Absolute-path URL of an API path, e.g. for EventSource or links. */
  url(path: string, query?: Query): string
}

/** Reads a cookie from document.cookie (undefined outside a browser). */
export function readDocumentCookie(name: string): string | undefined {
  if (typeof document === 'undefined') return undefined
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim()
      try {
        return decodeURIComponent(raw)
      } catch {
        return raw
      }
    }
  }
  return undefined
}

export function buildQuery(query: Query | undefined): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    const values = Array.isArray(value) ? value : [value]
    for (const v of values as readonly QueryValue[]) {
      if (v !== null && v !== undefined) params.append(key, String(v))
    }
  }
  const s = params.toString()
  return s ? `?${s}` : ''
}

const SAFE_METHODS: readonly string[] = ['GET', 'HEAD']
const REFRESH_PATH = '/auth/refresh'

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const baseUrl = (options.baseUrl ?? API_BASE).replace(/\/+$/, '')
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const readCookie = options.readCookie ?? readDocumentCookie
  const hooks: Pick<ApiClientOptions, 'onUnauthorized' | 'onForbidden'> = {}
  if (options.onUnauthorized) hooks.onUnauthorized = options.onUnauthorized
  if (options.onForbidden) hooks.onForbidden = options.onForbidden
  let refreshing: Promise<boolean> | null = null

  const url = (path: string, query?: Query) => `${baseUrl}${path.startsWith('/') ? path : `/${path}`}${buildQuery(query)}`

  async function send(path: string, opts: RequestOptions): Promise<Response> {
    const method = opts.method ?? 'GET'
    const headers = new Headers(opts.headers)
    if (!headers.has('Accept')) headers.set('Accept', 'application/json')
    let body: BodyInit | undefined
    if (opts.body !== undefined) {
      if (
        typeof opts.body === 'string' ||
        opts.body instanceof FormData ||
        opts.body instanceof Blob ||
        opts.body instanceof URLSearchParams
      ) {
        body = opts.body
      } else {
        body = JSON.stringify(opts.body)
        if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json')
      }
    }
    if (!SAFE_METHODS.includes(method)) {
      const token = readCookie(CSRF_COOKIE)
      if (token) headers.set(CSRF_HEADER, token)
    }
    const init: RequestInit = { method, headers, credentials: 'include' }
    if (body !== undefined) init.body = body
    if (opts.signal) init.signal = opts.signal
    try {
      if (opts.onUploadProgress && options.xhr) return await sendXhr(options.xhr(), url(path, opts.query), method, headers, body, opts.signal, opts.onUploadProgress)
      return await doFetch(url(path, opts.query), init)
    } catch (err) {
      if (isAbort(err)) throw err
      throw new ApiError(0, NETWORK_ERROR, err instanceof Error ? err.message : String(err))
    }
  }

  /** One refresh at a time: concurrent 401s share the same POST /auth/refresh. */
  function refresh(): Promise<boolean> {
    refreshing ??= send(REFRESH_PATH, { method: 'POST' })
      .then((res) => res.ok)
      .catch(() => false)
      .finally(() => {
        refreshing = null
      })
    return refreshing
  }

  async function request<T>(path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    let res = await send(path, opts)
    if (res.status === 401 && path !== REFRESH_PATH) {
      if (await refresh()) res = await send(path, opts)
      if (res.status === 401) {
        const err = await ApiError.fromResponse(res)
        hooks.onUnauthorized?.()
        throw err
      }
    }
    if (!res.ok && !(opts.accept ?? []).includes(res.status)) {
      const err = await ApiError.fromResponse(res)
      if (res.status === 403) hooks.onForbidden?.(err)
      throw err
    }
    return { status: res.status, headers: res.headers, data: (await parseBody(res, opts.method ?? 'GET')) as T }
  }

  const data = async <T>(p: Promise<ApiResponse<T>>) => (await p).data

  return {
    request,
    get: (path, o) => data(request(path, { ...o, method: 'GET' })),
    post: (path, body, o) => data(request(path, { ...o, method: 'POST', body })),
    put: (path, body, o) => data(request(path, { ...o, method: 'PUT', body })),
    patch: (path, body, o) => data(request(path, { ...o, method: 'PATCH', body })),
    delete: (path, o) => data(request(path, { ...o, method: 'DELETE' })),
    configure(h) {
      Object.assign(hooks, h)
    },
    url,
  }
}

/** Statuses whose Response may not have a body. */
const NULL_BODY_STATUSES: readonly number[] = [101, 204, 205, 304]

/** Headers of getAllResponseHeaders() ("name: value" lines). */
export function parseXhrHeaders(raw: string): Headers {
  const headers = new Headers()
  for (const line of raw.split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim())
  }
  return headers
}

/**
 * One request over XMLHttpRequest, answered as a fetch Response (so the
 * refresh, error and body handling stay the same); the upload's progress
 * events go to onProgress. Network failures reject like fetch (TypeError),
 * an abort with an AbortError.
 */
function sendXhr(
  xhr: XhrLike,
  href: string,
  method: string,
  headers: Headers,
  body: BodyInit | undefined,
  signal: AbortSignal | undefined,
  onProgress: (loaded: number, total: number) => void,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const aborted = () => reject(new DOMException('The upload was aborted.', 'AbortError'))
    if (signal?.aborted) return aborted()
    xhr.open(method, href)
    xhr.withCredentials = true
    headers.forEach((value, name) => xhr.setRequestHeader(name, value))
    xhr.upload.onprogress = (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : 0)
    xhr.onload = () => {
      const status = xhr.status
      const text = NULL_BODY_STATUSES.includes(status) ? null : xhr.responseText
      resolve(new Response(text, { status, statusText: xhr.statusText, headers: parseXhrHeaders(xhr.getAllResponseHeaders()) }))
    }
    xhr.onerror = () => reject(new TypeError('Network request failed'))
    xhr.ontimeout = xhr.onerror
    xhr.onabort = aborted
    signal?.addEventListener('abort', () => xhr.abort(), { once: true })
    xhr.send((body ?? null) as XMLHttpRequestBodyInit | null)
  })
}

async function parseBody(res: Response, method: string): Promise<unknown> {
  if (method === 'HEAD' || res.status === 204 || res.status === 205 || res.status === 304) return undefined
  const text = await res.text()
  if (text === '') return undefined
  const type = res.headers.get('Content-Type') ?? ''
  if (!/[/+]json\b/i.test(type)) return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new ApiError(res.status, BAD_RESPONSE, 'The server answered malformed JSON.')
  }
}

function isAbort(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError'
}

/** The app's client (hooks are wired by src/boot/api.ts); uploads report their progress through XMLHttpRequest. */
export const api: ApiClient = createApiClient(typeof XMLHttpRequest === 'undefined' ? {} : { xhr: (): XhrLike => new XMLHttpRequest() })
