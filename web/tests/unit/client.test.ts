import { describe, expect, it } from 'vitest'
import { ApiClient, type TokenSource } from '../../src/api/client'
import { ApiError } from '../../src/api/errors'

type Answer = { status: number; body?: unknown } | 'network'

function fakeServer(answers: Answer[]) {
  const calls: { url: string; method: string; auth: string | null; body: unknown }[] = []
  const fetcher = (async (url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>
    calls.push({ url, method: init.method ?? 'GET', auth: headers.Authorization ?? null, body: init.body ? JSON.parse(init.body as string) : null })
    const answer = answers.shift() ?? { status: 500 }
    if (answer === 'network') throw new TypeError('Failed to fetch')
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status })
  }) as unknown as typeof fetch
  return { calls, fetcher }
}

function tokens(initial = 'a1', refreshed: string | null = 'a2'): TokenSource & { recovered: number } {
  let token = initial
  return {
    recovered: 0,
    async accessToken() {
      return token
    },
    async recover() {
      this.recovered++
      if (!refreshed) return false
      token = refreshed
      return true
    },
  }
}

const noWait = async () => undefined

describe('the API client', () => {
  it('sends the token and answers the body', async () => {
    const server = fakeServer([{ status: 200, body: { ok: 1 } }])
    const api = new ApiClient('', server.fetcher, noWait)
    api.tokens = tokens()
    expect(await api.get('/x', { query: { a: 1, b: undefined } })).toEqual({ ok: 1 })
    expect(server.calls[0]).toMatchObject({ url: '/api/v1/x?a=1', auth: 'Bearer a1' })
  })

  it('refreshes once after a 401 and repeats the request with the new token', async () => {
    const server = fakeServer([{ status: 401, body: { error: { code: 'token_expired', message: 'old' } } }, { status: 200, body: 1 }])
    const api = new ApiClient('', server.fetcher, noWait)
    const source = tokens()
    api.tokens = source
    expect(await api.post('/y', { z: 1 })).toBe(1)
    expect(source.recovered).toBe(1)
    expect(server.calls.map((c) => c.auth)).toEqual(['Bearer a1', 'Bearer a2'])
  })

  it('says the session is lost when the refresh fails, and does not loop', async () => {
    const server = fakeServer([{ status: 401, body: { error: { code: 'token_invalid', message: 'no' } } }])
    const api = new ApiClient('', server.fetcher, noWait)
    api.tokens = tokens('a1', null)
    await expect(api.get('/me')).rejects.toMatchObject({ code: 'session_lost' })
    expect(server.calls).toHaveLength(1)
  })

  it('retries reads and client-id writes on a lost answer, never other writes', async () => {
    const server = fakeServer(['network', { status: 503 }, { status: 200, body: 'done' }])
    const api = new ApiClient('', server.fetcher, noWait)
    api.tokens = tokens()
    expect(await api.post('/send', { client_id: 'c' }, { idempotent: true })).toBe('done')
    expect(server.calls).toHaveLength(3)
    expect(new Set(server.calls.map((c) => JSON.stringify(c.body)))).toEqual(new Set(['{"client_id":"c"}']))

    const once = fakeServer(['network'])
    const strict = new ApiClient('', once.fetcher, noWait)
    strict.tokens = tokens()
    await expect(strict.post('/claim')).rejects.toMatchObject({ code: 'network' })
    expect(once.calls).toHaveLength(1)
  })

  it('turns the error shape into an ApiError with code and details', async () => {
    const server = fakeServer([{ status: 409, body: { error: { code: 'capacity_reached', message: 'full', details: { capacity: 3 } } } }])
    const api = new ApiClient('', server.fetcher, noWait)
    api.tokens = tokens()
    const error = await api.post('/claim').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ code: 'capacity_reached', status: 409, details: { capacity: 3 } })
  })
})
