import { describe, expect, it } from 'vitest'
import { Cursors, sequenced } from '../../src/realtime/cursors'

describe('cursors', () => {
  it('accept each (conversation, seq) once and remember the last', () => {
    const cursors = new Cursors()
    expect(cursors.accept('support:a', 1)).toBe(true)
    expect(cursors.accept('support:a', 1)).toBe(false)
    expect(cursors.accept('support:a', 2)).toBe(true)
    expect(cursors.accept('support:b', 1)).toBe(true)
    expect(cursors.snapshot()).toEqual({ 'support:a': 2, 'support:b': 1 })
  })

  it('drop a replayed event that a REST read already showed', () => {
    const cursors = new Cursors()
    cursors.advance('group:g', 5)
    expect(cursors.accept('group:g', 4)).toBe(false)
    expect(cursors.accept('group:g', 5)).toBe(false)
    expect(cursors.accept('group:g', 6)).toBe(true)
  })

  it('never move back', () => {
    const cursors = new Cursors()
    cursors.advance('single:s', 7)
    cursors.advance('single:s', 3)
    cursors.track('single:s')
    expect(cursors.get('single:s')).toBe(7)
  })

  it('send tracked conversations with cursor 0 so that replay starts at the beginning', () => {
    const cursors = new Cursors()
    cursors.track('support:new')
    expect(cursors.snapshot()).toEqual({ 'support:new': 0 })
  })

  it('tell sequenced events from the others', () => {
    expect(sequenced({ conversation: 'support:a', seq: 3, message: {} })).toEqual({ conversation: 'support:a', seq: 3 })
    expect(sequenced({ conversation: 'support:a', user_id: 'u', state: 'start' })).toBeNull()
    expect(sequenced(null)).toBeNull()
  })
})
