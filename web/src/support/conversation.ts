// One support conversation as a view holds it: the document, its timeline, who
// is typing, and sends that survive a lost connection (pending, retried with the
// same client id, so each is stored once).
import type { SupportApi } from '../api/endpoints'
import { ApiError, asApiError } from '../api/errors'
import type { PostedMessage, QueuePositionEvent, SupportChat, SupportMessage } from '../api/types'
import { clientId as newClientId } from '../lib/ids'
import { Store } from '../lib/store'
import type { Realtime } from '../realtime/socket'
import {
  addPending,
  dropPending,
  EMPTY_TIMELINE,
  contiguousSeq,
  markPending,
  merge,
  type Timeline,
} from './timeline'

export interface ConversationState {
  chat: SupportChat | null
  timeline: Timeline
  /** user ids typing now (never me) */
  typing: string[]
  /** an operator sees my draft as I type (the team's typing preview is on) */
  draftShown?: boolean
  /** where I wait (support:queue_position, or the document); null: not waiting */
  queue?: Omit<QueuePositionEvent, 'chat_id' | 'conversation'> | null
  error: ApiError | null
}

export interface ConversationDeps {
  support: SupportApi
  realtime: Realtime
  me: () => string | null
}

const TYPING_REPEAT_MS = 3000
const TYPING_IDLE_MS = 4000
/** drafts go at most this often (the server throttles again, per conversation) */
export const DRAFT_INTERVAL_MS = 250

export class SupportConversation extends Store<ConversationState> {
  /** A customer's message to a closed conversation opened this one. */
  onMoved: ((chat: SupportChat) => void) | null = null
  readonly #unsubscribe: Array<() => void> = []
  #typingSentAt = 0
  #typingIdle: ReturnType<typeof setTimeout> | undefined
  #sending = new Set<string>()
  #readSent = 0
  #queueEvents = 0
  #draftTimer: ReturnType<typeof setTimeout> | undefined
  #draftSentAt = 0
  #draftText: string | null = null

  constructor(
    private readonly deps: ConversationDeps,
    readonly chatId: string,
  ) {
    super({ chat: null, timeline: EMPTY_TIMELINE, typing: [], error: null })
    const { realtime } = deps
    realtime.cursors.track(this.conversation)
    const mine = (payload: { chat_id?: string }) => payload.chat_id === chatId
    this.#unsubscribe.push(
      realtime.on('support:message', (event: { chat_id: string; message: SupportMessage }) => {
        if (mine(event)) this.#merge([event.message])
      }),
      realtime.on('support:assigned', (event) => mine(event) && void this.reload()),
      realtime.on('support:ticket', (event) => mine(event) && void this.reload()),
      realtime.on('support:closed', (event) => mine(event) && void this.reload()),
      realtime.on('typing', (event: { conversation: string; user_id: string; state: string }) => {
        if (event.conversation !== this.conversation || event.user_id === deps.me()) return
        const others = this.value.typing.filter((id) => id !== event.user_id)
        this.patch({ typing: event.state === 'start' ? [...others, event.user_id] : others })
      }),
      realtime.on('support:queue_position', (event: QueuePositionEvent) => {
        if (!mine(event)) return
        const { position, estimated_wait_s, estimate } = event
        this.#queueEvents++
        this.patch({ queue: { position, estimated_wait_s, estimate } })
      }),
      realtime.on('support:csat', (event: { chat_id: string; csat: SupportChat['csat'] }) => {
        const chat = this.value.chat
        if (mine(event) && chat) this.patch({ chat: { ...chat, csat: event.csat } })
      }),
      realtime.on(
        'support:read',
        (event: { chat_id: string; reader: 'customer' | 'operator'; last_read_seq: number }) => {
          const chat = this.value.chat
          if (!mine(event) || !chat) return
          const field = event.reader === 'customer' ? 'customer_read_seq' : 'operator_read_seq'
          if (event.last_read_seq > chat[field]) this.patch({ chat: { ...chat, [field]: event.last_read_seq } })
        },
      ),
      realtime.on('connected', () => {
        void this.reload()
        this.retryPending()
      }),
    )
  }

  get conversation(): string {
    return `support:${this.chatId}`
  }

  get chat(): SupportChat | null {
    return this.value.chat
  }

  async reload(): Promise<void> {
    const queueEvents = this.#queueEvents
    try {
      const read = await this.deps.support.get(this.chatId)
      // A live event that came while this read was on its way is newer than it.
      const before = this.value.chat
      const chat =
        before?.id === read.id
          ? {
              ...read,
              customer_read_seq: Math.max(read.customer_read_seq, before.customer_read_seq),
              operator_read_seq: Math.max(read.operator_read_seq, before.operator_read_seq),
              csat: read.csat ?? before.csat ?? null,
            }
          : read
      this.deps.realtime.cursors.advance(this.conversation, chat.messages.length)
      this.set({
        ...this.value,
        chat,
        timeline: merge(this.value.timeline, chat.messages, this.deps.me()),
        // a typing indicator of someone who is no longer in the conversation
        typing: chat.status === 'CLOSED' ? [] : this.value.typing,
        queue: queueEvents === this.#queueEvents || chat.status !== 'PENDING' ? queueOf(chat) : this.value.queue,
        error: null,
      })
    } catch (error) {
      this.patch({ error: asApiError(error) })
    }
  }

  /** I (the customer, or the assigned operator) have seen every message here:
   * move my read watermark, which the other side shows as "seen". */
  markRead(): void {
    const last = this.value.timeline.messages.at(-1)?.seq ?? 0
    if (last <= this.#readSent) return
    this.#readSent = last
    this.deps.support.markRead(this.chatId, last).catch(() => {
      this.#readSent = 0 // said again with the next message or view
    })
  }

  /** Show the message at once as pending, then send it (retried until stored). */
  send(body: string, id = newClientId()): void {
    this.#stopTyping()
    this.patch({
      timeline: addPending(this.value.timeline, {
        clientId: id,
        body,
        createdAt: new Date().toISOString(),
        failed: false,
      }),
      error: null,
    })
    void this.#deliver(id, body)
  }

  /** Send again what is still pending (the connection is back). */
  retryPending(): void {
    for (const pending of this.value.timeline.pending) {
      if (!this.#sending.has(pending.clientId)) void this.#deliver(pending.clientId, pending.body)
    }
  }

  discard(clientId: string): void {
    this.patch({ timeline: dropPending(this.value.timeline, clientId) })
  }

  /** The user typed (true) or cleared the composer (false). */
  typing(active: boolean): void {
    if (!active) return this.#stopTyping()
    const now = Date.now()
    if (now - this.#typingSentAt > TYPING_REPEAT_MS) {
      this.#typingSentAt = now
      this.deps.realtime.send('typing:start', { conversation: this.conversation })
    }
    clearTimeout(this.#typingIdle)
    this.#typingIdle = setTimeout(() => this.#stopTyping(), TYPING_IDLE_MS)
  }

  /** The customer's whole draft (typing preview); sent at most every
   * DRAFT_INTERVAL_MS, the latest one last. Only while an operator has it. */
  draft(text: string): void {
    if (this.value.chat?.status !== 'OPEN') return
    this.#draftText = text
    clearTimeout(this.#draftTimer)
    const wait = this.#draftSentAt + DRAFT_INTERVAL_MS - Date.now()
    if (wait <= 0) this.#flushDraft()
    else this.#draftTimer = setTimeout(() => this.#flushDraft(), wait)
  }

  #flushDraft(): void {
    const text = this.#draftText
    if (text === null || !this.deps.realtime.connected) return
    this.#draftText = null
    this.#draftSentAt = Date.now()
    this.deps.realtime
      .request<{ shown: boolean }>('support:draft', { chat_id: this.chatId, text })
      .then((answer) => {
        if (this.value.draftShown !== answer.shown) this.patch({ draftShown: answer.shown })
      })
      .catch(() => undefined) // a preview lost is not worth a word
  }

  dispose(): void {
    clearTimeout(this.#draftTimer)
    this.#stopTyping()
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
  }

  async #deliver(id: string, body: string): Promise<void> {
    this.#sending.add(id)
    try {
      const posted: PostedMessage = await this.deps.support.send(this.chatId, id, body)
      if (posted.new_conversation) {
        this.patch({ timeline: dropPending(this.value.timeline, id) })
        const chat = await this.deps.support.get(posted.chat_id)
        this.onMoved?.(chat)
        return
      }
      this.#merge([posted.message])
    } catch (caught) {
      const error = asApiError(caught)
      if (error.isNetwork || error.status >= 500) {
        this.patch({ timeline: markPending(this.value.timeline, id, true) }) // retried on reconnect
      } else {
        // Refused for good (too long, closed, not allowed): say why, keep nothing half way.
        this.patch({ timeline: dropPending(this.value.timeline, id), error })
        if (error.code === 'chat_closed') void this.reload()
      }
    } finally {
      this.#sending.delete(id)
    }
  }

  #merge(messages: SupportMessage[]): void {
    const timeline = merge(this.value.timeline, messages, this.deps.me())
    this.deps.realtime.cursors.advance(this.conversation, contiguousSeq(timeline))
    this.patch({ timeline })
  }

  #stopTyping(): void {
    clearTimeout(this.#typingIdle)
    if (this.#typingSentAt) {
      this.#typingSentAt = 0
      this.deps.realtime.send('typing:stop', { conversation: this.conversation })
    }
  }
}

/** Where the document says the conversation waits (null once it is not waiting). */
export function queueOf(chat: SupportChat): ConversationState['queue'] {
  if (chat.status !== 'PENDING' || chat.operator_id || !chat.queue_position) return null
  const wait = chat.estimated_wait_s ?? null
  return {
    position: chat.queue_position,
    estimated_wait_s: wait,
    // the document does not say why it does not know; the event does
    estimate: wait === null ? 'no_recent_service' : 'recent_service_times',
  }
}
