import { useEffect, useMemo, useState } from 'preact/hooks'
import type { OperatorPublic, SupportMessage } from '../api/types'
import type { App } from '../app'
import { formatDateTime, i18n, type MessageKey, useT } from '../i18n'
import { useStore } from '../lib/store'
import type { ConsoleStore } from '../support/console'
import { SupportConversation } from '../support/conversation'
import { StaffDesk } from '../support/desk'
import { ErrorBanner, MessageList, type NoteItem } from '../ui/common'
import { DraftPreview, LabelsBar, StaffComposer } from './Desk'

export function ChatView({ app, store, chatId }: { app: App; store: ConsoleStore; chatId: string }) {
  const t = useT()
  const language = useStore(i18n)
  const me = app.session.user?.id ?? null
  const conversation = useMemo(
    () => new SupportConversation({ support: app.support, realtime: app.realtime, me: () => me }, chatId),
    [chatId],
  )
  const desk = useMemo(() => new StaffDesk(app.support, app.realtime, chatId), [chatId])
  useEffect(() => {
    void conversation.reload()
    return () => conversation.dispose()
  }, [conversation])
  useEffect(() => () => desk.dispose(), [desk])
  const state = useStore(conversation)
  const deskState = useStore(desk)
  useEffect(() => {
    if (state.chat) desk.seed(state.chat)
  }, [state.chat])
  const consoleState = useStore(store)
  const [picking, setPicking] = useState(false)
  useEffect(() => {
    if (state.chat) store.markSeen(chatId, state.chat.messages.length)
    // the customer's "seen": only the assigned operator moves the watermark
    if (state.chat?.operator_id === me && !document.hidden) conversation.markRead()
  }, [state.timeline.messages.length, state.chat?.operator_id])

  const chat = state.chat
  if (!chat) {
    return (
      <section class="chat" aria-busy="true">
        <ErrorBanner error={state.error} onDismiss={() => conversation.patch({ error: null })} />
      </section>
    )
  }
  const customerName = chat.customer.name || t('chat.anonymous')
  const operators = consoleState.operators
  const nameOf = (message: SupportMessage): string => {
    if (message.sender.kind === 'customer') return customerName
    if (message.sender.kind === 'system') return t('chat.system')
    const operator = operators.find((item) => item.operator_id === message.sender.id)
    return operator?.display_name || operator?.username || t('widget.operator')
  }
  const mine = chat.operator_id === me
  const open = chat.status !== 'CLOSED'
  const customerTyping = state.typing.includes(chat.customer.id)
  const authorOf = (id: string): string => {
    if (id === me) return t('chat.you')
    const operator = operators.find((item) => item.operator_id === id)
    return operator?.display_name || operator?.username || t('widget.operator')
  }
  const notes: NoteItem[] = [
    ...deskState.notes.map((note) => ({
      key: note.id,
      author: authorOf(note.author_id),
      body: note.body,
      createdAt: note.created_at,
    })),
    ...deskState.pendingNotes.map((note) => ({
      key: note.clientId,
      author: t('chat.you'),
      body: note.body,
      createdAt: '',
      pending: true,
    })),
  ]
  return (
    <section class="chat" aria-labelledby="chat-title">
      <header class="chat-header">
        <div>
          <h2 id="chat-title" dir="auto">
            {customerName}
          </h2>
          <p class="hint">
            {chat.customer.email && <span dir="auto">{chat.customer.email} · </span>}
            {t(`chat.type.${chat.type}` as MessageKey)} · {t(`chat.status.${chat.status}` as MessageKey)}
            {chat.csat && (
              <span data-testid="chat-csat">
                {' · '}
                {t('chat.csat', { score: chat.csat.score })}
                {chat.csat.comment && <q dir="auto">{chat.csat.comment}</q>}
              </span>
            )}
          </p>
        </div>
        {mine && open && (
          <div class="actions">
            <button
              type="button"
              onClick={() => {
                setPicking(!picking)
                void store.loadOperators()
              }}
              aria-expanded={picking}
            >
              {t('chat.transfer')}
            </button>
            <button type="button" class="danger" onClick={() => void store.close(chat.id).then(() => conversation.reload())}>
              {t('chat.close')}
            </button>
          </div>
        )}
      </header>
      {picking && (
        <TransferPicker
          operators={operators.filter((item) => item.operator_id !== me)}
          onPick={async (operatorId) => {
            if (await store.transfer(chat.id, operatorId)) setPicking(false)
          }}
          onCancel={() => setPicking(false)}
        />
      )}
      <LabelsBar desk={desk} />
      <ErrorBanner error={state.error} onDismiss={() => conversation.patch({ error: null })} />
      <ErrorBanner error={deskState.error} onDismiss={() => desk.clearError()} />
      <MessageList
        timeline={state.timeline}
        names={{ me, name: nameOf }}
        onRetry={() => conversation.retryPending()}
        notes={notes}
        seenSeq={chat.customer_read_seq}
      />
      <DraftPreview desk={desk} name={customerName} />
      <p class="typing" aria-live="polite">
        {customerTyping ? t('chat.typing', { name: customerName }) : ''}
      </p>
      {!open && <p class="banner">{t('chat.closed')}</p>}
      {open && !mine && <p class="banner">{t('chat.not_yours')}</p>}
      <StaffComposer
        key={open && mine ? 'reply' : 'note'}
        desk={desk}
        limit={app.config.maxMessageLength}
        canReply={open && mine}
        onSend={(body) => conversation.send(body)}
        onTyping={(active) => conversation.typing(active)}
      />
      <details class="routing">
        <summary>{t('chat.routing')}</summary>
        <ol>
          {(chat.routing ?? []).map((entry, index) => (
            <li key={index}>
              <time dateTime={entry.at}>{formatDateTime(language, entry.at)}</time>{' '}
              {t(`routing.${entry.decision}` as MessageKey)}
              {entry.operator_id && (
                <span dir="auto">
                  {' '}
                  → {operators.find((o) => o.operator_id === entry.operator_id)?.username ?? entry.operator_id}
                </span>
              )}
              {entry.reason && <span class="hint"> ({entry.reason})</span>}
            </li>
          ))}
        </ol>
      </details>
    </section>
  )
}

function TransferPicker({
  operators,
  onPick,
  onCancel,
}: {
  operators: OperatorPublic[]
  onPick: (operatorId: string) => void
  onCancel: () => void
}) {
  const t = useT()
  return (
    <div class="card picker" role="group" aria-label={t('chat.transfer_to')}>
      <h3>{t('chat.transfer_to')}</h3>
      {operators.length === 0 && <p>{t('chat.transfer_none')}</p>}
      <ul>
        {operators.map((operator) => (
          <li key={operator.operator_id}>
            <button type="button" onClick={() => onPick(operator.operator_id)}>
              <span class={`dot dot-${operator.connected ? operator.status : 'offline'}`} aria-hidden="true" />
              <span dir="auto">{operator.display_name || operator.username}</span>
              <span class="hint">
                {t('chat.operator_state', {
                  status: t(`availability.${operator.connected ? operator.status : 'offline'}` as MessageKey),
                  load: operator.load,
                  capacity: operator.capacity,
                })}
              </span>
            </button>
          </li>
        ))}
      </ul>
      <button type="button" class="link" onClick={onCancel}>
        {t('chat.cancel')}
      </button>
    </div>
  )
}
