import { describe, expect, it } from 'vitest'
import type { AuthApi } from '../../src/api/endpoints'
import { ApiError } from '../../src/api/errors'
import type { TokenPair } from '../../src/api/types'
import { allowedOrigin } from '../../src/widget/bridge'
import { match } from '../../src/lib/router'
import { totalUnread, unreadOf, type ConsoleState } from '../../src/support/console'
import { SessionStore } from '../../src/session/store'

class MemoryStorage implements Storage {
  #items = new Map<string, string>()
  get length() {
    return this.#items.size
  }
  clear() {
    this.#items.clear()
  }
  getItem(key: string) {
    return this.#items.get(key) ?? null
  }
  key(index: number) {
    return [...this.#items.keys()][index] ?? null
  }
  removeItem(key: string) {
    this.#items.delete(key)
  }
  setItem(key: string, value: string) {
    this.#items.set(key, value)
  }
}

const pair = (n: number, expiresIn = 900): TokenPair =>
  ({ access_token: `a${n}`, refresh_token: `r${n}`, token_type: 'bearer', expires_in: expiresIn, user: { id: 'u1' } }) as unknown as TokenPair

function auth(refresh: (token: string) => Promise<TokenPair>) {
  const calls: string[] = []
  const api = {
    login: async () => pair(1),
    visitor: async () => pair(1),
    refresh: async (token: string) => {
      calls.push(token)
      return refresh(token)
    },
    logout: async () => undefined,
  } as unknown as AuthApi
  return { api, calls }
}

describe('the session', () => {
  it('keeps tokens in its own storage key and refreshes once for many callers', async () => {
    let n = 1
    const { api, calls } = auth(async () => pair(++n))
    const storage = new MemoryStorage()
    const session = new SessionStore(api, 'k', storage)
    await session.signIn('sara', 'pw')
    const results = await Promise.all([session.refresh(), session.refresh(), session.recover('a1')])
    expect(results).toEqual([true, true, true])
    expect(calls).toEqual(['r1'])
    expect(JSON.parse(storage.getItem('k') as string).accessToken).toBe('a2')
    session.signOut()
  })

  it('refreshes before the access token expires', async () => {
    const { api, calls } = auth(async () => pair(2))
    const session = new SessionStore(api, 'k', new MemoryStorage())
    await session.signIn('sara', 'pw')
    session.set({ session: { ...(session.session as NonNullable<typeof session.session>), expiresAt: Date.now() + 5_000 }, ended: null })
    expect(await session.accessToken()).toBe('a2')
    expect(calls).toEqual(['r1'])
    session.signOut()
  })

  it('ends as lost when the refresh token is refused, but not on a network failure', async () => {
    let fail: ApiError | TypeError = new TypeError('Failed to fetch')
    const { api } = auth(async () => {
      throw fail
    })
    const storage = new MemoryStorage()
    const session = new SessionStore(api, 'k', storage)
    await session.signIn('sara', 'pw')
    expect(await session.refresh()).toBe(false)
    expect(session.session).not.toBeNull()
    fail = new ApiError('token_invalid', 'revoked', 401)
    expect(await session.refresh()).toBe(false)
    expect(session.value).toEqual({ session: null, ended: 'session_lost' })
    expect(storage.getItem('k')).toBeNull()
  })
})

describe('small rules', () => {
  it('unread counts what arrived since the operator last looked', () => {
    const state = {
      mine: [
        { id: 'a', message_count: 5 },
        { id: 'b', message_count: 2 },
      ],
      seen: { a: 3 },
    } as unknown as ConsoleState
    expect(unreadOf(state, 'a')).toBe(2)
    expect(unreadOf(state, 'b')).toBe(2)
    expect(totalUnread(state)).toBe(4)
  })

  it('routes match whole segments', () => {
    expect(match('/console/chats/:id', '/console/chats/abc')).toEqual({ id: 'abc' })
    expect(match('/console/chats/:id', '/console/chats')).toBeNull()
    expect(match('/console', '/console/')).toEqual({})
  })

  it('the widget listens only to allowed host origins', () => {
    expect(allowedOrigin('https://shop.example', ['https://shop.example'], 'https://desk')).toBe(true)
    expect(allowedOrigin('https://evil.example', ['https://shop.example'], 'https://desk')).toBe(false)
    expect(allowedOrigin('https://any.example', ['*'], 'https://desk')).toBe(true)
  })
})
