// The one module that talks HTTP. Screens and stores never call fetch: they call
// endpoint functions (api/endpoints.ts) that come through here, which adds the
// access token, refreshes it once on a 401, maps every failure to an ApiError
// with a code, and retries what is safe to retry (reads, and writes that carry a
// client id, which the server answers once however often they arrive).
import { ApiError, asApiError } from './errors'

export const API_PREFIX = '/api/v1'

/** What the client needs from the session: a fresh token, and one refresh. */
export interface TokenSource {
  accessToken(): Promise<string | null>
  /** After a 401: refresh once; false when the session is gone. */
  recover(rejected: string): Promise<boolean>
}

export interface RequestOptions {
  body?: unknown
  query?: Record<string, string | number | boolean | undefined | null>
  /** Send the access token (default true). */
  auth?: boolean
  /** Safe to send again after a lost answer (default: GET and HEAD only). */
  idempotent?: boolean
  signal?: AbortSignal
}

type Sleep = (ms: number) => Promise<void>
const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export const RETRY_DELAYS_MS = [300, 1000, 3000]

export class ApiClient {
  tokens: TokenSource | null = null

  constructor(
    readonly baseUrl = '',
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
    private readonly wait: Sleep = sleep,
  ) {}

  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, options)
  }

  post<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, body })
  }

  put<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('PUT', path, { ...options, body })
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const idempotent = options.idempotent ?? (method === 'GET' || method === 'HEAD')
    const auth = options.auth ?? true
    let recovered = false
    for (let attempt = 0; ; attempt++) {
      const token = auth ? await this.tokens?.accessToken() : null
      if (auth && !token) throw new ApiError('session_lost', 'Not signed in.', 401)
      try {
        return await this.#send<T>(method, path, options, token ?? null)
      } catch (caught) {
        const error = asApiError(caught)
        if (auth && token && error.status === 401 && !recovered && this.tokens) {
          recovered = true
          if (await this.tokens.recover(token)) continue
          throw new ApiError('session_lost', error.message, 401)
        }
        const transient = error.isNetwork || [502, 503, 504].includes(error.status)
        const delay = RETRY_DELAYS_MS[attempt]
        if (!idempotent || !transient || delay === undefined || options.signal?.aborted) throw error
        await this.wait(delay)
      }
    }
  }

  /** A multipart upload with progress (fetch cannot report it, so XHR); one refresh
   * after a 401, like any request. */
  async upload<T>(path: string, file: File, onProgress: (fraction: number) => void): Promise<T> {
    for (let recovered = false; ; recovered = true) {
      const token = await this.tokens?.accessToken()
      if (!token) throw new ApiError('session_lost', 'Not signed in.', 401)
      try {
        return await new Promise<T>((resolve, reject) => {
          const request = new XMLHttpRequest()
          request.open('POST', this.baseUrl + API_PREFIX + path)
          request.setRequestHeader('Authorization', `Bearer ${token}`)
          request.setRequestHeader('Accept', 'application/json')
          request.upload.onprogress = (event) => {
            if (event.lengthComputable) onProgress(event.loaded / event.total)
          }
          request.onerror = () => reject(new ApiError('network', 'The upload was interrupted.'))
          request.onload = () => {
            let body: unknown = null
            try {
              body = request.responseText ? JSON.parse(request.responseText) : null
            } catch {
              body = null
            }
            if (request.status >= 200 && request.status < 300) resolve(body as T)
            else reject(ApiError.from(request.status, body))
          }
          const form = new FormData()
          form.append('file', file, file.name)
          request.send(form)
        })
      } catch (caught) {
        const error = asApiError(caught)
        if (error.status === 401 && !recovered && this.tokens && (await this.tokens.recover(token))) continue
        throw error
      }
    }
  }

  /** A file the API serves behind the token (attachments), as an object URL. */
  async blobUrl(path: string): Promise<string> {
    const token = await this.tokens?.accessToken()
    const response = await this.fetcher(this.baseUrl + API_PREFIX + path, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    })
    if (!response.ok) throw ApiError.from(response.status, null)
    return URL.createObjectURL(await response.blob())
  }

  async #send<T>(
    method: string,
    path: string,
    options: RequestOptions,
    token: string | null,
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (token) headers.Authorization = `Bearer ${token}`
    if (options.body !== undefined) headers['Content-Type'] = 'application/json'
    const response = await this.fetcher(this.baseUrl + API_PREFIX + path + queryString(options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    })
    if (response.status === 204) return undefined as T
    const text = await response.text()
    let body: unknown = null
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      body = null
    }
    if (!response.ok) throw ApiError.from(response.status, body)
    return body as T
  }
}

export function queryString(query: RequestOptions['query']): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.set(key, String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}
