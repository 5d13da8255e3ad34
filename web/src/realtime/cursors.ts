// Per-conversation cursors: the last seq this client has seen of each
// conversation, from live events, replay or a REST read. An event at or below
// its conversation's cursor was seen already and is dropped, so a view never
// shows a message twice; reconnecting sends the cursors (auth.cursors) and the
// server replays what came after them, so a view never misses one.
export class Cursors {
  readonly #seen = new Map<string, number>()

  /** True (and the cursor moves) when (conversation, seq) is new. */
  accept(conversation: string, seq: number): boolean {
    const last = this.#seen.get(conversation) ?? 0
    if (seq <= last) return false
    this.#seen.set(conversation, seq)
    return true
  }

  /** A REST read showed everything up to ``seq``. */
  advance(conversation: string, seq: number): void {
    if (seq > (this.#seen.get(conversation) ?? 0)) this.#seen.set(conversation, seq)
  }

  /** Start following a conversation (cursor 0 until something is seen). */
  track(conversation: string): void {
    if (!this.#seen.has(conversation)) this.#seen.set(conversation, 0)
  }

  get(conversation: string): number | undefined {
    return this.#seen.get(conversation)
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#seen)
  }
}

/** A server event that belongs to a conversation's sequence. */
export function sequenced(payload: unknown): { conversation: string; seq: number } | null {
  if (typeof payload !== 'object' || payload === null) return null
  const { conversation, seq } = payload as { conversation?: unknown; seq?: unknown }
  return typeof conversation === 'string' && typeof seq === 'number' ? { conversation, seq } : null
}
