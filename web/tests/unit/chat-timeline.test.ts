import { describe, expect, it } from 'vitest'
import type { HistoryMessage } from '../../src/api/types'
import { addPending, EMPTY, indexOfSeq, merge, prependOlder, react, rows, tombstone } from '../../src/messenger/timeline'

const message = (seq: number, sender = 'them', day = '2026-01-01'): HistoryMessage => ({
  id: `m${seq}`,
  conversation: 'group:g',
  seq,
  sender_id: sender,
  client_id: `c${seq}`,
  message_type: 'text',
  content: `body ${seq}`,
  parent_message_id: null,
  forwarded_from: null,
  attachments: [],
  created_at: `${day}T12:00:00Z`,
  edited_at: null,
  deleted_at: null,
  reactions: [],
})

describe('chat timeline', () => {
  it('keeps each message once, in seq order, whether live, replayed or paged', () => {
    let timeline = merge(EMPTY, [message(5), message(9)], 'me')
    timeline = merge(timeline, [message(9), message(12)], 'me') // a replay overlapping a live event
    timeline = prependOlder(timeline, [message(3), message(1)], false) // an older page, newest first
    expect(timeline.messages.map((m) => m.seq)).toEqual([1, 3, 5, 9, 12])
    expect(timeline.hasOlder).toBe(false)
    expect(indexOfSeq(timeline.messages, 9)).toBe(3)
    expect(indexOfSeq(timeline.messages, 4)).toBe(-1)
  })

  it('confirms a pending send by its client id, and keeps reactions a live copy lacks', () => {
    let timeline = addPending(EMPTY, { clientId: 'c7', content: 'hi', parentId: null, attachments: [], createdAt: '', failed: true })
    timeline = addPending(timeline, { clientId: 'c7', content: 'hi', parentId: null, attachments: [], createdAt: '', failed: true })
    expect(timeline.pending).toHaveLength(1)
    const liked = react(message(7, 'me'), '👍', 1, false)
    timeline = merge(timeline, [liked], 'me')
    expect(timeline.pending).toHaveLength(0)
    const { reactions: _, ...live } = message(7, 'me')
    timeline = merge(timeline, [{ ...live, content: 'edited' }], 'me')
    expect(timeline.messages[0]?.content).toBe('edited')
    expect(timeline.messages[0]?.reactions).toEqual([{ emoji: '👍', count: 1, reacted: false }])
  })

  it('counts reactions up and down, following mine', () => {
    let m = react(message(1), '🎉', 1, true)
    m = react(m, '🎉', 1, false)
    expect(m.reactions).toEqual([{ emoji: '🎉', count: 2, reacted: true }])
    m = react(m, '🎉', -1, true)
    expect(m.reactions).toEqual([{ emoji: '🎉', count: 1, reacted: false }])
    expect(react(m, '🎉', -1, false).reactions).toEqual([])
    expect(tombstone(m, '2026-01-02T00:00:00Z')).toMatchObject({ content: null, reactions: [], attachments: [] })
  })

  it('draws date separators and the new-messages marker before the first unread', () => {
    const timeline = merge(EMPTY, [message(1, 'a', '2026-01-01'), message(2, 'a', '2026-01-02'), message(3, 'a', '2026-01-02')], 'me')
    expect(rows(timeline, 3).map((row) => row.kind)).toEqual(['day', 'message', 'day', 'message', 'unread', 'message'])
  })
})
