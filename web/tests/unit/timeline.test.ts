import { describe, expect, it } from 'vitest'
import type { SupportMessage } from '../../src/api/types'
import { addPending, checkBody, contiguousSeq, EMPTY_TIMELINE, markPending, merge } from '../../src/support/timeline'

const message = (seq: number, sender = 'them', clientId = `c${seq}`): SupportMessage => ({
  id: `m${seq}`,
  client_id: clientId,
  sender: { kind: sender === 'me' ? 'customer' : 'operator', id: sender },
  body: `body ${seq}`,
  created_at: '2026-01-01T00:00:00Z',
  seq,
})

describe('timeline', () => {
  it('keeps each seq once, in order, whichever way it arrived', () => {
    let timeline = merge(EMPTY_TIMELINE, [message(2), message(1)], 'me')
    timeline = merge(timeline, [message(2), message(3)], 'me') // a replay overlapping a live event
    expect(timeline.messages.map((m) => m.seq)).toEqual([1, 2, 3])
  })

  it('confirms a pending message by its client id, from the answer or from the event', () => {
    let timeline = addPending(EMPTY_TIMELINE, { clientId: 'k1', body: 'hi', createdAt: '', failed: false })
    timeline = addPending(timeline, { clientId: 'k1', body: 'hi', createdAt: '', failed: false })
    expect(timeline.pending).toHaveLength(1)
    timeline = markPending(timeline, 'k1', true)
    expect(timeline.pending[0]?.failed).toBe(true)
    timeline = merge(timeline, [message(1, 'someone else', 'k1')], 'me') // not mine: stays pending
    expect(timeline.pending).toHaveLength(1)
    timeline = merge(timeline, [message(2, 'me', 'k1')], 'me')
    expect(timeline.pending).toHaveLength(0)
    expect(timeline.messages).toHaveLength(2)
  })

  it('moves the cursor only as far as nothing is missing', () => {
    expect(contiguousSeq(merge(EMPTY_TIMELINE, [message(1), message(2), message(4)], null))).toBe(2)
    expect(contiguousSeq(EMPTY_TIMELINE)).toBe(0)
  })

  it('refuses empty and too long bodies before sending', () => {
    expect(checkBody('  \n ', 10)).toBe('empty')
    expect(checkBody('x'.repeat(11), 10)).toBe('too_long')
    expect(checkBody('fine', 10)).toBeNull()
  })
})
