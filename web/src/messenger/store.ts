// The messenger's state: the conversation list (live), who is online, the people
// seen so far, and one ChatView per opened conversation (its timeline, typing,
// read state, pins, group). Every server event comes through the one socket,
// already deduplicated by (conversation, seq); REST reads fill what a reconnect's
// replay does not (the open conversation is read forward from its newest seq).
import type { AccountApi, MessagingApi } from '../api/endpoints'
import { type ApiError, asApiError } from '../api/errors'
import type {
  AttachmentPublic,
  ChatMessage,
  ConversationSummary,
  GroupDetails,
  GroupPublic,
  MemberPublic,
  PinPublic,
  UserPublic,
} from '../api/types'
import { clientId as newClientId } from '../lib/ids'
import { Store } from '../lib/store'
import type { Realtime } from '../realtime/socket'
import {
  addPending,
  type ChatTimeline,
  dropPending,
  EMPTY,
  markPending,
  merge,
  prependOlder,
  react,
  tombstone,
  update,
} from './timeline'

export const PAGE = 100
const TYPING_REPEAT_MS = 3000
const TYPING_IDLE_MS = 4000

export interface MessengerState {
  conversations: ConversationSummary[]
  loaded: boolean
  presence: Record<string, string>
  people: Record<string, UserPublic>
  error: ApiError | null
}

export interface ViewState {
  timeline: ChatTimeline
  loaded: boolean
  loadingOlder: boolean
  /** the first message from someone else after my watermark when I opened it */
  firstUnreadSeq: number | null
  /** others' read watermarks (user id -> seq) */
  reads: Record<string, number>
  typing: string[]
  pins: PinPublic[] | null
  group: GroupDetails | null
  members: MemberPublic[] | null
  /** a group I left: its details are for members only, its history stops at the leave */
  left: boolean
  error: ApiError | null
}

export function kindOf(address: string): 'single' | 'group' {
  return address.startsWith('group:') ? 'group' : 'single'
}

export function idOf(address: string): string {
  return address.slice(address.indexOf(':') + 1)
}

export function byActivity(a: ConversationSummary, b: ConversationSummary): number {
  return b.last_activity_at.localeCompare(a.last_activity_at)
}

export class ChatView extends Store<ViewState> {
  #sending = new Set<string>()
  #queue: Promise<void> = Promise.resolve()
  #typingSentAt = 0
  #typingIdle: ReturnType<typeof setTimeout> | undefined
  #readSent = 0

  constructor(
    readonly messenger: Messenger,
    readonly address: string,
  ) {
    super({
      timeline: EMPTY,
      loaded: false,
      loadingOlder: false,
      firstUnreadSeq: null,
      reads: {},
      typing: [],
      pins: null,
      group: null,
      members: null,
      left: false,
      error: null,
    })
  }

  get api(): MessagingApi {
    return this.messenger.api
  }

  get me(): string {
    return this.messenger.me
  }

  async open(): Promise<void> {
    try {
      const summary = this.messenger.summary(this.address)
      const watermark = summary?.last_read_seq ?? 0
      const page = await this.api.history(this.address, { limit: PAGE })
      let timeline = prependOlder(this.value.timeline, page.items, page.has_more)
      // Load back to the first unread (bounded), so "jump to first unread" has it.
      for (let rounds = 0; rounds < 20 && timeline.hasOlder && (timeline.messages[0]?.seq ?? 0) > watermark; rounds++) {
        const older = await this.api.history(this.address, { before_seq: timeline.messages[0]?.seq, limit: PAGE })
        timeline = prependOlder(timeline, older.items, older.has_more)
      }
      const firstUnread = timeline.messages.find((message) => message.seq > watermark && message.sender_id !== this.me)
      this.patch({ timeline, loaded: true, firstUnreadSeq: firstUnread?.seq ?? null, error: null })
      if (kindOf(this.address) === 'group') void this.loadGroup()
      void this.loadPins()
      void this.messenger.learn(timeline.messages.map((message) => message.sender_id))
    } catch (error) {
      this.patch({ error: asApiError(error), loaded: true })
    }
  }

  /** After a reconnect: read forward from the newest message held (replay covers
   * events; this covers anything committed while the cursor could not see it). */
  async catchUp(): Promise<void> {
    if (!this.value.loaded) return
    let after = this.value.timeline.messages.at(-1)?.seq ?? 0
    try {
      for (let rounds = 0; rounds < 50; rounds++) {
        const page = await this.api.history(this.address, { after_seq: after, limit: PAGE })
        this.#merge(page.items)
        if (!page.has_more || page.items.length === 0) break
        after = Math.max(...page.items.map((message) => message.seq))
      }
    } catch {
      // the next reconnect tries again
    }
    this.retryPending()
  }

  async loadOlder(): Promise<void> {
    const state = this.value
    if (state.loadingOlder || !state.timeline.hasOlder || !state.loaded) return
    this.patch({ loadingOlder: true })
    try {
      const before = state.timeline.messages[0]?.seq
      const page = await this.api.history(this.address, { before_seq: before, limit: PAGE })
      this.patch({ timeline: prependOlder(this.value.timeline, page.items, page.has_more), loadingOlder: false })
      void this.messenger.learn(page.items.map((message) => message.sender_id))
    } catch (error) {
      this.patch({ loadingOlder: false, error: asApiError(error) })
    }
  }

  async loadGroup(): Promise<void> {
    try {
      const id = idOf(this.address)
      const [group, members] = await Promise.all([this.api.group(id), this.api.members(id).catch(() => [])])
      this.messenger.meet(members.map((member) => member.user))
      this.patch({ group, members })
    } catch (error) {
      const failure = asApiError(error)
      if (failure.code === 'not_a_member') this.patch({ left: true, group: null, members: null })
      else this.patch({ error: failure })
    }
  }

  async loadPins(): Promise<void> {
    try {
      this.patch({ pins: await this.api.pins(this.address) })
    } catch {
      this.patch({ pins: [] })
    }
  }

  /** Show the message at once as pending, then send it (again on reconnect) with
   * the same client id, so it is stored once. */
  send(content: string, parentId: string | null = null, attachments: AttachmentPublic[] = []): void {
    this.#stopTyping()
    const pending = {
      clientId: newClientId(),
      content,
      parentId,
      attachments,
      createdAt: new Date().toISOString(),
      failed: false,
    }
    this.patch({ timeline: addPending(this.value.timeline, pending), error: null })
    void this.#deliver(pending.clientId)
  }

  retryPending(): void {
    for (const pending of this.value.timeline.pending) {
      if (!this.#sending.has(pending.clientId)) void this.#deliver(pending.clientId)
    }
  }

  discard(clientId: string): void {
    this.patch({ timeline: dropPending(this.value.timeline, clientId) })
  }

  /** One send at a time, in the order typed: the server numbers them in that order. */
  #deliver(id: string): Promise<void> {
    this.#sending.add(id)
    const next = this.#queue.then(() => this.#deliverNow(id))
    this.#queue = next
    return next
  }

  async #deliverNow(id: string): Promise<void> {
    const pending = this.value.timeline.pending.find((item) => item.clientId === id)
    if (!pending) {
      this.#sending.delete(id)
      return
    }
    try {
      const realtime = this.messenger.realtime
      if (!realtime.connected) throw Object.assign(new Error('offline'), { offline: true })
      const body = {
        conversation: this.address,
        client_id: id,
        content: pending.content || null,
        parent_message_id: pending.parentId,
        attachment_ids: pending.attachments.map((file) => file.id),
      }
      const answer = await realtime.request<{ message: ChatMessage }>('message:send', body)
      this.#merge([answer.message])
      this.messenger.noteMessage(answer.message, true)
    } catch (caught) {
      const error = asApiError(caught)
      if ((caught as { offline?: boolean }).offline || error.isNetwork || error.status >= 500) {
        this.patch({ timeline: markPending(this.value.timeline, id, true) }) // sent again on reconnect
      } else {
        this.patch({ timeline: dropPending(this.value.timeline, id), error })
      }
    } finally {
      this.#sending.delete(id)
    }
  }

  async act(action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action()
      return true
    } catch (error) {
      this.patch({ error: asApiError(error) })
      return false
    }
  }

  edit(messageId: string, content: string): Promise<boolean> {
    return this.act(async () => this.#merge([await this.api.edit(messageId, content)]))
  }

  remove(messageId: string): Promise<boolean> {
    return this.act(() => this.api.remove(messageId))
  }

  toggleReaction(messageId: string, emoji: string): Promise<boolean> {
    const message = this.value.timeline.messages.find((item) => item.id === messageId)
    const mine = message?.reactions.find((reaction) => reaction.emoji === emoji)?.reacted
    return this.act(() => (mine ? this.api.unreact(messageId, emoji) : this.api.react(messageId, emoji)))
  }

  pin(messageId: string, pinned: boolean): Promise<boolean> {
    return this.act(async () => {
      if (pinned) await this.api.unpin(this.address, messageId)
      else await this.api.pin(this.address, messageId)
      await this.loadPins()
    })
  }

  /** Mark read up to the newest message held (once per seq). */
  markRead(): void {
    const last = this.value.timeline.messages.at(-1)?.seq ?? 0
    const summary = this.messenger.summary(this.address)
    const target = Math.max(last, summary?.last_seq ?? 0)
    if (target <= this.#readSent || !summary || (summary.unread_count === 0 && summary.last_read_seq >= last)) return
    this.#readSent = target
    this.messenger.setUnread(this.address, 0, target)
    void this.api.markRead(this.address, target).catch(() => {
      this.#readSent = 0
    })
  }

  typing(active: boolean): void {
    if (!active) return this.#stopTyping()
    const now = Date.now()
    if (now - this.#typingSentAt > TYPING_REPEAT_MS) {
      this.#typingSentAt = now
      this.messenger.realtime.send('typing:start', { conversation: this.address })
    }
    clearTimeout(this.#typingIdle)
    this.#typingIdle = setTimeout(() => this.#stopTyping(), TYPING_IDLE_MS)
  }

  #stopTyping(): void {
    clearTimeout(this.#typingIdle)
    if (this.#typingSentAt) {
      this.#typingSentAt = 0
      this.messenger.realtime.send('typing:stop', { conversation: this.address })
    }
  }

  #merge(messages: ChatMessage[]): void {
    if (messages.length) this.patch({ timeline: merge(this.value.timeline, messages, this.me) })
  }

  // --- events (the messenger routes them here) ------------------------------------

  handle(event: string, payload: any): void {
    const timeline = this.value.timeline
    switch (event) {
      case 'message:new':
        this.#merge([payload.message])
        void this.messenger.learn([payload.message.sender_id])
        break
      case 'message:edited':
        this.patch({ timeline: update(timeline, payload.message.id, (m) => ({ ...m, ...payload.message, reactions: m.reactions })) })
        break
      case 'message:deleted':
        this.patch({ timeline: update(timeline, payload.message_id, (m) => tombstone(m, payload.deleted_at)) })
        break
      case 'reaction:added':
      case 'reaction:removed':
        this.patch({
          timeline: update(timeline, payload.message_id, (m) =>
            react(m, payload.emoji, event === 'reaction:added' ? 1 : -1, payload.user_id === this.me),
          ),
        })
        break
      case 'message:read':
        if (payload.user_id !== this.me) {
          this.patch({ reads: { ...this.value.reads, [payload.user_id]: payload.up_to_seq } })
        }
        break
      case 'message:pinned':
      case 'message:unpinned':
        void this.loadPins()
        break
      case 'group:updated':
        if (this.value.group) this.patch({ group: { ...this.value.group, ...(payload.group as GroupPublic) } })
        break
      case 'group:member':
        if ((payload.change === 'left' || payload.change === 'removed') && payload.user_id === this.me) {
          this.patch({ left: true, group: null, members: null, typing: [] })
        } else if (!this.value.left) void this.loadGroup()
        break
      case 'typing': {
        if (payload.user_id === this.me) break
        const others = this.value.typing.filter((id) => id !== payload.user_id)
        this.patch({ typing: payload.state === 'start' ? [...others, payload.user_id] : others })
        void this.messenger.learn([payload.user_id])
        break
      }
    }
  }

  dispose(): void {
    this.#stopTyping()
  }
}

const CONVERSATION_EVENTS = [
  'message:new',
  'message:edited',
  'message:deleted',
  'message:read',
  'reaction:added',
  'reaction:removed',
  'message:pinned',
  'message:unpinned',
  'group:updated',
  'group:member',
  'typing',
]

export class Messenger extends Store<MessengerState> {
  readonly views = new Map<string, ChatView>()
  /** the conversation on screen (its new messages count as read while visible) */
  visible: string | null = null
  readonly #unsubscribe: Array<() => void> = []
  #asked = new Set<string>()

  constructor(
    readonly api: MessagingApi,
    readonly account: AccountApi,
    readonly realtime: Realtime,
    readonly me: string,
  ) {
    super({ conversations: [], loaded: false, presence: {}, people: {}, error: null })
    for (const name of CONVERSATION_EVENTS) {
      this.#unsubscribe.push(realtime.on(name, (payload) => this.#route(name, payload)))
    }
    this.#unsubscribe.push(
      realtime.on('presence', (event: { user_id: string; status: string }) =>
        this.patch({ presence: { ...this.value.presence, [event.user_id]: event.status } }),
      ),
      realtime.on('conversation:joined', () => void this.refresh()),
      realtime.on('conversation:left', (event: { conversation: string }) => {
        this.patch({ conversations: this.value.conversations.filter((c) => c.conversation !== event.conversation) })
        this.views.get(event.conversation)?.patch({ left: true, group: null, members: null, typing: [] })
      }),
      realtime.on('conversation:settings', (event: { conversation: string; archived: boolean; muted_until: string | null }) =>
        this.#change(event.conversation, { archived: event.archived, muted_until: event.muted_until }),
      ),
      realtime.on('connected', () => {
        void this.refresh()
        for (const view of this.views.values()) void view.catchUp()
      }),
    )
  }

  /** The list, and the cursors from it (so a reconnect replays what came after). */
  async refresh(): Promise<void> {
    try {
      const items: ConversationSummary[] = []
      let cursor: string | undefined
      for (let pages = 0; pages < 10; pages++) {
        const page = await this.api.conversations({ cursor, limit: 200 })
        items.push(...page.items)
        if (!page.has_more || !page.next_cursor) break
        cursor = page.next_cursor
      }
      for (const item of items) this.realtime.cursors.advance(item.conversation, item.last_seq)
      this.meet(items.flatMap((item) => (item.peer ? [item.peer] : [])))
      const presence = { ...this.value.presence }
      for (const item of items) if (item.peer && !(item.peer.id in presence)) presence[item.peer.id] = item.peer.status
      this.patch({ conversations: items.sort(byActivity), loaded: true, presence, error: null })
    } catch (error) {
      this.patch({ error: asApiError(error), loaded: true })
    }
  }

  summary(address: string): ConversationSummary | undefined {
    return this.value.conversations.find((item) => item.conversation === address)
  }

  view(address: string): ChatView {
    let view = this.views.get(address)
    if (!view) {
      view = new ChatView(this, address)
      this.views.set(address, view)
      void view.open()
    }
    return view
  }

  meet(users: UserPublic[]): void {
    if (users.length === 0) return
    const people = { ...this.value.people }
    for (const user of users) people[user.id] = user
    this.patch({ people })
  }

  /** Fetch the profiles of senders not seen yet (once each). */
  async learn(ids: string[]): Promise<void> {
    const unknown = [...new Set(ids)].filter((id) => !(id in this.value.people) && !this.#asked.has(id))
    for (const id of unknown) this.#asked.add(id)
    const found = await Promise.all(unknown.map((id) => this.account.profile(id).catch(() => null)))
    this.meet(found.filter((user): user is UserPublic => user !== null))
  }

  nameOf(id: string): string {
    const user = this.value.people[id]
    return user?.display_name || user?.username || '…'
  }

  titleOf(summary: ConversationSummary): string {
    if (summary.kind === 'group') return summary.title ?? ''
    return summary.peer?.display_name || summary.peer?.username || ''
  }

  setUnread(address: string, count: number, readSeq: number): void {
    this.#change(address, { unread_count: count, last_read_seq: readSeq })
  }

  /** A message arrived or was sent: the list moves it up with its preview. */
  noteMessage(message: ChatMessage, mine: boolean): void {
    const summary = this.summary(message.conversation)
    if (!summary) {
      void this.refresh()
      return
    }
    if (summary.last_message && summary.last_message.seq >= message.seq) return
    const unread = mine || message.sender_id === this.me ? summary.unread_count : summary.unread_count + 1
    this.#change(message.conversation, {
      last_message: message,
      last_activity_at: message.created_at,
      last_seq: Math.max(summary.last_seq, message.seq),
      unread_count: unread,
    })
    this.patch({ conversations: [...this.value.conversations].sort(byActivity) })
    if (this.visible === message.conversation && !document.hidden) this.views.get(message.conversation)?.markRead()
  }

  async openSingle(userId: string): Promise<string> {
    const chat = await this.api.openSingle(userId)
    if (!this.summary(chat.conversation)) await this.refresh()
    return chat.conversation
  }

  async createGroup(title: string, memberIds: string[]): Promise<string> {
    const group = await this.api.createGroup(title, memberIds)
    await this.refresh()
    return group.conversation
  }

  async setSettings(address: string, changes: { archived?: boolean; muted_until?: string | null }): Promise<void> {
    try {
      const settings = await this.api.settings(address, changes)
      this.#change(address, { archived: settings.archived, muted_until: settings.muted_until })
    } catch (error) {
      this.patch({ error: asApiError(error) })
    }
  }

  clearError(): void {
    this.patch({ error: null })
  }

  dispose(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
    for (const view of this.views.values()) view.dispose()
  }

  #change(address: string, change: Partial<ConversationSummary>): void {
    if (!this.summary(address)) return
    this.patch({
      conversations: this.value.conversations.map((item) => (item.conversation === address ? { ...item, ...change } : item)),
    })
  }

  #route(event: string, payload: any): void {
    const address: string | undefined = payload?.conversation
    if (!address) return
    this.views.get(address)?.handle(event, payload)
    if (event === 'message:new') this.noteMessage(payload.message, false)
    else if (event === 'message:edited' || event === 'message:deleted') {
      const summary = this.summary(address)
      const id = event === 'message:edited' ? payload.message.id : payload.message_id
      const last = summary?.last_message
      if (last && last.id === id) {
        this.#change(address, {
          last_message: event === 'message:edited' ? payload.message : { ...last, content: null, deleted_at: payload.deleted_at },
        })
      }
    } else if (event === 'message:read' && payload.user_id === this.me) {
      const summary = this.summary(address)
      if (summary && payload.up_to_seq >= summary.last_read_seq) {
        void this.api.readState(address).then((state) => this.setUnread(address, state.unread_count, state.last_read_seq))
      }
    } else if (event === 'group:updated') {
      this.#change(address, { title: payload.group.title })
    }
  }
}
