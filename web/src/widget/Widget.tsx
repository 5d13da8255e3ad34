import { useEffect, useRef, useState } from 'preact/hooks'
import type { SupportChat, SupportMessage } from '../api/types'
import type { App } from '../app'
import { formatNumber, formatWait, i18n, useT } from '../i18n'
import { Store, useStore } from '../lib/store'
import type { ConversationState, SupportConversation } from '../support/conversation'
import { EMPTY_TIMELINE } from '../support/timeline'
import type { WidgetStore } from '../support/widget'
import { ConnectionBar, Composer, ErrorBanner, LanguageSwitch, MessageList } from '../ui/common'
import type { HostBridge } from './bridge'

export function Widget({ app, store, bridge }: { app: App; store: WidgetStore; bridge: HostBridge }) {
  const t = useT()
  const state = useStore(store)
  const status = useStore(app.realtime.status)
  useEffect(() => {
    // Time to interactive, for the browser tests' figures (Performance API).
    if (state.phase !== 'loading' && performance.getEntriesByName('goftogu:interactive').length === 0) {
      performance.mark('goftogu:interactive')
    }
  }, [state.phase])
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') bridge.post({ type: 'goftogu:close' })
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
  return (
    <div class="widget">
      <header class="widget-header">
        <h1>{t('widget.title')}</h1>
        <LanguageSwitch />
        {bridge.embedded && (
          <button
            type="button"
            class="icon"
            aria-label={t('widget.close')}
            onClick={() => bridge.post({ type: 'goftogu:close' })}
          >
            ×
          </button>
        )}
      </header>
      <ConnectionBar status={status} />
      <ErrorBanner error={state.error} onDismiss={() => store.clearError()} />
      {state.phase === 'loading' && <div class="widget-body" aria-busy="true" />}
      {state.phase === 'prechat' && <PreChat store={store} notice={state.notice} />}
      {state.phase === 'chat' && (
        <ChatPane app={app} store={store} conversation={state.conversation} starting={state.starting} />
      )}
    </div>
  )
}

function PreChat({ store, notice }: { store: WidgetStore; notice: string | null }) {
  const t = useT()
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const nameInput = useRef<HTMLInputElement>(null)
  useEffect(() => {
    if (document.hasFocus()) nameInput.current?.focus() // the panel was just opened
  }, [])
  return (
    <form
      class="widget-body stack prechat"
      noValidate
      onSubmit={async (event) => {
        event.preventDefault()
        if (!name.trim()) return setProblem(t('widget.name_required'))
        setProblem(null)
        setBusy(true)
        await store.begin(name.trim(), email.trim() || null)
        setBusy(false)
      }}
    >
      {notice && (
        <p class="banner banner-error" role="alert">
          {t('widget.restored_failed')}
        </p>
      )}
      <p>{t('widget.intro')}</p>
      <label>
        {t('widget.name')}
        <input
          data-autofocus
          ref={nameInput}
          name="name"
          dir="auto"
          autoComplete="name"
          maxLength={64}
          value={name}
          aria-invalid={problem ? 'true' : undefined}
          aria-describedby={problem ? 'name-problem' : undefined}
          onInput={(event) => setName(event.currentTarget.value)}
        />
      </label>
      {problem && (
        <p id="name-problem" class="composer-problem" role="alert">
          {problem}
        </p>
      )}
      <label>
        {t('widget.email')}
        <input
          name="email"
          type="email"
          dir="ltr"
          autoComplete="email"
          value={email}
          aria-describedby="email-hint"
          onInput={(event) => setEmail(event.currentTarget.value)}
        />
      </label>
      <p id="email-hint" class="hint">
        {t('widget.email_hint')}
      </p>
      <button class="primary" type="submit" disabled={busy}>
        {t('widget.start')}
      </button>
    </form>
  )
}

function ChatPane({
  app,
  store,
  conversation,
  starting,
}: {
  app: App
  store: WidgetStore
  conversation: SupportConversation | null
  starting: { clientId: string; body: string; failed: boolean } | null
}) {
  const t = useT()
  const empty: ConversationState = { chat: null, timeline: EMPTY_TIMELINE, typing: [], error: null }
  const state = useStore(conversation ?? emptyStore)
  const view = conversation ? state : empty
  const chat = view.chat
  const me = app.session.user?.id ?? null
  const operatorName = chat?.operator_name || t('widget.operator')
  const nameOf = (message: SupportMessage) =>
    message.sender.kind === 'operator' ? operatorName : message.sender.kind === 'system' ? t('chat.system') : t('chat.you')
  const timeline = starting
    ? { messages: [], pending: [{ clientId: starting.clientId, body: starting.body, createdAt: '', failed: starting.failed }] }
    : view.timeline
  const operatorTyping = chat?.operator_id ? view.typing.includes(chat.operator_id) : false
  useEffect(() => {
    // my read watermark: the operator sees "seen" (the panel is on screen)
    if (chat && !document.hidden) conversation?.markRead()
  }, [view.timeline.messages.length, chat?.id])
  return (
    <div class="widget-body chat-pane">
      <ErrorBanner error={view.error} onDismiss={() => store.clearError()} />
      <MessageList
        timeline={timeline}
        names={{ me, name: nameOf }}
        onRetry={() => conversation?.retryPending()}
        seenSeq={chat?.operator_read_seq ?? 0}
      />
      <StatusNotice chat={chat} queue={view.queue ?? null} email={app.session.user?.email ?? null} />
      {chat?.status === 'CLOSED' && <Rating store={store} chat={chat} />}
      <p class="typing" aria-live="polite">
        {operatorTyping ? t('chat.typing', { name: operatorName }) : ''}
      </p>
      <Composer
        limit={app.config.maxMessageLength}
        autoFocus
        placeholder={chat ? undefined : t('widget.first_message')}
        onSend={(body) => store.send(body)}
        onTyping={(active) => (chat?.status !== 'CLOSED' ? conversation?.typing(active) : undefined)}
        onDraft={(text) => conversation?.draft(text)}
      />
      {chat?.status === 'OPEN' && view.draftShown && (
        <p class="hint draft-shown" data-testid="draft-shown">
          {t('widget.draft_shown')}
        </p>
      )}
      <div class="widget-tools">
        {chat && chat.status !== 'CLOSED' && (
          <button type="button" class="link" onClick={() => void store.end()}>
            {t('widget.end')}
          </button>
        )}
        {chat && <Transcript store={store} email={app.session.user?.email ?? null} />}
      </div>
    </div>
  )
}

function StatusNotice({
  chat,
  queue,
  email,
}: {
  chat: SupportChat | null
  queue: ConversationState['queue'] | null
  email: string | null
}) {
  const t = useT()
  const language = useStore(i18n)
  if (!chat) return null
  const lines: string[] = []
  if (chat.status === 'CLOSED') lines.push(t('widget.closed'))
  else if (chat.status === 'OPEN' || chat.operator_id)
    lines.push(t('widget.assigned', { name: chat.operator_name || t('widget.operator') }))
  else {
    if (chat.type === 'TICKET') lines.push(email ? t('widget.ticket_email', { email }) : t('widget.ticket_no_email'))
    const position = queue?.position ?? chat.queue_position
    lines.push(position ? t('widget.queue_position', { position }) : t('widget.waiting'))
    if (queue && queue.estimated_wait_s !== null) {
      lines.push(t('widget.wait_about', { wait: formatWait(language, queue.estimated_wait_s) }))
    } else if (queue) {
      lines.push(t(queue.estimate === 'no_operator_available' ? 'widget.wait_nobody' : 'widget.wait_unknown'))
    }
  }
  return (
    <div class={`notice notice-${chat.status.toLowerCase()}`} role="status" data-testid="status">
      {lines.map((line) => (
        <p key={line}>{line}</p>
      ))}
    </div>
  )
}

/** CSAT once the conversation has ended: 1–5 and a comment, once. */
function Rating({ store, chat }: { store: WidgetStore; chat: SupportChat }) {
  const t = useT()
  const language = useStore(i18n)
  const [score, setScore] = useState<number | null>(null)
  const [comment, setComment] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  if (chat.csat) {
    return (
      <p class="notice csat-done" role="status" data-testid="csat">
        {t('csat.thanks', { score: chat.csat.score })}
      </p>
    )
  }
  return (
    <form
      class="csat"
      data-testid="csat"
      onSubmit={async (event) => {
        event.preventDefault()
        if (score === null) return setProblem(t('csat.pick'))
        setProblem(null)
        setBusy(true)
        await store.rate(score, comment)
        setBusy(false)
      }}
    >
      <fieldset>
        <legend>{t('csat.title')}</legend>
        <div class="csat-scores" role="radiogroup" aria-label={t('csat.score')}>
          <span class="hint" aria-hidden="true">
            {t('csat.low')}
          </span>
          {[1, 2, 3, 4, 5].map((value) => (
            <label key={value} class={`csat-score${score === value ? ' chosen' : ''}`}>
              <input
                type="radio"
                name="csat-score"
                value={value}
                checked={score === value}
                aria-label={t('csat.star', { score: value })}
                onChange={() => {
                  setScore(value)
                  setProblem(null)
                }}
              />
              <span aria-hidden="true">{formatNumber(language, value)}</span>
            </label>
          ))}
          <span class="hint" aria-hidden="true">
            {t('csat.high')}
          </span>
        </div>
        {problem && (
          <p class="composer-problem" role="alert">
            {problem}
          </p>
        )}
        <label>
          {t('csat.comment')}
          <textarea
            dir="auto"
            rows={2}
            maxLength={2000}
            value={comment}
            onInput={(event) => setComment(event.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {t('csat.submit')}
        </button>
      </fieldset>
    </form>
  )
}

function Transcript({ store, email }: { store: WidgetStore; email: string | null }) {
  const t = useT()
  const { transcriptTo } = useStore(store)
  if (!email) return <p class="hint">{t('transcript.no_email')}</p>
  if (transcriptTo) {
    return (
      <p class="hint" role="status" data-testid="transcript">
        {t('transcript.sent', { email: transcriptTo })}
      </p>
    )
  }
  return (
    <button type="button" class="link" onClick={() => void store.emailTranscript()}>
      {t('transcript.send')}
    </button>
  )
}

const emptyStore = new Store<ConversationState>({ chat: null, timeline: EMPTY_TIMELINE, typing: [], error: null })
