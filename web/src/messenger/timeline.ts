// A chat conversation's messages as the screen holds them: confirmed messages in
// seq order, each once (live events, replays and REST pages of the same message
// meet here), then the ones still being sent, by client id. Pure functions, so
// the rules are tested without a browser.
import type { AttachmentPublic, ChatMessage, HistoryMessage, ReactionCount } from '../api/types'

export interface PendingSend {
  clientId: string
  content: string
  parentId: string | null
  attachments: AttachmentPublic[]
  createdAt: string
  failed: boolean
}

export interface ChatTimeline {
  messages: HistoryMessage[]
  pending: PendingSend[]
  /** older pages remain on the server */
  hasOlder: boolean
}

export const EMPTY: ChatTimeline = { messages: [], pending: [], hasOlder: true }

export function withReactions(message: ChatMessage | HistoryMessage, keep?: ReactionCount[]): HistoryMessage {
  const reactions = 'reactions' in message ? message.reactions : (keep ?? [])
  return { ...message, reactions }
}

/** Add confirmed messages; a seq already there is replaced (its reactions kept when
 * the newcomer carries none), and a pending send of mine with the same client id
 * is confirmed by it. */
export function merge(timeline: ChatTimeline, incoming: Array<ChatMessage | HistoryMessage>, me: string | null): ChatTimeline {
  if (incoming.length === 0) return timeline
  const byId = new Map(timeline.messages.map((message) => [message.id, message]))
  let sorted = true
  const messages = timeline.messages.slice()
  const last = () => messages[messages.length - 1]?.seq ?? 0
  for (const item of incoming) {
    const known = byId.get(item.id)
    const next = withReactions(item, known?.reactions)
    if (known) {
      const index = indexOfSeq(messages, known.seq)
      if (index >= 0) messages[index] = next
    } else {
      if (next.seq < last()) sorted = false
      messages.push(next)
    }
    byId.set(item.id, next)
  }
  if (!sorted) messages.sort((a, b) => a.seq - b.seq)
  const confirmed = new Set(incoming.filter((message) => message.sender_id === me).map((message) => message.client_id))
  return {
    ...timeline,
    messages,
    pending: confirmed.size ? timeline.pending.filter((pending) => !confirmed.has(pending.clientId)) : timeline.pending,
  }
}

/** A page of older messages (newest first from the server) put before the rest. */
export function prependOlder(timeline: ChatTimeline, page: HistoryMessage[], hasMore: boolean): ChatTimeline {
  const merged = merge(timeline, page, null)
  return { ...merged, hasOlder: hasMore }
}

/** Binary search by seq; -1 when absent. */
export function indexOfSeq(messages: HistoryMessage[], seq: number): number {
  let low = 0
  let high = messages.length - 1
  while (low <= high) {
    const middle = (low + high) >> 1
    const value = (messages[middle] as HistoryMessage).seq
    if (value === seq) return middle
    if (value < seq) low = middle + 1
    else high = middle - 1
  }
  return -1
}

export function update(
  timeline: ChatTimeline,
  messageId: string,
  change: (message: HistoryMessage) => HistoryMessage,
): ChatTimeline {
  const index = timeline.messages.findIndex((message) => message.id === messageId)
  if (index < 0) return timeline
  const messages = timeline.messages.slice()
  messages[index] = change(messages[index] as HistoryMessage)
  return { ...timeline, messages }
}

export function tombstone(message: HistoryMessage, deletedAt: string): HistoryMessage {
  return { ...message, content: null, attachments: [], reactions: [], deleted_at: deletedAt }
}

/** A reaction added (+1) or removed (-1) by a user; ``reacted`` follows mine. */
export function react(message: HistoryMessage, emoji: string, delta: 1 | -1, mine: boolean): HistoryMessage {
  const reactions = message.reactions.map((reaction) => ({ ...reaction }))
  let entry = reactions.find((reaction) => reaction.emoji === emoji)
  if (!entry) {
    if (delta < 0) return message
    entry = { emoji, count: 0, reacted: false }
    reactions.push(entry)
  }
  entry.count += delta
  if (mine) entry.reacted = delta > 0
  return { ...message, reactions: reactions.filter((reaction) => reaction.count > 0) }
}

export function addPending(timeline: ChatTimeline, pending: PendingSend): ChatTimeline {
  if (timeline.pending.some((item) => item.clientId === pending.clientId)) return timeline
  return { ...timeline, pending: [...timeline.pending, pending] }
}

export function markPending(timeline: ChatTimeline, clientId: string, failed: boolean): ChatTimeline {
  return {
    ...timeline,
    pending: timeline.pending.map((item) => (item.clientId === clientId ? { ...item, failed } : item)),
  }
}

export function dropPending(timeline: ChatTimeline, clientId: string): ChatTimeline {
  return { ...timeline, pending: timeline.pending.filter((item) => item.clientId !== clientId) }
}

/** What the screen draws, top to bottom: date separators, the "new messages"
 * marker before the first unread, messages, then pending sends. */
export type Row =
  | { kind: 'day'; key: string; day: string }
  | { kind: 'unread'; key: string }
  | { kind: 'message'; key: string; message: HistoryMessage }
  | { kind: 'pending'; key: string; pending: PendingSend }

export function dayOf(at: string): string {
  const date = new Date(at)
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`
}

export function rows(timeline: ChatTimeline, firstUnreadSeq: number | null): Row[] {
  const out: Row[] = []
  let day = ''
  for (const message of timeline.messages) {
    const today = dayOf(message.created_at)
    if (today !== day) {
      day = today
      out.push({ kind: 'day', key: `d${today}`, day: message.created_at })
    }
    if (message.seq === firstUnreadSeq) out.push({ kind: 'unread', key: 'unread' })
    out.push({ kind: 'message', key: `m${message.id}`, message })
  }
  for (const pending of timeline.pending) out.push({ kind: 'pending', key: `p${pending.clientId}`, pending })
  return out
}
