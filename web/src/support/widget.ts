// The customer widget's state: the visitor's session (kept in the iframe's own
// storage, on our origin), their current conversation, and while it waits its
// place in the queue (pushed as support:queue_position; the document is read
// again on every change of the conversation, on reconnect, and every
// QUEUE_POLL_MS as a fallback while it waits). After a close: the rating
// (CSAT, once) and the transcript by email.
import { type ApiError, asApiError } from '../api/errors'
import type { SupportChat } from '../api/types'
import type { App } from '../app'
import { clientId as newClientId } from '../lib/ids'
import { Store } from '../lib/store'
import { SupportConversation } from './conversation'

export type WidgetPhase = 'loading' | 'prechat' | 'chat'

export interface WidgetState {
  phase: WidgetPhase
  conversation: SupportConversation | null
  /** the first message, being sent, before a conversation exists */
  starting: { clientId: string; body: string; failed: boolean } | null
  notice: 'restored_failed' | null
  /** the transcript of this conversation was asked for, to this address */
  transcriptTo: string | null
  error: ApiError | null
}

export const QUEUE_POLL_MS = 30_000

export class WidgetStore extends Store<WidgetState> {
  #poll: ReturnType<typeof setInterval> | undefined
  #watch: (() => void) | null = null

  constructor(
    private readonly app: App,
    /** the team (topic) this page asks for: the loader's data-goftogu-topic */
    private readonly topic: string | null = null,
  ) {
    super({ phase: 'loading', conversation: null, starting: null, notice: null, transcriptTo: null, error: null })
    app.session.subscribe(({ session, ended }) => {
      if (!session && this.value.phase === 'chat') {
        this.#open(null)
        this.patch({ phase: 'prechat', notice: ended ? 'restored_failed' : null })
      }
    })
    app.realtime.on('connected', () => {
      if (this.value.starting?.failed) void this.#start(this.value.starting.clientId, this.value.starting.body)
    })
  }

  get me(): string | null {
    return this.app.session.user?.id ?? null
  }

  /** A returning visitor sees their open conversation (or the last one, closed). */
  async init(): Promise<void> {
    if (!this.app.session.session) return this.patch({ phase: 'prechat' })
    this.app.realtime.start()
    try {
      const page = await this.app.support.list({ limit: 5 })
      const current = page.items.find((chat) => chat.status !== 'CLOSED') ?? page.items[0]
      if (current) await this.#open(current.id)
      this.patch({ phase: 'chat' })
    } catch (caught) {
      const error = asApiError(caught)
      if (error.code === 'session_lost') {
        this.patch({ phase: 'prechat', notice: 'restored_failed' })
      } else {
        this.patch({ phase: 'chat', error })
      }
    }
  }

  async begin(name: string, email: string | null): Promise<boolean> {
    try {
      await this.app.session.startVisitor(name, email)
      this.app.realtime.start()
      this.patch({ phase: 'chat', notice: null, error: null })
      return true
    } catch (error) {
      this.patch({ error: asApiError(error) })
      return false
    }
  }

  send(body: string): void {
    const conversation = this.value.conversation
    if (conversation) return conversation.send(body)
    void this.#start(newClientId(), body)
  }

  async end(): Promise<void> {
    const chat = this.value.conversation?.chat
    if (!chat || chat.status === 'CLOSED') return
    try {
      await this.app.support.close(chat.id)
      await this.value.conversation?.reload()
    } catch (error) {
      this.patch({ error: asApiError(error) })
    }
  }

  /** Rate the closed conversation, once (1–5 and an optional comment). */
  async rate(score: number, comment: string): Promise<boolean> {
    const conversation = this.value.conversation
    const chat = conversation?.chat
    if (!conversation || !chat) return false
    try {
      const rated = await this.app.support.rate(chat.id, score, comment.trim() || null)
      const now = conversation.chat
      if (now) conversation.patch({ chat: { ...now, csat: rated.csat } })
      return true
    } catch (caught) {
      const error = asApiError(caught)
      if (error.code === 'already_rated') await conversation.reload()
      else this.patch({ error })
      return false
    }
  }

  /** Email me this conversation's transcript (to my address). */
  async emailTranscript(): Promise<void> {
    const chat = this.value.conversation?.chat
    if (!chat) return
    try {
      const queued = await this.app.support.transcript(chat.id, newClientId())
      this.patch({ transcriptTo: queued.email, error: null })
    } catch (caught) {
      this.patch({ error: asApiError(caught) })
    }
  }

  clearError(): void {
    this.patch({ error: null })
    this.value.conversation?.patch({ error: null })
  }

  async #start(clientId: string, body: string): Promise<void> {
    this.patch({ starting: { clientId, body, failed: false }, error: null })
    try {
      const chat = await this.app.support.start(clientId, body, this.topic)
      await this.#open(chat.id, chat)
      this.patch({ starting: null })
    } catch (caught) {
      const error = asApiError(caught)
      const transient = error.isNetwork || error.status >= 500
      this.patch({ starting: transient ? { clientId, body, failed: true } : null, error: transient ? null : error })
    }
  }

  async #open(chatId: string | null, chat?: SupportChat): Promise<void> {
    this.value.conversation?.dispose()
    this.#watch?.()
    this.#watch = null
    clearInterval(this.#poll)
    this.#poll = undefined
    this.patch({ transcriptTo: null })
    if (!chatId) return this.patch({ conversation: null })
    const conversation = new SupportConversation(
      { support: this.app.support, realtime: this.app.realtime, me: () => this.me },
      chatId,
    )
    conversation.onMoved = (next) => void this.#open(next.id, next)
    if (chat) conversation.patch({ chat })
    this.patch({ conversation })
    this.#watch = conversation.subscribe(() => this.#pollWhileWaiting(conversation))
    await conversation.reload()
  }

  #pollWhileWaiting(conversation: SupportConversation): void {
    const waiting = conversation.chat?.status === 'PENDING'
    if (waiting && this.#poll === undefined) {
      this.#poll = setInterval(() => void conversation.reload(), QUEUE_POLL_MS)
    } else if (!waiting && this.#poll !== undefined) {
      clearInterval(this.#poll)
      this.#poll = undefined
    }
  }
}
