import { describe, expect, it } from 'vitest'
import { addNote, insertReply, shortcodeAt } from '../../src/support/desk'

describe('the /shortcode in the composer', () => {
  it('is the word starting with a slash that ends at the caret', () => {
    expect(shortcodeAt('/gre', 4)).toEqual({ start: 0, query: 'gre' })
    expect(shortcodeAt('Hi /', 4)).toEqual({ start: 3, query: '' })
    expect(shortcodeAt('thanks\n/refund-2', 16)).toEqual({ start: 7, query: 'refund-2' })
  })

  it('is not a slash inside a word, a path or before the caret', () => {
    expect(shortcodeAt('and/or', 6)).toBeNull()
    expect(shortcodeAt('/greet now', 10)).toBeNull()
    expect(shortcodeAt('plain text', 10)).toBeNull()
  })

  it('works in Persian too', () => {
    expect(shortcodeAt('سلام /درود', 10)).toEqual({ start: 5, query: 'درود' })
  })

  it('is replaced by the filled reply, keeping what follows the caret', () => {
    expect(insertReply('Hi /gr and more', 3, 6, 'Hello Alice')).toBe('Hi Hello Alice and more')
  })
})

describe('notes', () => {
  const note = (id: string, at: string) => ({ id, client_id: id, author_id: 'a', body: id, created_at: at })

  it('are kept once each, in time order', () => {
    let notes = addNote([], note('b', '2026-01-01T10:00:02Z'))
    notes = addNote(notes, note('a', '2026-01-01T10:00:01Z'))
    notes = addNote(notes, note('b', '2026-01-01T10:00:02Z'))
    expect(notes.map((item) => item.id)).toEqual(['a', 'b'])
  })
})
