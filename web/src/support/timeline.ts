// A conversation's messages as the screen shows them: the confirmed ones in seq
// order, each once (a live event, a replay and a REST read of the same message
// meet here), then the ones still being sent, by client id.
import type { SupportMessage } from '../api/types'

export interface PendingMessage {
  clientId: string
  body: string
  createdAt: string
  failed: boolean
}

export interface Timeline {
  messages: SupportMessage[]
  pending: PendingMessage[]
}

export const EMPTY_TIMELINE: Timeline = { messages: [], pending: [] }

/** Add confirmed messages; a seq already there is kept once, and a pending
 * message of the same client id (and sender) is confirmed by it. */
export function merge(timeline: Timeline, incoming: SupportMessage[], me: string | null): Timeline {
  if (incoming.length === 0) return timeline
  const bySeq = new Map(timeline.messages.map((message) => [message.seq, message]))
  for (const message of incoming) bySeq.set(message.seq, message)
  const confirmed = new Set(
    incoming.filter((message) => message.sender.id === me).map((message) => message.client_id),
  )
  return {
    messages: [...bySeq.values()].sort((a, b) => a.seq - b.seq),
    pending: timeline.pending.filter((pending) => !confirmed.has(pending.clientId)),
  }
}

export function addPending(timeline: Timeline, pending: PendingMessage): Timeline {
  if (timeline.pending.some((item) => item.clientId === pending.clientId)) return timeline
  return { ...timeline, pending: [...timeline.pending, pending] }
}

export function markPending(timeline: Timeline, clientId: string, failed: boolean): Timeline {
  return {
    ...timeline,
    pending: timeline.pending.map((item) => (item.clientId === clientId ? { ...item, failed } : item)),
  }
}

export function dropPending(timeline: Timeline, clientId: string): Timeline {
  return { ...timeline, pending: timeline.pending.filter((item) => item.clientId !== clientId) }
}

/** The highest seq up to which every message is here (support seqs run 1, 2, 3…):
 * how far the socket's cursor may move without skipping one still on its way. */
export function contiguousSeq(timeline: Timeline): number {
  let seq = 0
  for (const message of timeline.messages) {
    if (message.seq !== seq + 1) break
    seq = message.seq
  }
  return seq
}

/** What stops a message before it is sent: nothing, 'empty' or 'too_long'. */
export function checkBody(body: string, limit: number): 'empty' | 'too_long' | null {
  if (!body.trim()) return 'empty'
  if (body.length > limit) return 'too_long'
  return null
}
