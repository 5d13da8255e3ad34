import { beforeEach, describe, expect, it, vi } from 'vitest'

// A stand-in for socket.io-client's socket: handlers by event name, fired by the test.
const fake = vi.hoisted(() => {
  const handlers = new Map<string, (...args: any[]) => void>()
  const socket = {
    connected: true,
    on: (event: string, handler: (...args: any[]) => void) => handlers.set(event, handler),
    onAny: () => undefined,
    connect: () => undefined,
    disconnect: () => undefined,
  }
  return { handlers, socket }
})
vi.mock('socket.io-client', () => ({ io: () => fake.socket }))

import { Realtime } from '../../src/realtime/socket'
import { type Session, SessionStore } from '../../src/session/store'

function memoryStorage(): Storage {
  const data = new Map<string, string>()
  return {
    get length() {
      return data.size
    },
    clear: () => data.clear(),
    getItem: (key) => data.get(key) ?? null,
    key: (index) => [...data.keys()][index] ?? null,
    removeItem: (key) => void data.delete(key),
    setItem: (key, value) => void data.set(key, value),
  }
}

const session: Session = {
  accessToken: 'a',
  refreshToken: 'r',
  expiresAt: Date.now() + 600_000,
  user: { id: 'u', username: 'sara' } as Session['user'],
}

describe('a session ended by the server', () => {
  let store: SessionStore
  beforeEach(() => {
    fake.handlers.clear()
    vi.stubGlobal('navigator', { onLine: true })
    const storage = memoryStorage()
    storage.setItem('test.session', JSON.stringify(session))
    store = new SessionStore({} as never, 'test.session', storage)
    new Realtime(store).start()
  })

  it('signs the page out with the reason of session:ended', () => {
    expect(store.session).not.toBeNull()
    fake.handlers.get('session:ended')?.({ reason: 'account_disabled' })
    expect(store.session).toBeNull()
    expect(store.value.ended).toBe('account_disabled')
  })

  it('signs the page out when a connect is refused as session_revoked', () => {
    const refused = Object.assign(new Error('session_revoked'), {
      data: { code: 'session_revoked', details: { reason: 'logout' } },
    })
    fake.handlers.get('connect_error')?.(refused)
    expect(store.session).toBeNull()
    expect(store.value.ended).toBe('logout')
  })
})
