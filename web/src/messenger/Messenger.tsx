// The messenger's screens: the conversation list, a conversation, its actions,
// attachments, the group panel. They render the stores' state and call their
// methods; nothing here talks to the network directly.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { asApiError } from '../api/errors'
import type { AttachmentPublic, ConversationSummary, HistoryMessage, MemberPublic, MessageVersion, UserPublic } from '../api/types'
import type { App } from '../app'
import { formatDateTime, formatNumber, formatTime, i18n, type Language, type MessageKey, useT } from '../i18n'
import { navigate } from '../lib/router'
import { useStore } from '../lib/store'
import { ConnectionBar, ErrorBanner } from '../ui/common'
import { AppBar } from '../ui/AppBar'
import { type ChatView, idOf, kindOf, Messenger } from './store'
import { type PendingSend, type Row, rows as rowsOf } from './timeline'
import { type VirtualHandle, VirtualList } from './VirtualList'

const EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢']

export function formatBytes(language: Language, bytes: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return new Intl.NumberFormat(language, { style: 'unit', unit: units[unit], unitDisplay: 'short', maximumFractionDigits: 1 }).format(value)
}

function formatDay(language: Language, at: string): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'full' }).format(new Date(at))
}

export function MessengerPage({ app, address }: { app: App; address: string | null }) {
  const me = app.session.user?.id ?? ''
  const messenger = useMemo(() => new Messenger(app.messaging, app.account, app.realtime, me), [me])
  const state = useStore(messenger)
  const status = useStore(app.realtime.status)
  useEffect(() => {
    void messenger.refresh().then(() => app.realtime.start())
    return () => messenger.dispose()
  }, [messenger])
  useEffect(() => {
    messenger.visible = address
  }, [address, messenger])
  const total = state.conversations.reduce((sum, item) => sum + (item.archived ? 0 : item.unread_count), 0)
  const t = useT()
  const language = useStore(i18n)
  useEffect(() => {
    document.title = total > 0 ? `(${formatNumber(language, total)}) ${t('msn.title')}` : t('msn.title')
  }, [total, language])
  return (
    <div class="console messenger">
      <AppBar app={app} />
      <ConnectionBar status={status} />
      <ErrorBanner error={state.error} onDismiss={() => messenger.clearError()} />
      <div class="panes">
        <ConversationList messenger={messenger} current={address} />
        <main class="main">
          {address ? (
            <Conversation key={address} app={app} messenger={messenger} view={messenger.view(address)} />
          ) : (
            <p class="empty">{t('msn.pick')}</p>
          )}
        </main>
      </div>
    </div>
  )
}

// --- the list -------------------------------------------------------------------

function PresenceDot({ status }: { status: string | undefined }) {
  const t = useT()
  const known = status === 'online' || status === 'away' ? status : 'offline'
  return <span class={`dot dot-${known}`} role="img" aria-label={t(`msn.${known}` as MessageKey)} />
}

function ConversationList({ messenger, current }: { messenger: Messenger; current: string | null }) {
  const t = useT()
  const language = useStore(i18n)
  const state = useStore(messenger)
  const [archived, setArchived] = useState(false)
  const [dialog, setDialog] = useState<'chat' | 'group' | null>(null)
  const shown = state.conversations.filter((item) => item.archived === archived)
  return (
    <aside class="sidebar">
      <section aria-labelledby="conversations-title">
        <div class="row-between">
          <h2 id="conversations-title">{t(archived ? 'msn.archived' : 'msn.conversations')}</h2>
          <button type="button" class="link" onClick={() => setArchived(!archived)}>
            {t(archived ? 'msn.show_active' : 'msn.show_archived')}
          </button>
        </div>
        <div class="actions">
          <button type="button" onClick={() => setDialog(dialog === 'chat' ? null : 'chat')} aria-expanded={dialog === 'chat'}>
            {t('msn.new_chat')}
          </button>
          <button type="button" onClick={() => setDialog(dialog === 'group' ? null : 'group')} aria-expanded={dialog === 'group'}>
            {t('msn.new_group')}
          </button>
        </div>
        {dialog === 'chat' && (
          <PeoplePicker
            messenger={messenger}
            label={t('msn.search_people')}
            onPick={(user) =>
              void messenger.openSingle(user.id).then(
                (address) => {
                  setDialog(null)
                  navigate(`/chat/${address}`)
                },
                (error) => messenger.patch({ error: asApiError(error) }),
              )
            }
          />
        )}
        {dialog === 'group' && <NewGroup messenger={messenger} onDone={() => setDialog(null)} />}
        {state.loaded && shown.length === 0 && <p class="hint">{t(archived ? 'msn.empty_archived' : 'msn.empty')}</p>}
        <ul class="list" data-testid="conversations">
          {shown.map((item) => (
            <ConversationItem key={item.conversation} item={item} messenger={messenger} current={current === item.conversation} language={language} />
          ))}
        </ul>
      </section>
    </aside>
  )
}

function preview(messenger: Messenger, item: ConversationSummary, t: ReturnType<typeof useT>): string {
  const message = item.last_message
  if (!message) return ''
  if (message.deleted_at) return t('msn.deleted')
  const text = message.content || message.attachments.map((file) => file.filename).join(', ')
  if (item.kind === 'group') {
    const who = message.sender_id === messenger.me ? t('chat.you') : messenger.nameOf(message.sender_id)
    return `${who}: ${text}`
  }
  return text
}

function ConversationItem({
  item,
  messenger,
  current,
  language,
}: {
  item: ConversationSummary
  messenger: Messenger
  current: boolean
  language: Language
}) {
  const t = useT()
  const state = useStore(messenger)
  const muted = item.muted_until && new Date(item.muted_until).getTime() > Date.now()
  return (
    <li>
      <a
        href={`/chat/${item.conversation}`}
        aria-current={current ? 'page' : undefined}
        data-conversation={item.conversation}
        onClick={(event) => {
          event.preventDefault()
          navigate(`/chat/${item.conversation}`)
        }}
      >
        <span class="title-line">
          {item.kind === 'single' && <PresenceDot status={item.peer ? state.presence[item.peer.id] : undefined} />}
          <span dir="auto" class="title">
            {messenger.titleOf(item)}
          </span>
          {muted && <span class="tag">{t('msn.muted')}</span>}
        </span>
        {item.unread_count > 0 ? (
          <span class="badge" data-testid="unread" aria-label={t('msn.unread', { count: item.unread_count })}>
            {formatNumber(language, item.unread_count)}
          </span>
        ) : (
          <time class="hint" dateTime={item.last_activity_at}>
            {formatTime(language, item.last_activity_at)}
          </time>
        )}
        <span class="preview" dir="auto">
          {preview(messenger, item, t)}
        </span>
      </a>
    </li>
  )
}

export function PeoplePicker({
  messenger,
  label,
  onPick,
  exclude = [],
}: {
  messenger: Messenger
  label: string
  onPick: (user: UserPublic) => void
  exclude?: string[]
}) {
  const t = useT()
  const [query, setQuery] = useState('')
  const [found, setFound] = useState<UserPublic[] | null>(null)
  useEffect(() => {
    const q = query.trim()
    if (!q) return setFound(null)
    const timer = setTimeout(() => {
      messenger.account.search(q).then(
        (page) => setFound(page.items.filter((user) => user.id !== messenger.me && !exclude.includes(user.id))),
        () => setFound([]),
      )
    }, 200)
    return () => clearTimeout(timer)
  }, [query])
  return (
    <div class="picker">
      <label>
        {label}
        <input type="search" value={query} onInput={(event) => setQuery(event.currentTarget.value)} aria-describedby="people-hint" />
      </label>
      <p class="hint" id="people-hint">
        {t('msn.search_hint')}
      </p>
      {found && found.length === 0 && <p class="hint">{t('msn.no_one')}</p>}
      {found && found.length > 0 && (
        <ul>
          {found.map((user) => (
            <li key={user.id}>
              <button type="button" onClick={() => onPick(user)}>
                <span dir="auto">{user.display_name || user.username}</span>
                <span class="hint">@{user.username}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

function NewGroup({ messenger, onDone }: { messenger: Messenger; onDone: () => void }) {
  const t = useT()
  const [title, setTitle] = useState('')
  const [members, setMembers] = useState<UserPublic[]>([])
  const [busy, setBusy] = useState(false)
  const submit = async (event: Event) => {
    event.preventDefault()
    if (!title.trim()) return
    setBusy(true)
    try {
      const address = await messenger.createGroup(title.trim(), members.map((user) => user.id))
      onDone()
      navigate(`/chat/${address}`)
    } catch (error) {
      messenger.patch({ error: asApiError(error) })
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="card stack" onSubmit={submit}>
      <label>
        {t('msn.group_title')}
        <input required dir="auto" value={title} maxLength={128} onInput={(event) => setTitle(event.currentTarget.value)} />
      </label>
      <p>{t('msn.group_members')}:</p>
      <ul class="chips" aria-label={t('msn.group_members')}>
        {members.map((user) => (
          <li key={user.id}>
            <span dir="auto">{user.display_name || user.username}</span>
            <button type="button" class="link" aria-label={t('msn.remove_file', { name: user.username })} onClick={() => setMembers(members.filter((m) => m.id !== user.id))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <PeoplePicker
        messenger={messenger}
        label={t('msn.search_people')}
        exclude={members.map((user) => user.id)}
        onPick={(user) => setMembers([...members, user])}
      />
      <button type="submit" class="primary" disabled={busy}>
        {t('msn.create')}
      </button>
    </form>
  )
}

// --- a conversation ---------------------------------------------------------------

interface Upload {
  id: string
  file: File
  progress: number
  done: AttachmentPublic | null
  error: string | null
}

function Conversation({ app, messenger, view }: { app: App; messenger: Messenger; view: ChatView }) {
  const t = useT()
  const language = useStore(i18n)
  const state = useStore(view)
  const list = useStore(messenger)
  const summary = list.conversations.find((item) => item.conversation === view.address)
  const handle = useRef<VirtualHandle | null>(null)
  const [atBottom, setAtBottom] = useState(true)
  const [replyTo, setReplyTo] = useState<HistoryMessage | null>(null)
  const [editing, setEditing] = useState<HistoryMessage | null>(null)
  const [panel, setPanel] = useState<'pins' | 'group' | null>(null)
  const [history, setHistory] = useState<{ message: HistoryMessage; versions: MessageVersion[] } | null>(null)
  const [forwarding, setForwarding] = useState<HistoryMessage | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [dragging, setDragging] = useState(false)
  const composer = useRef<{ addFiles: (files: File[]) => void } | null>(null)
  const isGroup = kindOf(view.address) === 'group'
  const myRole = state.group?.my_role ?? summary?.role ?? null
  const left = isGroup && (state.left || (state.group !== null && state.group.my_role === null))

  const rows = useMemo(() => rowsOf(state.timeline, state.firstUnreadSeq), [state.timeline, state.firstUnreadSeq])
  const byId = useMemo(() => new Map(state.timeline.messages.map((m) => [m.id, m])), [state.timeline.messages])
  const pinned = useMemo(() => new Set((state.pins ?? []).map((pin) => pin.message.id)), [state.pins])

  useEffect(() => {
    const read = () => {
      if (!document.hidden && view.value.loaded) view.markRead()
    }
    read()
    document.addEventListener('visibilitychange', read)
    window.addEventListener('focus', read)
    return () => {
      document.removeEventListener('visibilitychange', read)
      window.removeEventListener('focus', read)
    }
  }, [view, state.loaded, state.timeline.messages.length])

  const title = summary ? messenger.titleOf(summary) : (state.group?.title ?? '')
  const typingNames = state.typing.map((id) => messenger.nameOf(id))
  const peer = summary?.peer
  const lastMine = [...state.timeline.messages].reverse().find((m) => m.sender_id === messenger.me && !m.deleted_at)

  const jumpTo = (messageId: string) => {
    handle.current?.scrollToKey(`m${messageId}`)
    const node = document.querySelector(`[data-message="${messageId}"]`)
    node?.classList.add('flash')
  }
  const copy = async (message: HistoryMessage) => {
    try {
      await navigator.clipboard.writeText(message.content ?? '')
      setNotice(t('msn.copied'))
    } catch {
      setNotice(null)
    }
  }
  const showHistory = async (message: HistoryMessage) => {
    try {
      setHistory({ message, versions: await view.api.edits(message.id) })
    } catch (error) {
      view.patch({ error: asApiError(error) })
    }
  }

  const renderRow = (row: Row) => {
    switch (row.kind) {
      case 'day':
        return (
          <div class="day" role="separator">
            <span>{formatDay(language, row.day)}</span>
          </div>
        )
      case 'unread':
        return (
          <div class="unread-marker" role="separator" data-testid="new-messages">
            <span>{t('msn.new_messages')}</span>
          </div>
        )
      case 'pending':
        return <PendingBubble pending={row.pending} status={app.realtime.status.value} onRetry={() => view.retryPending()} />
      case 'message':
        return (
          <MessageBubble
            message={row.message}
            messenger={messenger}
            view={view}
            isGroup={isGroup}
            parent={row.message.parent_message_id ? byId.get(row.message.parent_message_id) ?? null : null}
            pinned={pinned.has(row.message.id)}
            canModerate={myRole === 'owner' || myRole === 'admin' || (!isGroup && !left)}
            readOnly={left}
            seenBy={
              isGroup && lastMine && lastMine.id === row.message.id
                ? Object.entries(state.reads)
                    .filter(([, seq]) => seq >= row.message.seq)
                    .map(([id]) => messenger.nameOf(id))
                : null
            }
            readState={
              lastMine && lastMine.id === row.message.id
                ? isGroup
                  ? t('msn.seen_by', { count: Object.values(state.reads).filter((seq) => seq >= row.message.seq).length })
                  : peer && (state.reads[peer.id] ?? 0) >= row.message.seq
                    ? t('msn.seen')
                    : t('msn.delivered')
                : null
            }
            onReply={() => {
              setEditing(null)
              setReplyTo(row.message)
            }}
            onEdit={() => {
              setReplyTo(null)
              setEditing(row.message)
            }}
            onJump={jumpTo}
            onForward={() => setForwarding(row.message)}
            onCopy={() => void copy(row.message)}
            onHistory={() => void showHistory(row.message)}
          />
        )
    }
  }

  // Who read my latest message, at open (later reads arrive as events).
  useEffect(() => {
    if (!lastMine || Object.keys(state.reads).length) return
    view.api.reads(lastMine.id).then(
      (receipts) => {
        const reads = { ...view.value.reads }
        for (const receipt of receipts) reads[receipt.user_id] = Math.max(reads[receipt.user_id] ?? 0, lastMine.seq)
        view.patch({ reads })
      },
      () => undefined,
    )
  }, [lastMine?.id])

  const muted = summary?.muted_until && new Date(summary.muted_until).getTime() > Date.now()
  return (
    <section
      class={`chat ${dragging ? 'dragging' : ''}`}
      aria-labelledby="chat-title"
      onDragOver={(event) => {
        if (left) return
        event.preventDefault()
        setDragging(true)
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => {
        event.preventDefault()
        setDragging(false)
        const files = [...(event.dataTransfer?.files ?? [])]
        if (files.length && !left) composer.current?.addFiles(files)
      }}
    >
      <header class="chat-header">
        <div>
          <h2 id="chat-title" dir="auto">
            {peer && <PresenceDot status={list.presence[peer.id]} />} {title}
          </h2>
          <p class="hint" data-testid="typing" aria-live="polite">
            {typingNames.length === 1
              ? t('msn.typing_one', { name: typingNames[0] as string })
              : typingNames.length > 1
                ? t('msn.typing_many', { names: typingNames.join('، ') })
                : isGroup && state.group
                  ? t('grp.members', { count: state.group.member_count })
                  : ''}
          </p>
        </div>
        <div class="actions">
          <button type="button" aria-expanded={panel === 'pins'} onClick={() => setPanel(panel === 'pins' ? null : 'pins')}>
            {t('msn.pinned_list', { count: state.pins?.length ?? 0 })}
          </button>
          {isGroup && (
            <button type="button" aria-expanded={panel === 'group'} onClick={() => setPanel(panel === 'group' ? null : 'group')}>
              {t('msn.group_info')}
            </button>
          )}
          {summary && (
            <>
              <button
                type="button"
                onClick={() =>
                  void messenger.setSettings(view.address, {
                    muted_until: muted ? null : new Date(Date.now() + 365 * 86400_000).toISOString(),
                  })
                }
              >
                {t(muted ? 'msn.unmute' : 'msn.mute')}
              </button>
              <button type="button" onClick={() => void messenger.setSettings(view.address, { archived: !summary.archived })}>
                {t(summary.archived ? 'msn.unarchive' : 'msn.archive')}
              </button>
            </>
          )}
        </div>
      </header>
      <ErrorBanner error={state.error} onDismiss={() => view.patch({ error: null })} />
      {notice && (
        <p class="banner" role="status">
          {notice}{' '}
          <button type="button" class="link" onClick={() => setNotice(null)}>
            {t('error.dismiss')}
          </button>
        </p>
      )}
      {panel === 'pins' && (
        <div class="panel" data-testid="pins">
          <h3>{t('msn.pinned')}</h3>
          {state.pins?.length === 0 && <p class="hint">{t('msn.no_pins')}</p>}
          <ul class="list">
            {(state.pins ?? []).map((pin) => (
              <li key={pin.message.id}>
                <button type="button" class="quote" onClick={() => jumpTo(pin.message.id)}>
                  <span dir="auto">{pin.message.content ?? t('msn.deleted')}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      {panel === 'group' && <GroupPanel messenger={messenger} view={view} />}
      {history && (
        <div class="panel" role="dialog" aria-label={t('msn.history')}>
          <h3>{t('msn.history')}</h3>
          <ol>
            {history.versions.map((version) => (
              <li key={version.version}>
                <span class="hint">
                  {t('msn.version', { version: version.version })} · {formatDateTime(language, version.replaced_at)}
                </span>
                <p dir="auto">{version.content}</p>
              </li>
            ))}
            <li>
              <p dir="auto">{history.message.content}</p>
            </li>
          </ol>
          <button type="button" onClick={() => setHistory(null)}>
            {t('msn.close')}
          </button>
        </div>
      )}
      {forwarding && (
        <div class="panel" role="dialog" aria-label={t('msn.forward_to')}>
          <h3>{t('msn.forward_to')}</h3>
          <ul class="list">
            {list.conversations
              .filter((item) => item.conversation !== view.address)
              .map((item) => (
                <li key={item.conversation}>
                  <button
                    type="button"
                    onClick={() =>
                      void view
                        .act(() => view.api.forward(forwarding.id, item.conversation, crypto.randomUUID()))
                        .then((ok) => {
                          setForwarding(null)
                          if (ok) setNotice(t('msn.forwarded_ok'))
                        })
                    }
                  >
                    <span dir="auto">{messenger.titleOf(item)}</span>
                  </button>
                </li>
              ))}
          </ul>
          <button type="button" onClick={() => setForwarding(null)}>
            {t('msn.cancel')}
          </button>
        </div>
      )}
      {!state.loaded ? (
        <p class="empty">{t('msn.loading')}</p>
      ) : (
        <div class="history">
          <VirtualList
            rows={rows}
            render={renderRow}
            isAnchor={(row) => row.kind === 'message' || row.kind === 'pending'}
            handle={handle}
            label={title}
            onNearTop={() => void view.loadOlder()}
            onBottomChange={setAtBottom}
            header={
              <p class="hint history-top" data-testid="history-top">
                {state.timeline.hasOlder ? t('msn.loading') : rows.length ? t('msn.beginning') : t('msn.no_messages')}
              </p>
            }
          />
          <div class="jumps">
            {state.firstUnreadSeq !== null && (
              <button
                type="button"
                onClick={() => {
                  const first = state.timeline.messages.find((m) => m.seq === state.firstUnreadSeq)
                  if (first) handle.current?.scrollToKey('unread')
                }}
              >
                {t('msn.jump_unread')}
              </button>
            )}
            {!atBottom && (
              <button type="button" onClick={() => handle.current?.scrollToBottom()}>
                {t('msn.jump_latest')}
              </button>
            )}
          </div>
        </div>
      )}
      {left ? (
        <p class="banner">{t('msn.left')}</p>
      ) : (
        <ChatComposer
          app={app}
          view={view}
          handle={composer}
          replyTo={replyTo}
          editing={editing}
          nameOf={(id) => messenger.nameOf(id)}
          onCancel={() => {
            setReplyTo(null)
            setEditing(null)
          }}
        />
      )}
    </section>
  )
}

function PendingBubble({ pending, status, onRetry }: { pending: PendingSend; status: string; onRetry: () => void }) {
  const t = useT()
  return (
    <article class="message mine pending" data-pending={pending.clientId}>
      <p class="body" dir="auto">
        {pending.content}
      </p>
      {pending.attachments.map((file) => (
        <span key={file.id} class="file">
          {file.filename}
        </span>
      ))}
      <span class="meta">
        {pending.failed && status === 'connected' ? (
          <>
            {t('message.failed')}{' '}
            <button type="button" class="link" onClick={onRetry}>
              {t('message.retry')}
            </button>
          </>
        ) : pending.failed ? (
          t('msn.pending_offline')
        ) : (
          t('message.pending')
        )}
      </span>
    </article>
  )
}

function Attachment({ file, messenger }: { file: AttachmentPublic; messenger: Messenger }) {
  const t = useT()
  const language = useStore(i18n)
  const [url, setUrl] = useState<string | null>(null)
  const image = file.content_type.startsWith('image/')
  useEffect(() => {
    if (!image) return
    let revoked = false
    let made: string | null = null
    messenger.api.attachmentUrl(file.id).then(
      (value) => {
        made = value
        if (!revoked) setUrl(value)
      },
      () => undefined,
    )
    return () => {
      revoked = true
      if (made) URL.revokeObjectURL(made)
    }
  }, [file.id])
  const download = async () => {
    const link = document.createElement('a')
    link.href = url ?? (await messenger.api.attachmentUrl(file.id))
    link.download = file.filename
    link.click()
  }
  if (image) {
    return (
      <button type="button" class="thumb" onClick={() => void download()} aria-label={t('msn.download', { name: file.filename })}>
        {url ? <img src={url} alt={t('msn.image', { name: file.filename })} width={240} height={160} /> : <span class="thumb-wait" />}
      </button>
    )
  }
  return (
    <button type="button" class="file" onClick={() => void download()}>
      <span dir="auto">{file.filename}</span> <span class="hint">{formatBytes(language, file.size_bytes)}</span>
    </button>
  )
}

/** Who reacted with which emoji: loaded when opened, again when the counts change. */
function Reactors({ id, message, messenger, view }: { id: string; message: HistoryMessage; messenger: Messenger; view: ChatView }) {
  const t = useT()
  const [byEmoji, setByEmoji] = useState<[string, string[]][] | null>(null)
  const counts = message.reactions.map((reaction) => `${reaction.emoji}:${reaction.count}`).join(',')
  useEffect(() => {
    let live = true
    view.api.reactions(message.id).then(
      (items) => {
        if (!live) return
        const grouped = new Map<string, string[]>()
        for (const item of items) {
          const name = item.user_id === messenger.me ? t('chat.you') : messenger.nameOf(item.user_id)
          grouped.set(item.emoji, [...(grouped.get(item.emoji) ?? []), name])
        }
        setByEmoji([...grouped.entries()])
      },
      () => live && setByEmoji([]),
    )
    return () => {
      live = false
    }
  }, [message.id, counts])
  return (
    <ul id={id} class="reactors" aria-label={t('msn.who_reacted')} aria-busy={byEmoji === null}>
      {(byEmoji ?? []).map(([emoji, names]) => (
        <li key={emoji}>
          <span class="emoji">{emoji}</span>{' '}
          <span dir="auto">{names.join(', ')}</span>
        </li>
      ))}
    </ul>
  )
}

function MessageBubble({
  message,
  messenger,
  view,
  isGroup,
  parent,
  pinned,
  canModerate,
  readOnly,
  readState,
  seenBy = null,
  onReply,
  onEdit,
  onJump,
  onForward,
  onCopy,
  onHistory,
}: {
  message: HistoryMessage
  messenger: Messenger
  view: ChatView
  isGroup: boolean
  parent: HistoryMessage | null
  pinned: boolean
  canModerate: boolean
  readOnly: boolean
  readState: string | null
  /** groups: the names of those who have read it (shown on demand) */
  seenBy?: string[] | null
  onReply: () => void
  onEdit: () => void
  onJump: (id: string) => void
  onForward: () => void
  onCopy: () => void
  onHistory: () => void
}) {
  const t = useT()
  const language = useStore(i18n)
  const [menu, setMenu] = useState(false)
  const [picker, setPicker] = useState(false)
  const [whoOpen, setWhoOpen] = useState(false)
  const [seenOpen, setSeenOpen] = useState(false)
  const mine = message.sender_id === messenger.me
  const deleted = message.deleted_at !== null
  const sender = mine ? t('chat.you') : messenger.nameOf(message.sender_id)
  return (
    <article class={`message ${mine ? 'mine' : 'theirs'} ${deleted ? 'deleted' : ''}`} data-seq={message.seq} data-message={message.id}>
      <span class="meta">
        {(isGroup || !mine) && (
          <span class="who" dir="auto">
            {sender}
          </span>
        )}
        <time dateTime={message.created_at}>{formatTime(language, message.created_at)}</time>
        {message.edited_at && !deleted && (
          <button type="button" class="link edited" onClick={onHistory}>
            {t('msn.edited')}
          </button>
        )}
        {pinned && <span class="tag">{t('msn.pinned')}</span>}
      </span>
      {message.forwarded_from && !deleted && <span class="hint">{t('msn.forwarded')}</span>}
      {message.parent_message_id && !deleted && (
        <button type="button" class="quote" onClick={() => message.parent_message_id && onJump(message.parent_message_id)}>
          <span class="who">{parent ? (parent.sender_id === messenger.me ? t('chat.you') : messenger.nameOf(parent.sender_id)) : ''}</span>
          <span dir="auto">{parent ? (parent.content ?? t('msn.deleted')) : t('msn.original')}</span>
        </button>
      )}
      {deleted ? (
        <p class="body tombstone">{t('msn.deleted')}</p>
      ) : (
        message.content && (
          <p class="body" dir="auto">
            {message.content}
          </p>
        )
      )}
      {!deleted && message.attachments.length > 0 && (
        <div class="files">
          {message.attachments.map((file) => (
            <Attachment key={file.id} file={file} messenger={messenger} />
          ))}
        </div>
      )}
      {message.reactions.length > 0 && (
        <div class="reactions">
          {message.reactions.map((reaction) => (
            <button
              key={reaction.emoji}
              type="button"
              class={`reaction ${reaction.reacted ? 'reacted' : ''}`}
              aria-pressed={reaction.reacted}
              disabled={readOnly}
              onClick={() => void view.toggleReaction(message.id, reaction.emoji)}
            >
              {t('msn.reaction', { emoji: reaction.emoji, count: reaction.count })}
            </button>
          ))}
          <button
            type="button"
            class="link who-reacted"
            aria-expanded={whoOpen}
            aria-controls={`who-${message.id}`}
            onClick={() => setWhoOpen(!whoOpen)}
          >
            {t('msn.who_reacted')}
          </button>
        </div>
      )}
      {whoOpen && message.reactions.length > 0 && (
        <Reactors id={`who-${message.id}`} message={message} messenger={messenger} view={view} />
      )}
      {readState &&
        (seenBy && seenBy.length > 0 ? (
          <span class="hint">
            <button
              type="button"
              class="link read-state"
              data-testid="read-state"
              aria-expanded={seenOpen}
              aria-controls={`seen-${message.id}`}
              onClick={() => setSeenOpen(!seenOpen)}
            >
              {readState}
            </button>
            {seenOpen && (
              <span id={`seen-${message.id}`} class="seen-by" data-testid="seen-by" dir="auto">
                {' '}
                {seenBy.join(', ')}
              </span>
            )}
          </span>
        ) : (
          <span class="hint read-state" data-testid="read-state">
            {readState}
          </span>
        ))}
      {!deleted && !readOnly && (
        <div class="message-tools">
          <button type="button" class="link" aria-expanded={menu} aria-label={t('msn.actions')} onClick={() => setMenu(!menu)}>
            ⋯
          </button>
          {menu && (
            <div class="menu" role="group" aria-label={t('msn.actions')}>
              <button type="button" onClick={() => (setMenu(false), onReply())}>
                {t('msn.reply')}
              </button>
              {mine && message.content && (
                <button type="button" onClick={() => (setMenu(false), onEdit())}>
                  {t('msn.edit')}
                </button>
              )}
              <button type="button" onClick={() => setPicker(!picker)} aria-expanded={picker}>
                {t('msn.react')}
              </button>
              <button type="button" onClick={() => (setMenu(false), onForward())}>
                {t('msn.forward')}
              </button>
              {canModerate && (
                <button type="button" onClick={() => (setMenu(false), void view.pin(message.id, pinned))}>
                  {t(pinned ? 'msn.unpin' : 'msn.pin')}
                </button>
              )}
              {message.content && (
                <button type="button" onClick={() => (setMenu(false), onCopy())}>
                  {t('msn.copy')}
                </button>
              )}
              {(mine || (isGroup && canModerate)) && (
                <button
                  type="button"
                  class="danger"
                  onClick={() => {
                    setMenu(false)
                    if (confirm(t('msn.delete_confirm'))) void view.remove(message.id)
                  }}
                >
                  {t('msn.delete')}
                </button>
              )}
              {picker && (
                <span class="emoji-picker">
                  {EMOJI.map((emoji) => (
                    <button
                      key={emoji}
                      type="button"
                      aria-label={t('msn.react_with', { emoji })}
                      onClick={() => {
                        setPicker(false)
                        setMenu(false)
                        void view.toggleReaction(message.id, emoji)
                      }}
                    >
                      {emoji}
                    </button>
                  ))}
                </span>
              )}
            </div>
          )}
        </div>
      )}
    </article>
  )
}

function ChatComposer({
  app,
  view,
  handle,
  replyTo,
  editing,
  nameOf,
  onCancel,
}: {
  app: App
  view: ChatView
  handle: { current: { addFiles: (files: File[]) => void } | null }
  replyTo: HistoryMessage | null
  editing: HistoryMessage | null
  nameOf: (id: string) => string
  onCancel: () => void
}) {
  const t = useT()
  const language = useStore(i18n)
  const limit = app.config.maxMessageLength
  const maxBytes = app.config.maxAttachmentBytes
  const [draft, setDraft] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [uploads, setUploads] = useState<Upload[]>([])
  const input = useRef<HTMLTextAreaElement>(null)
  const picker = useRef<HTMLInputElement>(null)
  const uploadsRef = useRef(uploads)
  uploadsRef.current = uploads

  useEffect(() => {
    if (editing) {
      setDraft(editing.content ?? '')
      input.current?.focus()
    } else if (replyTo) input.current?.focus()
  }, [editing?.id, replyTo?.id])

  const change = (id: string, patch: Partial<Upload>) =>
    setUploads((items) => items.map((item) => (item.id === id ? { ...item, ...patch } : item)))

  const addFiles = (files: File[]) => {
    for (const file of files) {
      if (file.size > maxBytes) {
        setProblem(t('msn.too_big', { name: file.name, size: formatBytes(language, maxBytes) }))
        continue
      }
      const id = crypto.randomUUID()
      setUploads((items) => [...items, { id, file, progress: 0, done: null, error: null }])
      view.api.upload(file, (fraction) => change(id, { progress: fraction })).then(
        (done) => change(id, { done, progress: 1 }),
        (error) => change(id, { error: asApiError(error).message }),
      )
    }
  }
  handle.current = { addFiles }

  const submit = (event?: Event) => {
    event?.preventDefault()
    const ready = uploads.filter((item) => item.done).map((item) => item.done as AttachmentPublic)
    const waiting = uploads.some((item) => !item.done && !item.error)
    if (waiting) return
    if (!draft.trim() && ready.length === 0) return setProblem(t('composer.empty'))
    if (draft.length > limit) return setProblem(t('composer.too_long', { length: draft.length, limit }))
    setProblem(null)
    if (editing) {
      void view.edit(editing.id, draft).then((ok) => ok && onCancel())
    } else {
      view.send(draft, replyTo?.id ?? null, ready)
      onCancel()
    }
    setDraft('')
    setUploads([])
    view.typing(false)
  }
  return (
    <form class="composer" onSubmit={submit}>
      {(replyTo || editing) && (
        <div class="composer-context">
          <span>{editing ? t('msn.editing') : t('msn.reply_to', { name: nameOf((replyTo as HistoryMessage).sender_id) })}</span>
          {replyTo && !editing && (
            <span class="preview" dir="auto">
              {replyTo.content}
            </span>
          )}
          <button
            type="button"
            class="link"
            onClick={() => {
              if (editing) setDraft('')
              onCancel()
            }}
          >
            {t('msn.cancel')}
          </button>
        </div>
      )}
      {problem && (
        <p class="composer-problem" role="alert">
          {problem}
        </p>
      )}
      {uploads.length > 0 && (
        <ul class="uploads">
          {uploads.map((item) => (
            <li key={item.id}>
              <span dir="auto">{item.file.name}</span>
              <progress
                max={1}
                value={item.progress}
                aria-label={t('msn.uploading', { name: item.file.name })}
                data-testid="upload-progress"
              />
              {item.error && <span class="composer-problem">{item.error}</span>}
              <button
                type="button"
                class="link"
                aria-label={t('msn.remove_file', { name: item.file.name })}
                onClick={() => setUploads(uploads.filter((other) => other.id !== item.id))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="composer-row">
        <button type="button" onClick={() => picker.current?.click()} aria-describedby="attach-limit" disabled={!!editing}>
          +<span class="visually-hidden">{t('msn.attach')}</span>
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          aria-label={t('msn.attach')}
          data-testid="file-input"
          onChange={(event) => {
            addFiles([...(event.currentTarget.files ?? [])])
            event.currentTarget.value = ''
          }}
        />
        <label class="visually-hidden" for="composer-input">
          {t('composer.label')}
        </label>
        <textarea
          id="composer-input"
          ref={input}
          dir="auto"
          rows={2}
          value={draft}
          placeholder={t('composer.placeholder')}
          onPaste={(event) => {
            const files = [...(event.clipboardData?.files ?? [])]
            if (files.length) {
              event.preventDefault()
              addFiles(files)
            }
          }}
          onInput={(event) => {
            const value = event.currentTarget.value
            setDraft(value)
            if (problem) setProblem(null)
            if (!editing) view.typing(value.trim().length > 0)
          }}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) submit(event)
            if (event.key === 'Escape' && (replyTo || editing)) onCancel()
          }}
        />
        <button type="submit" class="primary">
          {t(editing ? 'msn.save' : 'composer.send')}
        </button>
      </div>
      <p class="hint" id="attach-limit">
        {t('msn.attach_limit', { size: formatBytes(language, maxBytes) })}
      </p>
    </form>
  )
}

// --- group management -----------------------------------------------------------

const RANK = { owner: 3, admin: 2, member: 1 } as const

function GroupPanel({ messenger, view }: { messenger: Messenger; view: ChatView }) {
  const t = useT()
  const state = useStore(view)
  const group = state.group
  const [title, setTitle] = useState(group?.title ?? '')
  const [description, setDescription] = useState(group?.description ?? '')
  const [avatar, setAvatar] = useState(group?.avatar_url ?? '')
  const [adding, setAdding] = useState(false)
  if (!group) return <p class="hint">{t('msn.loading')}</p>
  const role = group.my_role
  const rank = role ? RANK[role] : 0
  const id = idOf(view.address)
  const canEdit = role === 'owner' || role === 'admin'
  const save = (event: Event) => {
    event.preventDefault()
    void view
      .act(() => view.api.updateGroup(id, { title: title.trim(), description: description.trim() || null, avatar_url: avatar.trim() || null }))
      .then(() => view.loadGroup())
  }
  const act = (action: () => Promise<unknown>) => void view.act(action).then(() => view.loadGroup())
  return (
    <div class="panel" data-testid="group-panel">
      <h3>{t('grp.title')}</h3>
      {canEdit ? (
        <form class="stack" onSubmit={save}>
          <label>
            {t('grp.name')}
            <input dir="auto" required maxLength={128} value={title} onInput={(event) => setTitle(event.currentTarget.value)} />
          </label>
          <label>
            {t('grp.description')}
            <textarea dir="auto" rows={2} value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
          </label>
          <label>
            {t('grp.avatar')}
            <input type="url" value={avatar} onInput={(event) => setAvatar(event.currentTarget.value)} />
          </label>
          <button type="submit">{t('grp.save')}</button>
        </form>
      ) : (
        group.description && <p dir="auto">{group.description}</p>
      )}
      <h4>{t('grp.members', { count: state.members?.length ?? group.member_count })}</h4>
      <ul class="list members" data-testid="members">
        {(state.members ?? []).map((member: MemberPublic) => {
          const self = member.user.id === messenger.me
          const below = RANK[member.role] < rank
          return (
            <li key={member.user.id} class="member">
              <span dir="auto">{member.user.display_name || member.user.username}</span>
              <span class="tag">{t(`grp.role.${member.role}` as MessageKey)}</span>
              {!self && role === 'owner' && member.role === 'member' && (
                <button type="button" onClick={() => act(() => view.api.setRole(id, member.user.id, 'admin'))}>
                  {t('grp.promote')}
                </button>
              )}
              {!self && role === 'owner' && member.role === 'admin' && (
                <button type="button" onClick={() => act(() => view.api.setRole(id, member.user.id, 'member'))}>
                  {t('grp.demote')}
                </button>
              )}
              {!self && role === 'owner' && (
                <button type="button" onClick={() => act(() => view.api.transfer(id, member.user.id))}>
                  {t('grp.transfer')}
                </button>
              )}
              {!self && canEdit && below && (
                <button type="button" class="danger" onClick={() => act(() => view.api.removeMember(id, member.user.id))}>
                  {t('grp.remove')}
                </button>
              )}
            </li>
          )
        })}
      </ul>
      {canEdit && (
        <>
          <button type="button" aria-expanded={adding} onClick={() => setAdding(!adding)}>
            {t('grp.add_member')}
          </button>
          {adding && (
            <PeoplePicker
              messenger={messenger}
              label={t('grp.add_member')}
              exclude={(state.members ?? []).map((member) => member.user.id)}
              onPick={(user) => {
                setAdding(false)
                act(() => view.api.addMember(id, user.id))
              }}
            />
          )}
        </>
      )}
      {role && (
        <p>
          {role === 'owner' ? (
            <span class="hint">{t('grp.leave_owner')}</span>
          ) : (
            <button
              type="button"
              class="danger"
              onClick={() =>
                void view.act(() => view.api.removeMember(id, messenger.me)).then((done) => done && view.patch({ left: true, group: null, members: null }))
              }
            >
              {t('grp.leave')}
            </button>
          )}
        </p>
      )}
    </div>
  )
}
