// The one Socket.IO connection of a page. It owns reconnecting (with a fresh
// token and the cursors, so the server replays what was missed), drops events
// already seen (by conversation and seq), follows the browser's online state,
// and turns acks into values or ApiErrors. Stores subscribe to events by name.
// `session:ended` (the session was revoked) signs the page out with the reason.
import { io, type Socket } from 'socket.io-client'
import { ApiError } from '../api/errors'
import { Store } from '../lib/store'
import type { SessionStore } from '../session/store'
import { Cursors, sequenced } from './cursors'

export type ConnectionStatus = 'idle' | 'connecting' | 'connected' | 'offline'
type Handler = (payload: any) => void

interface Ack {
  ok: boolean
  data?: unknown
  error?: { code: string; message: string; details?: Record<string, unknown> }
}

export const ACK_TIMEOUT_MS = 10_000

export class Realtime {
  readonly status = new Store<ConnectionStatus>('idle')
  readonly cursors = new Cursors()
  readonly #handlers = new Map<string, Set<Handler>>()
  #socket: Socket | null = null
  #wanted = false

  constructor(
    private readonly session: SessionStore,
    private readonly url = '',
  ) {
    if (typeof window !== 'undefined') {
      window.addEventListener('offline', () => this.#pause())
      window.addEventListener('online', () => this.#resume())
    }
    session.subscribe(({ session }) => {
      if (!session) this.stop()
      else void this.#extend(session.accessToken)
    })
  }

  get connected(): boolean {
    return this.#socket?.connected ?? false
  }

  start(): void {
    this.#wanted = true
    if (!this.#socket) this.#socket = this.#open()
    if (navigator.onLine === false) return this.status.set('offline')
    if (!this.#socket.connected) {
      this.status.set('connecting')
      this.#socket.connect()
    }
  }

  stop(): void {
    this.#wanted = false
    this.#socket?.disconnect()
    this.#socket = null
    this.status.set('idle')
  }

  on(event: string, handler: Handler): () => void {
    let set = this.#handlers.get(event)
    if (!set) this.#handlers.set(event, (set = new Set()))
    set.add(handler)
    return () => set.delete(handler)
  }

  /** Emit and wait for the ack: its data, or an ApiError with the server's code. */
  async request<T>(event: string, payload: unknown): Promise<T> {
    const socket = this.#socket
    if (!socket?.connected) throw new ApiError('network', 'Not connected.')
    let answer: Ack
    try {
      answer = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as Ack
    } catch {
      throw new ApiError('network', 'No answer from the server.')
    }
    if (!answer.ok) {
      const error = answer.error ?? { code: 'error', message: 'Failed.' }
      throw new ApiError(error.code, error.message, 0, error.details ?? {})
    }
    return answer.data as T
  }

  /** Fire and forget (typing indicators). */
  send(event: string, payload: unknown): void {
    if (this.#socket?.connected) this.#socket.emit(event, payload)
  }

  #open(): Socket {
    const socket = io(this.url, {
      path: '/socket.io',
      autoConnect: false,
      transports: ['websocket', 'polling'],
      auth: (callback) => {
        void this.session.accessToken().then((token) =>
          callback({ token: token ?? '', cursors: this.cursors.snapshot() }),
        )
      },
    })
    socket.on('connect', () => {
      this.status.set('connected')
      this.#dispatch('connected', {})
    })
    socket.on('disconnect', (reason) => {
      if (!this.#wanted) return
      this.status.set(navigator.onLine === false ? 'offline' : 'connecting')
      // The server closed us (token expired): a fresh token, then again.
      if (reason === 'io server disconnect') void this.#reconnectAfterRefresh()
    })
    socket.on('connect_error', (error: Error & { data?: { code?: string; details?: { reason?: string } } }) => {
      const code = error.data?.code ?? error.message
      if (code === 'session_revoked') {
        this.session.lose(error.data?.details?.reason ?? 'session_lost')
      } else if (['token_expired', 'token_invalid', 'unauthenticated'].includes(code)) {
        void this.#reconnectAfterRefresh()
      }
    })
    // The session was revoked (signed out elsewhere, a new password, the account
    // disabled): the server disconnects us next. Sign out here, saying why.
    socket.on('session:ended', (payload: { reason?: string } | null) => {
      this.session.lose(payload?.reason ?? 'session_lost')
    })
    socket.onAny((event: string, payload: unknown) => {
      const position = sequenced(payload)
      if (position && !this.cursors.accept(position.conversation, position.seq)) return
      this.#dispatch(event, payload)
    })
    return socket
  }

  #dispatch(event: string, payload: unknown): void {
    for (const handler of [...(this.#handlers.get(event) ?? [])]) {
      try {
        handler(payload)
      } catch (error) {
        console.warn('handler of', event, 'failed', error)
      }
    }
  }

  async #reconnectAfterRefresh(): Promise<void> {
    if (!(await this.session.refresh()) || !this.#wanted) return
    this.#socket?.connect()
  }

  async #extend(token: string): Promise<void> {
    if (!this.#socket?.connected) return
    try {
      await this.request('auth:refresh', { token })
    } catch {
      // The next reconnect authenticates with the fresh token anyway.
    }
  }

  #pause(): void {
    if (!this.#wanted) return
    this.#socket?.disconnect()
    this.status.set('offline')
  }

  #resume(): void {
    if (this.#wanted) this.start()
  }
}
