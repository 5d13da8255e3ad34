// The console's canned replies panel (issue 18): list, add (personal, or global
// for admins), delete. Renders CannedStore (support/canned.ts).
import { useEffect, useMemo, useState } from 'preact/hooks'
import type { CannedScope } from '../api/types'
import type { App } from '../app'
import { type MessageKey, useT } from '../i18n'
import { useStore } from '../lib/store'
import { CannedStore } from '../support/canned'
import { ErrorBanner } from '../ui/common'

export function CannedReplies({ app }: { app: App }) {
  const t = useT()
  const store = useMemo(() => new CannedStore(app.support), [])
  const state = useStore(store)
  const [open, setOpen] = useState(false)
  const [scope, setScope] = useState<CannedScope>('personal')
  const [shortcode, setShortcode] = useState('')
  const [title, setTitle] = useState('')
  const [body, setBody] = useState('')
  useEffect(() => {
    if (open) void store.load()
  }, [open])
  const admin = app.session.user?.role === 'admin'
  return (
    <details class="canned-panel" onToggle={(event) => setOpen((event.currentTarget as HTMLDetailsElement).open)}>
      <summary>{t('canned.manage')}</summary>
      <ErrorBanner error={state.error} onDismiss={() => store.clearError()} />
      <ul class="list" data-testid="canned-list">
        {state.replies.map((reply) => (
          <li key={reply.id} class="queue-item">
            <span class="shortcode" dir="ltr">
              /{reply.shortcode}
            </span>
            <button
              type="button"
              aria-label={t('canned.delete', { shortcode: reply.shortcode })}
              onClick={() => void store.remove(reply.id)}
            >
              ×
            </button>
            <span dir="auto">
              {reply.title} <span class="hint">({t(`canned.scope.${reply.scope}` as MessageKey)})</span>
            </span>
          </li>
        ))}
      </ul>
      <form
        class="stack"
        onSubmit={async (event) => {
          event.preventDefault()
          if (await store.create({ scope, shortcode: shortcode.trim(), title: title.trim(), body })) {
            setShortcode('')
            setTitle('')
            setBody('')
          }
        }}
      >
        {admin && (
          <label>
            {t('canned.scope')}
            <select value={scope} onChange={(event) => setScope(event.currentTarget.value as CannedScope)}>
              <option value="personal">{t('canned.scope.personal')}</option>
              <option value="global">{t('canned.scope.global')}</option>
            </select>
          </label>
        )}
        <label>
          {t('canned.shortcode')}
          <input dir="ltr" required maxLength={32} value={shortcode} onInput={(e) => setShortcode(e.currentTarget.value)} />
        </label>
        <label>
          {t('canned.reply_title')}
          <input dir="auto" required maxLength={100} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <label>
          {t('canned.body')}
          <textarea dir="auto" required rows={3} maxLength={4000} value={body} onInput={(e) => setBody(e.currentTarget.value)} />
        </label>
        <p class="hint">{t('canned.placeholders')}</p>
        <button type="submit">{t('canned.add')}</button>
      </form>
    </details>
  )
}
