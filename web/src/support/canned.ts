// Canned replies an operator manages (issue 18): their own, their teams' and the
// global ones (admins). The console's panel renders this.
import type { SupportApi } from '../api/endpoints'
import { type ApiError, asApiError } from '../api/errors'
import type { CannedReply, CannedScope } from '../api/types'
import { Store } from '../lib/store'

export interface CannedState {
  replies: CannedReply[]
  error: ApiError | null
}

export class CannedStore extends Store<CannedState> {
  constructor(private readonly support: SupportApi) {
    super({ replies: [], error: null })
  }

  async load(): Promise<void> {
    await this.#guard(async () => this.patch({ replies: await this.support.cannedReplies(undefined, 100) }))
  }

  async create(reply: { scope: CannedScope; shortcode: string; title: string; body: string }): Promise<boolean> {
    return this.#guard(async () => {
      await this.support.createCanned(reply)
      await this.load()
    })
  }

  async remove(id: string): Promise<boolean> {
    return this.#guard(async () => {
      await this.support.deleteCanned(id)
      this.patch({ replies: this.value.replies.filter((reply) => reply.id !== id) })
    })
  }

  clearError(): void {
    this.patch({ error: null })
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
