// Pieces both the console and the widget use.
import { useEffect, useRef, useState } from 'preact/hooks'
import type { ApiError } from '../api/errors'
import type { SupportMessage } from '../api/types'
import { describeError } from '../i18n/errors'
import { formatTime, i18n, LANGUAGES, type Language, useT } from '../i18n'
import { useStore } from '../lib/store'
import type { ConnectionStatus } from '../realtime/socket'
import { checkBody, type Timeline } from '../support/timeline'

export function LanguageSwitch() {
  const t = useT()
  const language = useStore(i18n)
  return (
    <label class="language">
      <span class="visually-hidden">{t('lang.label')}</span>
      <select
        value={language}
        aria-label={t('lang.label')}
        onChange={(event) => i18n.choose(event.currentTarget.value as Language)}
      >
        {LANGUAGES.map((code) => (
          <option key={code} value={code} lang={code}>
            {t(`lang.${code}`)}
          </option>
        ))}
      </select>
    </label>
  )
}

export function ErrorBanner({ error, onDismiss }: { error: ApiError | null; onDismiss: () => void }) {
  const t = useT()
  const language = useStore(i18n)
  if (!error) return null
  return (
    <div class="banner banner-error" role="alert">
      <span>{describeError(language, error)}</span>
      <button type="button" class="link" onClick={onDismiss}>
        {t('error.dismiss')}
      </button>
    </div>
  )
}

export function ConnectionBar({ status }: { status: ConnectionStatus }) {
  const t = useT()
  if (status === 'connected' || status === 'idle') return null
  return (
    <div class={`banner banner-${status}`} role="status" data-testid="connection">
      {t(status === 'offline' ? 'connection.offline' : 'connection.connecting')}
    </div>
  )
}

export interface SenderNames {
  me: string | null
  name: (message: SupportMessage) => string
}

/** A staff-only note shown among the messages (the console only). */
export interface NoteItem {
  key: string
  author: string
  body: string
  createdAt: string
  pending?: boolean
}

function NoteRow({ note }: { note: NoteItem }) {
  const t = useT()
  const language = useStore(i18n)
  return (
    <li class={`message note${note.pending ? ' pending' : ''}`} data-note={note.key}>
      <span class="meta">
        <span class="note-tag">{t('note.tag')}</span>
        <span class="who">{note.author}</span>
        {note.pending ? <span>{t('message.pending')}</span> : <time dateTime={note.createdAt}>{formatTime(language, note.createdAt)}</time>}
      </span>
      <p class="body" dir="auto">
        {note.body}
      </p>
    </li>
  )
}

export function MessageList({
  timeline,
  names,
  onRetry,
  notes = [],
  seenSeq = 0,
}: {
  timeline: Timeline
  names: SenderNames
  onRetry: (clientId: string) => void
  /** staff-only notes, by time, placed among the messages */
  notes?: NoteItem[]
  /** the other side read up to this seq: my newest message up to it says "Seen" */
  seenSeq?: number
}) {
  const t = useT()
  const language = useStore(i18n)
  const list = useRef<HTMLOListElement>(null)
  const count = timeline.messages.length + timeline.pending.length + notes.length
  const stored = notes.filter((note) => !note.pending)
  let nextNote = 0
  const notesBefore = (at: string | null) => {
    const start = nextNote
    while (nextNote < stored.length && (at === null || Date.parse(stored[nextNote]?.createdAt ?? '') <= Date.parse(at))) nextNote++
    return stored.slice(start, nextNote).map((note) => <NoteRow key={`n${note.key}`} note={note} />)
  }
  const lastMine = [...timeline.messages].reverse().find((message) => message.sender.id === names.me)
  const seenMark = lastMine && seenSeq >= lastMine.seq ? lastMine.seq : null
  const shown = useRef(0)
  useEffect(() => {
    // Open at the newest message; follow new ones unless the reader scrolled up.
    const element = list.current
    const near = element && element.scrollHeight - element.scrollTop - element.clientHeight < 200
    if (element && (shown.current === 0 || near)) element.scrollTop = element.scrollHeight
    shown.current = count
  }, [count])
  return (
    <ol class="messages" ref={list} aria-live="polite" aria-relevant="additions" tabIndex={0}>
      {timeline.messages.map((message) => {
        const mine = message.sender.id === names.me
        return [
          ...notesBefore(message.created_at),
          <li
            key={`s${message.seq}`}
            class={`message ${mine ? 'mine' : 'theirs'} sender-${message.sender.kind}`}
            data-seq={message.seq}
          >
            <span class="meta">
              <span class="who">{mine ? t('chat.you') : names.name(message)}</span>
              <time dateTime={message.created_at}>{formatTime(language, message.created_at)}</time>
            </span>
            <p class="body" dir="auto">
              {message.body}
            </p>
            {seenMark === message.seq && (
              <span class="read-state" data-testid="seen">
                {t('chat.seen')}
              </span>
            )}
          </li>,
        ]
      })}
      {notesBefore(null)}
      {notes
        .filter((note) => note.pending)
        .map((note) => (
          <NoteRow key={`p${note.key}`} note={note} />
        ))}
      {timeline.pending.map((pending) => (
        <li key={`p${pending.clientId}`} class="message mine pending" data-pending={pending.clientId}>
          <span class="meta">
            <span class="who">{t('chat.you')}</span>
            <span>{t(pending.failed ? 'message.failed' : 'message.pending')}</span>
            {pending.failed && (
              <button type="button" class="link" onClick={() => onRetry(pending.clientId)}>
                {t('message.retry')}
              </button>
            )}
          </span>
          <p class="body" dir="auto">
            {pending.body}
          </p>
        </li>
      ))}
    </ol>
  )
}

/** A message box: Enter sends, Shift+Enter starts a new line; empty and
 * too-long messages are refused here with words, before anything is sent. */
export function Composer({
  limit,
  disabled,
  placeholder,
  onSend,
  onTyping,
  onDraft,
  autoFocus,
}: {
  autoFocus?: boolean
  limit: number
  disabled?: boolean
  placeholder?: string
  onSend: (body: string) => void
  onTyping?: (active: boolean) => void
  /** the whole draft as typed (the customer's typing preview); '' once sent */
  onDraft?: (text: string) => void
}) {
  const t = useT()
  const [draft, setDraft] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const input = useRef<HTMLTextAreaElement>(null)
  useEffect(() => {
    if (autoFocus && document.hasFocus()) input.current?.focus()
  }, [])
  const submit = (event?: Event) => {
    event?.preventDefault()
    const check = checkBody(draft, limit)
    if (check === 'empty') return setProblem(t('composer.empty'))
    if (check === 'too_long') return setProblem(t('composer.too_long', { length: draft.length, limit }))
    setProblem(null)
    onSend(draft)
    setDraft('')
    onTyping?.(false)
    onDraft?.('')
  }
  return (
    <form class="composer" onSubmit={submit}>
      {problem && (
        <p class="composer-problem" role="alert">
          {problem}
        </p>
      )}
      <div class="composer-row">
        <label class="visually-hidden" for="composer-input">
          {t('composer.label')}
        </label>
        <textarea
          id="composer-input"
          ref={input}
          data-autofocus={autoFocus ? '' : undefined}
          dir="auto"
          rows={2}
          value={draft}
          disabled={disabled}
          placeholder={placeholder ?? t('composer.placeholder')}
          aria-invalid={problem ? 'true' : undefined}
          onInput={(event) => {
            const value = event.currentTarget.value
            setDraft(value)
            if (problem) setProblem(null)
            onTyping?.(value.trim().length > 0)
            onDraft?.(value)
          }}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) submit(event)
          }}
        />
        <button type="submit" class="primary" disabled={disabled}>
          {t('composer.send')}
        </button>
      </div>
    </form>
  )
}
