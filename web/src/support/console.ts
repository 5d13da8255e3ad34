// The operator console's state: my availability and load, the queue, my open
// conversations with unread counts, the operators to transfer to. Kept live by
// the socket (support:queue, support:assigned, support:closed, support:message)
// and read again after every reconnect.
import type { SupportApi } from '../api/endpoints'
import { type ApiError, asApiError } from '../api/errors'
import type { OperatorPresence, OperatorPublic, OperatorStatus, SupportChatSummary } from '../api/types'
import { Store } from '../lib/store'
import type { Realtime } from '../realtime/socket'

export interface ConsoleState {
  presence: OperatorPresence | null
  queue: SupportChatSummary[]
  mine: SupportChatSummary[]
  /** messages seen per chat (its message count when last looked at) */
  seen: Record<string, number>
  operators: OperatorPublic[]
  selected: string | null
  /** the label the list is filtered by (issue 18), and the conversations carrying it */
  label: string | null
  labelled: SupportChatSummary[]
  error: ApiError | null
}

export interface AssignedEvent {
  chat_id: string
  operator_id: string
  previous_operator_id?: string | null
  chat: { customer: { name?: string | null } }
}

export function unreadOf(state: ConsoleState, chatId: string): number {
  const chat = state.mine.find((item) => item.id === chatId)
  return chat ? Math.max(0, chat.message_count - (state.seen[chatId] ?? 0)) : 0
}

export function totalUnread(state: ConsoleState): number {
  return state.mine.reduce((sum, chat) => sum + unreadOf(state, chat.id), 0)
}

export class ConsoleStore extends Store<ConsoleState> {
  /** A conversation was given to me (to ring and notify). */
  onAssigned: ((event: AssignedEvent) => void) | null = null
  readonly #unsubscribe: Array<() => void> = []
  #queueTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly support: SupportApi,
    private readonly realtime: Realtime,
    private readonly me: string,
    private readonly storage: Storage = localStorage,
  ) {
    super({
      presence: null,
      queue: [],
      mine: [],
      seen: loadSeen(storage, me),
      operators: [],
      selected: null,
      label: null,
      labelled: [],
      error: null,
    })
    this.#unsubscribe.push(
      realtime.on('connected', () => void this.refresh()),
      realtime.on('support:queue', () => this.#queueChanged()),
      realtime.on('support:assigned', (event: AssignedEvent) => {
        if (event.operator_id === me && event.previous_operator_id !== me) this.onAssigned?.(event)
        void this.loadMine()
        void this.loadPresence()
      }),
      realtime.on('support:closed', () => {
        void this.loadMine()
        void this.loadPresence()
      }),
      realtime.on('support:message', (event: { chat_id: string; seq: number }) => {
        this.#messageArrived(event.chat_id, event.seq)
      }),
      realtime.on('support:labels', (event: { chat_id: string; labels: string[] }) => this.#labelled(event)),
    )
  }

  async refresh(): Promise<void> {
    await Promise.all([this.loadPresence(), this.loadQueue(), this.loadMine(), this.loadLabelled()])
  }

  /** Filter the list by a label (null: no filter). */
  async filterByLabel(label: string | null): Promise<void> {
    const clean = label?.trim().toLocaleLowerCase() || null
    this.patch({ label: clean, labelled: [] })
    await this.loadLabelled()
  }

  async loadLabelled(): Promise<void> {
    const label = this.value.label
    if (!label) return
    await this.#guard(async () => {
      const page = await this.support.labelled(label)
      if (this.value.label === label) this.patch({ labelled: page.items })
    })
  }

  async loadPresence(): Promise<void> {
    await this.#guard(async () => this.patch({ presence: await this.support.presence() }))
  }

  async loadQueue(): Promise<void> {
    await this.#guard(async () => {
      const page = await this.support.list({ status: 'PENDING', limit: 100 })
      this.patch({ queue: page.items })
    })
  }

  async loadMine(): Promise<void> {
    await this.#guard(async () => {
      const page = await this.support.list({ status: 'OPEN', mine: true, limit: 100 })
      this.patch({ mine: page.items })
      if (this.value.selected) this.markSeen(this.value.selected)
    })
  }

  async loadOperators(): Promise<void> {
    await this.#guard(async () => this.patch({ operators: await this.support.operators() }))
  }

  async setPresence(status: OperatorStatus, accepting?: boolean): Promise<void> {
    await this.#guard(async () => this.patch({ presence: await this.support.setPresence(status, accepting) }))
  }

  async claim(chatId: string): Promise<boolean> {
    return this.#guard(async () => {
      await this.support.claim(chatId)
      await Promise.all([this.loadQueue(), this.loadMine(), this.loadPresence()])
      this.select(chatId)
    }, () => void this.loadQueue())
  }

  async transfer(chatId: string, operatorId: string): Promise<boolean> {
    return this.#guard(async () => {
      await this.support.transfer(chatId, operatorId)
      if (this.value.selected === chatId) this.select(null)
      await Promise.all([this.loadMine(), this.loadPresence()])
    })
  }

  async close(chatId: string): Promise<boolean> {
    return this.#guard(async () => {
      await this.support.close(chatId)
      await Promise.all([this.loadMine(), this.loadPresence()])
    })
  }

  select(chatId: string | null): void {
    this.patch({ selected: chatId })
    if (chatId) this.markSeen(chatId)
  }

  markSeen(chatId: string, count?: number): void {
    const chat = this.value.mine.find((item) => item.id === chatId)
    const seenCount = Math.max(count ?? 0, chat?.message_count ?? 0, this.value.seen[chatId] ?? 0)
    if (this.value.seen[chatId] === seenCount) return
    const seen = { ...this.value.seen, [chatId]: seenCount }
    this.storage.setItem(seenKey(this.me), JSON.stringify(seen))
    this.patch({ seen })
  }

  clearError(): void {
    this.patch({ error: null })
  }

  dispose(): void {
    clearTimeout(this.#queueTimer)
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
  }

  #messageArrived(chatId: string, seq: number): void {
    const mine = this.value.mine.map((chat) =>
      chat.id === chatId ? { ...chat, message_count: Math.max(chat.message_count, seq) } : chat,
    )
    this.patch({ mine })
    if (this.value.selected === chatId && !document.hidden) this.markSeen(chatId, seq)
  }

  #labelled(event: { chat_id: string; labels: string[] }): void {
    const relabel = (items: SupportChatSummary[]) =>
      items.map((chat) => (chat.id === event.chat_id ? { ...chat, labels: event.labels } : chat))
    this.patch({ mine: relabel(this.value.mine), queue: relabel(this.value.queue) })
    const label = this.value.label
    if (label && (event.labels.includes(label) || this.value.labelled.some((chat) => chat.id === event.chat_id))) {
      void this.loadLabelled()
    }
  }

  #queueChanged(): void {
    // Several changes at once (a burst of intakes) are one read.
    clearTimeout(this.#queueTimer)
    this.#queueTimer = setTimeout(() => void this.loadQueue(), 150)
  }

  async #guard(work: () => Promise<void>, onConflict?: () => void): Promise<boolean> {
    try {
      await work()
      return true
    } catch (caught) {
      const error = asApiError(caught)
      if (error.code === 'conflict') onConflict?.()
      this.patch({ error })
      return false
    }
  }
}

function seenKey(me: string): string {
  return `goftogu.console.seen.${me}`
}

function loadSeen(storage: Storage, me: string): Record<string, number> {
  try {
    return JSON.parse(storage.getItem(seenKey(me)) ?? '{}') as Record<string, number>
  } catch {
    return {}
  }
}
