// What only staff see of one support conversation (issue 18): its private notes,
// its labels, the customer's live draft (typing preview, when the team has it
// on) and the canned replies a `/shortcode` in the composer offers. Kept live by
// `support:note`, `support:labels` (to `operators`) and `support:draft` (to the
// assigned operator only); the document read by SupportConversation seeds it.
import type { SupportApi } from '../api/endpoints'
import { type ApiError, asApiError } from '../api/errors'
import type { CannedReply, NotePublic, SupportChat } from '../api/types'
import { clientId as newClientId } from '../lib/ids'
import { Store } from '../lib/store'
import type { Realtime } from '../realtime/socket'

export interface PendingNote {
  clientId: string
  body: string
  failed: boolean
}

export interface DeskState {
  notes: NotePublic[]
  pendingNotes: PendingNote[]
  labels: string[]
  /** the customer's draft as they type it; null: nothing (or the preview is off) */
  draft: { text: string; at: string } | null
  /** canned replies matching the `/shortcode` being typed; null: no picker */
  suggestions: CannedReply[] | null
  error: ApiError | null
}

/** The `/shortcode` being typed at the caret: the word starting with `/` that
 * ends at ``caret``, at the start of the text or after white space. */
export function shortcodeAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret)
  const found = /(^|\s)\/([\p{L}\p{N}_-]{0,32})$/u.exec(before)
  const query = found?.[2]
  if (query === undefined) return null
  return { start: before.length - query.length - 1, query }
}

/** ``text`` with the `/shortcode` at ``start`` (up to ``caret``) replaced by ``body``. */
export function insertReply(text: string, start: number, caret: number, body: string): string {
  return text.slice(0, start) + body + text.slice(caret)
}

export function addNote(notes: NotePublic[], note: NotePublic): NotePublic[] {
  if (notes.some((item) => item.id === note.id)) return notes
  return [...notes, note].sort((a, b) => a.created_at.localeCompare(b.created_at))
}

const SUGGEST_DELAY_MS = 120

export class StaffDesk extends Store<DeskState> {
  readonly #unsubscribe: Array<() => void> = []
  #suggestTimer: ReturnType<typeof setTimeout> | undefined
  #suggestFor = ''

  constructor(
    private readonly support: SupportApi,
    realtime: Realtime,
    readonly chatId: string,
  ) {
    super({ notes: [], pendingNotes: [], labels: [], draft: null, suggestions: null, error: null })
    const mine = (payload: { chat_id?: string }) => payload.chat_id === chatId
    this.#unsubscribe.push(
      realtime.on('support:note', (event: { chat_id: string; note: NotePublic }) => {
        if (mine(event)) this.#noteStored(event.note)
      }),
      realtime.on('support:labels', (event: { chat_id: string; labels: string[] }) => {
        if (mine(event)) this.patch({ labels: event.labels })
      }),
      realtime.on('support:draft', (event: { chat_id: string; text: string; at: string }) => {
        if (mine(event)) this.patch({ draft: event.text ? { text: event.text, at: event.at } : null })
      }),
      realtime.on('support:message', (event: { chat_id: string; message: { sender: { kind: string } } }) => {
        // What the customer was typing has become a message.
        if (mine(event) && event.message.sender.kind === 'customer') this.patch({ draft: null })
      }),
      realtime.on('support:closed', (event) => mine(event) && this.patch({ draft: null })),
    )
  }

  /** The document was read (staff's view carries notes and labels). */
  seed(chat: SupportChat): void {
    let notes = this.value.notes
    for (const note of chat.notes ?? []) notes = addNote(notes, note)
    const stored = new Set(notes.map((note) => note.client_id))
    this.patch({
      notes,
      labels: chat.labels ?? [],
      pendingNotes: this.value.pendingNotes.filter((pending) => !stored.has(pending.clientId)),
      draft: chat.status === 'OPEN' ? this.value.draft : null,
    })
  }

  note(body: string, id = newClientId()): void {
    this.patch({ pendingNotes: [...this.value.pendingNotes, { clientId: id, body, failed: false }], error: null })
    void this.#deliverNote(id, body)
  }

  retryNotes(): void {
    for (const pending of this.value.pendingNotes) if (pending.failed) void this.#deliverNote(pending.clientId, pending.body)
  }

  async addLabel(label: string): Promise<boolean> {
    return this.#guard(async () => this.patch({ labels: (await this.support.addLabel(this.chatId, label)).labels }))
  }

  async removeLabel(label: string): Promise<boolean> {
    return this.#guard(async () => this.patch({ labels: (await this.support.removeLabel(this.chatId, label)).labels }))
  }

  /** The composer's `/word` changed (null: none at the caret): offer the replies
   * whose shortcode starts with it. */
  suggest(query: string | null): void {
    clearTimeout(this.#suggestTimer)
    if (query === null) {
      this.#suggestFor = ''
      if (this.value.suggestions !== null) this.patch({ suggestions: null })
      return
    }
    this.#suggestFor = query
    this.#suggestTimer = setTimeout(async () => {
      try {
        const replies = await this.support.cannedReplies(query || undefined, 8)
        if (this.#suggestFor === query) this.patch({ suggestions: replies })
      } catch (caught) {
        this.patch({ suggestions: null, error: asApiError(caught) })
      }
    }, SUGGEST_DELAY_MS)
  }

  /** The reply's body with its placeholders filled for this conversation. */
  async fill(shortcode: string): Promise<string | null> {
    this.suggest(null)
    try {
      return (await this.support.renderCanned(this.chatId, shortcode)).body
    } catch (caught) {
      this.patch({ error: asApiError(caught) })
      return null
    }
  }

  clearError(): void {
    this.patch({ error: null })
  }

  dispose(): void {
    clearTimeout(this.#suggestTimer)
    for (const unsubscribe of this.#unsubscribe) unsubscribe()
  }

  #noteStored(note: NotePublic): void {
    this.patch({
      notes: addNote(this.value.notes, note),
      pendingNotes: this.value.pendingNotes.filter((pending) => pending.clientId !== note.client_id),
    })
  }

  async #deliverNote(id: string, body: string): Promise<void> {
    try {
      this.#noteStored((await this.support.note(this.chatId, id, body)).note)
    } catch (caught) {
      const error = asApiError(caught)
      const transient = error.isNetwork || error.status >= 500
      this.patch({
        pendingNotes: transient
          ? this.value.pendingNotes.map((item) => (item.clientId === id ? { ...item, failed: true } : item))
          : this.value.pendingNotes.filter((item) => item.clientId !== id),
        error: transient ? this.value.error : error,
      })
    }
  }

  async #guard(work: () => Promise<void>): Promise<boolean> {
    try {
      await work()
      this.patch({ error: null })
      return true
    } catch (caught) {
      this.patch({ error: asApiError(caught) })
      return false
    }
  }
}
