// The staff-only parts of a conversation (issue 18): its labels, the customer's
// live draft, and the composer that writes a reply or a private note and offers
// canned replies for a `/shortcode`. They render StaffDesk's state and raise its
// intents; nothing here talks to the server.
import { useRef, useState } from 'preact/hooks'
import { type MessageKey, useT } from '../i18n'
import { useStore } from '../lib/store'
import { insertReply, shortcodeAt, type StaffDesk } from '../support/desk'
import { checkBody } from '../support/timeline'

export function LabelsBar({ desk }: { desk: StaffDesk }) {
  const t = useT()
  const { labels } = useStore(desk)
  const [draft, setDraft] = useState('')
  return (
    <div class="labels-bar" role="group" aria-label={t('labels.title')}>
      <ul class="chips labels" data-testid="labels">
        {labels.map((label) => (
          <li key={label} class="label-chip">
            <span dir="auto">{label}</span>
            <button
              type="button"
              class="chip-remove"
              aria-label={t('labels.remove', { label })}
              onClick={() => void desk.removeLabel(label)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <form
        class="label-add"
        onSubmit={async (event) => {
          event.preventDefault()
          const label = draft.trim()
          if (!label) return
          setDraft('')
          if (!(await desk.addLabel(label))) setDraft((now) => now || label) // refused: give it back
        }}
      >
        <label class="visually-hidden" for="label-input">
          {t('labels.add')}
        </label>
        <input
          id="label-input"
          dir="auto"
          maxLength={40}
          placeholder={t('labels.placeholder')}
          value={draft}
          onInput={(event) => setDraft(event.currentTarget.value)}
        />
        <button type="submit">{t('labels.add_button')}</button>
      </form>
    </div>
  )
}

export function DraftPreview({ desk, name }: { desk: StaffDesk; name: string }) {
  const t = useT()
  const { draft } = useStore(desk)
  if (!draft) return null
  return (
    <div class="draft-preview" data-testid="draft-preview">
      <span class="hint">{t('draft.title', { name })}</span>
      <p class="body" dir="auto">
        {draft.text}
      </p>
    </div>
  )
}

export type ComposeMode = 'reply' | 'note'

/** Reply or private note; `/shortcode` opens the canned replies (arrows choose,
 * Enter or Tab insert, Escape closes). Replies go through ``onSend``; notes
 * through the desk. */
export function StaffComposer({
  desk,
  limit,
  canReply,
  onSend,
  onTyping,
}: {
  desk: StaffDesk
  limit: number
  canReply: boolean
  onSend: (body: string) => void
  onTyping: (active: boolean) => void
}) {
  const t = useT()
  const state = useStore(desk)
  const [mode, setMode] = useState<ComposeMode>(canReply ? 'reply' : 'note')
  const [draft, setDraft] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [active, setActive] = useState(0)
  const input = useRef<HTMLTextAreaElement>(null)
  const effective: ComposeMode = canReply ? mode : 'note'
  const suggestions = state.suggestions ?? []
  const picking = state.suggestions !== null && suggestions.length > 0

  const refreshSuggestions = (value: string, caret: number) => {
    const found = shortcodeAt(value, caret)
    desk.suggest(found ? found.query : null)
    setActive(0)
  }
  const pick = async (shortcode: string) => {
    const element = input.current
    const caret = element?.selectionStart ?? draft.length
    const found = shortcodeAt(draft, caret)
    const body = await desk.fill(shortcode)
    if (body === null || !found) return
    const next = insertReply(draft, found.start, caret, body)
    setDraft(next)
    requestAnimationFrame(() => {
      const position = found.start + body.length
      element?.focus()
      element?.setSelectionRange(position, position)
    })
  }
  const submit = (event?: Event) => {
    event?.preventDefault()
    const check = checkBody(draft, limit)
    if (check === 'empty') return setProblem(t('composer.empty'))
    if (check === 'too_long') return setProblem(t('composer.too_long', { length: draft.length, limit }))
    setProblem(null)
    if (effective === 'note') desk.note(draft)
    else {
      onSend(draft)
      onTyping(false)
    }
    setDraft('')
    desk.suggest(null)
  }
  return (
    <form class={`composer staff-composer mode-${effective}`} onSubmit={submit}>
      <div class="compose-modes" role="radiogroup" aria-label={t('compose.mode')}>
        {canReply && (
          <label class="check">
            <input
              type="radio"
              name="compose-mode"
              checked={effective === 'reply'}
              onChange={() => setMode('reply')}
            />
            {t('compose.reply')}
          </label>
        )}
        <label class="check">
          <input type="radio" name="compose-mode" checked={effective === 'note'} onChange={() => setMode('note')} />
          {t('compose.note')}
        </label>
        <span class="hint">{effective === 'note' ? t('compose.note_hint') : t('compose.canned_hint')}</span>
      </div>
      {problem && (
        <p class="composer-problem" role="alert">
          {problem}
        </p>
      )}
      {picking && (
        <ul class="canned-picker" id="canned-picker" aria-label={t('canned.title')} data-testid="canned-picker">
          {suggestions.map((reply, index) => (
            <li key={reply.id}>
              <button
                type="button"
                class={index === active ? 'active' : undefined}
                aria-current={index === active ? 'true' : undefined}
                onMouseDown={(event) => event.preventDefault()}
                onClick={() => void pick(reply.shortcode)}
              >
                <span class="shortcode" dir="ltr">
                  /{reply.shortcode}
                </span>
                <span dir="auto">{reply.title}</span>
                <span class="hint">{t(`canned.scope.${reply.scope}` as MessageKey)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {state.suggestions !== null && suggestions.length === 0 && (
        <p class="hint canned-none">{t('canned.none')}</p>
      )}
      <p class="visually-hidden" aria-live="polite">
        {picking ? t('canned.announce', { count: suggestions.length, shortcode: suggestions[active]?.shortcode ?? '' }) : ''}
      </p>
      <div class="composer-row">
        <label class="visually-hidden" for="composer-input">
          {effective === 'note' ? t('compose.note_label') : t('composer.label')}
        </label>
        <textarea
          id="composer-input"
          ref={input}
          dir="auto"
          rows={2}
          value={draft}
          placeholder={effective === 'note' ? t('compose.note_placeholder') : t('compose.reply_placeholder')}
          aria-invalid={problem ? 'true' : undefined}
          onInput={(event) => {
            const element = event.currentTarget
            setDraft(element.value)
            if (problem) setProblem(null)
            refreshSuggestions(element.value, element.selectionStart ?? element.value.length)
            if (effective === 'reply') onTyping(element.value.trim().length > 0)
          }}
          onBlur={() => desk.suggest(null)}
          onKeyDown={(event) => {
            if (picking) {
              if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
                event.preventDefault()
                const step = event.key === 'ArrowDown' ? 1 : -1
                setActive((active + step + suggestions.length) % suggestions.length)
                return
              }
              if ((event.key === 'Enter' && !event.shiftKey) || event.key === 'Tab') {
                event.preventDefault()
                const chosen = suggestions[active]
                if (chosen) void pick(chosen.shortcode)
                return
              }
              if (event.key === 'Escape') {
                event.preventDefault()
                event.stopPropagation()
                desk.suggest(null)
                return
              }
            }
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) submit(event)
          }}
        />
        <button type="submit" class="primary">
          {effective === 'note' ? t('compose.add_note') : t('composer.send')}
        </button>
      </div>
    </form>
  )
}
