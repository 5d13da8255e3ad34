// The session: tokens kept in this origin's localStorage (the widget's iframe and
// the console use different keys), refreshed a minute before the access token
// expires and once after a 401, shared between tabs (a refresh token works once,
// so tabs take turns through a Web Lock and adopt what another tab stored).
import type { TokenSource } from '../api/client'
import type { AuthApi } from '../api/endpoints'
import { asApiError } from '../api/errors'
import type { TokenPair, UserPrivate } from '../api/types'
import { Store } from '../lib/store'

export interface Session {
  accessToken: string
  refreshToken: string
  /** epoch ms */
  expiresAt: number
  user: UserPrivate
}

export interface SessionState {
  session: Session | null
  /** Why the last session ended without the user signing out ('session_lost'). */
  ended: string | null
}

/** Refresh this long before the access token expires. */
export const REFRESH_MARGIN_MS = 60_000

export function sessionFrom(pair: TokenPair, now = Date.now()): Session {
  return {
    accessToken: pair.access_token,
    refreshToken: pair.refresh_token,
    expiresAt: now + pair.expires_in * 1000,
    user: pair.user,
  }
}

export class SessionStore extends Store<SessionState> implements TokenSource {
  #refreshing: Promise<boolean> | null = null
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly auth: AuthApi,
    private readonly storageKey: string,
    private readonly storage: Storage = localStorage,
  ) {
    super({ session: null, ended: null })
    this.set({ session: this.#load(), ended: null })
    this.#schedule()
    if (typeof window !== 'undefined') {
      window.addEventListener('storage', (event) => {
        if (event.key === this.storageKey) this.set({ session: this.#load(), ended: this.value.ended })
      })
    }
  }

  get session(): Session | null {
    return this.value.session
  }

  get user(): UserPrivate | null {
    return this.value.session?.user ?? null
  }

  async signIn(login: string, password: string): Promise<Session> {
    return this.#adopt(sessionFrom(await this.auth.login(login, password)))
  }

  async startVisitor(name: string | null, email: string | null): Promise<Session> {
    return this.#adopt(sessionFrom(await this.auth.visitor(name, email)))
  }

  async signOut(): Promise<void> {
    const session = this.session
    this.#end(null)
    if (session) {
      try {
        await this.auth.logout(session.refreshToken)
      } catch {
        // Signed out here either way; the refresh token expires by itself.
      }
    }
  }

  /** Forget a session the server no longer honours. */
  lose(reason = 'session_lost'): void {
    if (this.session) this.#end(reason)
  }

  async accessToken(): Promise<string | null> {
    const session = this.session
    if (!session) return null
    if (session.expiresAt - Date.now() < REFRESH_MARGIN_MS) await this.refresh()
    return this.session?.accessToken ?? null
  }

  async recover(rejected: string): Promise<boolean> {
    const current = this.session
    if (!current) return false
    if (current.accessToken !== rejected) return true // someone refreshed meanwhile
    return this.refresh()
  }

  /** One refresh at a time, across tabs; false (and signed out) when it fails for good. */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#refreshOnce().finally(() => {
      this.#refreshing = null
    })
    return this.#refreshing
  }

  async #refreshOnce(): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      const before = this.session
      const stored = this.#load()
      if (!before || !stored) {
        this.lose()
        return false
      }
      if (stored.refreshToken !== before.refreshToken && stored.expiresAt - Date.now() > REFRESH_MARGIN_MS) {
        this.set({ session: stored, ended: null }) // another tab refreshed first
        return true
      }
      try {
        this.#adopt(sessionFrom(await this.auth.refresh(stored.refreshToken)))
        return true
      } catch (caught) {
        const error = asApiError(caught)
        if (error.isNetwork || error.status >= 500) return false // try again later, still signed in
        this.lose(error.code === 'account_disabled' ? 'account_disabled' : undefined)
        return false
      }
    }
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
    return locks ? locks.request(`goftogu-refresh:${this.storageKey}`, run) : run()
  }

  #adopt(session: Session): Session {
    this.storage.setItem(this.storageKey, JSON.stringify(session))
    this.set({ session, ended: null })
    this.#schedule()
    return session
  }

  #end(reason: string | null): void {
    this.storage.removeItem(this.storageKey)
    clearTimeout(this.#timer)
    this.set({ session: null, ended: reason })
  }

  #schedule(): void {
    clearTimeout(this.#timer)
    const session = this.session
    if (!session) return
    const due = Math.max(1000, session.expiresAt - Date.now() - REFRESH_MARGIN_MS)
    this.#timer = setTimeout(() => void this.refresh(), due)
  }

  #load(): Session | null {
    try {
      const raw = this.storage.getItem(this.storageKey)
      const parsed = raw ? (JSON.parse(raw) as Session) : null
      return parsed && parsed.accessToken && parsed.refreshToken && parsed.user ? parsed : null
    } catch {
      return null
    }
  }
}
