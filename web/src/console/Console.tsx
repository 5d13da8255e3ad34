import { useEffect, useMemo, useState } from 'preact/hooks'
import type { OperatorStatus, SupportChatSummary } from '../api/types'
import type { App } from '../app'
import { formatDuration, formatNumber, i18n, type MessageKey, useT } from '../i18n'
import { askForNotifications, desktopNotify, notificationsAskable, ring, titleWithCount } from '../lib/notify'
import { navigate } from '../lib/router'
import { useStore } from '../lib/store'
import { ConsoleStore, totalUnread, unreadOf } from '../support/console'
import { NavLinks } from '../ui/AppBar'
import { ConnectionBar, ErrorBanner, LanguageSwitch } from '../ui/common'
import { CannedReplies } from './CannedReplies'
import { ChatView } from './ChatView'

const STATUSES: OperatorStatus[] = ['online', 'away', 'offline']

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs)
    return () => clearInterval(timer)
  }, [intervalMs])
  return now
}

export function Console({ app, chatId }: { app: App; chatId: string | null }) {
  const t = useT()
  const language = useStore(i18n)
  const user = app.session.user
  const store = useMemo(() => new ConsoleStore(app.support, app.realtime, user?.id ?? ''), [user?.id])
  const state = useStore(store)
  const status = useStore(app.realtime.status)
  const [askable, setAskable] = useState(notificationsAskable())

  useEffect(() => {
    app.realtime.start()
    void store.refresh()
    void store.loadOperators()
    store.onAssigned = (event) => {
      ring()
      const name = event.chat.customer.name || t('chat.anonymous')
      desktopNotify(t('notify.assigned', { name }), '', () => navigate(`/console/chats/${event.chat_id}`))
    }
    return () => store.dispose()
  }, [store])
  useEffect(() => store.select(chatId), [chatId, store])
  const unread = totalUnread(state)
  useEffect(() => {
    document.title = titleWithCount(t('app.console'), unread, (n) => formatNumber(language, n))
  }, [unread, language])

  const presence = state.presence
  return (
    <div class="console">
      <header class="topbar">
        <h1 class="brand">{t('app.name')}</h1>
        <NavLinks app={app} />
        <div class="availability" role="group" aria-label={t('availability.title')}>
          <label>
            <span class="visually-hidden">{t('availability.title')}</span>
            <select
              aria-label={t('availability.title')}
              value={presence?.status ?? 'offline'}
              onChange={(event) => void store.setPresence(event.currentTarget.value as OperatorStatus)}
            >
              {STATUSES.map((code) => (
                <option key={code} value={code}>
                  {t(`availability.${code}` as MessageKey)}
                </option>
              ))}
            </select>
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={presence?.accepting ?? true}
              onChange={(event) =>
                void store.setPresence(presence?.status ?? 'online', event.currentTarget.checked)
              }
            />
            {t('availability.accepting')}
          </label>
          {presence && (
            <span class="load" data-testid="load">
              {t('availability.load', { load: presence.load, capacity: presence.capacity })}
            </span>
          )}
        </div>
        <div class="topbar-end">
          {askable && (
            <button
              type="button"
              class="link"
              onClick={() => void askForNotifications().then(() => setAskable(false))}
            >
              {t('notify.enable')}
            </button>
          )}
          <span class="user" dir="auto">
            {user?.display_name || user?.username}
          </span>
          <LanguageSwitch />
          <button type="button" onClick={() => void app.session.signOut()}>
            {t('signout')}
          </button>
        </div>
      </header>
      <ConnectionBar status={status} />
      <ErrorBanner error={state.error} onDismiss={() => store.clearError()} />
      {presence && presence.status === 'online' && !presence.connected && status === 'connected' && (
        <p class="banner">{t('availability.not_connected')}</p>
      )}
      <div class="panes">
        <aside class="sidebar">
          <Queue items={state.queue} onClaim={(id) => void store.claim(id).then((ok) => ok && navigate(`/console/chats/${id}`))} />
          <section aria-labelledby="mine-title">
            <h2 id="mine-title">{t('mine.title')}</h2>
            {state.mine.length === 0 && <p class="hint">{t('mine.empty')}</p>}
            <ul class="list" data-testid="mine">
              {state.mine.map((chat) => {
                const count = unreadOf(state, chat.id)
                return (
                  <li key={chat.id}>
                    <a
                      href={`/console/chats/${chat.id}`}
                      aria-current={chat.id === chatId ? 'page' : undefined}
                      onClick={(event) => {
                        event.preventDefault()
                        navigate(`/console/chats/${chat.id}`)
                      }}
                    >
                      <span dir="auto">{chat.customer.name || t('chat.anonymous')}</span>
                      {count > 0 && (
                        <span class="badge" aria-label={t('mine.unread', { count })}>
                          {formatNumber(language, count)}
                        </span>
                      )}
                      {chat.last_message && (
                        <span class="preview" dir="auto">
                          {chat.last_message.body}
                        </span>
                      )}
                      <LabelChips labels={chat.labels} />
                    </a>
                  </li>
                )
              })}
            </ul>
          </section>
          <LabelFilter store={store} chatId={chatId} />
          <CannedReplies app={app} />
        </aside>
        <main class="main">
          {chatId ? (
            <ChatView key={chatId} app={app} store={store} chatId={chatId} />
          ) : (
            <p class="empty">{t('chat.none')}</p>
          )}
        </main>
      </div>
    </div>
  )
}

function Queue({ items, onClaim }: { items: SupportChatSummary[]; onClaim: (id: string) => void }) {
  const t = useT()
  const language = useStore(i18n)
  const now = useNow(1000)
  return (
    <section aria-labelledby="queue-title">
      <h2 id="queue-title">
        {t('queue.title')} <span class="count">{formatNumber(language, items.length)}</span>
      </h2>
      {items.length === 0 && <p class="hint">{t('queue.empty')}</p>}
      <ul class="list" data-testid="queue">
        {items.map((chat) => {
          const waited = (now - new Date(chat.created_at).getTime()) / 1000
          return (
            <li key={chat.id} class="queue-item">
              <span dir="auto" class="who">
                {chat.customer.name || t('chat.anonymous')}
              </span>
              <span class={`tag tag-${chat.type.toLowerCase()}`}>
                {t(chat.type === 'TICKET' ? 'queue.ticket' : 'queue.chat')}
              </span>
              <span class="hint">{t('queue.waiting_for', { duration: formatDuration(language, waited) })}</span>
              {chat.last_message && (
                <span class="preview" dir="auto">
                  {chat.last_message.body}
                </span>
              )}
              <button type="button" onClick={() => onClaim(chat.id)}>
                {t('queue.claim')}
              </button>
            </li>
          )
        })}
      </ul>
    </section>
  )
}

function LabelChips({ labels }: { labels?: string[] | null }) {
  if (!labels?.length) return null
  return (
    <span class="label-list">
      {labels.map((label) => (
        <span key={label} class="label-chip small" dir="auto">
          {label}
        </span>
      ))}
    </span>
  )
}

/** The list filtered by a label (issue 18): any status, newest first. */
function LabelFilter({ store, chatId }: { store: ConsoleStore; chatId: string | null }) {
  const t = useT()
  const state = useStore(store)
  const [draft, setDraft] = useState('')
  return (
    <section aria-labelledby="label-filter-title" class="label-filter">
      <h2 id="label-filter-title">{t('labels.filter')}</h2>
      <form
        class="label-add"
        role="search"
        onSubmit={(event) => {
          event.preventDefault()
          void store.filterByLabel(draft)
        }}
      >
        <label class="visually-hidden" for="label-filter-input">
          {t('labels.filter')}
        </label>
        <input
          id="label-filter-input"
          type="search"
          dir="auto"
          maxLength={40}
          placeholder={t('labels.filter_placeholder')}
          value={draft}
          onInput={(event) => setDraft(event.currentTarget.value)}
        />
        <button type="submit">{t('labels.apply')}</button>
      </form>
      {state.label && (
        <>
          <p class="row-between">
            <span dir="auto">{t('labels.filtered', { label: state.label })}</span>
            <button
              type="button"
              class="link"
              onClick={() => {
                setDraft('')
                void store.filterByLabel(null)
              }}
            >
              {t('labels.clear')}
            </button>
          </p>
          {state.labelled.length === 0 && <p class="hint">{t('labels.filtered_empty')}</p>}
          <ul class="list" data-testid="labelled">
            {state.labelled.map((chat) => (
              <li key={chat.id}>
                <a
                  href={`/console/chats/${chat.id}`}
                  aria-current={chat.id === chatId ? 'page' : undefined}
                  onClick={(event) => {
                    event.preventDefault()
                    navigate(`/console/chats/${chat.id}`)
                  }}
                >
                  <span dir="auto">{chat.customer.name || t('chat.anonymous')}</span>
                  <span class="hint">{t(`chat.status.${chat.status}` as MessageKey)}</span>
                  <LabelChips labels={chat.labels} />
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  )
}
